"""GPT benchmarks: train-gpt vs nanoGPT on CPU, GPU time-to-loss and MFU, attention kernels.

Prints numbers, asserts nothing. Parts (run one or several):

  python bench/gpt.py cpu --nanogpt PATH/TO/nanoGPT/model.py --target-loss auto [--threads 1]
      Time to nanoGPT's validation loss. First nanoGPT's published CPU configuration (4 layers, 4 heads,
      128 dims, context 64, batch 12, 2000 steps, lr 1e-3 cosine to 1e-4, warm-up 100, dropout 0) through
      nanoGPT's model and train.py's loop (numpy memmap batches, loss.item() every step) on Tiny
      Shakespeare (../shared/data/tinyshakespeare.txt, or $TINYSHAKESPEARE; else the bundled corpus);
      its final validation loss is the target. Then `dlcourse train-gpt` with its defaults (plus
      --ours '...') until its validation loss, evaluated every --eval-every steps, reaches the target.
      Both are evaluated on the same windows: every non-overlapping 64-character window of the
      validation split (the last 10 %, as nanoGPT's prepare.py). Only training time counts (wall and
      CPU, evaluation excluded), both in this process with --threads torch threads. Last line:
      `time-to-loss ratio (nanoGPT / train-gpt): N.NNx`. --target-loss X: a fixed target instead;
      without --nanogpt, train-gpt alone.
  python bench/gpt.py gpu [--target 1.47]
      nanoGPT's Shakespeare GPU configuration (6 layers, 6 heads, 384 dims, context 256, batch 64,
      dropout 0.2): time to validation loss 1.47, tokens/s, and MFU against the device's bf16 peak.
  python bench/gpt.py attention
      student-style attention (explicit softmax, materialised T×T) vs SDPA, forward+backward.
  python bench/gpt.py profile [--nanogpt PATH/TO/nanoGPT/model.py]
      where a training step of the CPU configuration spends its time (torch.profiler, self time per
      op family, ms per step), for the reference GPT and, with --nanogpt, for nanoGPT's model; then
      the floor a step cannot go below: the same matmuls alone, and an elementwise op on data in
      cache vs data that is not (the step's activations do not fit in L2).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from dlcourse.reference import load_solution
from dlcourse.train_gpt import add_arguments, make_optimizer, mean_loss, run, val_windows

COURSE = Path(__file__).resolve().parents[1]
SHAKESPEARE = Path(os.environ.get("TINYSHAKESPEARE", COURSE.parent / "shared" / "data" / "tinyshakespeare.txt"))
BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12, "4090": 165e12}


def data_path() -> Path | None:
    return SHAKESPEARE if SHAKESPEARE.is_file() else None


def ours(steps: int | None, extra: list[str]) -> dict:
    """`dlcourse train-gpt` with its defaults (steps None: its default step count) and `extra` arguments."""
    p = argparse.ArgumentParser()
    add_arguments(p)
    data = data_path()
    argv = ["--eval-every", "250", "--eval-batches", "20", "--sample", "0", "--no-progress",
            "--out", "/tmp/bench-gpt/ckpt.pt", *([] if steps is None else ["--steps", str(steps)])]
    if data is not None:
        argv += ["--data", str(data)]
    return run(p.parse_args(argv + extra), COURSE)


def nanogpt_lr(it: int, steps: int) -> float:
    """train.py's get_lr with the Shakespeare config (lr 1e-3, min_lr 1e-4, warm-up 100, lr_decay_iters = steps)."""
    lr, min_lr, warmup = 1e-3, 1e-4, 100
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > steps:
        return min_lr
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * (it - warmup) / (steps - warmup))) * (lr - min_lr)


