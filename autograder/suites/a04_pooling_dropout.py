"""Hidden suite for a04_pooling_dropout (LBDL 4.4–4.5). Every test names the student bug it rejects.

max_pool2d / avg_pool2d (each bug is tested for both functions: test_max_* and test_avg_*)
- stride=None taken as 1 (or any default other than kernel_size)         -> test_*_default_stride
- only works when stride == kernel_size or H, W divisible (a view/reshape) -> test_*_stride_and_kernel, test_*_floor
- H and W swapped, or a square input assumed                              -> test_*_stride_and_kernel (H ≠ W)
- batch or channel dimension squeezed / mixed (B = 1, C = 1, C > 1)        -> test_*_stride_and_kernel
- ceil instead of floor for the output size (ceil_mode=True)              -> test_*_floor
- max-pool pads with 0 instead of -inf (wrong on negative inputs)         -> test_max_padding_negative
- avg-pool divides by the number of real pixels (count_include_pad=False)  -> test_avg_padding_counts_pad
- padding ignored, or added on one side only                              -> test_*_padding_*, test_*_stride_and_kernel
- not differentiable (numpy, .detach, .item) or wrong gradient routing     -> test_*_gradient
- float64 computed in float32, or a tuple (values, indices) returned      -> test_*_float64, check_tensor everywhere
- any built-in pooling (F.max_pool1d twice, adaptive/fractional/lp pools)  -> trap + static scan (registry)
Dropout
- not an nn.Module, p not stored as self.p, default p ≠ 0.5              -> test_dropout_module
- no rescaling, scaling by p or by (1 - p) instead of 1/(1 - p)   -> test_dropout_values_structure, test_dropout_mean
- classic dropout: no scaling in training, ×(1-p) in eval        -> test_dropout_values_structure, test_dropout_eval
- keeps with probability p (drops 1 - p), or a wrong dropped fraction      -> test_dropout_fraction
- drops in eval mode, or ignores .train() after .eval()                    -> test_dropout_eval
- p = 0 / p = 1: division by zero, NaN, or still dropping                  -> test_dropout_edge_p
- the same mask for every call (drawn once, cached, or reseeded)          -> test_dropout_fresh_masks
- one mask shared across the batch, or whole channels dropped (dropout2d)  -> test_dropout_independent
- not differentiable, or gradient not masked / not scaled                  -> test_dropout_gradient
- no ValueError for p outside [0, 1]                                       -> test_dropout_invalid_p
- dtype or shape changed (float64 -> float32, flattened)                   -> test_dropout_dtype_shape
- F.dropout / nn.Dropout / F.dropout2d / alpha dropout                    -> trap + static scan (registry)

The dropout tests are statistical on large tensors (≥ 100 000 elements) with bounds of at least
6 standard deviations, so a correct implementation passes whatever RNG calls it makes
(torch.rand, torch.bernoulli, Tensor.bernoulli_, numpy); a wrong fraction is off by ≥ 30 σ.
"""

import math

import torch
import torch.nn.functional as F

from autograder.remote import StudentError
from autograder.testing import assert_close, assert_raises, check_tensor, gen, number, points

REF = {"max_pool2d": F.max_pool2d, "avg_pool2d": F.avg_pool2d}


def pool(student, name, x, k, s=None, p=0, *, pass_stride=True):
    """The student's pooling on x; checked against torch's (type, shape, dtype, values)."""
    fn = student.get(name)
    if pass_stride:
        out = fn(x, k, s, p)
        call = f"{name}(x {list(x.shape)} {str(x.dtype)[6:]}, kernel_size={k}, stride={s}, padding={p})"
    else:
        out = fn(x, k, padding=p) if p else fn(x, k)
        call = f"{name}(x {list(x.shape)}, kernel_size={k}" + (f", padding={p})" if p else ")")
    ref = REF[name](x, k, s, p)
    tol = (0.0, 0.0) if name == "max_pool2d" else (None, None)
    assert_close(out, ref, call, rtol=tol[0], atol=tol[1])
    return out


