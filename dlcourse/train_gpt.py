"""`dlcourse train-gpt`: train the reference GPT (solutions/a09_gpt) on the bundled corpus.

Single process on CPU/CUDA/MPS, or several GPUs with `torchrun --nproc_per_node=N -m dlcourse.cli
train-gpt ...` (DDP; each rank samples its own batches). A tqdm bar shows loss and tokens/s;
validation every `--eval-every` steps; checkpoints with `--resume`; bf16 autocast on CUDA;
`--compile` for torch.compile; `--target-loss` stops at the first validation loss at or below it.

The defaults are a recipe tuned to reach, on Tiny Shakespeare, the validation loss of nanoGPT's CPU
configuration (4 layers x 128, context 64, batch 12, AdamW 1e-3, cosine, 2000 steps) in ~1/4 of its
time (bench/gpt.py cpu): the same context, batch and parameter budget (3 layers x 144, tied
embeddings, 0.77M parameters vs nanoGPT's 0.80M), torch's Muon (lr 0.03, momentum 0.9) for the
blocks' matrices and AdamW (lr 3e-3) for embeddings and gains, 20 warm-up steps and a
warmup-stable-decay schedule sized to the 450 steps: under a minute on 2 cores. nanoGPT's recipe:
`--optimizer adamw --lr 1e-3 --min-lr 1e-4 --schedule cosine --warmup 100 --no-tie --n-layers 4
--d-model 128 --steps 2000`.
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


def lr_factor(step: int, args: argparse.Namespace) -> float:
    """The fraction of the peak learning rates that step `step` uses (the same for every optimizer).

    Linear warm-up over `args.warmup` steps, then either nanoGPT's cosine down to min_lr / lr at the last
    step (`schedule="cosine"`, the default of a namespace without `schedule`), or warm-up-stable-decay
    (`schedule="wsd"`): hold the peak, then fall linearly to min_lr / lr over the last `cooldown` fraction
    of the steps. WSD spends most steps at the peak rate and gets the final drop of the loss from the
    decay, wherever the run ends: the schedule to use when the run is sized to a target loss.
    """
    floor = args.min_lr / args.lr if args.lr > 0 else 0.0
    if step < args.warmup:
        return (step + 1) / args.warmup
    if getattr(args, "schedule", "cosine") == "wsd":
        decay = max(1, round(args.cooldown * args.steps))
        frac = min(1.0, max(0.0, (step - (args.steps - decay) + 1) / decay))
        return 1.0 - frac * (1.0 - floor)
    frac = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    return floor + 0.5 * (1 + math.cos(math.pi * frac)) * (1 - floor)


def lr_at(step: int, args: argparse.Namespace) -> float:
    """AdamW's learning rate at `step`: args.lr times `lr_factor` (warm-up, then cosine or WSD)."""
    return args.lr * lr_factor(step, args)


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float,
                   params: list[torch.nn.Parameter] | None = None) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not on norms' gains, biases); fused where available.

    `params` (default: all of the model's) lets Muon take the hidden matrices and AdamW the rest."""
    params = list(model.parameters()) if params is None else params
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    groups = [g for g in groups if g["params"]]
    try:  # one kernel for all parameters instead of a Python loop over them (torch >= 2.4 on CPU)
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99), fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


