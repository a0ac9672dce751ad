"""Datasets that ship with the project or inside an installed package: nothing downloads.

- `digits_split()`: scikit-learn's 8x8 digits (1,797 images inside scikit-learn itself), with the
  fixed split SPEC §2 fixes for a08: `train_test_split(test_size=0.25, random_state=0, stratify=y)`.
- `corpus_text()`: a character corpus built from CPython's own documentation (`pydoc_data`), which
  every Python installation carries; `corpus_split()` gives a fixed 90/10 train/validation split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class Split:
    """Train and test tensors: images [N, 1, 8, 8] in [0, 1], labels [N] (int64)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def digits_split(dtype: torch.dtype = torch.float32) -> Split:
    """scikit-learn's digits as [N, 1, 8, 8] images scaled to [0, 1], fixed stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images / 16.0  # pixel values are 0..16
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )

    def to_x(a):
        return torch.tensor(a, dtype=dtype).unsqueeze(1)  # (N, 1, 8, 8)

    def to_y(a):
        return torch.tensor(a, dtype=torch.long)

    return Split(to_x(x_tr), to_y(y_tr), to_x(x_te), to_y(y_te))


def digits_loaders(batch_size: int = 64, seed: int = 0):
    """DataLoaders over `digits_split()`: shuffled train (seeded), ordered test."""
    from torch.utils.data import DataLoader, TensorDataset

    s = digits_split()
    g = torch.Generator().manual_seed(seed)
    train = DataLoader(TensorDataset(s.x_train, s.y_train), batch_size=batch_size, shuffle=True, generator=g)
    test = DataLoader(TensorDataset(s.x_test, s.y_test), batch_size=512)
    return train, test


def corpus_text(path: str | Path | None = None) -> str:
    """The bundled training text, or the UTF-8 file at `path`.

    The default joins the topic pages of CPython's help system (about 465k characters, shipped
    in `pydoc_data.topics` with every CPython), in sorted key order so it is identical everywhere.
    """
    if path is not None:
        return Path(path).read_text(encoding="utf-8")
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k] for k in sorted(topics))


def corpus_split(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """Fixed split: the first (1 - val_fraction) of the text trains, the rest validates."""
    n = int(len(text) * (1.0 - val_fraction))
    return text[:n], text[n:]
