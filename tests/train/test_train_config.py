"""TrainConfig: paper defaults, YAML + override precedence, one-line errors, --dry-run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from pydantic.fields import FieldInfo

from rlvr_train.cli import main
from rlvr_train.config import ConfigError, TrainConfig, load_config

# The paper's π1 run (REFERENCE.md §1), field by field.
PAPER = {
    "model": "Qwen/Qwen2.5-Math-1.5B",
    "batch_size": 128,
    "rollouts": 8,
    "lr": 1e-6,
    "warmup_steps": 0,
    "weight_decay": 0.01,
    "grad_clip": 1.0,
    "clip_low": 0.2,
    "clip_high": 0.2,
    "kl_coef": 0.001,
    "entropy_coef": 0.001,
    "temperature": 0.6,
    "top_p": 1.0,
    "max_prompt_tokens": 1024,
    "max_response_tokens": 3072,
    "steps": 2000,
    "save_every": 20,
    "eval_every": 20,
    "template": "qwen-boxed",
    "reward": "verifier",
    "aggregation": "token_mean",
    "normalize_std": True,
    "strict": True,
    "eval_template": "qwen25-math-cot",
    "eval_tasks": ["math500"],
}


def test_defaults_are_the_paper_settings() -> None:
    cfg = TrainConfig()
    assert {k: getattr(cfg, k) for k in PAPER} == PAPER
    assert cfg.responses_per_step == 1024


def test_every_field_has_a_description() -> None:
    missing = [name for name, f in TrainConfig.model_fields.items() if not f.description]
    assert missing == []


def test_yaml_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text("steps: 50\nlr: 2.0e-6\nexample: pi13\nrollouts: 4\n", encoding="utf-8")
    cfg = load_config(path, {"steps": 7, "lr": None})  # None = flag not given
    assert (cfg.steps, cfg.lr, cfg.rollouts, cfg.example) == (7, 2e-6, 4, "pi13")


def test_command_line_source_replaces_yaml_source(tmp_path: Path) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text("example: pi1\n", encoding="utf-8")
    cfg = load_config(path, {"problem": "What is 1+1?", "answer": "2"})
    assert cfg.example is None and cfg.problem == "What is 1+1?"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("stepz: 3\n", "stepz"),  # a typo must not fall back to a default
        ("steps: -1\n", "steps"),
        ("reward: magic\n", "reward"),
        ("- a\n- b\n", "mapping"),
        ("steps: [1\n", "not valid YAML"),
    ],
)
def test_bad_config_is_one_line(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_problem_requires_answer() -> None:
    with pytest.raises(ConfigError, match="together"):
        load_config(None, {"problem": "x"})


def test_dry_run_prints_resolved_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text("steps: 9\nkl_coef: 0.0\n", encoding="utf-8")
    out_dir = tmp_path / "run"
    code = main(["one-shot", "--config", str(cfg_file), "--model", "some/model", "--output-dir", str(out_dir),
                 "--steps", "3", "--example", "pi2", "--dry-run"])
    assert code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["steps"] == 3 and printed["kl_coef"] == 0.0 and printed["example"] == "pi2"
    assert printed["model"] == "some/model" and printed["batch_size"] == 128
    assert not out_dir.exists()  # a dry run touches nothing


def test_shipped_pi1_config_is_the_paper_run() -> None:
    path = Path(__file__).resolve().parents[2] / "configs" / "one_shot_pi1.yaml"
    assert path.read_text(encoding="utf-8").startswith("#")  # headed by its launch command
    assert "rlvr-train run --config configs/one_shot_pi1.yaml" in path.read_text(encoding="utf-8")
    cfg = load_config(path)
    assert cfg.example == "pi1"
    assert {k: getattr(cfg, k) for k in PAPER} == PAPER


# --- flags generated from TrainConfig ------------------------------------------------------------------


_VALIDATED = {"eval_tasks": ["aime24", "gsm8k"]}  # fields whose values are checked beyond their type


def _other_value(name: str, info: FieldInfo) -> Any:
    """A valid value of the field's type that is not its default (to prove the flag really sets it)."""
    import typing

    from rlvr_train.config_flags import _strip_none

    if name in _VALIDATED:
        return _VALIDATED[name]
    default = info.get_default(call_default_factory=True)
    kind, _ = _strip_none(info.annotation)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is bool:
        return not default if default is not None else True
    if origin is Literal:
        return next(a for a in args if a != default) if len(args) > 1 else args[0]
    if origin is tuple:
        return tuple(0.5 + 0.1 * i for i in range(len(args)))
    if origin is list:
        return ["alpha", "beta"]
    if kind is int:
        return 5 if default is None else default + 3
    if kind is float:
        return 0.25 if default is None else default / 2
    return f"x-{name}"


