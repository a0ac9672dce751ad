"""GPT benchmarks: train-gpt vs nanoGPT on CPU, GPU time-to-loss and MFU, attention kernels.

Prints numbers, asserts nothing. Parts (run one or several):

  python bench/gpt.py cpu [--nanogpt PATH/TO/nanoGPT/model.py] [--steps 2000]
      nanoGPT's published CPU configuration (4 layers, 4 heads, 128 dims, context 64, batch 12,
      2000 steps, lr 1e-3, dropout 0) on Tiny Shakespeare (../shared/data/tinyshakespeare.txt when
      present, else the bundled corpus): tokens/s and validation loss of `dlcourse train-gpt`; with
      --nanogpt, the same configuration through nanoGPT's model and nanoGPT's train.py loop (numpy
      memmap batches, loss.item() every step), on this machine, for the ratio.
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
from types import SimpleNamespace

import torch
import torch.nn.functional as F

from dlcourse.reference import load_solution
from dlcourse.train_gpt import add_arguments, lr_at, make_optimizer, run

COURSE = Path(__file__).resolve().parents[1]
SHAKESPEARE = Path(os.environ.get("TINYSHAKESPEARE", COURSE.parent / "shared" / "data" / "tinyshakespeare.txt"))
BF16_PEAK = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L4": 121e12, "A10": 125e12, "4090": 165e12}


def data_path() -> Path | None:
    return SHAKESPEARE if SHAKESPEARE.is_file() else None


def ours(steps: int, extra: list[str]) -> dict:
    p = argparse.ArgumentParser()
    add_arguments(p)
    data = data_path()
    argv = ["--steps", str(steps), "--eval-every", "250", "--eval-batches", "20", "--sample", "0", "--no-progress",
            "--out", "/tmp/bench-gpt/ckpt.pt", *extra]
    if data is not None:
        argv += ["--data", str(data)]
    return run(p.parse_args(argv), COURSE)


def nanogpt_loop(model_py: Path, steps: int) -> dict:
    """nanoGPT's model, driven the way nanoGPT's train.py drives it with the CPU command line."""
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
    sched = SimpleNamespace(lr=1e-3, min_lr=1e-4, warmup=100, steps=steps)
    train_time = 0.0
    for it in range(steps):
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(it, sched)
        x, y = get_batch("train")
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        loss.item()  # log_interval=1
        train_time += time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        val = sum(model(*get_batch("val"))[1].item() for _ in range(20)) / 20
    return {"tokens_per_s": steps * block * batch / train_time, "val_loss": val}


def part_cpu(a: argparse.Namespace) -> None:
    print(f"data: {data_path() or 'bundled corpus (tinyshakespeare.txt not found)'}")
    r = ours(a.steps, [])
    print(f"dlcourse train-gpt : {r['tokens_per_s']:9,.0f} tokens/s, val loss {r['val_loss']:.4f} "
          f"after {a.steps} steps")
    if a.nanogpt:
        n = nanogpt_loop(Path(a.nanogpt), a.steps)
        print(f"nanoGPT (same box) : {n['tokens_per_s']:9,.0f} tokens/s, val loss {n['val_loss']:.4f}")
        print(f"speed ratio        : {r['tokens_per_s'] / n['tokens_per_s']:.2f}x (goal >= 1.25x at val loss <= 1.88)")


def part_gpu(a: argparse.Namespace) -> None:
    if not torch.cuda.is_available():
        print("gpu: no CUDA device, skipped")
        return
    name = torch.cuda.get_device_name()
    peak = next((v for k, v in BF16_PEAK.items() if k in name), None)
    extra = ["--n-layers", "6", "--n-heads", "6", "--d-model", "384", "--context", "256", "--batch-size", "64",
             "--dropout", "0.2", "--lr", "1e-3", "--eval-every", "250"] + (["--compile"] if a.compile else [])
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
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--nanogpt", help="path to nanoGPT's model.py for the same-machine comparison")
    p.add_argument("--target", type=float, default=1.47)
    p.add_argument("--compile", action="store_true")
    a = p.parse_args()
    for part in a.parts:
        {"cpu": part_cpu, "gpu": part_gpu, "attention": part_attention, "profile": part_profile}[part](a)


if __name__ == "__main__":
    main()
