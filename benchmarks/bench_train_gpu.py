"""GRPO steps at Qwen2.5-Math-1.5B's shape: rlvr-train (hf, vLLM when importable) vs TRL's GRPOTrainer.

A randomly initialised model with Qwen2.5-Math-1.5B's shape (hidden 1536, 28 layers, 12 heads, 2 KV heads,
MLP 8960, vocabulary 151936, tied embeddings) is built from a config: nothing is downloaded, and the
model's text is irrelevant because every response is forced to the full length (``min_tokens`` = max),
so both trainers generate and train on exactly the same number of tokens. Each trainer runs a few
steps of the same GRPO settings in its own fresh process (peak memory is its own):

- rollouts: ``--prompts`` prompts x ``--rollouts`` samples of ``--max-tokens`` tokens, temperature 0.6;
- update: one AdamW step per rollout step over all responses in micro-batches of ``--micro-batch``
  (TRL: ``per_device_train_batch_size`` with gradient accumulation over the same batch), k3 KL 0.001
  to a frozen reference, token-mean loss (TRL ``loss_type="dapo"``), bf16 on GPU, gradient
  checkpointing on GPU in both;
- reward: ``rlvr_eval.verify_batch`` for both (it is ~0 for a random model: this measures speed).

Printed per trainer: rollout tokens/s (generated tokens / sampling time), update tokens/s (trained
response tokens / rest of the step: grading, reference and policy passes, optimizer), median step time
(the first step is warm-up and left out), peak GPU memory (``torch.cuda.max_memory_allocated``; peak
RSS on CPU), and the ratios rlvr / TRL.

Prepared for one H200 (about 6 minutes with the defaults; not run yet). The machine has no network and
holds torch, transformers, accelerate, pyarrow, pandas, sympy, ... but not TRL, datasets, pydantic or
rlvr's LaTeX parser, so those travel as wheels for its Python 3.12 (rlvr itself is imported from this
checkout):

    # where there is network, in the repository root:
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \\
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \\
        -d .whl trl datasets dill multiprocess pydantic pydantic-core annotated-types typing-inspection \\
        latex2sympy2_extended==1.11.0 antlr4-python3-runtime==4.13.2
    # on the GPU machine, with .whl carried along:
    python3 benchmarks/bench_train_gpu.py --wheels .whl --json "$OUT/bench_gpu.json"

``--wheels DIR`` installs every wheel in DIR (``--no-deps``, no index) into ``DIR/site`` and imports
from there; a DIR without wheels (already a ``pip install --target`` directory) is simply put on the
path, as ``PYTHONPATH`` would. ``--tiny`` runs the same comparison on CPU with the tiny test model in
seconds (tests/benchmarks/test_bench_train_gpu.py).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout where rlvr is not installed (the GPU machine)
    sys.path.insert(0, str(REPO_ROOT))

ANSWER = "12.8"
PROBLEM = (  # pi1's question (REFERENCE.md): only the prompt length matters here
    "The pressure P exerted by wind on a sail varies jointly as the area A of the sail and the cube of the "
    "wind's velocity V. When the velocity is 8 miles per hour, the pressure on a sail of 2 square feet is "
    "4 pounds. Find the wind velocity when the pressure on 4 square feet of sail is 32 pounds."
)
QWEN_MATH_1_5B = dict(  # Qwen2.5-Math-1.5B's config.json, minus the weights
    hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
    num_key_value_heads=2, vocab_size=151936, max_position_embeddings=4096, rope_theta=10000.0,
    rms_norm_eps=1e-6, tie_word_embeddings=True,
)
TRAINERS = ("rlvr-train hf", "rlvr-train vllm", "trl GRPOTrainer")


def use_wheels(directory: str) -> None:
    """Make packages from ``directory`` importable: wheels are installed into ``directory/site`` first."""
    path = Path(directory).resolve()
    wheels = sorted(path.glob("*.whl"))
    site = path / "site" if wheels else path
    if wheels and not (site / ".installed").exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target",
             str(site), *map(str, wheels)], check=True,
        )
        (site / ".installed").write_text("ok\n")
    sys.path.insert(0, str(site))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))


def build_tokenizer(vocab_size: int) -> Any:
    """The tiny test tokenizer (byte-level BPE, Qwen's special tokens and chat template) with its vocabulary
    padded to ``vocab_size`` by byte-pair strings no merge produces: every id the model samples decodes."""
    from tokenizers import Tokenizer, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from rlvr_train.tiny_model import END_OF_TEXT, IM_END, IM_START
    from rlvr_train.tiny_model import build_tokenizer as tiny_tokenizer

    small = tiny_tokenizer()
    if vocab_size <= len(small):
        return small
    data = json.loads(small.backend_tokenizer.to_str())
    vocab: dict[str, int] = data["model"]["vocab"]
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    fillers = (a + b + c for c in ["", *alphabet] for a in alphabet for b in alphabet)
    while len(vocab) < vocab_size:
        token = next(fillers)
        if token not in vocab:
            vocab[token] = len(vocab)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(data)), eos_token=IM_END, pad_token=END_OF_TEXT,
        additional_special_tokens=[IM_START, IM_END], clean_up_tokenization_spaces=False,
        model_max_length=8192,
    )
    fast.chat_template = small.chat_template
    return fast


def qwen_math_config(eos_token_id: int, pad_token_id: int) -> Any:
    """A ``Qwen2Config`` of Qwen2.5-Math-1.5B's shape (1,543,714,304 parameters)."""
    from transformers import Qwen2Config

    ids = {"eos_token_id": eos_token_id, "pad_token_id": pad_token_id}
    return Qwen2Config(**QWEN_MATH_1_5B, **ids, dtype="bfloat16")


def build_model(out: Path, tiny: bool) -> Path:
    """Save the benchmark model: the tiny test model, or Qwen2.5-Math-1.5B's shape with random weights."""
    if tiny:
        from rlvr_train.tiny_model import build_tiny_model

        return build_tiny_model(out)
    from transformers import GenerationConfig, Qwen2ForCausalLM

    tokenizer = build_tokenizer(QWEN_MATH_1_5B["vocab_size"])
    im_end, end_of_text = tokenizer.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):  # random init is fast on a GPU
        model = Qwen2ForCausalLM(qwen_math_config(im_end, end_of_text)).to(torch.bfloat16)
    model.generation_config = GenerationConfig(eos_token_id=[im_end, end_of_text], pad_token_id=end_of_text)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def prompt_text(model_dir: Path) -> str:
    """pi1's training prompt in the Qwen2.5-Math chat format, the same text for both trainers."""
    from transformers import AutoTokenizer

    from rlvr_eval.templates import render_prompt

    return render_prompt(PROBLEM, "qwen-boxed", AutoTokenizer.from_pretrained(model_dir))


