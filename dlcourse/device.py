"""Pick the accelerator once, the same way in every notebook and script."""

from __future__ import annotations

import torch


def best_device(prefer: str | None = None) -> torch.device:
    """Return `prefer` if given, else cuda, then mps, then cpu.

    Notebooks call this instead of hard-coding "cuda" so the same code trains on a laptop,
    a GPU server and the 2-core CI machine.
    """
    if prefer is not None:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
