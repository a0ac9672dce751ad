"""Hidden suite for a11_flash_attention (FlashAttention; LBDL 4.8). Every test names the student bug it rejects.

flash_attention (reference: F.scaled_dot_product_attention, computed here in float64 from the same inputs)
- running sum / accumulator not rescaled by exp(m_old - m_new) when the max grows -> test_values, test_large_scores
- dividing by the running sum block by block instead of once at the end     -> test_values, test_block_sizes
- no 1/sqrt(E); 1/sqrt(Ev), 1/sqrt(L) or 1/sqrt(block) instead              -> test_values (L, S, E, Ev all differ)
- softmax over the queries, or value used as [.., S, E]                     -> test_values (L ≠ S, Ev ≠ E)
- last partial block dropped (S // b blocks, range(0, S - b + 1, b))        -> test_values, test_block_sizes
- last block padded with zero keys that count in the sum                    -> test_values, test_block_sizes
- L = 1, S = 1, L or S smaller than the block                              -> test_values, test_block_sizes
- result depends on block_size (1, odd, larger than S), positional args    -> test_block_sizes
- .T / transpose(1, 2) / 4-D-only reshapes; view() on transposed inputs     -> test_batch_dims (0-3 batch dims, strided)
- causal mask without the diagonal, or upper-triangular                     -> test_causal
- causal mask with the block-local key index (c instead of start + c),
  off by one at a block boundary, or a wrongly skipped block               -> test_causal, test_causal_rectangular
- causal mask aligned bottom-right (or built [L, L]) when L ≠ S             -> test_causal_rectangular
- no max subtraction (exp overflows to inf/NaN)                             -> test_large_scores
- running max initialised to 0 instead of -inf (all scores ≈ -200/-1000:
  every exp underflows, 0/0 = NaN)                                          -> test_negative_scores
- float64 computed in float32 (or returned as float32)                      -> test_float64
- wrong backward: D term missing, D = rowsum(P) or from a block only, dK/dQ
  scale missing, dV from unnormalised exp(Z - m), mask not applied           -> test_gradients, test_gradients_causal
- output not a plain torch.Tensor (a tuple (out, lse), a subclass)          -> check_tensor in every test
Memory (probe "largest_allocation": every new storage an aten op returns, in the student's process)
- naive forward (full [L, S] scores), or a full [L, S] causal mask (built
  in the call, or once at import and sliced)                                -> test_memory_forward
- the scores computed in numpy or Python lists (.numpy(), .tolist())        -> test_memory_forward
- block_size ignored (one block of 64 when S < 64)                          -> test_memory_forward (block 16, S = 40)
- naive backward (full P recomputed at once), or a broadcast [L, S, E]      -> test_memory_backward
- autograd through the loop instead of a custom Function                    -> test_custom_function,
                                                                               test_forward_keeps_little
- a custom Function that saves P, or one block per key block (ctx.blocks)   -> test_forward_keeps_little
  (a memory test also checks the values and the gradients: wrong code earns no memory points)
attention_memory_bytes
- not a number (tensor, string), zero or negative                           -> every attention_memory_bytes test
- the naive 4·L·S (or 2·4·L·S)                                              -> test_amb_far_below_naive,
                                                                               test_amb_linear_growth
- no block of scores counted, or elements instead of bytes                 -> test_amb_far_below_naive (lower bound)
- decreasing in some argument (e.g. S / block_size blocks)                  -> test_amb_monotone
Forbidden (trapped at runtime): F.scaled_dot_product_attention and its aten kernels, torch.nn.attention,
nn.MultiheadAttention, F.multi_head_attention_forward, every softmax (torch/F/Tensor/special, nn.Softmax, aten).
"""

import itertools
import math

import torch
import torch.nn.functional as F

from autograder.remote import StudentError
from autograder.testing import assert_close, gen, number, points

CELL = "test_flash_attention"
MEM_CELL = "test_flash_attention_memory"
AMB_CELL = "test_attention_memory_bytes"


def qkv(g, batch, L, S, E, Ev, dtype=torch.float32, scale=1.0):
    q = torch.randn(*batch, L, E, generator=g, dtype=dtype) * scale
    k = torch.randn(*batch, S, E, generator=g, dtype=dtype) * scale
    v = torch.randn(*batch, S, Ev, generator=g, dtype=dtype)
    return q, k, v