def pool_grad(student, name, x, k, s, p, seed):
    """Gradient of the student's pooling w.r.t. x for a random upstream gradient, against torch's."""
    ref_out = REF[name](x, k, s, p)
    grad_out = torch.randn(ref_out.shape, generator=gen(seed), dtype=x.dtype)
    got = student.probe("forward_backward", student.ref(name), (x.clone().requires_grad_(),),
                        {"kernel_size": k, "stride": s, "padding": p}, grad_out, origin=name)
    what = f"{name}(x {list(x.shape)}, kernel_size={k}, stride={s}, padding={p})"
    if got["out_cls"] != "torch.Tensor":
        raise StudentError(f"{what} should return a torch.Tensor, got {got['out_cls']}")
    assert_close(got["out"], ref_out, what, rtol=0 if name == "max_pool2d" else None,
                 atol=0 if name == "max_pool2d" else None)
    if got["grads"].get("arg0") is None:
        raise StudentError(f"{what}: no gradient reached x (did you use numpy, .item(), .detach() or "
                           "torch.no_grad()?)")
    xx = x.clone().requires_grad_()
    REF[name](xx, k, s, p).backward(grad_out)
    assert_close(got["grads"]["arg0"], xx.grad, f"gradient of {what} w.r.t. x")


# (B, C, H, W, k, stride, padding): non-square, stride ≠ k, overlapping windows, gaps, B = 1, C = 1
SHAPES = [
    (2, 3, 6, 8, 2, 2, 0),
    (1, 1, 7, 5, 3, 1, 0),
    (3, 2, 9, 11, 3, 2, 1),
    (2, 4, 10, 7, 2, 3, 0),
    (1, 3, 8, 12, 4, 2, 2),
    (2, 1, 5, 6, 1, 2, 0),
]


# ============================================================================= max_pool2d
@points(1, cell="test_max_pool2d", visibility="visible")
def test_max_small_example(student):
    """the notebook's examples: 4×4 with default stride, negative input with padding, four settings vs torch"""
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    pool(student, "max_pool2d", x, 2, pass_stride=False)
    neg = -torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    pool(student, "max_pool2d", neg, 3, 1, 1)
    x = torch.randn(2, 3, 7, 10, generator=gen(0))
    for k, s, p in [(2, None, 0), (3, 1, 1), (3, 2, 1), (2, 3, 0)]:
        pool(student, "max_pool2d", x, k, s, p)


@points(1, cell="test_max_pool2d")
def test_max_default_stride(student):
    """stride omitted or None means stride = kernel_size (not 1)"""
    x = torch.randn(2, 3, 9, 12, generator=gen(401))
    for k in (2, 3):
        pool(student, "max_pool2d", x, k, pass_stride=False)
        pool(student, "max_pool2d", x, k, None, 1)


@points(2, cell="test_max_pool2d")
def test_max_stride_and_kernel(student):
    """non-square inputs, stride ≠ kernel (overlaps and gaps), kernel 3 with padding 1, batch and channels"""
    g = gen(402)
    for b, c, h, w, k, s, p in SHAPES:
        x = torch.randn(b, c, h, w, generator=g)
        pool(student, "max_pool2d", x, k, s, p)


@points(1, cell="test_max_pool2d")
def test_max_padding_negative(student):
    """padding is -inf: all-negative inputs with padding 1 and 2 keep negative maxima at the border"""
    g = gen(403)
    x = -torch.rand(2, 3, 6, 7, generator=g) - 1.0  # (B, C, H, W) in [-2, -1)
    for k, s, p in [(3, 1, 1), (2, 2, 1), (3, 2, 1), (4, 3, 2)]:
        pool(student, "max_pool2d", x, k, s, p)


@points(1, cell="test_max_pool2d")
def test_max_floor(student):
    """the output size is rounded down (ceil_mode=False) when windows do not tile the input"""
    g = gen(404)
    for (h, w), k, s, p in [((7, 9), 2, None, 0), ((8, 10), 3, 2, 0), ((11, 6), 3, None, 1), ((5, 5), 2, 2, 1)]:
        x = torch.randn(2, 2, h, w, generator=g)
        pool(student, "max_pool2d", x, k, s, p)


@points(1, cell="test_max_pool2d")
def test_max_gradient(student):
    """the gradient goes to each window's maximum (summed where windows overlap), as torch's"""
    g = gen(405)
    for i, (b, c, h, w, k, s, p) in enumerate([(2, 3, 7, 9, 3, 1, 1), (1, 2, 8, 6, 2, None, 0), (2, 1, 9, 8, 3, 2, 1)]):
        x = torch.randn(b, c, h, w, generator=g, dtype=torch.float64)
        pool_grad(student, "max_pool2d", x, k, s, p, 4050 + i)