def _argv(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def test_every_field_has_a_flag_whose_value_round_trips(tmp_path: Path) -> None:
    import typing

    from rlvr_train.cli import build_parser, resolve_config
    from rlvr_train.config_flags import flag_name

    parser = build_parser()
    for name, info in TrainConfig.model_fields.items():
        value = _other_value(name, info)
        if isinstance(value, bool):
            flag = [flag_name(name) if value else "--no-" + name.replace("_", "-")]
        else:
            flag = [flag_name(name), *_argv(value)]
        base = {"model": ["--model", "m"], "output_dir": ["--output-dir", str(tmp_path)]}
        base.pop(name, None)
        partner = {"problem": ["--answer", "7"], "answer": ["--problem", "Q?"]}.get(name, [])
        argv = ["one-shot", *[a for pair in base.values() for a in pair], *partner, *flag]
        cfg = resolve_config(parser.parse_args(argv))
        parsed = getattr(cfg, name)
        assert (tuple(parsed) if isinstance(parsed, tuple) else parsed) == value, (name, argv)
        single_choice = typing.get_args(info.annotation) == (value,)  # e.g. answer_format: only "boxed"
        assert single_choice or value != info.get_default(call_default_factory=True), name


def test_flag_spellings_users_type_keep_working(tmp_path: Path) -> None:
    from rlvr_train.cli import build_parser, resolve_config

    parser = build_parser()
    argv = ["one-shot", "--model", "m", "--output-dir", str(tmp_path), "--max-tokens", "64", "--eval-tasks",
            "--keep-last", "none", "--no-normalize-std", "--aggregation", "seq_mean_token_sum_norm",
            "--gradient-checkpointing", "--adam-betas", "0.9", "0.95", "--resume"]
    cfg = resolve_config(parser.parse_args(argv))
    assert cfg.max_response_tokens == 64 and cfg.eval_tasks == [] and cfg.eval_every == 0
    assert cfg.keep_last is None and cfg.normalize_std is False and cfg.resume is True
    assert cfg.aggregation == "seq_mean_token_sum_norm" and cfg.gradient_checkpointing is True
    assert cfg.adam_betas == (0.9, 0.95)
    repeated = ["one-shot", "--model", "m", "--output-dir", str(tmp_path), "--eval-tasks", "aime24,gsm8k",
                "--eval-tasks", "math500"]  # commas, spaces and repeats all add tasks
    assert resolve_config(parser.parse_args(repeated)).eval_tasks == ["aime24", "gsm8k", "math500"]
    with pytest.raises(SystemExit):
        parser.parse_args(["one-shot", "--aggregation", "nope"])  # Literal choices are enforced


def test_help_is_the_field_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["one-shot", "--help"])
    text = capsys.readouterr().out
    squeezed = "".join(text.split())  # argparse wraps lines, also at hyphens
    for name, info in TrainConfig.model_fields.items():
        assert "--" + name.replace("_", "-") in text
        assert "".join(str(info.description).split()) in squeezed, name


def test_yaml_value_survives_unless_the_flag_is_typed(tmp_path: Path) -> None:
    from rlvr_train.cli import build_parser, resolve_config

    path = tmp_path / "cfg.yaml"
    path.write_text("keep_last: 3\nlr: 2.0e-6\n", encoding="utf-8")
    parser = build_parser()
    cfg = resolve_config(parser.parse_args(["run", "--config", str(path), "--steps", "4"]))
    assert (cfg.keep_last, cfg.lr, cfg.steps) == (3, 2e-6, 4)
    cfg = resolve_config(parser.parse_args(["run", "--config", str(path), "--keep-last", "none"]))
    assert cfg.keep_last is None