def nanogpt_loop(model_py: Path, steps: int) -> dict:
    """nanoGPT's model, driven the way nanoGPT's train.py drives it with the CPU command line.

    Training time only: the final model is returned for evaluation on the shared validation windows."""
    import numpy as np

    spec = importlib.util.spec_from_file_location("nanogpt_model", model_py)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    from dlcourse.data import corpus_split, corpus_text

    text = corpus_text(data_path())
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    train_text, val_text = corpus_split(text)
    tmp = Path("/tmp/bench-gpt")
    tmp.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train_text), ("val", val_text)):
        np.array([stoi[c] for c in part], dtype=np.uint16).tofile(tmp / f"{name}.bin")
    block, batch = 64, 12

    def get_batch(split):
        data = np.memmap(tmp / f"{split}.bin", dtype=np.uint16, mode="r")  # re-opened every batch, as train.py
        ix = torch.randint(len(data) - block, (batch,))
        x = torch.stack([torch.from_numpy(data[i:i + block].astype(np.int64)) for i in ix])
        y = torch.stack([torch.from_numpy(data[i + 1:i + 1 + block].astype(np.int64)) for i in ix])
        return x, y

    kw = dict(n_layer=4, n_head=4, n_embd=128, block_size=block, bias=False, vocab_size=len(chars), dropout=0.0)
    fields = set(mod.GPTConfig.__dataclass_fields__)
    for k, v in (("use_rmsnorm", False), ("use_relu", False), ("use_softermax", False)):  # forks: upstream model
        if k in fields:
            kw[k] = v
    torch.manual_seed(1337)
    model = mod.GPT(mod.GPTConfig(**kw))
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99), "cpu")
    train_time = train_cpu = 0.0
    for it in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        for g in opt.param_groups:
            g["lr"] = nanogpt_lr(it, steps)
        x, y = get_batch("train")
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()  # log_interval=1
        train_time += time.perf_counter() - t0
        train_cpu += time.process_time() - c0
    return {"tokens_per_s": steps * block * batch / train_time, "train_seconds": train_time,
            "train_cpu_seconds": train_cpu, "model": model}


def load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def part_cpu(a: argparse.Namespace) -> None:
    """nanoGPT first, its final validation loss the target; then train-gpt until it reaches the target.

    Both are evaluated on the same windows (every non-overlapping 64-character window of the validation
    split, `val_windows`), with evaluation time excluded; both run with --threads threads."""
    import shlex

    from dlcourse.data import corpus_split, corpus_text

    torch.set_num_threads(a.threads)
    print(f"data: {data_path() or 'bundled corpus (tinyshakespeare.txt not found)'}; {a.threads} thread(s); {load()}")
    text = corpus_text(data_path())
    stoi = {c: i for i, c in enumerate(sorted(set(text)))}
    x_val, y_val = val_windows(torch.tensor([stoi[c] for c in corpus_split(text)[1]]), 64)
    print(f"validation: all {len(x_val)} non-overlapping windows of 64 characters ({x_val.numel():,} predictions)")
    extra = shlex.split(a.ours)
    target = None if a.target_loss in (None, "none") else a.target_loss
    if a.nanogpt:
        n = nanogpt_loop(Path(a.nanogpt), a.steps)
        n_val = mean_loss(n["model"], x_val, y_val)
        print(f"nanoGPT (same box) : {n['tokens_per_s']:9,.0f} tokens/s, {a.steps} steps: "
              f"{n['train_seconds']:.1f} s of training ({n['train_cpu_seconds']:.1f} s CPU), final val loss "
              f"{n_val:.4f}; {load()}")
        target = repr(n_val) if target == "auto" else target
    if target == "auto":
        raise SystemExit("--target-loss auto needs --nanogpt PATH/model.py (its final validation loss is the target)")
    argv = ["--eval-batches", "0", "--eval-every", str(a.eval_every), *extra]
    r = ours(None, argv + (["--target-loss", target] if target else []))
    hit = r["reached"]
    if hit:
        what = (f"val loss {r['val_loss']:.4f} <= {float(target):.4f} at step {hit[0]}: {hit[1]:.1f} s of training "
                f"({hit[2]:.1f} s CPU)")
    else:
        what = (f"val loss {r['val_loss']:.4f} after {r['history'][-1][0]} steps, {r['train_seconds']:.1f} s of "
                f"training ({r['train_cpu_seconds']:.1f} s CPU)" + (": target NOT reached" if target else ""))
    print(f"dlcourse train-gpt : {r['tokens_per_s']:9,.0f} tokens/s, {r['params']:,} parameters, {what}; {load()}")
    if a.nanogpt:
        ours_s, ours_cpu = (hit[1], hit[2]) if hit else (r["train_seconds"], r["train_cpu_seconds"])
        bound = "" if hit else "< "  # not reached: the ratio is at most this
        print(f"CPU-time ratio (nanoGPT / train-gpt): {bound}{n['train_cpu_seconds'] / ours_cpu:.2f}x "
              f"({n['train_cpu_seconds']:.1f} s / {ours_cpu:.1f} s)")
        print(f"time-to-loss ratio (nanoGPT / train-gpt): {bound}{n['train_seconds'] / ours_s:.2f}x")