@points(1, cell="test_max_pool2d")
def test_max_float64(student):
    """float64 in, float64 out (padding included), exact"""
    g = gen(406)
    x = torch.randn(2, 3, 7, 8, generator=g, dtype=torch.float64) - 3
    pool(student, "max_pool2d", x, 3, 2, 1)
    pool(student, "max_pool2d", x, 2, pass_stride=False)


# ============================================================================= avg_pool2d
@points(1, cell="test_avg_pool2d", visibility="visible")
def test_avg_small_example(student):
    """the notebook's examples: 4×4 with default stride, all-ones with padding, four settings vs torch"""
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    pool(student, "avg_pool2d", x, 2, pass_stride=False)
    pool(student, "avg_pool2d", torch.ones(1, 1, 3, 3), 3, 1, 1)
    x = torch.randn(2, 3, 7, 10, generator=gen(0))
    for k, s, p in [(2, None, 0), (3, 1, 1), (3, 2, 1), (2, 3, 0)]:
        pool(student, "avg_pool2d", x, k, s, p)


@points(1, cell="test_avg_pool2d")
def test_avg_default_stride(student):
    """stride omitted or None means stride = kernel_size (not 1)"""
    x = torch.randn(2, 3, 9, 12, generator=gen(411))
    for k in (2, 3):
        pool(student, "avg_pool2d", x, k, pass_stride=False)
        pool(student, "avg_pool2d", x, k, None, 1)


@points(2, cell="test_avg_pool2d")
def test_avg_stride_and_kernel(student):
    """non-square inputs, stride ≠ kernel (overlaps and gaps), kernel 3 with padding 1, batch and channels"""
    g = gen(412)
    for b, c, h, w, k, s, p in SHAPES:
        x = torch.randn(b, c, h, w, generator=g)
        pool(student, "avg_pool2d", x, k, s, p)


@points(1, cell="test_avg_pool2d")
def test_avg_padding_counts_pad(student):
    """count_include_pad=True: zero padding, every window divided by k·k (padded positions included)"""
    g = gen(413)
    x = torch.rand(2, 3, 6, 7, generator=g) + 1.0  # positive: dividing by the real-pixel count shows
    for k, s, p in [(3, 1, 1), (2, 2, 1), (3, 2, 1), (4, 3, 2)]:
        pool(student, "avg_pool2d", x, k, s, p)


@points(1, cell="test_avg_pool2d")
def test_avg_floor(student):
    """the output size is rounded down (ceil_mode=False) when windows do not tile the input"""
    g = gen(414)
    for (h, w), k, s, p in [((7, 9), 2, None, 0), ((8, 10), 3, 2, 0), ((11, 6), 3, None, 1), ((5, 5), 2, 2, 1)]:
        x = torch.randn(2, 2, h, w, generator=g)
        pool(student, "avg_pool2d", x, k, s, p)


@points(1, cell="test_avg_pool2d")
def test_avg_gradient(student):
    """the gradient of each window is spread evenly, 1/k² to each of its positions, as torch's"""
    g = gen(415)
    for i, (b, c, h, w, k, s, p) in enumerate([(2, 3, 7, 9, 3, 1, 1), (1, 2, 8, 6, 2, None, 0), (2, 1, 9, 8, 3, 2, 1)]):
        x = torch.randn(b, c, h, w, generator=g, dtype=torch.float64)
        pool_grad(student, "avg_pool2d", x, k, s, p, 4150 + i)


@points(1, cell="test_avg_pool2d")
def test_avg_float64(student):
    """float64 in, float64 out (padding included), to float64 precision"""
    g = gen(416)
    x = torch.randn(2, 3, 7, 8, generator=g, dtype=torch.float64)
    pool(student, "avg_pool2d", x, 3, 2, 1)
    pool(student, "avg_pool2d", x, 2, pass_stride=False)


# ============================================================================= Dropout
def away_from_zero(shape, seed, dtype=torch.float32):
    """Values with |x| in [0.5, 2): an output of 0 can only mean 'dropped'."""
    g = gen(seed)
    mag = torch.rand(shape, generator=g, dtype=dtype) * 1.5 + 0.5
    sign = torch.randint(0, 2, shape, generator=g).to(dtype) * 2 - 1
    return mag * sign


def make_dropout(student, *args):
    m = student.Dropout(*args)
    state = m.probe("module_state")
    if not state["is_module"]:
        raise StudentError(f"Dropout should subclass torch.nn.Module, got a {state['cls']}")
    return m


def sigma_bound(p, n, sigmas=6.0):
    return sigmas * math.sqrt(max(p * (1 - p), 1e-12) / n)


