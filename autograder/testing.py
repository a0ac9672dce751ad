"""What hidden suites import: points/visibility, tolerant comparisons with one-line reasons.

Every check here is written for the student who reads the message: what was checked, what was
expected, what came back. Comparisons never broadcast, and the output's type, shape and dtype
are checked before any value is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch

from .remote import StudentError

VISIBILITIES = ("visible", "after_due_date", "hidden")


def points(n: float, cell: str, visibility: str = "after_due_date") -> Callable:
    """Mark a hidden test: worth `n` points, counted in nbgrader grade cell `cell`."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}")
    return pytest.mark.grading(points=float(n), cell=cell, visibility=visibility)


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def default_tol(dtype: torch.dtype) -> tuple[float, float]:
    """(rtol, atol) a few hundred float32 round-offs wide: a correct einsum/float64 answer passes."""
    if dtype == torch.float64:
        return 1e-7, 1e-9
    if dtype in (torch.float16, torch.bfloat16):
        return 2e-2, 2e-2
    return 2e-4, 2e-5


def check_tensor(actual: Any, what: str, shape: Sequence[int] | None = None,
                 dtype: torch.dtype | None = None) -> torch.Tensor:
    """Fail unless `actual` is exactly a torch.Tensor of this shape and dtype; return a fresh copy."""
    if type(actual) is not torch.Tensor:
        raise StudentError(f"{what} should return a torch.Tensor, got {type(actual).__name__}")
    if shape is not None and tuple(actual.shape) != tuple(shape):
        raise StudentError(f"{what} returned shape {tuple(actual.shape)}, expected {tuple(shape)}")
    if dtype is not None and actual.dtype != dtype:
        raise StudentError(f"{what} returned dtype {actual.dtype}, expected {dtype}")
    return actual.detach().clone()


def assert_close(actual: Any, expected: torch.Tensor, what: str, *, rtol: float | None = None,
                 atol: float | None = None, check_dtype: bool = True) -> None:
    """Values match within tolerance; shape and dtype match exactly (no broadcasting)."""
    expected = expected.detach()
    actual = check_tensor(actual, what, expected.shape, expected.dtype if check_dtype else None)
    d_rtol, d_atol = default_tol(expected.dtype)
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    a, e = actual.to(torch.float64), expected.to(torch.float64)
    nan_a, nan_e = torch.isnan(a), torch.isnan(e)
    if not torch.equal(nan_a, nan_e):
        idx = _first(nan_a != nan_e)
        raise StudentError(f"{what}: NaN mismatch at index {idx}: expected {_fmt(e[idx])}, got {_fmt(a[idx])}")
    inf_ok = torch.isinf(e) & (a == e)
    diff = (a - e).abs()
    bad = ~(nan_e | inf_ok) & ~(diff <= atol + rtol * e.abs())
    if bad.any():
        idx = _first(bad)
        worst = diff.masked_fill(~bad, 0).max().item()
        raise StudentError(f"{what}: wrong values at {int(bad.sum())} of {bad.numel()} entries; "
                           f"e.g. index {idx}: expected {_fmt(e[idx])}, got {_fmt(a[idx])} "
                           f"(max |error| {worst:.3g})")


def _first(mask: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in mask.nonzero()[0]) if mask.dim() else ()


def _fmt(x: torch.Tensor) -> str:
    v = x.item()
    return f"{v:.6g}" if isinstance(v, float) and math.isfinite(v) else str(v)


def assert_raises(fn: Callable[[], Any], error: str, what: str) -> None:
    """The student's code must raise `error` (e.g. 'ValueError') for this input."""
    try:
        fn()
    except StudentError as exc:
        if f"raised {error}" in str(exc):
            return
        raise StudentError(f"{what}: expected {error}, but {exc}") from None
    raise StudentError(f"{what}: expected a {error}, but nothing was raised")


def number(value: Any, what: str) -> float:
    """A plain Python number or a 0-d/1-element tensor, as float."""
    if type(value) is torch.Tensor and value.numel() == 1:
        return float(value.item())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise StudentError(f"{what} should be a number, got {type(value).__name__}")
