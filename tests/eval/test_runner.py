"""The runner end to end with an in-test fake backend: resume after a crash, torn lines, rescore."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from rlvr_eval.config import EvalConfig
from rlvr_eval.generation import Completion, SamplingParams
from rlvr_eval.runner import VerifyRequest, rescore, score
from rlvr_eval.scoring.records import SAMPLES_FILE, load_records
from rlvr_eval.scoring.results import load_results
from rlvr_eval.verifier.schema import ContentStatus, FormatStatus, Verdict

MATH_ROWS = [
    {"problem": f"What is {i} + {i}?", "solution": f"\\boxed{{{2 * i}}}", "answer": str(2 * i),
     "subject": ["Algebra", "Geometry"][i % 2], "level": 1 + i % 5, "unique_id": f"test/{i}.json"}
    for i in range(7)
]
AIME_ROWS = [
    {"id": 100 + i, "problem": f"Find {i} times 3.", "answer": str(3 * i), "url": "x"} for i in range(5)
]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    for name, rows in (("math500", MATH_ROWS), ("aime24", AIME_ROWS)):
        (root / name).mkdir(parents=True)
        (root / name / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


class FakeBackend:
    """Answers from the question's numbers, right or wrong by a hash of (prompt, sample, seed).

    Deterministic per (prompt, sample index), like a seeded sampler, so a resumed run can be
    compared with an uninterrupted one. Some answers are unboxed, some loop until the length limit.
    """

    name = "fake"

    def __init__(self, fail_after: int | None = None) -> None:
        self.fail_after = fail_after
        self.generated: list[tuple[str, int]] = []

    def generate(self, prompts: list[str], params: SamplingParams, *, progress=None):
        out = []
        for prompt in prompts:
            if self.fail_after is not None and len({p for p, _ in self.generated}) >= self.fail_after:
                raise RuntimeError("simulated crash")
            indices = [params.sample_index(i) for i in range(params.n)]
            out.append([self._complete(prompt, i, params) for i in indices])
            self.generated += [(prompt, i) for i in indices]
        if progress is not None:
            progress(len(prompts))
        return out

    @staticmethod
    def _complete(prompt: str, index: int, params: SamplingParams) -> Completion:
        a, b = (int(x) for x in re.findall(r"\d+", prompt.split("user")[-1])[:1] * 2)
        right = a + b if "+" in prompt else a * 3
        h = int(hashlib.sha256(f"{params.seed}|{index}|{prompt}".encode()).hexdigest(), 16)
        answer = right if h % 3 else right + 1
        if h % 5 == 0:
            return Completion(text=f"I think it is {answer}.", finish_reason="stop", num_tokens=5)
        if h % 7 == 0:
            loop = "we add again. " * 30
            return Completion(text=loop, finish_reason="length", num_tokens=params.max_tokens)
        return Completion(text=f"so \\boxed{{{answer}}}", finish_reason="stop", num_tokens=3)

    def close(self) -> None:
        pass


def stand_in_verifier(requests: Sequence[VerifyRequest]) -> list[Verdict]:
    """Exact string match on the last box (else the last number): enough to test the plumbing."""
    verdicts = []
    for r in requests:
        boxed = re.findall(r"\\boxed\{([^}]*)\}", r.completion)
        numbers = re.findall(r"\d+", r.completion)
        answer = boxed[-1] if boxed else (numbers[-1] if numbers else None)
        fmt = FormatStatus.OK if boxed else (
            FormatStatus.TRUNCATED if r.finish_reason == "length" else FormatStatus.NO_ANSWER
        )
        content = (
            ContentStatus.NOT_CHECKED if answer is None
            else ContentStatus.EQUAL if answer == r.reference else ContentStatus.DIFFERENT
        )
        correct = fmt is FormatStatus.OK and content is ContentStatus.EQUAL
        verdicts.append(Verdict(
            correct=correct, format=fmt, format_ok=fmt is FormatStatus.OK, extracted=answer,
            extraction_method="requested" if boxed else "last_number", content=content,
            reward=float(correct),
        ))
    return verdicts


def make_config(data_dir: Path, out: Path, **kw) -> EvalConfig:
    base = dict(model="fake-model", tasks=["math500", "aime24"], data_dir=str(data_dir), output_dir=str(out),
                n=None, chunk_size=2)
    base.update(kw)
    return EvalConfig(**base)


def _metrics(results) -> dict:
    return {t: m.model_dump() for t, m in results.tasks.items()}


def test_crash_then_resume_generates_only_missing_and_matches_uninterrupted(data_dir: Path, tmp_path: Path):
    out = tmp_path / "run"
    crashing = FakeBackend(fail_after=5)
    with pytest.raises(RuntimeError, match="simulated crash"):
        score(make_config(data_dir, out), backend=crashing, verifier=stand_in_verifier)
    saved = load_records(out / SAMPLES_FILE)
    assert len(saved) == 4  # two full chunks of 2 MATH500 items (n=1) survived the crash
    assert not (out / "results.json").exists()

    resumed = FakeBackend()
    results = score(make_config(data_dir, out), backend=resumed, verifier=stand_in_verifier)
    total = len(MATH_ROWS) * 1 + len(AIME_ROWS) * 8  # paper defaults: greedy MATH500, avg@8 AIME24
    assert len(resumed.generated) == total - len(saved)
    saved_prompts = {r.prompt for r in saved.values()}
    assert not saved_prompts & {p for p, _ in resumed.generated}

    fresh_config = make_config(data_dir, tmp_path / "fresh")
    fresh = score(fresh_config, backend=FakeBackend(), verifier=stand_in_verifier)
    assert _metrics(results) == _metrics(fresh)
    assert len(load_records(out / SAMPLES_FILE)) == total
    for name in ("results.json", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0

    again = FakeBackend()  # a finished run generates nothing (and would not even load a model)
    score(make_config(data_dir, out), backend=again, verifier=stand_in_verifier)
    assert again.generated == []


def test_torn_last_line_is_repaired_and_regenerated(data_dir: Path, tmp_path: Path):
    out = tmp_path / "run"
    config = make_config(data_dir, out, tasks=["math500"])
    first = score(config, backend=FakeBackend(), verifier=stand_in_verifier)
    path = out / SAMPLES_FILE
    data = path.read_bytes()
    path.write_bytes(data[:-40])  # a crash in the middle of writing the last line
    assert len(load_records(path)) == len(MATH_ROWS) - 1

    backend = FakeBackend()
    second = score(config, backend=backend, verifier=stand_in_verifier)
    assert len(backend.generated) == 1
    assert _metrics(first) == _metrics(second)
    lines = path.read_text().splitlines()
    assert len(lines) == len(MATH_ROWS)  # the torn fragment was cut off before the resume appended
    records = [json.loads(line) for line in lines]  # every line parses
    assert {(r["task"], r["item_id"], r["sample_index"]) for r in records} == set(load_records(path))


def test_more_items_or_samples_reuse_what_is_saved(data_dir: Path, tmp_path: Path):
    out = tmp_path / "run"
    score(make_config(data_dir, out, tasks=["aime24"], limit=2, n=2), backend=FakeBackend(),
          verifier=stand_in_verifier)
    backend = FakeBackend()
    results = score(make_config(data_dir, out, tasks=["aime24"], limit=3, n=2), backend=backend,
                    verifier=stand_in_verifier)
    assert len(backend.generated) == 2  # only the new item's two samples
    assert results.tasks["aime24"].n_items == 3
    assert results.tasks["aime24"].n_samples == 2


def test_more_samples_per_item_draw_exactly_the_missing_indices(data_dir: Path, tmp_path: Path):
    out = tmp_path / "run"
    first = make_config(data_dir, out, tasks=["aime24"], n=2)
    score(first, backend=FakeBackend(), verifier=stand_in_verifier)
    backend = FakeBackend()
    grown = score(make_config(data_dir, out, tasks=["aime24"], n=5), backend=backend,
                  verifier=stand_in_verifier)
    assert sorted({i for _, i in backend.generated}) == [2, 3, 4]
    assert len(backend.generated) == 3 * len(AIME_ROWS)
    fresh = score(make_config(data_dir, tmp_path / "fresh", tasks=["aime24"], n=5), backend=FakeBackend(),
                  verifier=stand_in_verifier)
    assert _metrics(grown) == _metrics(fresh)


def test_chat_template_renders_with_the_backend_tokenizer(data_dir: Path, tmp_path: Path):
    class Tokenizer:
        chat_template = "{{ messages }}"

        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            return f"[Q] {messages[0]['content']} [A]"

    backend = FakeBackend()
    backend.tokenizer = Tokenizer()
    score(make_config(data_dir, tmp_path / "run", tasks=["math500"], limit=2, template="chat"),
          backend=backend, verifier=stand_in_verifier)
    assert [p for p, _ in backend.generated] == ["[Q] What is 0 + 0? [A]", "[Q] What is 1 + 1? [A]"]


def test_resume_with_different_sampling_settings_is_refused(data_dir: Path, tmp_path: Path):
    out = tmp_path / "run"
    score(make_config(data_dir, out, tasks=["math500"], limit=1), backend=FakeBackend(),
          verifier=stand_in_verifier)
    with pytest.raises(ValueError, match="temperature"):
        score(make_config(data_dir, out, tasks=["math500"], limit=1, temperature=0.7), backend=FakeBackend(),
              verifier=stand_in_verifier)


def test_metrics_follow_the_records(data_dir: Path, tmp_path: Path):
    out = tmp_path / "run"
    results = score(make_config(data_dir, out), backend=FakeBackend(), verifier=stand_in_verifier)
    records = list(load_records(out / SAMPLES_FILE).values())
    for task, metrics in results.tasks.items():
        mine = [r for r in records if r.task == task]
        assert metrics.strict_accuracy == pytest.approx(sum(r.verdict.correct for r in mine) / len(mine))
        lenient = sum(r.verdict.content is ContentStatus.EQUAL for r in mine) / len(mine)
        assert metrics.lenient_accuracy == pytest.approx(lenient)
        assert metrics.score == pytest.approx(lenient)  # lenient is the default headline
    assert results.tasks["math500"].breakdown["subject"].keys() == {"Algebra", "Geometry"}
    assert results.task_settings["aime24"].n == 8 and results.task_settings["aime24"].temperature == 0.6
    assert results.task_settings["math500"].temperature == 0.0
    saved = json.loads((out / "results.json").read_text())
    assert saved["schema_version"] == 1 and saved["model"] == "fake-model"
    scores = [results.tasks[t].score for t in ("math500", "aime24")]
    assert saved["average"] == pytest.approx(sum(scores) / 2)
    assert "MATH500" in (out / "report.md").read_text()


def test_rescore_rewrites_verdicts_and_results(data_dir: Path, tmp_path: Path):
    out = tmp_path / "run"
    original = score(make_config(data_dir, out), backend=FakeBackend(), verifier=stand_in_verifier)
    same = rescore(out, verifier=stand_in_verifier)
    assert _metrics(same) == _metrics(original)
    assert same.model == original.model and same.task_settings == original.task_settings

    def everything_wrong(requests: Sequence[VerifyRequest]) -> list[Verdict]:
        return [v.model_copy(update={"correct": False, "content": ContentStatus.DIFFERENT, "reward": 0.0})
                for v in stand_in_verifier(requests)]

    zero = rescore(out, verifier=everything_wrong)
    assert all(m.score == 0.0 for m in zero.tasks.values())
    assert all(not r.verdict.correct for r in load_records(out / SAMPLES_FILE).values())
    assert json.loads((out / "results.json").read_text())["tasks"]["math500"]["score"] == 0.0


def test_real_verifier_grades_format_and_content(data_dir: Path, tmp_path: Path):
    """One run through the real verify_batch (in-process) to check the wiring of formats and options."""
    out = tmp_path / "run"
    results = score(make_config(data_dir, out, verify_workers=1), backend=FakeBackend(), verifier=None)
    records = list(load_records(out / SAMPLES_FILE).values())
    stand_in = rescore(out, verifier=stand_in_verifier)  # agrees on these plain integer answers
    for task in ("math500", "aime24"):
        assert results.tasks[task].strict_accuracy == stand_in.tasks[task].strict_accuracy
        assert results.tasks[task].lenient_accuracy == stand_in.tasks[task].lenient_accuracy
    assert results.tasks["aime24"].lenient_accuracy > results.tasks["aime24"].strict_accuracy
    unboxed_right = [r for r in records if not r.verdict.format_ok and r.is_correct("lenient")]
    assert unboxed_right and all(r.completion.startswith("I think") for r in unboxed_right)
    looping = [r for r in records if r.finish_reason == "length"]
    assert looping and all(r.verdict.format is FormatStatus.TRUNCATED for r in looping)
    assert results.tasks["aime24"].repetition_rate == pytest.approx(len(
        [r for r in looping if r.task == "aime24"]) / (len(AIME_ROWS) * 8))


class MumblingBackend(FakeBackend):
    """Right answers that are never stated as answers: only the last-number fallback finds them."""

    @staticmethod
    def _complete(prompt: str, index: int, params: SamplingParams) -> Completion:
        a = int(re.findall(r"\d+", prompt.split("user")[-1])[0])
        right = a + a if "+" in prompt else a * 3
        return Completion(text=f"hmm {right} hmm", finish_reason="stop", num_tokens=3)


def test_lenient_fallback_changes_lenient_scores_and_is_recorded(data_dir: Path, tmp_path: Path):
    out = tmp_path / "run"
    config = make_config(data_dir, out, verify_workers=1)
    stated_only = score(config, backend=MumblingBackend(), verifier=None)
    assert stated_only.settings["lenient_fallback"] == "none"
    assert all(m.lenient_accuracy == 0.0 for m in stated_only.tasks.values())

    harness = rescore(out, workers=1, lenient_fallback="last_number")  # the paper harness's rule
    assert all(m.lenient_accuracy == 1.0 and m.strict_accuracy == 0.0 for m in harness.tasks.values())
    saved = json.loads((out / "results.json").read_text())
    assert saved["settings"]["lenient_fallback"] == "last_number"
    again = rescore(out, workers=1)  # the run's recorded setting is kept
    assert _metrics(again) == _metrics(harness)

    fresh = score(make_config(data_dir, tmp_path / "run2", verify_workers=1, lenient_fallback="last_number"),
                  backend=MumblingBackend(), verifier=None)
    assert _metrics(fresh) == _metrics(harness)


def test_progress_bar_names_the_benchmark(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    score(make_config(data_dir, tmp_path / "run", tasks=["math500"]), backend=FakeBackend(),
          verifier=stand_in_verifier, show_progress=True)
    err = capsys.readouterr().err
    assert "math500" in err and f"{len(MATH_ROWS)}/{len(MATH_ROWS)}" in err and "compl/s" in err


class WorkingBackend(FakeBackend):
    """Boxes a wrong answer for odd items after working that states the right value, boxes the right answer
    for even items: strict = lenient = half the items, answer present = every item."""

    @staticmethod
    def _complete(prompt: str, index: int, params: SamplingParams) -> Completion:
        a = int(re.findall(r"\d+", prompt.split("user")[-1])[0])
        right = a + a if "+" in prompt else a * 3
        wrong = f"We get $x = {right}$. Hmm, so \\boxed{{{right + 1}}}"
        text = f"so \\boxed{{{right}}}" if a % 2 == 0 else wrong
        return Completion(text=text, finish_reason="stop", num_tokens=3)


def _strip_answer_present(out: Path) -> None:
    """Make the run look written before rlvr measured answer present (old samples and results)."""
    samples = out / SAMPLES_FILE
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    for row in rows:
        row["verdict"].pop("answer_present")
    samples.write_text("".join(json.dumps(row) + "\n" for row in rows))
    data = json.loads((out / "results.json").read_text())
    for metrics in data["tasks"].values():
        metrics.pop("answer_present_rate")
    (out / "results.json").write_text(json.dumps(data))


def test_answer_present_is_measured_and_rescore_fills_old_samples(data_dir: Path, tmp_path: Path):
    out = tmp_path / "run"
    config = make_config(data_dir, out, verify_workers=1, tasks=["math500"])
    results = score(config, backend=WorkingBackend(), verifier=None)
    math = results.tasks["math500"]
    even = sum(1 for i in range(len(MATH_ROWS)) if i % 2 == 0) / len(MATH_ROWS)
    assert math.strict_accuracy == pytest.approx(even) == math.lenient_accuracy
    assert math.answer_present_rate == pytest.approx(1.0)
    odd = [r for r in load_records(out / SAMPLES_FILE).values() if "$x = " in r.completion]
    assert odd and all(r.verdict.answer_present and not r.verdict.correct for r in odd)

    _strip_answer_present(out)
    old = load_results(out)  # results.json without the field still loads
    assert old.tasks["math500"].answer_present_rate is None
    assert all(r.verdict.answer_present is None for r in load_records(out / SAMPLES_FILE).values())
    assert rescore(out, workers=1).tasks["math500"].answer_present_rate == pytest.approx(1.0)
    assert all(r.verdict.answer_present is not None for r in load_records(out / SAMPLES_FILE).values())

    skipped = rescore(out, workers=1, answer_present=False)  # --no-answer-present
    assert skipped.tasks["math500"].answer_present_rate is None
    assert skipped.settings["answer_present"] is False
    assert rescore(out, workers=1).tasks["math500"].answer_present_rate is None  # the run's setting is kept
    lines = (out / "report.md").read_text().splitlines()
    row = next(line for line in lines if line.startswith("| fake-model | MATH500 |"))
    assert row.split(" | ")[2:5] == ["57.1", "57.1", "–"]  # strict, lenient, answer present: a dash, not 0


def test_last_number_credit_is_not_a_stated_answer(data_dir: Path, tmp_path: Path):
    # "hmm 4 hmm" states nothing: the harness's last-number rule credits it, answer present does not
    out = tmp_path / "run"
    config = make_config(data_dir, out, verify_workers=1, lenient_fallback="last_number", tasks=["math500"])
    math = score(config, backend=MumblingBackend(), verifier=None).tasks["math500"]
    assert (math.lenient_accuracy, math.answer_present_rate) == (1.0, 0.0)


class TaggingBackend(FakeBackend):
    """The right answer in <answer> tags, as the r1 template asks; never a box."""

    @staticmethod
    def _complete(prompt: str, index: int, params: SamplingParams) -> Completion:
        a = int(re.findall(r"\d+", prompt.split("User:")[-1].split("user")[-1])[0])
        right = a + a if "+" in prompt else a * 3
        return Completion(text=f" {a} plus {a}. </think> <answer>{right}</answer>", finish_reason="stop",
                          num_tokens=9)


def test_the_template_decides_the_answer_format(data_dir: Path, tmp_path: Path):
    r1 = score(make_config(data_dir, tmp_path / "r1", verify_workers=1, template="r1"),
               backend=TaggingBackend(), verifier=None)
    assert all(m.strict_accuracy == 1.0 and m.format_rate == 1.0 for m in r1.tasks.values())
    assert {s.answer_format for s in r1.task_settings.values()} == {"answer_tag"}
    assert {r.answer_format for r in load_records(tmp_path / "r1" / SAMPLES_FILE).values()} == {"answer_tag"}
    assert rescore(tmp_path / "r1", workers=1).tasks["math500"].strict_accuracy == 1.0  # records keep it

    template = tmp_path / "tags.txt"
    template.write_text("Q: {question}\nThink, then answer inside <answer> </answer> tags.\n")
    from_file = score(make_config(data_dir, tmp_path / "file", verify_workers=1, template=str(template)),
                      backend=TaggingBackend(), verifier=None)
    assert from_file.task_settings["math500"].answer_format == "answer_tag"

    # the paper's template asks for a box: the same completions are right but unformatted
    boxed = score(make_config(data_dir, tmp_path / "boxed", verify_workers=1), backend=TaggingBackend(),
                  verifier=None)
    assert {s.answer_format for s in boxed.task_settings.values()} == {"boxed"}
    assert all(m.strict_accuracy == 0.0 and m.lenient_accuracy == 1.0 for m in boxed.tasks.values())