def check_structure(out, x, p, what):
    """Every output is 0 or x/(1-p); returns the keep mask."""
    out = check_tensor(out, what, x.shape, x.dtype)
    scaled = x / (1 - p)
    zero = out == 0
    rtol, atol = (1e-6, 1e-9) if x.dtype == torch.float64 else (1e-5, 1e-6)
    kept_ok = (out - scaled).abs() <= atol + rtol * scaled.abs()
    bad = ~(zero | kept_ok)
    if bad.any():
        i = tuple(int(j) for j in bad.nonzero()[0])
        hint = ""
        ratio = (out[i] / x[i]).item()
        if abs(ratio - 1) < 1e-4:
            hint = " (kept values are not rescaled)"
        elif abs(ratio - p) < 1e-4:
            hint = " (scaled by p instead of 1/(1-p))"
        elif abs(ratio - (1 - p)) < 1e-4:
            hint = " (scaled by (1-p) instead of 1/(1-p))"
        raise StudentError(f"{what}: every output must be 0 or x/(1-p); at index {i}: x = {x[i].item():.6g}, "
                           f"expected 0 or {scaled[i].item():.6g}, got {out[i].item():.6g}{hint}")
    return ~zero


@points(1, cell="test_dropout", visibility="visible")
def test_dropout_small_example(student):
    """the notebook's checks: p stored, 0 or x/(1-p), fraction ≈ p, new mask per call, eval, p = 0 and 1, ValueError"""
    m = make_dropout(student, 0.25)
    if number(m.attr("p"), "Dropout(0.25).p") != 0.25:
        raise StudentError("Dropout(0.25).p should be 0.25: store the probability as self.p")
    x = torch.rand(100_000, generator=gen(0)) + 0.5
    y1 = m(x)
    keep = check_structure(y1, x, 0.25, "Dropout(0.25) in training mode")
    frac = 1 - keep.double().mean().item()
    if abs(frac - 0.25) > 0.01:
        raise StudentError(f"Dropout(0.25) dropped {frac:.3%} of 100 000 elements, expected about 25 %")
    if torch.equal(m(x), y1):
        raise StudentError("Dropout(0.25) gave the same output twice: draw a new mask on every call")
    m.eval()
    assert_close(m(x), x, "Dropout(0.25) in eval mode (the identity)", rtol=0, atol=0)
    assert_close(make_dropout(student, 0.0)(x), x, "Dropout(0.0) in training mode (the identity)", rtol=0, atol=0)
    assert_close(make_dropout(student, 1.0)(x), torch.zeros_like(x), "Dropout(1.0) in training mode (all zeros)",
                 rtol=0, atol=0)
    assert_raises(lambda: student.Dropout(1.5), "ValueError", "Dropout(1.5)")


@points(1, cell="test_dropout")
def test_dropout_module(student):
    """an nn.Module with no parameters, p stored as self.p, default p = 0.5, .train()/.eval() set self.training"""
    m = make_dropout(student, 0.3)
    state = m.probe("module_state")
    if state["params"]:
        raise StudentError(f"Dropout should have no parameters, found {sorted(state['params'])}")
    if not state["training"]:
        raise StudentError("a new Dropout should be in training mode (call super().__init__())")
    if number(m.attr("p"), "Dropout(0.3).p") != 0.3:
        raise StudentError("Dropout(0.3).p should be 0.3: store the probability as self.p, like nn.Dropout")
    d = make_dropout(student)
    if number(d.attr("p"), "Dropout().p") != 0.5:
        raise StudentError("Dropout() should default to p = 0.5, like nn.Dropout")
    x = torch.ones(200_000)
    frac = (d(x) == 0).double().mean().item()
    if abs(frac - 0.5) > sigma_bound(0.5, x.numel()):
        raise StudentError(f"Dropout() dropped {frac:.2%} of {x.numel()} elements, expected about 50 %")
    if m.probe("train_mode", False) or not m.probe("train_mode", True):
        raise StudentError("Dropout's .train()/.eval() should set self.training (inherit them from nn.Module)")


@points(1, cell="test_dropout")
def test_dropout_values_structure(student):
    """in training every output is exactly 0 or x/(1-p) (inverted scaling), for p = 0.3 and 0.7, float32 and float64"""
    for p, dtype, seed in [(0.3, torch.float32, 420), (0.7, torch.float64, 421), (0.1, torch.float32, 422)]:
        x = away_from_zero((64, 50), seed, dtype)
        m = make_dropout(student, p)
        keep = check_structure(m(x), x, p, f"Dropout({p}) on a [64, 50] {str(dtype)[6:]} input")
        if keep.all() or not keep.any():
            raise StudentError(f"Dropout({p}) on 3200 elements kept {int(keep.sum())}: expected a random mix")


