"""Worker probes that measure the student's code from inside its process: what they see is what it did."""

from __future__ import annotations

import pytest
import torch

from autograder.assignments import Forbid
from autograder.limits import Limits
from autograder.remote import StudentError, Submission
from autograder.sandbox import Sandbox

ATTENTION = r'''
import math, torch

def _weights(s):
    e = (s - s.amax(-1, keepdim=True)).exp()
    return e / e.sum(-1, keepdim=True)

def naive(q, k, v):
    return _weights(q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])) @ v  # (L, S) scores and weights

def by_blocks(q, k, v, bs=16):
    """Online softmax over key blocks, autograd through the loop: small tensors, but it saves every block."""
    m = torch.full(q.shape[:-1], -math.inf)
    l, acc = torch.zeros(q.shape[:-1]), torch.zeros(*q.shape[:-1], v.shape[-1])
    for j in range(0, k.shape[-2], bs):
        s = q @ k[..., j:j + bs, :].transpose(-2, -1) / math.sqrt(q.shape[-1])  # (L, bs)
        m_new = torch.maximum(m, s.amax(-1))
        p, a = torch.exp(s - m_new[..., None]), torch.exp(m - m_new)
        l, acc, m = a * l + p.sum(-1), a[..., None] * acc + p @ v[..., j:j + bs, :], m_new
    return acc / l[..., None]

class Tiled(torch.autograd.Function):
    """Forward by blocks (nothing saved but the inputs); backward naive: recomputes the full (L, S) weights."""
    @staticmethod
    def forward(ctx, q, k, v):
        ctx.save_for_backward(q, k, v)
        return by_blocks(q, k, v)

    @staticmethod
    def backward(ctx, g):
        q, k, v = ctx.saved_tensors
        with torch.enable_grad():
            q, k, v = (t.detach().requires_grad_() for t in (q, k, v))
            return torch.autograd.grad(naive(q, k, v), (q, k, v), g)

def tiled(q, k, v):
    return Tiled.apply(q, k, v).reshape(q.shape[:-1] + v.shape[-1:])  # a view node above the custom one

def broadcast_views(q, k, v):
    """An (L, S) expand and a transposed view of small tensors: no new (L, S) storage."""
    bias = torch.zeros(1, 1).expand(q.shape[-2], k.shape[-2])  # (L, S) view of one element
    return q + bias.sum() + k.transpose(-2, -1).sum() * 0

MASK = torch.ones(128, 128, dtype=torch.bool).tril()  # built once, at import: not during the call

def global_mask(q, k, v):
    """Slices of a precomputed full mask: nothing new is allocated that large, but the mask is read."""
    L, S = q.shape[-2], k.shape[-2]
    return q + MASK[:L, :S].sum() * 0

def via_numpy(q, k, v):
    """The (L, S) scores computed in numpy, outside torch, and brought back."""
    z = torch.from_numpy(q.detach().numpy() @ k.detach().numpy().T)  # (L, S)
    return q + z.sum() * 0

def via_aten_softmax(q, k, v):
    return torch.ops.aten._softmax(q @ k.T, -1, False) @ v
'''

L, S, E = 48, 64, 8


@pytest.fixture(scope="module")
def sub(course):
    box = Sandbox([{"id": "c", "source": ATTENTION, "kind": "answer"}],
                  [Forbid("torch.softmax", aten=("_softmax", "softmax"))],
                  Limits(call_seconds=20, total_seconds=120), denied=[str(course)], allowed=[])
    box.start()
    yield Submission(box)
    box.close()


def measure(sub, name):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(n, E, generator=g).requires_grad_() for n in (L, S, S))
    return sub.probe("largest_allocation", sub.ref(name), (q, k, v), {}, torch.randn(L, E, generator=g),
                     origin=name)


def test_naive_attention_is_caught_in_forward_and_backward(sub):
    got = measure(sub, "naive")
    assert got["forward_largest"]["elements"] == L * S and got["forward_largest"]["shape"] == [L, S]
    assert got["backward_largest"]["elements"] >= L * S
    assert got["retained"] >= L * S  # autograd keeps the (L, S) weights for the backward
    assert not got["custom_function"] and got["grad_fn"] == "MmBackward0"
    assert set(got["grads"]) == {"arg0", "arg1", "arg2"}


def test_blocks_through_autograd_are_small_but_retain_everything(sub):
    got = measure(sub, "by_blocks")
    assert got["forward_largest"]["elements"] == L * 16  # one (L, bs) block of scores
    assert got["backward_largest"]["elements"] < L * S
    assert got["retained"] >= L * S  # every block's weights saved, block by block
    assert not got["custom_function"]


def test_custom_function_below_a_view_is_found_and_its_backward_is_watched(sub):
    got = measure(sub, "tiled")
    assert got["custom_function"] and "TiledBackward" in got["graph"]
    assert got["forward_largest"]["elements"] < L * S and got["retained"] == 0
    assert got["backward_largest"]["elements"] == L * S  # ops inside the Function's backward are seen
    assert got["out"].shape == (L, E)


def test_views_and_expands_of_small_tensors_do_not_count(sub):
    got = measure(sub, "broadcast_views")
    assert got["forward_largest"]["elements"] == L * E  # the output itself; the (L, S) expand is a view


def test_tensors_brought_in_from_outside_the_call_are_measured_too(sub):
    got = measure(sub, "global_mask")
    assert got["forward_largest"] == {"elements": 128 * 128, "op": "slice.Tensor", "shape": [128, 128],
                                      "brought_in": True}
    got = measure(sub, "via_numpy")
    assert got["forward_largest"]["elements"] == L * S and got["forward_largest"]["brought_in"]
    assert got["left_torch"] == [f"Tensor.numpy() of a tensor of shape {[L, E]}", f"Tensor.numpy() of a tensor "
                                 f"of shape {[S, E]}"]
    assert measure(sub, "naive")["left_torch"] == []


def test_forbidden_aten_op_is_still_trapped_under_the_recorder(sub):
    with pytest.raises(StudentError, match="torch.softmax"):
        measure(sub, "via_aten_softmax")