class _Stop(Exception):
    """Ends an rlvr-train run after its last measured step (before the final checkpoint is written)."""


def run_rlvr(model_dir: Path, out: Path, args: argparse.Namespace, backend: str) -> dict[str, Any]:
    from rlvr_train.config import TrainConfig
    from rlvr_train.trainer import train

    on_gpu = torch.cuda.is_available()
    extra: dict[str, Any] = {}
    if backend == "vllm":
        extra = {"vllm_gpu_memory_utilization": 0.35} if on_gpu else {"vllm_kv_cache_memory_gb": 0.25}
    cfg = TrainConfig(
        model=str(model_dir), output_dir=str(out), problem=prompt_text(model_dir), answer=ANSWER,
        template="plain", batch_size=args.prompts, rollouts=args.rollouts,
        max_response_tokens=args.max_tokens, min_response_tokens=args.max_tokens, max_prompt_tokens=512,
        temperature=0.6, lr=1e-6, kl_coef=0.001, entropy_coef=0.001, micro_batch_size=args.micro_batch,
        rollout_prompts_per_call=args.prompts, steps=args.steps + 1, save_every=0, eval_every=0,
        verify_workers=0, tensorboard=False, backend=backend, **extra,
    )
    rows: list[dict[str, Any]] = []

    def on_step(step: int, row: dict[str, Any]) -> None:
        rows.append(row)
        if step == args.steps:  # steps + 1 configured: the last step would write a 1.5B checkpoint
            raise _Stop

    with contextlib.suppress(_Stop):
        train(cfg, progress=False, on_step=on_step)
    n = args.prompts * args.rollouts
    return {
        "step_s": [r["step_time"] for r in rows],
        "rollout_s": [r["gen_time"] for r in rows],
        "tokens": [r["response_length"] * n for r in rows],
    }