@points(1, cell="test_dropout")
def test_dropout_fraction(student):
    """the fraction of zeros is p (within 6 standard deviations) for p = 0.2, 0.5 and 0.8"""
    x = away_from_zero((250_000,), 423)
    for p in (0.2, 0.5, 0.8):
        out = check_tensor(make_dropout(student, p)(x), f"Dropout({p})", x.shape, x.dtype)
        frac = (out == 0).double().mean().item()
        bound = sigma_bound(p, x.numel())
        if abs(frac - p) > bound:
            hint = ""
            if abs(frac - (1 - p)) < bound:
                hint = " (it looks like you keep with probability p: zero with probability p)"
            raise StudentError(f"Dropout({p}) zeroed {frac:.4f} of {x.numel()} elements, expected p = {p} "
                               f"± {bound:.4f}{hint}")


@points(1, cell="test_dropout")
def test_dropout_mean(student):
    """the mean is preserved: E[y] = x (a large tensor of ones, p = 0.4 and 0.75)"""
    x = torch.ones(250_000, dtype=torch.float64)
    for p in (0.4, 0.75):
        out = check_tensor(make_dropout(student, p)(x), f"Dropout({p})", x.shape, x.dtype)
        mean = out.mean().item()
        bound = sigma_bound(p, x.numel()) / (1 - p)
        if abs(mean - 1.0) > bound:
            raise StudentError(f"Dropout({p}) on 250 000 ones has mean {mean:.4f}, expected 1 ± {bound:.4f}: "
                               "scale the kept values by 1/(1-p) so the expectation is unchanged")


@points(1, cell="test_dropout")
def test_dropout_eval(student):
    """eval mode is the identity (values and gradient); .train() afterwards drops again"""
    x = away_from_zero((8, 3, 16, 16), 424)
    m = make_dropout(student, 0.6)
    m.eval()
    assert_close(m(x), x, "Dropout(0.6) after .eval()", rtol=0, atol=0)
    grad_out = torch.randn(x.shape, generator=gen(4240))
    got = m.probe("forward_backward", (x.clone().requires_grad_(),), {}, grad_out)
    if got["grads"].get("arg0") is None:
        raise StudentError("Dropout in eval mode: no gradient reached the input")
    assert_close(got["grads"]["arg0"], grad_out, "gradient of Dropout(0.6) in eval mode (the identity)", rtol=0, atol=0)
    m.train()
    keep = check_structure(m(x), x, 0.6, "Dropout(0.6) after .eval() then .train()")
    if keep.all():
        raise StudentError("Dropout(0.6) dropped nothing after .eval() then .train(): read self.training in forward")


@points(1, cell="test_dropout")
def test_dropout_edge_p(student):
    """p = 0 is the identity and p = 1 gives zeros, with no NaN (no division by 1 - p = 0), values and gradients"""
    x = away_from_zero((40, 30), 425, torch.float64)
    grad_out = torch.randn(x.shape, generator=gen(4250), dtype=torch.float64)
    for p, ref, ref_grad in [(0.0, x, grad_out), (1.0, torch.zeros_like(x), torch.zeros_like(x)),
                             (0, x, grad_out), (1, torch.zeros_like(x), torch.zeros_like(x))]:
        m = make_dropout(student, p)
        assert_close(m(x), ref, f"Dropout({p}) in training mode", rtol=0, atol=0)
        got = m.probe("forward_backward", (x.clone().requires_grad_(),), {}, grad_out)
        g = got["grads"].get("arg0")
        if g is None:  # p = 1 may return a constant: no gradient means a zero gradient
            g = torch.zeros_like(x) if p == 1 else None
        if g is None:
            raise StudentError(f"Dropout({p}) in training mode: no gradient reached the input")
        assert_close(g, ref_grad, f"gradient of Dropout({p}) in training mode", rtol=0, atol=0)