def describe(q, k, v, is_causal=False, block_size=None):
    dtype = "" if q.dtype == torch.float32 else f", {str(q.dtype).replace('torch.', '')}"
    extra = (", is_causal=True" if is_causal else "") + ("" if block_size is None else f", block_size={block_size}")
    strided = "" if q.is_contiguous() else " (non-contiguous)"
    return f"query {list(q.shape)}{strided}, key {list(k.shape)}, value {list(v.shape)}{dtype}{extra}"


def reference(q, k, v, is_causal=False):
    """SDPA in float64 from the same inputs, in the inputs' dtype."""
    out = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=is_causal)
    return out.to(q.dtype)


def reference_grads(q, k, v, grad_out, is_causal=False):
    leaves = [t.detach().double().requires_grad_() for t in (q, k, v)]
    F.scaled_dot_product_attention(*leaves, is_causal=is_causal).backward(grad_out.double())
    return [t.grad.to(q.dtype) for t in leaves]


def kwargs_for(is_causal, block_size):
    kw = {"is_causal": is_causal} if is_causal else {}
    if block_size is not None:
        kw["block_size"] = block_size
    return kw


def check(student, q, k, v, is_causal=False, block_size=None, rtol=None, atol=None):
    got = student.flash_attention(q, k, v, **kwargs_for(is_causal, block_size))
    assert_close(got, reference(q, k, v, is_causal), f"flash_attention({describe(q, k, v, is_causal, block_size)})",
                 rtol=rtol, atol=atol)


def check_grads(student, q, k, v, grad_out, is_causal=False, block_size=None):
    what = f"flash_attention({describe(q, k, v, is_causal, block_size)})"
    got = student.probe("forward_backward", student.ref("flash_attention"),
                        tuple(t.clone().requires_grad_() for t in (q, k, v)), kwargs_for(is_causal, block_size),
                        grad_out, origin="flash_attention")
    check_probed(got, q, k, v, grad_out, is_causal, what)


def check_probed(got, q, k, v, grad_out, is_causal, what):
    """A probe's forward+backward result: the output, then the gradient w.r.t. each of q, k, v."""
    if got["out_cls"] != "torch.Tensor":
        raise StudentError(f"{what} should return a torch.Tensor, got {got['out_cls']}")
    assert_close(got["out"], reference(q, k, v, is_causal), what)
    for i, (name, want) in enumerate(zip(("query", "key", "value"), reference_grads(q, k, v, grad_out, is_causal))):
        grad = got["grads"].get(f"arg{i}")
        if grad is None:
            raise StudentError(f"{what}: the output does not depend differentiably on {name} (does your "
                               "autograd.Function's backward return a gradient for it?)")
        assert_close(grad, want, f"{what}: gradient w.r.t. {name}")


# ----------------------------------------------------------------------------- values
@points(1, cell=CELL, visibility="visible")
def test_small_example(student):
    """the notebook's examples: unbatched with blocks of 2, [2, 3, L, 8] causal with L < S and L > S, large scores,
    and float64 gradients through the causal path"""
    g = gen(1100)
    check(student, *qkv(g, (), 5, 7, 4, 3), block_size=2)
    for L, S in [(70, 130), (130, 70)]:
        q, k, v = qkv(g, (2, 3), L, S, 8, 5)
        check(student, q, k, v, block_size=32)
        check(student, q, k, v, is_causal=True, block_size=32)
    check(student, *qkv(g, (), 6, 9, 16, 4, dtype=torch.float64, scale=30.0), block_size=4)
    q, k, v = qkv(g, (2,), 9, 11, 6, 6, dtype=torch.float64)
    check_grads(student, q, k, v, torch.randn(2, 9, 6, generator=g, dtype=torch.float64), is_causal=True,
                block_size=4)


@points(2, cell=CELL)
def test_values(student):
    """default block_size=64, [B, L, E] inputs: L = 1, S = 1, L and S below, at and past one block, L ≠ S, E ≠ Ev"""
    g = gen(1101)
    for L, S, E, Ev in [(1, 1, 3, 2), (1, 70, 8, 5), (5, 3, 4, 6), (64, 64, 16, 8), (65, 63, 8, 12),
                        (100, 200, 16, 7), (200, 100, 5, 9), (129, 130, 12, 4)]:
        check(student, *qkv(g, (2,), L, S, E, Ev, scale=1.5))