def part_gpu(a: argparse.Namespace) -> None:
    if not torch.cuda.is_available():
        print("gpu: no CUDA device, skipped")
        return
    name = torch.cuda.get_device_name()
    peak = next((v for k, v in BF16_PEAK.items() if k in name), None)
    extra = ["--n-layers", "6", "--n-heads", "6", "--d-model", "384", "--context", "256", "--batch-size", "64",
             "--dropout", "0.2", "--eval-every", "250",  # nanoGPT's recipe, not train-gpt's CPU default:
             "--optimizer", "adamw", "--lr", "1e-3", "--min-lr", "1e-4", "--schedule", "cosine", "--warmup", "100",
             "--weight-decay", "0.1", "--no-tie", "--no-zero-init"] + (["--compile"] if a.compile else [])
    t0 = time.perf_counter()
    r = ours(a.steps, extra)
    wall = time.perf_counter() - t0
    hit = next((s for s, v in r["history"] if v <= a.target), None)
    n = r["params"]
    flops_per_token = 6 * n + 12 * 6 * 384 * 256  # 6N + attention (nanoGPT's estimate)
    mfu = r["tokens_per_s"] * flops_per_token / peak if peak else float("nan")
    print(f"{name}: {r['tokens_per_s']:,.0f} tokens/s, MFU {mfu:.1%} of {peak / 1e12 if peak else float('nan'):.0f} "
          f"TFLOP/s bf16; val loss {r['val_loss']:.4f}; first eval <= {a.target} at step {hit}; wall {wall:.0f} s")


def part_attention(a: argparse.Namespace) -> None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32

    def naive(q, k, v):
        s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, T, T)
        t = q.shape[-2]
        s = s.masked_fill(~torch.ones(t, t, dtype=torch.bool, device=q.device).tril(), float("-inf"))
        return torch.softmax(s, dim=-1) @ v

    def sdpa(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    print(f"attention fwd+bwd on {device} ({dtype}), B=8, H=8, D=64: ms per call")
    for t in ((64, 256, 1024) if device.type == "cpu" else (256, 1024, 4096)):
        row = []
        for fn in (naive, sdpa):
            q, k, v = (torch.randn(8, 8, t, 64, device=device, dtype=dtype, requires_grad=True) for _ in range(3))
            for _ in range(2):
                fn(q, k, v).sum().backward()
            n = 5
            if device.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(n):
                fn(q, k, v).sum().backward()
            if device.type == "cuda":
                torch.cuda.synchronize()
            row.append((time.perf_counter() - t0) / n * 1e3)
        print(f"  T={t:5d}: explicit softmax {row[0]:8.2f} ms, SDPA {row[1]:8.2f} ms ({row[0] / row[1]:.1f}x)")


FAMILIES = {  # aten op name -> family, for the step profile
    "matmul": ("aten::mm", "aten::addmm", "aten::bmm"),
    "attention": ("aten::_scaled_dot_product",),
    "optimizer + clipping": ("aten::_fused_adam", "aten::_foreach", "aten::linalg_vector_norm", "aten::lerp",
                             "aten::addcmul", "aten::addcdiv", "aten::sqrt", "aten::mul_", "aten::add_", "aten::div_",
                             "aten::item", "aten::_local_scalar_dense", "aten::stack", "aten::clamp"),
}


def step_profile(model: torch.nn.Module, opt: torch.optim.Optimizer, steps: int = 30) -> dict[str, float]:
    """ms per training step by op family (self CPU time of aten ops; 'rest' is norms, GELU, adds, copies).

    The families are measured under the profiler, which adds its own overhead; the wall time is not."""
    from torch.profiler import ProfilerActivity, profile

    gen = torch.Generator().manual_seed(0)

    def one_step() -> None:
        idx = torch.randint(0, 65, (12, 65), generator=gen)  # (B, T+1)
        _, loss = model(idx[:, :-1].contiguous(), idx[:, 1:].contiguous())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0, foreach=True)
        opt.step()

    for _ in range(10):
        one_step()
    t0 = time.perf_counter()
    for _ in range(steps):
        one_step()
    wall = (time.perf_counter() - t0) / steps * 1e3
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            one_step()
    out = dict.fromkeys([*FAMILIES, "rest"], 0.0)
    for e in prof.key_averages():
        if not e.key.startswith("aten::"):
            continue
        fam = next((f for f, prefixes in FAMILIES.items() if e.key.startswith(prefixes)), "rest")
        out[fam] += e.self_cpu_time_total / steps / 1e3
    out["step (unprofiled wall)"] = wall
    return out