@points(1, cell="test_dropout")
def test_dropout_fresh_masks(student):
    """every call draws a new mask: repeated calls differ, on the same and on new shapes"""
    m = make_dropout(student, 0.5)
    x = away_from_zero((32, 64), 426)
    outs = [check_tensor(m(x), "Dropout(0.5)", x.shape, x.dtype) for _ in range(3)]
    same = [(i, j) for i in range(3) for j in range(i + 1, 3) if torch.equal(outs[i] == 0, outs[j] == 0)]
    if same:
        raise StudentError(f"Dropout(0.5): calls {same[0][0] + 1} and {same[0][1] + 1} on the same input used the same "
                           "mask; draw a fresh random mask on every call")
    y = away_from_zero((5, 7, 9), 427)
    a, b = m(y), m(y)
    check_structure(a, y, 0.5, "Dropout(0.5) on a new shape [5, 7, 9]")
    if torch.equal(a, b):
        raise StudentError("Dropout(0.5) on a [5, 7, 9] input gave the same output twice")
    other = make_dropout(student, 0.5)
    if torch.equal(other(x) == 0, outs[0] == 0):
        raise StudentError("two Dropout(0.5) modules drew the same mask: do not reseed or cache the mask")


@points(1, cell="test_dropout")
def test_dropout_independent(student):
    """one independent draw per element: not shared across the batch, channels or pixels"""
    x = torch.ones(64, 4, 12, 12)
    keep = check_tensor(make_dropout(student, 0.5)(x), "Dropout(0.5) on [64, 4, 12, 12]", x.shape, x.dtype) != 0
    # For independent masks two different elements agree with probability p² + (1-p)² = 0.5;
    # a mask shared along a dimension makes neighbours along it agree always.
    for dim, name in [(0, "batch entries"), (1, "channels"), (2, "rows"), (3, "columns")]:
        a, b = keep.narrow(dim, 0, x.shape[dim] - 1), keep.narrow(dim, 1, x.shape[dim] - 1)
        agree = (a == b).double().mean().item()
        if agree > 0.6:
            raise StudentError(f"Dropout(0.5): neighbouring {name} share their mask ({agree:.0%} agreement, "
                               "expected about 50 %); draw one independent value per element "
                               "(mask shape = input shape)")
    frac = (~keep).double().mean().item()
    if abs(frac - 0.5) > sigma_bound(0.5, keep.numel()):
        raise StudentError(f"Dropout(0.5) on [64, 4, 12, 12] zeroed {frac:.2%}, expected about 50 %")


@points(1, cell="test_dropout")
def test_dropout_gradient(student):
    """the gradient flows through kept units only, scaled by 1/(1-p); zero for dropped ones"""
    for p, dtype, seed in [(0.3, torch.float64, 428), (0.8, torch.float32, 429)]:
        x = away_from_zero((16, 5, 7), seed, dtype)
        grad_out = torch.randn(x.shape, generator=gen(seed + 1000), dtype=dtype)
        m = make_dropout(student, p)
        got = m.probe("forward_backward", (x.clone().requires_grad_(),), {}, grad_out)
        if got["out_cls"] != "torch.Tensor":
            raise StudentError(f"Dropout({p}) should return a torch.Tensor, got {got['out_cls']}")
        keep = check_structure(got["out"], x, p, f"Dropout({p}) output")
        if got["grads"].get("arg0") is None:
            raise StudentError(f"Dropout({p}): no gradient reached the input (did you detach it or use no_grad?)")
        expected = grad_out * keep.to(dtype) / (1 - p)
        assert_close(got["grads"]["arg0"], expected, f"gradient of Dropout({p}) w.r.t. its input "
                     "(grad_out · mask / (1-p), with the mask of that forward pass)")


@points(1, cell="test_dropout")
def test_dropout_invalid_p(student):
    """Dropout(p) raises ValueError for p < 0 or p > 1, like nn.Dropout"""
    for p in (-0.1, 1.5, 2):
        assert_raises(lambda p=p: student.Dropout(p), "ValueError", f"Dropout({p})")


@points(1, cell="test_dropout")
def test_dropout_dtype_shape(student):
    """shape and dtype are kept for 1-D to 5-D inputs, float32 and float64; a plain torch.Tensor comes back"""
    m = make_dropout(student, 0.4)
    for shape, dtype, seed in [((1000,), torch.float64, 430), ((3, 200), torch.float32, 431),
                               ((2, 3, 4, 5, 6), torch.float64, 432), ((1, 1, 1), torch.float32, 433)]:
        x = away_from_zero(shape, seed, dtype)
        check_structure(m(x), x, 0.4, f"Dropout(0.4) on a {list(shape)} {str(dtype)[6:]} input")