def hidden_matrices(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    """The 2-D weights inside the transformer blocks (q/k/v, projections, MLP): what Muon optimizes.

    Embeddings, the LM head and the norms' gains are no hidden linear maps; they stay with AdamW."""
    return [p for p in model.blocks.parameters() if p.dim() == 2]


def make_optimizers(model: torch.nn.Module, args: argparse.Namespace) -> list[torch.optim.Optimizer]:
    """`--optimizer adamw`: one AdamW; `muon`: torch's Muon for the hidden matrices, AdamW for the rest.

    Each param group keeps its peak rate in "peak_lr"; the loop sets lr = peak_lr * lr_factor(step)."""
    if args.optimizer is None:  # the default: Muon where this torch has it
        args.optimizer = "muon" if hasattr(torch.optim, "Muon") else "adamw"
    if args.optimizer == "adamw":
        opts = [make_optimizer(model, args.lr, args.weight_decay)]
    else:
        if not hasattr(torch.optim, "Muon"):
            raise SystemExit(f"--optimizer muon needs torch >= 2.9 (torch.optim.Muon); this is torch "
                             f"{torch.__version__}: use --optimizer adamw")
        matrices = hidden_matrices(model)
        ids = {id(p) for p in matrices}
        rest = [p for p in model.parameters() if id(p) not in ids]
        muon = torch.optim.Muon(matrices, lr=args.muon_lr, weight_decay=args.muon_weight_decay,
                                momentum=args.muon_momentum, adjust_lr_fn="original")
        opts = [muon, make_optimizer(model, args.lr, args.weight_decay, params=rest)]
    for opt in opts:
        for g in opt.param_groups:
            g["peak_lr"] = g["lr"]
    return opts


def shape_model(model: torch.nn.Module, tie: bool, zero_init: bool) -> torch.nn.Module:
    """Recipe changes to the reference GPT that keep its class: tied embeddings, zero-initialised outputs.

    zero_init: every block's two output projections (attention's and the MLP's) start at 0, so each
    block starts as the identity on the residual stream and the first steps train a shallow model;
    tie: the LM head reuses the token embedding matrix (as nanoGPT does): vocab x d_model parameters fewer."""
    if zero_init:
        for block in model.blocks:
            torch.nn.init.zeros_(block.attn.proj.weight)
            torch.nn.init.zeros_(block.mlp[2].weight)
    if tie:
        model.lm_head.weight = model.wte.weight
    return model


def val_windows(ids: torch.Tensor, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every non-overlapping window of the 1-D ids: inputs [N, context] and targets shifted by one.

    Deterministic and covering the whole split, so two models evaluated on it see the same characters
    (no sampling noise between them), each position 0..context-1 of a window equally often."""
    n = (len(ids) - 1) // context
    x = ids[:n * context].view(n, context)  # (N, T)
    y = ids[1:n * context + 1].view(n, context)  # (N, T)
    return x, y


@torch.no_grad()
def mean_loss(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 64,
              autocast=None) -> float:
    """Mean cross-entropy of model(x, y) over all N windows, in chunks (small ones stay in cache); the
    model's train/eval mode is restored."""
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(0, len(x), chunk):
        with autocast or nullcontext():
            _, loss = model(x[i:i + chunk], y[i:i + chunk])
        total += loss.item() * len(x[i:i + chunk])
    model.train(was_training)
    return total / len(x)


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


def train_step(model: torch.nn.Module, opts: list[torch.optim.Optimizer], batches: Batches, factor: float,
               grad_clip: float, autocast=None) -> torch.Tensor:
    """One optimizer step on one batch, every rate at factor x its peak; returns the loss (not synced)."""
    for opt in opts:
        for g in opt.param_groups:
            g["lr"] = g["peak_lr"] * factor
    x, y = batches()
    with autocast or nullcontext():
        _, loss = model(x, y)
    for opt in opts:
        opt.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip, foreach=True)
    for opt in opts:
        opt.step()
    return loss


def describe(args: argparse.Namespace) -> str:
    """The recipe in one line, for the log."""
    opt = (f"Muon lr {args.muon_lr} for the blocks' matrices + AdamW lr {args.lr}" if args.optimizer == "muon"
           else f"AdamW lr {args.lr}")
    sched = f"wsd (last {args.cooldown:.0%} decays)" if args.schedule == "wsd" else "cosine"
    extras = [x for x, on in (("tied embeddings", args.tie), ("zero-init outputs", args.zero_init)) if on]
    return ", ".join([opt, f"{sched} to {args.min_lr / args.lr:.2g}x after {args.warmup} warm-up steps",
                      f"batch {args.batch_size}", *extras])


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
            args.tie = state.get("tie", False)  # the model's structure is the checkpoint's
        except Exception as exc:  # a truncated file, another program's file, an older format
            from autograder.grade import CourseError  # here: training itself needs only torch

            raise CourseError(f"--resume: {args.out} is not a train-gpt checkpoint ({type(exc).__name__}: "
                              f"{str(exc)[:200]})") from None
    else:
        tok = ref.CharTokenizer(text)
        config = ref.GPTConfig(vocab_size=tok.vocab_size, context_length=args.context, d_model=args.d_model,
                               n_heads=args.n_heads, n_layers=args.n_layers, dropout=args.dropout)
    model = shape_model(ref.GPT(config), args.tie, args.zero_init and state is None).to(device)
    opts = make_optimizers(model, args)
    if state is not None:
        try:
            model.load_state_dict(state["model"])
            saved = state["optimizer"]
            if not isinstance(saved, list) or len(saved) != len(opts):
                raise ValueError(f"{len(saved) if isinstance(saved, list) else 1} optimizer(s) saved, "
                                 f"--optimizer {args.optimizer} has {len(opts)}")
            for opt, sd in zip(opts, saved, strict=True):
                opt.load_state_dict(sd)
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
    full_val = val_windows(val_ids.to(device), config.context_length) if args.eval_batches == 0 else None

    @torch.no_grad()
    def evaluate() -> float:
        if full_val is not None:
            return mean_loss(model, *full_val, autocast=autocast)
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
        torch.save({"model": model.state_dict(), "optimizer": [o.state_dict() for o in opts], "step": step,
                    "config": asdict(config), "chars": list(tok.chars), "tie": args.tie}, args.out)

    n_params = sum(p.numel() for p in model.parameters())  # tied weights count once
    if main:
        print(f"device {device}{f' x{world} (DDP)' if ddp else ''}, {n_params / 1e6:.2f}M parameters, "
              f"vocab {tok.vocab_size}, {len(train_text):,} training characters")
        print(f"recipe: {describe(args)}")
    from tqdm import tqdm

    bar = tqdm(range(start_step, args.steps), initial=start_step, total=args.steps, unit="step",
               disable=not main or args.no_progress, dynamic_ncols=True)
    tokens_per_step = args.batch_size * config.context_length * world
    train_time, train_cpu, val_loss, last_loss = 0.0, 0.0, float("nan"), float("nan")
    history, reached = [], None  # reached: (step, training seconds) of the first eval <= --target-loss
    model.train()
    for step in bar:
        t0, c0 = time.perf_counter(), time.process_time()  # wall, and CPU time (less sensitive to load)
        loss = train_step(train_model, opts, train_batches, lr_factor(step, args), args.grad_clip, autocast)
        if step % 10 == 0 or step == args.steps - 1:
            last_loss = loss.item()  # a sync: only every 10 steps
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_time += time.perf_counter() - t0
        train_cpu += time.process_time() - c0
        done = step + 1 - start_step
        bar.set_postfix(loss=f"{last_loss:.3f}", tok_s=f"{done * tokens_per_step / train_time:,.0f}", refresh=False)
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            val_loss = evaluate()
            history.append((step + 1, val_loss))
            if main:
                bar.write(f"step {step + 1}: train loss {last_loss:.4f}, val loss {val_loss:.4f}")
            if args.target_loss is not None and val_loss <= args.target_loss:
                reached = (step + 1, train_time, train_cpu)
                if main:
                    bar.write(f"val loss {val_loss:.4f} <= target {args.target_loss} at step {step + 1}, "
                              f"after {train_time:.1f} s of training: stopping")
                save(step + 1)
                break
            save(step + 1)
    bar.close()
    done = max(1, (reached[0] if reached else args.steps) - start_step)
    tok_s = done * tokens_per_step / max(train_time, 1e-9)
    result = {"val_loss": val_loss, "tokens_per_s": tok_s, "train_seconds": train_time, "train_cpu_seconds": train_cpu,
              "params": n_params,
              "history": history, "device": str(device), "reached": reached}
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
