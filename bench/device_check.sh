#!/usr/bin/env bash
# The GPU checks of issue #4 as one prepared command for the device machine (an H200 image with
# torch, tqdm, scikit-learn, einops; no nbgrader/nbformat needed on this path):
#   device run, command: bash bench/device_check.sh, timeout_s: 560
# Prints, and copies to $OUT/log: the GPU, the a09 reference on CUDA (bf16 autocast) for a few
# steps, the attention kernels, and nanoGPT's 6x384 Shakespeare run (5000 steps: time to val 1.47,
# tokens/s, MFU). ../shared does not travel; before the call, here (.devdata/ is git-ignored, never
# committed):  mkdir -p .devdata && cp ../shared/data/tinyshakespeare.txt .devdata/
#              and pass carry: [".devdata"].
set -uo pipefail
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT="${OUT:-/tmp/device-out}"; mkdir -p "$OUT"
[ -f .devdata/tinyshakespeare.txt ] && export TINYSHAKESPEARE="$PWD/.devdata/tinyshakespeare.txt"
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  timeout 120 python3 -m dlcourse.train_gpt --device cuda --steps 50 --eval-every 50 --sample 80 \
      --out /tmp/dc/gpt.pt || echo "train-gpt smoke: FAILED ($?)"
  timeout 120 python3 bench/gpt.py attention || echo "attention: FAILED ($?)"
  timeout 330 python3 bench/gpt.py gpu --steps 5000 || echo "gpu bench: FAILED or timed out ($?)"
} 2>&1 | tee "$OUT/log"