@points(1, cell=CELL)
def test_block_sizes(student):
    """block_size 1, 5, 16, S, S + 1 and 1000 (larger than S) give the same result, causal or not, also passed
    positionally"""
    g = gen(1102)
    q, k, v = qkv(g, (2,), 37, 53, 6, 5, scale=1.5)
    for bs in (1, 5, 16, 53, 54, 1000):
        check(student, q, k, v, block_size=bs)
        check(student, q, k, v, is_causal=True, block_size=bs)
    got = student.flash_attention(q, k, v, True, 7)
    assert_close(got, reference(q, k, v, True), f"flash_attention({describe(q, k, v)}, True, 7) (positional)")


@points(1, cell=CELL)
def test_batch_dims(student):
    """no batch dimension, one, two and three; heads split by a transpose (non-contiguous inputs)"""
    g = gen(1103)
    for batch, L, S, E, Ev in [((), 40, 70, 8, 3), ((3,), 20, 33, 5, 7), ((2, 3), 33, 20, 4, 6),
                               ((2, 1, 3), 17, 29, 6, 2)]:
        q, k, v = qkv(g, batch, L, S, E, Ev)
        check(student, q, k, v, block_size=16)
        check(student, q, k, v, is_causal=True, block_size=16)
    B, H, L, S, D = 2, 3, 45, 38, 8
    q = torch.randn(B, L, H, D, generator=g).transpose(1, 2)  # (B, H, L, D), strided
    k, v = (torch.randn(B, S, H, D, generator=g).transpose(1, 2) for _ in range(2))  # (B, H, S, D)
    check(student, q, k, v, block_size=16)
    check(student, q, k, v, is_causal=True, block_size=16)


@points(1, cell=CELL)
def test_causal(student):
    """is_causal=True with L = S: query i sees keys j ≤ i, diagonal included, across block boundaries"""
    g = gen(1104)
    for T, bs in [(64, 16), (65, 16), (33, 32), (100, 64), (7, 3), (12, 1)]:
        check(student, *qkv(g, (2,), T, T, 8, 6, scale=1.5), is_causal=True, block_size=bs)


@points(1, cell=CELL)
def test_causal_rectangular(student):
    """is_causal=True with L ≠ S, aligned top-left as in SDPA (tril(ones(L, S))): L < S and L > S, partial blocks"""
    g = gen(1105)
    for L, S, bs in [(3, 70, 16), (70, 3, 16), (50, 130, 32), (130, 50, 32), (1, 9, 4), (9, 1, 4), (40, 41, 8)]:
        check(student, *qkv(g, (2,), L, S, 6, 5, scale=1.5), is_causal=True, block_size=bs)


@points(1, cell=CELL)
def test_large_scores(student):
    """scores of hundreds (float32) and thousands (float64), a maximum that grows from block to block: finite, exact"""
    g = gen(1106)
    # float32: |scores| ~ 300, far beyond exp's overflow at 88
    check(student, *qkv(g, (2,), 20, 50, 16, 4, scale=17.0), block_size=8)
    check(student, *qkv(g, (2,), 20, 50, 16, 4, scale=17.0), is_causal=True, block_size=8)
    # later keys are longer: most rows find a new maximum in every block
    q, k, v = qkv(g, (2,), 24, 64, 8, 5)
    growth = torch.linspace(1.0, 12.0, 64)[:, None]  # (S, 1)
    check(student, q * 3, k * growth, v, block_size=8)
    check(student, q * 3, k * growth, v, is_causal=True, block_size=8)
    check(student, *qkv(g, (2,), 10, 30, 16, 4, dtype=torch.float64, scale=40.0), block_size=8)


def negative_scores(g, L, S, E, Ev, level, dtype):
    """q·k / sqrt(E) ≈ -level ± a few for every pair: queries along u, keys along -u."""
    u = torch.randn(E, generator=g, dtype=dtype)
    u = u / u.norm()
    a = math.sqrt(level * math.sqrt(E))
    q = a * u + 0.3 * torch.randn(2, L, E, generator=g, dtype=dtype)
    k = -a * u + 0.3 * torch.randn(2, S, E, generator=g, dtype=dtype)
    return q, k, torch.randn(2, S, Ev, generator=g, dtype=dtype)