def run_trl(model_dir: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    import dataclasses

    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from rlvr_eval import verify_batch

    def reward(completions: list[str], answer: list[str], **kwargs: Any) -> list[float | None]:
        return [v.reward for v in verify_batch(completions, answer, workers=0)]

    on_gpu = torch.cuda.is_available()
    n = args.prompts * args.rollouts
    fields = {f.name for f in dataclasses.fields(GRPOConfig)}
    wanted: dict[str, Any] = dict(
        output_dir=str(out), per_device_train_batch_size=args.micro_batch,
        gradient_accumulation_steps=n // args.micro_batch, num_generations=args.rollouts,
        max_completion_length=args.max_tokens, generation_kwargs={"min_new_tokens": args.max_tokens},
        max_prompt_length=512, learning_rate=1e-6, lr_scheduler_type="constant", warmup_steps=0,
        weight_decay=0.01, max_grad_norm=1.0, beta=0.001, epsilon=0.2, loss_type="dapo", temperature=0.6,
        top_p=1.0, top_k=0, entropy_coef=0.001, max_steps=args.steps, logging_steps=1, save_strategy="no",
        report_to="none", use_cpu=not on_gpu, bf16=on_gpu, gradient_checkpointing=on_gpu, seed=0,
        disable_tqdm=True, use_vllm=False,
    )
    config = GRPOConfig(**{k: v for k, v in wanted.items() if k in fields})
    data = Dataset.from_dict({"prompt": [prompt_text(model_dir)] * (n * (args.steps + 1)),
                              "answer": [ANSWER] * (n * (args.steps + 1))})
    steps: list[float] = []
    rollouts: list[float] = []

    class Timer(TrainerCallback):
        def on_step_begin(self, *a: Any, **k: Any) -> None:
            self.t = time.perf_counter()

        def on_step_end(self, *a: Any, **k: Any) -> None:
            steps.append(time.perf_counter() - self.t)

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=config, train_dataset=data,
                          processing_class=tokenizer, callbacks=[Timer()])
    trainer.remove_callback(PrinterCallback)
    generate = trainer._generate  # time the sampling alone, as rlvr-train's gen_time

    def timed(*a: Any, **k: Any) -> Any:
        start = time.perf_counter()
        result = generate(*a, **k)
        _sync()
        rollouts.append(time.perf_counter() - start)
        return result

    trainer._generate = timed  # type: ignore[method-assign]
    trainer.train()
    key = "completions/mean_length"
    lengths = [h[key] for h in trainer.state.log_history if key in h]
    return {"step_s": steps, "rollout_s": rollouts, "tokens": [length * n for length in lengths]}


