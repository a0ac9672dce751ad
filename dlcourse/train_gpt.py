"""`dlcourse train-gpt`: train the reference GPT (solutions/a09_gpt) on the bundled corpus.

Single process on CPU/CUDA/MPS, or several GPUs with `torchrun --nproc_per_node=N -m dlcourse.cli
train-gpt ...` (DDP; each rank samples its own batches). A tqdm bar shows loss and tokens/s;
validation every `--eval-every` steps; checkpoints with `--resume`; bf16 autocast on CUDA;
`--compile` for torch.compile. Defaults are nanoGPT's CPU configuration (4 layers, 4 heads,
128 dims, context 64, batch 12) for 1000 steps: a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path

import torch

from .data import corpus_split, corpus_text
from .device import best_device
from .reference import load_solution
from .train_args import add_arguments  # noqa: F401 - `python -m dlcourse.train_gpt` and the CLI


def lr_at(step: int, args: argparse.Namespace) -> float:
    """Linear warmup, then cosine decay to min_lr (nanoGPT's schedule)."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    frac = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return args.min_lr + 0.5 * (1 + math.cos(math.pi * frac)) * (args.lr - args.min_lr)


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not on norms' gains, biases); fused where available."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    try:  # one kernel for all parameters instead of a Python loop over them (torch >= 2.4 on CPU)
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99), fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


class Batches:
    """Random windows of context+1 ids, drawn from ids kept on the training device."""

    def __init__(self, ids: torch.Tensor, context: int, batch_size: int, device: torch.device, seed: int):
        self.ids = ids.to(device)
        self.context, self.batch_size = context, batch_size
        self.gen = torch.Generator(device=device).manual_seed(seed)
        self.offsets = torch.arange(context + 1, device=device)

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor]:
        starts = torch.randint(0, len(self.ids) - self.context - 1, (self.batch_size,), generator=self.gen,
                               device=self.ids.device)
        win = self.ids[starts[:, None] + self.offsets[None, :]]  # (B, T+1)
        return win[:, :-1], win[:, 1:]


def run(args: argparse.Namespace, course: Path) -> dict:
    ref = load_solution(course, "a09_gpt")
    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    if ddp:
        import torch.distributed as dist

        backend = "nccl" if torch.cuda.is_available() and args.device != "cpu" else "gloo"
        dist.init_process_group(backend)
        device = torch.device(f"cuda:{int(os.environ['LOCAL_RANK'])}") if backend == "nccl" else torch.device("cpu")
        if device.type == "cuda":
            torch.cuda.set_device(device)
    else:
        device = best_device(args.device)
    main = rank == 0
    torch.manual_seed(args.seed)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    text = corpus_text(args.data)
    train_text, val_text = corpus_split(text)
    start_step, state = 0, None
    if args.resume:
        try:
            state = torch.load(args.out, map_location="cpu", weights_only=True)
            tok = ref.CharTokenizer("".join(state["chars"]))
            config = ref.GPTConfig(**state["config"])
            start_step = state["step"]
        except Exception as exc:  # a truncated file, another program's file, an older format
            from autograder.grade import CourseError  # here: training itself needs only torch

            raise CourseError(f"--resume: {args.out} is not a train-gpt checkpoint ({type(exc).__name__}: "
                              f"{str(exc)[:200]})") from None
    else:
        tok = ref.CharTokenizer(text)
        config = ref.GPTConfig(vocab_size=tok.vocab_size, context_length=args.context, d_model=args.d_model,
                               n_heads=args.n_heads, n_layers=args.n_layers, dropout=args.dropout)
    model = ref.GPT(config).to(device)
    opt = make_optimizer(model, args.lr, args.weight_decay)
    if state is not None:
        try:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
        except (KeyError, RuntimeError, ValueError) as exc:  # e.g. saved by a model with biases
            from autograder.grade import CourseError

            raise CourseError(f"--resume: {args.out} was saved by a different model "
                              f"({str(exc).splitlines()[0][:200]}); train anew without --resume") from None
    train_model = torch.compile(model) if args.compile else model
    if ddp:
        from torch.nn.parallel import DistributedDataParallel

        train_model = DistributedDataParallel(train_model, device_ids=[device.index] if device.type == "cuda" else None)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext())
    train_batches = Batches(torch.tensor(tok.encode(train_text)), config.context_length, args.batch_size, device,
                            args.seed + rank + start_step)
    val_ids = torch.tensor(tok.encode(val_text))

    @torch.no_grad()
    def evaluate() -> float:
        model.eval()
        batches = Batches(val_ids, config.context_length, args.batch_size, device, 0)
        losses = []
        for _ in range(args.eval_batches):
            x, y = batches()
            with autocast:
                _, loss = model(x, y)
            losses.append(loss.item())
        model.train()
        return sum(losses) / len(losses)

    def save(step: int) -> None:
        if not main:
            return
        args.out.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                    "config": asdict(config), "chars": list(tok.chars)}, args.out)

    n_params = sum(p.numel() for p in model.parameters())
    if main:
        print(f"device {device}{f' x{world} (DDP)' if ddp else ''}, {n_params / 1e6:.2f}M parameters, "
              f"vocab {tok.vocab_size}, {len(train_text):,} training characters")
    from tqdm import tqdm

    bar = tqdm(range(start_step, args.steps), initial=start_step, total=args.steps, unit="step",
               disable=not main or args.no_progress, dynamic_ncols=True)
    tokens_per_step = args.batch_size * config.context_length * world
    train_time, val_loss, last_loss = 0.0, float("nan"), float("nan")
    history = []
    model.train()
    for step in bar:
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        x, y = train_batches()
        with autocast:
            _, loss = train_model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0, foreach=True)
        opt.step()
        if step % 10 == 0 or step == args.steps - 1:
            last_loss = loss.item()  # a sync: only every 10 steps
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_time += time.perf_counter() - t0
        done = step + 1 - start_step
        bar.set_postfix(loss=f"{last_loss:.3f}", tok_s=f"{done * tokens_per_step / train_time:,.0f}", refresh=False)
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            val_loss = evaluate()
            history.append((step + 1, val_loss))
            if main:
                bar.write(f"step {step + 1}: train loss {last_loss:.4f}, val loss {val_loss:.4f}")
            save(step + 1)
    bar.close()
    done = max(1, args.steps - start_step)
    tok_s = done * tokens_per_step / max(train_time, 1e-9)
    result = {"val_loss": val_loss, "tokens_per_s": tok_s, "train_seconds": train_time, "params": n_params,
              "history": history, "device": str(device)}
    if main:
        print(f"{tok_s:,.0f} tokens/s over {done} steps ({train_time:.1f} s of training); "
              f"final val loss {val_loss:.4f}")
        if args.sample:
            model.eval()
            prompt = torch.tensor([tok.encode("\n")], device=device)
            out = model.generate(prompt, args.sample, temperature=args.temperature, top_k=args.top_k)
            print("--- sample ---")
            print(tok.decode(out[0].tolist()))
    if ddp:
        import torch.distributed as dist

        dist.destroy_process_group()
    return result


if __name__ == "__main__":  # `python -m dlcourse.train_gpt`: the same as `dlcourse train-gpt`, with only torch
    _parser = argparse.ArgumentParser(prog="python -m dlcourse.train_gpt", description=__doc__)
    add_arguments(_parser)
    run(_parser.parse_args(), Path(__file__).resolve().parents[1])