@points(1, cell=CELL)
def test_negative_scores(student):
    """every score of every row very negative (≈ -200 in float32, ≈ -1000 in float64): exp(score - 0) underflows,
    only a running max started at -inf gives the result"""
    g = gen(1107)
    q, k, v = negative_scores(g, 12, 40, 16, 3, 200.0, torch.float32)
    check(student, q, k, v, block_size=16)
    check(student, q, k, v, is_causal=True, block_size=16)
    q, k, v = negative_scores(g, 12, 40, 16, 3, 1000.0, torch.float64)
    check(student, q, k, v, block_size=16)


@points(1, cell=CELL)
def test_float64(student):
    """float64 in, float64 out, computed in float64 (tolerance 1e-7), causal or not"""
    g = gen(1108)
    for L, S, bs in [(30, 70, 16), (70, 30, 64)]:
        q, k, v = qkv(g, (3,), L, S, 8, 5, dtype=torch.float64, scale=1.5)
        check(student, q, k, v, block_size=bs)
        check(student, q, k, v, is_causal=True, block_size=bs)


# ----------------------------------------------------------------------------- gradients
@points(2, cell=CELL)
def test_gradients(student):
    """gradients w.r.t. query, key and value match autograd through SDPA: float64 and float32, L = S and L ≠ S,
    partial blocks"""
    g = gen(1109)
    f64, f32 = torch.float64, torch.float32
    for batch, L, S, E, Ev, bs, dtype in [((2,), 13, 29, 6, 4, 8, f64), ((), 40, 17, 5, 7, 16, f64),
                                          ((2,), 24, 24, 6, 6, 8, f64), ((2, 2), 1, 9, 4, 3, 4, f64),
                                          ((2,), 70, 90, 8, 8, 32, f32)]:
        q, k, v = qkv(g, batch, L, S, E, Ev, dtype=dtype, scale=1.3)
        check_grads(student, q, k, v, torch.randn(*batch, L, Ev, generator=g, dtype=dtype), block_size=bs)


@points(1, cell=CELL)
def test_gradients_causal(student):
    """gradients with is_causal=True, L = S and L ≠ S (top-left), block boundaries inside the triangle"""
    g = gen(1110)
    for L, S, bs in [(21, 21, 8), (12, 30, 5), (30, 12, 5)]:
        q, k, v = qkv(g, (2,), L, S, 6, 4, dtype=torch.float64, scale=1.3)
        check_grads(student, q, k, v, torch.randn(2, L, 4, generator=g, dtype=torch.float64), is_causal=True,
                    block_size=bs)


# ----------------------------------------------------------------------------- memory
def measured(student, batch, L, S, E, Ev, is_causal, block_size, seed):
    """flash_attention forward and backward under the storage recorder; values and gradients checked first."""
    g = gen(seed)
    q, k, v = qkv(g, batch, L, S, E, Ev)
    grad_out = torch.randn(*batch, L, Ev, generator=g)
    what = f"flash_attention({describe(q, k, v, is_causal, block_size)})"
    got = student.probe("largest_allocation", student.ref("flash_attention"),
                        tuple(t.clone().requires_grad_() for t in (q, k, v)), kwargs_for(is_causal, block_size),
                        grad_out, origin="flash_attention")
    check_probed(got, q, k, v, grad_out, is_causal, what)
    return got, what, math.prod(batch)


# (batch, L, S, E, Ev, is_causal, block_size): L, S >= 2 * block_size everywhere
MEMORY_CASES = [((), 256, 256, 16, 16, False, None), ((), 48, 40, 8, 8, True, 16), ((2, 3), 160, 192, 12, 10, True, 32),
                ((), 300, 200, 8, 6, False, 100)]


def largest_ok(got, phase, what, L, S, n):
    if got["left_torch"]:
        raise StudentError(f"{what}: called {got['left_torch'][0]}: flash_attention must compute in torch (memory "
                           "in numpy arrays or Python lists is memory the memory rule cannot count)")
    big = got[f"{phase}_largest"]
    if big is None:
        raise StudentError(f"{what}: no backward ran (the output does not require grad)")
    if big["elements"] >= n * L * S:
        per = f"{n} batch-heads, so at most {n * L * S - 1}" if n > 1 else "unbatched"
        did = ("read a tensor your code did not create during the call (a global built in advance, a numpy "
               "array), which counts as allocated," if big.get("brought_in") else "created a tensor")
        raise StudentError(f"{what}: in the {phase}, {big['op']} {did} of shape {big['shape']} "
                           f"({big['elements']} elements), but with L, S >= 2*block_size no tensor may have "
                           f"L*S = {L * S} elements or more per batch-head ({per}); work one block of keys at a time"
                           + (", the causal mask too" if phase == "forward" else
                              ", recomputing P from the saved log-sum-exp"))