def _sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def run_in_fresh_process(name: str, model_dir: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """One trainer in this fresh spawned process (``sys.path`` comes from the parent); adds peak memory."""
    if not torch.cuda.is_available():
        torch.set_num_threads(1)  # both trainers are faster on one thread on a small CPU box
    else:
        torch.cuda.reset_peak_memory_stats()
    if name == "trl GRPOTrainer":
        result = run_trl(model_dir, out, args)
    else:
        result = run_rlvr(model_dir, out, args, name.split()[-1])
    if torch.cuda.is_available():
        result["peak_mem_gib"] = torch.cuda.max_memory_allocated() / 2**30
    else:
        result["peak_mem_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    return result


def summary(name: str, result: dict[str, Any]) -> dict[str, Any]:
    """Medians over the measured steps (the first is warm-up when there are more)."""
    keep = slice(1, None) if len(result["step_s"]) > 1 else slice(None)
    step = statistics.median(result["step_s"][keep])
    rollout = statistics.median(result["rollout_s"][keep])
    tokens = statistics.median(result["tokens"][keep])
    return {
        "trainer": name, "steps": len(result["step_s"]), "tokens_per_step": tokens, "step_s": step,
        "rollout_tokens_per_s": tokens / rollout, "update_tokens_per_s": tokens / max(step - rollout, 1e-9),
        "peak_mem_gib": result["peak_mem_gib"],
    }


def available(args: argparse.Namespace) -> list[str]:
    """Trainers that can run here (vLLM and TRL are optional)."""
    names = ["rlvr-train hf"]
    if importlib.util.find_spec("vllm") is not None and not args.no_vllm:
        names.append("rlvr-train vllm")
    if importlib.util.find_spec("trl") is not None:
        names.append("trl GRPOTrainer")
    else:
        print("trl is not importable (pip install trl, or --wheels DIR): rlvr-train only", file=sys.stderr)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU, the tiny test model, seconds")
    parser.add_argument("--steps", type=int, default=3, help="measured steps per trainer (first: warm-up)")
    parser.add_argument("--prompts", type=int, default=8, help="prompts per step")
    parser.add_argument("--rollouts", type=int, default=8, help="samples per prompt (GRPO group)")
    parser.add_argument("--max-tokens", type=int, default=1024, help="tokens per response (forced)")
    parser.add_argument("--micro-batch", type=int, default=8, help="responses per forward/backward")
    parser.add_argument("--wheels", help="directory of wheels (or an installed --target dir) holding trl")
    parser.add_argument("--no-vllm", action="store_true", help="skip rlvr-train's vLLM backend")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    if args.tiny:
        args.prompts, args.rollouts, args.max_tokens, args.micro_batch = 2, 4, 16, 4
    if (args.prompts * args.rollouts) % args.micro_batch:
        parser.error("--micro-batch must divide --prompts x --rollouts")
    if args.wheels:
        use_wheels(args.wheels)
    if not args.tiny and not torch.cuda.is_available():
        parser.error("no GPU: the full-size benchmark needs one (use --tiny on CPU)")
    import transformers

    versions = {"torch": torch.__version__, "transformers": transformers.__version__}
    names = available(args)
    if "trl GRPOTrainer" in names:
        import trl

        versions["trl"] = trl.__version__
    results: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        model_dir = build_model(Path(tmp) / "model", args.tiny)
        print(f"model built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        for name in names:
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                out = Path(tmp) / name.replace(" ", "-")
                try:  # one trainer failing (e.g. out of memory) must not lose the others' figures
                    results[name] = pool.submit(run_in_fresh_process, name, model_dir, out, args).result()
                except Exception as err:
                    failed[name] = f"{type(err).__name__}: {err}".splitlines()[0]
                    print(f"{name} failed: {failed[name]}", file=sys.stderr)
    rows = [summary(name, result) for name, result in results.items()]
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    print(f"{device}; {', '.join(f'{k} {v}' for k, v in versions.items())}; {args.prompts} prompts x "
          f"{args.rollouts} rollouts x {args.max_tokens} tokens, micro-batch {args.micro_batch}")
    memory = "peak GPU GiB" if torch.cuda.is_available() else "peak RSS GiB"
    print(f"| trainer | steps | rollout tok/s | update tok/s | step s | {memory} |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['trainer']} | {row['steps']} | {row['rollout_tokens_per_s']:.0f} | "
              f"{row['update_tokens_per_s']:.0f} | {row['step_s']:.2f} | {row['peak_mem_gib']:.2f} |")
    peer = next((row for row in rows if row["trainer"] == "trl GRPOTrainer"), None)
    for row in rows:
        if peer is not None and row is not peer:
            ratio = {key: row[key] / peer[key] for key in
                     ("rollout_tokens_per_s", "update_tokens_per_s", "step_s", "peak_mem_gib")}
            print(f"{row['trainer']} / TRL: rollout {ratio['rollout_tokens_per_s']:.2f}x, update "
                  f"{ratio['update_tokens_per_s']:.2f}x, step time {ratio['step_s']:.2f}x, "
                  f"memory {ratio['peak_mem_gib']:.2f}x")
    if args.json:
        payload = {"device": device, "versions": versions, "args": vars(args), "summary": rows,
                   "runs": results, "failed": failed}
        Path(args.json).write_text(json.dumps(payload, indent=1), encoding="utf-8")
    for name, reason in failed.items():
        print(f"{name}: FAILED ({reason})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