def part_profile(a: argparse.Namespace) -> None:
    ref = load_solution(COURSE, "a09_gpt")
    torch.manual_seed(0)
    rows = {}
    model = ref.GPT(ref.GPTConfig(vocab_size=65, context_length=64, d_model=128, n_heads=4, n_layers=4))
    rows["reference GPT"] = step_profile(model, make_optimizer(model, 1e-3, 0.1))
    if a.nanogpt:
        spec = importlib.util.spec_from_file_location("nanogpt_model", a.nanogpt)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        model = mod.GPT(mod.GPTConfig(n_layer=4, n_head=4, n_embd=128, block_size=64, bias=False, vocab_size=65,
                                      dropout=0.0))
        rows["nanoGPT"] = step_profile(model, make_optimizer(model, 1e-3, 0.1))
    print(f"one training step, CPU configuration, {torch.get_num_threads()} threads: ms per step")
    for name, r in rows.items():
        print(f"  {name:14s}: " + ", ".join(f"{k} {v:.1f}" for k, v in r.items()))

    def per_call(fn, n: int = 50) -> float:
        for _ in range(5):
            fn()
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        return (time.perf_counter() - t0) / n * 1e3

    rows_t = 12 * 64
    shapes = []  # (m, k, n) of every matmul in one step: forward x @ W.T, backward dX = dY @ W, dW = dY.T @ X
    for fan_in, fan_out in [(128, 384), (128, 128), (128, 512), (512, 128)] * 4 + [(128, 65)]:
        shapes += [(rows_t, fan_in, fan_out), (rows_t, fan_out, fan_in), (fan_out, rows_t, fan_in)]
    mats = [(torch.randn(m, k), torch.randn(k, n)) for m, k, n in shapes]
    floor = per_call(lambda: [x @ w for x, w in mats], 20)
    flops = sum(2 * m * k * n for m, k, n in shapes)
    big = torch.randn(2048, 2048)
    peak = 2 * 2048**3 / per_call(lambda: big @ big, 10) / 1e6
    print(f"  the step's {len(shapes)} matmuls alone (same shapes, {flops / 1e9:.2f} GFLOP): {floor:.1f} ms "
          f"({flops / floor / 1e6:.0f} GFLOP/s; a 2048^3 matmul runs at {peak:.0f})")
    warm = torch.randn(rows_t, 512)
    cold = [torch.randn(rows_t, 512) for _ in range(64)]  # 100 MB: cycling through it misses every cache
    outs = [torch.zeros_like(c) for c in cold]  # touched: no page faults in the timing
    it = iter(range(10**9))

    def gelu_cold() -> None:
        i = next(it) % 64
        torch._C._nn.gelu(cold[i], out=outs[i])

    print(f"  GELU on a [768, 512] activation: {per_call(lambda: F.gelu(warm), 200) * 1e3:.0f} us in cache, "
          f"{per_call(gelu_cold, 200) * 1e3:.0f} us from memory")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("parts", nargs="+", choices=["cpu", "gpu", "attention", "profile"])
    p.add_argument("--steps", type=int, default=2000, help="nanoGPT's steps (cpu); train-gpt's (gpu)")
    p.add_argument("--target-loss", help="cpu: stop train-gpt at this validation loss; auto: nanoGPT's final one")
    p.add_argument("--ours", default="", help="cpu: extra train-gpt arguments, e.g. '--optimizer adamw'")
    p.add_argument("--eval-every", type=int, default=25, help="cpu: train-gpt's evaluation interval")
    p.add_argument("--threads", type=int, default=1, help="cpu: torch threads for both")
    p.add_argument("--nanogpt", help="path to nanoGPT's model.py for the same-machine comparison")
    p.add_argument("--target", type=float, default=1.47)
    p.add_argument("--compile", action="store_true")
    a = p.parse_args()
    for part in a.parts:
        {"cpu": part_cpu, "gpu": part_gpu, "attention": part_attention, "profile": part_profile}[part](a)


if __name__ == "__main__":
    main()