@points(1, cell=MEM_CELL, visibility="visible")
def test_memory_small_example(student):
    """the notebook's memory test: L = S = 256 and L = 200, S = 300 causal, E = Ev = 16, block 64: the largest
    new tensor in forward and backward, what the forward keeps, a custom Function"""
    for i, (L, S, causal) in enumerate([(256, 256, False), (200, 300, True)]):
        got, what, n = measured(student, (), L, S, 16, 16, causal, 64, 1120 + i)
        largest_ok(got, "forward", what, L, S, n)
        largest_ok(got, "backward", what, L, S, n)
        kept_ok(got, what, L, S, n)
        custom_ok(got, what)


@points(2, cell=MEM_CELL)
def test_memory_forward(student):
    """forward: no new tensor of L*S elements per batch-head (unbatched and [2, 3, L, E], causal, block 16/32/64/100)"""
    for i, (batch, L, S, E, Ev, causal, bs) in enumerate(MEMORY_CASES):
        got, what, n = measured(student, batch, L, S, E, Ev, causal, bs, 1130 + i)
        largest_ok(got, "forward", what, L, S, n)


@points(2, cell=MEM_CELL)
def test_memory_backward(student):
    """backward: recomputes block by block, no new tensor of L*S elements per batch-head"""
    for i, (batch, L, S, E, Ev, causal, bs) in enumerate(MEMORY_CASES):
        got, what, n = measured(student, batch, L, S, E, Ev, causal, bs, 1140 + i)
        largest_ok(got, "backward", what, L, S, n)


def custom_ok(got, what):
    if not got["custom_function"]:
        raise StudentError(f"{what}: the output's autograd graph (grad_fn {got['grad_fn']}; nodes "
                           f"{', '.join(got['graph'][:6])}{', ...' if len(got['graph']) > 6 else ''}) holds no "
                           "torch.autograd.Function: write the backward yourself and call Function.apply "
                           "(autograd through the loop saves every block)")


@points(1, cell=MEM_CELL)
def test_custom_function(student):
    """the output comes out of a torch.autograd.Function (its backward node is in the grad_fn graph)"""
    for i, (batch, L, S, causal) in enumerate([((), 130, 140, False), ((2, 2), 130, 140, True)]):
        got, what, _ = measured(student, batch, L, S, 8, 8, causal, 64, 1150 + i)
        custom_ok(got, what)


def kept_ok(got, what, L, S, n):
    if got["retained"] >= n * L * S / 2:
        raise StudentError(f"{what}: when flash_attention returns, {got['retained']} elements of tensors its forward "
                           f"allocated are still alive besides the output (limit L*S/2 = {L * S // 2} per "
                           f"batch-head, {n} batch-heads): keep only q, k, v, the output and the log-sum-exp")


@points(1, cell=MEM_CELL)
def test_forward_keeps_little(student):
    """what the forward leaves alive for the backward, besides the output: fewer than L*S/2 elements per batch-head"""
    for i, (batch, L, S, causal, bs) in enumerate([((), 256, 256, True, 32), ((2,), 192, 224, False, 64)]):
        got, what, n = measured(student, batch, L, S, 16, 16, causal, bs, 1160 + i)
        kept_ok(got, what, L, S, n)


# ----------------------------------------------------------------------------- attention_memory_bytes
def amb(student, args_list):
    """attention_memory_bytes on every argument tuple, in one round trip: a list of floats (or a reason)."""
    got = student.probe("calls", student.ref("attention_memory_bytes"), [(tuple(a), {}) for a in args_list],
                        origin="attention_memory_bytes")
    out = []
    for args, value in zip(args_list, got):
        what = f"attention_memory_bytes{tuple(args)}"
        if isinstance(value, dict) and "raised" in value:
            raise StudentError(f"{what} raised {value['raised']}: {value.get('msg', '')}")
        if type(value) not in (int, float):
            raise StudentError(f"{what} should return a Python number (int or float), got {type(value).__name__}")
        x = number(value, what)
        if not x > 0 or not math.isfinite(x):
            raise StudentError(f"{what} should be a positive, finite number of bytes, got {value!r}")
        out.append(x)
    return out


