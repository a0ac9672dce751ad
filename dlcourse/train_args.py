"""`dlcourse train-gpt`'s arguments, apart from the trainer so that building the CLI imports no torch."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, help="UTF-8 text file (default: the bundled CPython help corpus)")
    p.add_argument("--steps", type=int, default=450)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--context", type=int, default=64)
    p.add_argument("--d-model", type=int, default=144)
    p.add_argument("--n-heads", type=int, default=4)
    p.add_argument("--n-layers", type=int, default=3)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--optimizer", choices=["muon", "adamw"],
                   help="muon (the default where torch >= 2.9 has torch.optim.Muon): Muon for the blocks' "
                        "matrices, AdamW for embeddings, head and gains; adamw: AdamW for everything")
    p.add_argument("--lr", type=float, default=3e-3, help="AdamW's peak learning rate")
    p.add_argument("--muon-lr", type=float, default=0.03, help="Muon's peak learning rate")
    p.add_argument("--muon-momentum", type=float, default=0.9)
    p.add_argument("--muon-weight-decay", type=float, default=0.0)
    p.add_argument("--schedule", choices=["wsd", "cosine"], default="wsd",
                   help="after the warm-up: warmup-stable-decay (linear decay over the last --cooldown), or cosine")
    p.add_argument("--cooldown", type=float, default=0.4, help="wsd: the fraction of the steps that decays")
    p.add_argument("--min-lr", type=float, default=0.0, help="AdamW's rate at the end (Muon's: the same fraction)")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--weight-decay", type=float, default=0.1, help="AdamW's, on matrices")
    p.add_argument("--grad-clip", type=float, default=1.0, help="global gradient-norm limit (0: none)")
    p.add_argument("--tie", action=argparse.BooleanOptionalAction, default=True,
                   help="the LM head shares the token embedding matrix")
    p.add_argument("--zero-init", action=argparse.BooleanOptionalAction, default=False,
                   help="the blocks' output projections start at zero")
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--eval-batches", type=int, default=20,
                   help="validation batches of random windows (fixed seed); 0: every window of the split")
    p.add_argument("--target-loss", type=float, help="stop at the first validation loss <= this")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: best available)")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--out", type=Path, default=Path("out/gpt.pt"), help="checkpoint path")
    p.add_argument("--resume", action="store_true", help="continue from --out")
    p.add_argument("--sample", type=int, default=300, help="characters to sample at the end (0: none)")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=20)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--no-progress", action="store_true")