@points(1, cell=AMB_CELL, visibility="visible")
def test_amb_small_example(student):
    """the notebook's test: positive numbers, at least one block of scores, far below naive at 4096, linear growth"""
    cases = [(1, 1, 1, 1), (100, 300, 16, 64), (4096, 4096, 64, 64), (2048, 2048, 64, 64), (1024, 1024, 64, 64)]
    vals = dict(zip(cases, amb(student, cases)))
    for (L, S, E, b), x in vals.items():
        if x < 4 * min(L, b) * min(S, b):
            raise StudentError(f"attention_memory_bytes{(L, S, E, b)} = {x:g} is less than one block of scores, "
                               f"4*min(L, b)*min(S, b) = {4 * min(L, b) * min(S, b)} bytes")
    far_below(vals[(4096, 4096, 64, 64)])
    if vals[(2048, 2048, 64, 64)] > 2 * vals[(1024, 1024, 64, 64)] * (1 + 1e-9):
        raise StudentError("attention_memory_bytes(2048, 2048, 64, 64) is more than twice "
                           "attention_memory_bytes(1024, 1024, 64, 64): it should grow at most linearly")


def far_below(x):
    naive = 4 * 4096 * 4096
    if not x < naive / 10:
        raise StudentError(f"attention_memory_bytes(4096, 4096, 64, 64) = {x:g} bytes, but it should be less than a "
                           f"tenth of the naive 4*L*S = {naive} bytes (64 MiB)")


GRID_L = (1, 7, 64, 100, 513, 2048)
GRID_E = (1, 16, 64)
GRID_B = (1, 16, 64, 128)


@points(1, cell=AMB_CELL)
def test_amb_far_below_naive(student):
    """below a tenth of 4*L*S at L = S = 4096, E = 64, block 64; at least one block of scores 4*min(L,b)*min(S,b)
    everywhere on a grid of L, S, E, block_size"""
    grid = list(itertools.product(GRID_L, GRID_L, GRID_E, GRID_B))
    vals = amb(student, [(4096, 4096, 64, 64), *grid])
    far_below(vals[0])
    for (L, S, E, b), x in zip(grid, vals[1:]):
        if x < 4 * min(L, b) * min(S, b):
            raise StudentError(f"attention_memory_bytes{(L, S, E, b)} = {x:g} is less than one block of scores, "
                               f"4*min(L, b)*min(S, b) = {4 * min(L, b) * min(S, b)} bytes (count bytes, 4 per float)")


@points(1, cell=AMB_CELL)
def test_amb_linear_growth(student):
    """for L, S >= block_size, doubling both L and S at most doubles it (the naive 4*L*S quadruples)"""
    grid = [(L, S, E, b) for L, S, E, b in itertools.product(GRID_L, GRID_L, GRID_E, GRID_B) if L >= b and S >= b]
    vals = amb(student, grid + [(2 * L, 2 * S, E, b) for L, S, E, b in grid])
    for (L, S, E, b), x, x2 in zip(grid, vals[:len(grid)], vals[len(grid):]):
        if x2 > 2 * x * (1 + 1e-9):
            raise StudentError(f"attention_memory_bytes{(2 * L, 2 * S, E, b)} = {x2:g} is more than twice "
                               f"attention_memory_bytes{(L, S, E, b)} = {x:g}: it should grow at most linearly")


@points(1, cell=AMB_CELL)
def test_amb_monotone(student):
    """non-decreasing in each of L, S, E and block_size"""
    grids = (GRID_L, GRID_L, GRID_E, GRID_B)
    base = list(itertools.product(*grids))
    pairs = []
    for point in base:
        for axis, grid in enumerate(grids):
            i = grid.index(point[axis])
            if i + 1 < len(grid):
                bigger = list(point)
                bigger[axis] = grid[i + 1]
                pairs.append((point, tuple(bigger), "L S E block_size".split()[axis]))
    vals = dict(zip(base, amb(student, base)))
    for small, bigger, name in pairs:
        if vals[bigger] < vals[small]:
            raise StudentError(f"attention_memory_bytes{bigger} = {vals[bigger]:g} is less than "
                               f"attention_memory_bytes{small} = {vals[small]:g}: it should not decrease when "
                               f"{name} grows")
