"""Hidden suite for a03_linear (LBDL 4.1–4.3). Every test names the student bug it rejects.

Linear
- weight stored [in, out] instead of [out, in]; parameters misnamed or not nn.Parameter  -> test_linear_param_layout
- initialised N(0, 1), U(-1, 1), N(0, 1/in), kaiming on the wrong fan / default gain,
  U(0, b) (not symmetric), zero bias                                                   -> test_linear_init
- bias=False still registers a bias (zeros), or leaves no `bias` attribute             -> test_linear_no_bias
- only 2-D inputs work (einsum "bi,oi->bo", x.view(B, -1)); 1-D or 4-D input breaks     -> test_linear_batch_dims
- output not differentiable, wrong input/parameter gradients (detach, numpy, in place)  -> test_linear_gradients
- float32 hard-coded in forward (float64 lost or precision lost)                       -> test_linear_float64
- calls nn.Linear / F.linear (any alias, torch.ops.aten.linear)                        -> trap
Conv2d
- weight layout not [out, in, k, k]; parameters misnamed                               -> test_conv2d_param_layout
- init bound on the wrong fan (in_channels only, out·k², k²), kaiming default gain,
  zero bias                                                                            -> test_conv2d_init
- true convolution (flipped kernel) instead of cross-correlation                       -> test_conv2d_cross_correlation
- padding ignored, padded on one side or one axis only (F.pad(x, (p, p)))              -> test_conv2d_padding
- stride ignored, ceil instead of floor in the output size, H and W swapped             -> test_conv2d_stride
- stride and padding combined, kernel 5 and 4, non-square inputs                       -> test_conv2d_stride_and_padding
- channels summed in the wrong order (weight flattened [k, k, C] vs unfold's [C, k, k]),
  batch mixed up with channels, 1×1 kernels                                            -> test_conv2d_channels_and_batch
- bias=False still registers a bias                                                    -> test_conv2d_no_bias
- wrong input/weight/bias gradients                                                    -> test_conv2d_gradients
- float32 hard-coded (zeros(...) accumulator without dtype)                            -> test_conv2d_float64
- calls nn.Conv2d / F.conv2d / torch.conv2d (any alias, aten.convolution)              -> trap
relu
- wrong values, dtype or shape lost                                                    -> test_relu_values
- not differentiable, or gradient wrong; modifies its (leaf) input in place            -> test_relu_gradient
- calls F.relu / torch.relu / Tensor.relu                                              -> trap
gelu
- tanh approximation instead of exact erf                                 -> test_gelu_exact, test_gelu_example
- dtype lost (float64 computed in float32), wrong for large |x|                        -> test_gelu_exact
- wrong or missing gradient                                                            -> test_gelu_gradient
- calls F.gelu                                                                         -> trap
softmax
- normalises over a fixed dim (-1, or 1) or over the whole tensor instead of `dim`      -> test_softmax_dims
- no max-subtraction: nan for scores of ±1e4                                           -> test_softmax_stable
- subtracts the global max instead of the max along dim (0/0 for rows far below it)    -> test_softmax_stable
- float64 lost, wrong gradient                                                         -> test_softmax_float64_gradient
- calls F.softmax / torch.softmax / Tensor.softmax                                     -> trap
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.remote import StudentError
from autograder.testing import assert_close, check_tensor, gen, points


# ----------------------------------------------------------------------------- helpers
def ref_module(cls, *args, seed, dtype=torch.float32, **kwargs):
    """A torch module with random (not default-initialised) parameters from a fixed generator."""
    m = cls(*args, **kwargs)
    g = gen(seed)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return m.to(dtype)


def student_module(student, name, ref, *args, double=False, **kwargs):
    """Construct the student's module and copy `ref`'s parameters into it (shape-checked)."""
    m = getattr(student, name)(*args, **kwargs)
    if not m.is_module:
        raise StudentError(f"{name}(...) should create a torch.nn.Module, got {m.cls}")
    if double:
        m = m.double()
    m.probe("load_state", {k: v.detach().clone() for k, v in ref.state_dict().items()})
    return m


def compare_module(m, ref, x, what, *, grads=True, seed=0):
    """Forward output, then (with grads) a backward pass with a random output gradient: the input's
    and every parameter's gradient. The output is checked first, so a wrong shape reads as one."""
    with torch.no_grad():
        expected = ref(x)
    got = m.probe("forward_backward", (x.clone(),), {}, None)
    if got["out_cls"] != "torch.Tensor":
        raise StudentError(f"{what}: forward returned a {got['out_cls']}; expected exactly a torch.Tensor")
    assert_close(got["out"], expected, f"{what}: output")
    if not grads:
        return
    grad_out = torch.randn(expected.shape, generator=gen(seed), dtype=expected.dtype)
    got = m.probe("forward_backward", (x.clone().requires_grad_(),), {}, grad_out)
    ref.zero_grad(set_to_none=True)
    xr = x.clone().requires_grad_()
    ref(xr).backward(grad_out)
    if got["grads"].get("arg0") is None:
        raise StudentError(f"{what}: no gradient reached the input; compute the output from x with torch "
                           f"operations (no .detach(), .item(), numpy or in-place writes into x)")
    assert_close(got["grads"]["arg0"], xr.grad, f"{what}: gradient w.r.t. the input")
    for name, p in ref.named_parameters():
        g = got["param_grads"].get(name)
        if g is None:
            raise StudentError(f"{what}: no gradient reached `{name}`; is it an nn.Parameter used in forward?")
        assert_close(g, p.grad, f"{what}: gradient w.r.t. {name}")


def fn_grad(student, name, x, kwargs, reference, what, seed=0):
    """Output and input gradient of a student's function against `reference`."""
    xr = x.clone().requires_grad_()
    out = reference(xr, **kwargs)
    grad_out = torch.randn(out.shape, generator=gen(seed), dtype=out.dtype)
    out.backward(grad_out)
    got = student.probe("forward_backward", student.ref(name), (x.clone().requires_grad_(),), kwargs, grad_out,
                        origin=name)
    if got["out_cls"] != "torch.Tensor":
        raise StudentError(f"{what}: returned a {got['out_cls']}; expected exactly a torch.Tensor")
    assert_close(got["out"], out, f"{what}: output")
    if got["grads"].get("arg0") is None:
        raise StudentError(f"{what}: the output does not depend differentiably on x (did you use .detach(), "
                           f".item(), numpy, or write into x in place?)")
    assert_close(got["grads"]["arg0"], xr.grad, f"{what}: gradient w.r.t. x")


def state(m, what):
    st = m.probe("module_state")
    if not st["is_module"]:
        raise StudentError(f"{what} should be a torch.nn.Module, got {st['cls']}")
    return st


def check_layout(st, what, expected):
    """Parameters named exactly as torch's, registered as nn.Parameter, with torch's shapes."""
    names = sorted(st["params"])
    if names != sorted(expected):
        raise StudentError(f"{what}: expected parameters {sorted(expected)} (registered as nn.Parameter), "
                           f"found {names}")
    for name, (shape, layout) in expected.items():
        if st["param_types"][name] != "Parameter":
            raise StudentError(f"{what}: `{name}` should be an nn.Parameter, got {st['param_types'][name]}")
        got = tuple(st["params"][name].shape)
        if got != tuple(shape):
            raise StudentError(f"{what}: `{name}` has shape {got}, expected {layout} = {tuple(shape)}")
        check_tensor(st["params"][name], f"{what}: `{name}`", shape, torch.float32)


def linear_layout(i, o, bias=True):
    """Expected parameters of Linear(i, o): name -> (shape, layout in words)."""
    out = {"weight": ((o, i), "[out_features, in_features]")}
    return {**out, "bias": ((o,), "[out_features]")} if bias else out


def conv_layout(cin, cout, k, bias=True):
    """Expected parameters of Conv2d(cin, cout, k): name -> (shape, layout in words)."""
    out = {"weight": ((cout, cin, k, k), "[out_channels, in_channels, kernel_size, kernel_size]")}
    return {**out, "bias": ((cout,), "[out_channels]")} if bias else out


def check_uniform(t, bound, what, *, tight):
    """Samples of U(-bound, bound): inside the bound, reaching it, centred, with the right spread."""
    t = t.detach().to(torch.float64).flatten()
    lo, hi, mx = t.min().item(), t.max().item(), t.abs().max().item()
    if mx == 0:
        raise StudentError(f"{what} is all zeros; torch draws it from U(-{bound:.4g}, {bound:.4g})")
    if mx > bound * (1 + 1e-5):
        raise StudentError(f"{what} has values up to {mx:.4g} in absolute value, outside torch's "
                           f"U(-{bound:.4g}, {bound:.4g}) (bound 1/sqrt(fan_in))")
    reach = 0.97 if tight else 0.5
    if hi < reach * bound or lo > -reach * bound:
        raise StudentError(f"{what} lies in [{lo:.4g}, {hi:.4g}]; torch's U(-{bound:.4g}, {bound:.4g}) fills the "
                           f"whole interval (is the bound computed from the right fan-in?)")
    if tight:
        std, want = t.std().item(), bound / math.sqrt(3)
        if abs(std / want - 1) > 0.05 or abs(t.mean().item()) > 0.05 * bound:
            raise StudentError(f"{what} has mean {t.mean().item():.3g} and std {std:.4g}; "
                               f"U(-{bound:.4g}, {bound:.4g}) has mean 0 and std {want:.4g}")


def x_of(seed, *shape, dtype=torch.float32, scale=1.0):
    return torch.randn(*shape, generator=gen(seed), dtype=dtype) * scale


# ----------------------------------------------------------------------------- Linear
@points(1, cell="test_linear", visibility="visible")
def test_linear_example(student):
    """the notebook's Linear(3, 4): parameter shapes, output with nn.Linear's weights, batch dims"""
    st = state(student.Linear(3, 4), "Linear(3, 4)")
    check_layout(st, "Linear(3, 4)", linear_layout(3, 4))
    ref = ref_module(nn.Linear, 3, 4, seed=1)
    m = student_module(student, "Linear", ref, 3, 4)
    compare_module(m, ref, x_of(2, 5, 3), "Linear(3, 4) on [5, 3]", grads=False)
    compare_module(m, ref, x_of(3, 2, 6, 3), "Linear(3, 4) on [2, 6, 3]", grads=False)
    no_bias = student.Linear(3, 4, bias=False)
    if no_bias.attr("bias") is not None:
        raise StudentError("Linear(3, 4, bias=False).bias should be None")


@points(1, cell="test_linear")
def test_linear_param_layout(student):
    """weight [out_features, in_features] and bias [out_features], registered nn.Parameters (in ≠ out)"""
    for i, o in [(7, 2), (2, 9)]:
        st = state(student.Linear(i, o), f"Linear({i}, {o})")
        check_layout(st, f"Linear({i}, {o})", linear_layout(i, o))


@points(1, cell="test_linear")
def test_linear_init(student):
    """weight and bias drawn from torch's U(-1/sqrt(in_features), 1/sqrt(in_features))"""
    i, o = 400, 300
    st = state(student.Linear(i, o), f"Linear({i}, {o})")
    check_layout(st, f"Linear({i}, {o})", linear_layout(i, o))
    bound = 1 / math.sqrt(i)
    check_uniform(st["params"]["weight"], bound, f"Linear({i}, {o}).weight", tight=True)
    check_uniform(st["params"]["bias"], bound, f"Linear({i}, {o}).bias", tight=False)


@points(1, cell="test_linear")
def test_linear_no_bias(student):
    """bias=False: no bias parameter, `bias` is None, output is x @ weight.T"""
    m = student.Linear(6, 4, bias=False)
    st = state(m, "Linear(6, 4, bias=False)")
    check_layout(st, "Linear(6, 4, bias=False)", linear_layout(6, 4, bias=False))
    if m.attr("bias") is not None:
        raise StudentError("Linear(6, 4, bias=False).bias should be None")
    ref = ref_module(nn.Linear, 6, 4, bias=False, seed=4)
    m = student_module(student, "Linear", ref, 6, 4, bias=False)
    compare_module(m, ref, x_of(5, 3, 6), "Linear(6, 4, bias=False)")


@points(1, cell="test_linear")
def test_linear_batch_dims(student):
    """any leading dimensions: [in], [N, in], [A, B, C, in] -> same leading dims, [.., out]"""
    ref = ref_module(nn.Linear, 5, 3, seed=6)
    m = student_module(student, "Linear", ref, 5, 3)
    for k, shape in enumerate([(5,), (1, 5), (2, 3, 4, 5)]):
        compare_module(m, ref, x_of(7 + k, *shape), f"Linear(5, 3) on an input of shape {list(shape)}",
                       grads=False)


@points(1, cell="test_linear")
def test_linear_gradients(student):
    """gradients w.r.t. the input, weight and bias match nn.Linear's (3-D input)"""
    ref = ref_module(nn.Linear, 8, 5, seed=10)
    m = student_module(student, "Linear", ref, 8, 5)
    compare_module(m, ref, x_of(11, 4, 3, 8), "Linear(8, 5) on [4, 3, 8]", seed=12)


@points(1, cell="test_linear")
def test_linear_float64(student):
    """module.double() with a float64 input: float64 output and gradients, to float64 precision"""
    ref = ref_module(nn.Linear, 6, 7, seed=13, dtype=torch.float64)
    m = student_module(student, "Linear", ref, 6, 7, double=True)
    compare_module(m, ref, x_of(14, 5, 6, dtype=torch.float64), "Linear(6, 7).double() on float64", seed=15)


# ----------------------------------------------------------------------------- Conv2d
def conv_case(student, seed, cin, cout, k, x_shape, *, what=None, dtype=torch.float32, grads=False, **kwargs):
    ref = ref_module(nn.Conv2d, cin, cout, k, seed=seed, dtype=dtype, **kwargs)
    m = student_module(student, "Conv2d", ref, cin, cout, k, double=dtype == torch.float64, **kwargs)
    args = ", ".join([str(cin), str(cout), str(k)] + [f"{a}={v}" for a, v in kwargs.items()])
    what = what or f"Conv2d({args}) on {list(x_shape)}"
    compare_module(m, ref, x_of(seed + 1, *x_shape, dtype=dtype), what, grads=grads, seed=seed + 2)


@points(1, cell="test_conv2d", visibility="visible")
def test_conv2d_example(student):
    """the notebook's Conv2d(1, 2, 3) on a 5×5 image, and the output shape with stride=2, padding=1"""
    st = state(student.Conv2d(1, 2, 3), "Conv2d(1, 2, 3)")
    check_layout(st, "Conv2d(1, 2, 3)", conv_layout(1, 2, 3))
    conv_case(student, 20, 1, 2, 3, (1, 1, 5, 5))
    out = student.Conv2d(3, 4, 3, stride=2, padding=1)(x_of(23, 2, 3, 9, 6))
    check_tensor(out, "Conv2d(3, 4, 3, stride=2, padding=1) on [2, 3, 9, 6]", (2, 4, 5, 3), torch.float32)


@points(1, cell="test_conv2d")
def test_conv2d_param_layout(student):
    """weight [out_channels, in_channels, k, k] and bias [out_channels], registered nn.Parameters"""
    for cin, cout, k in [(3, 5, 2), (2, 1, 5)]:
        what = f"Conv2d({cin}, {cout}, {k})"
        check_layout(state(student.Conv2d(cin, cout, k), what), what, conv_layout(cin, cout, k))


@points(1, cell="test_conv2d")
def test_conv2d_init(student):
    """weight and bias drawn from torch's U(-1/sqrt(in_channels·k²), 1/sqrt(in_channels·k²))"""
    cin, cout, k = 16, 128, 5
    what = f"Conv2d({cin}, {cout}, {k})"
    st = state(student.Conv2d(cin, cout, k), what)
    check_layout(st, what, conv_layout(cin, cout, k))
    bound = 1 / math.sqrt(cin * k * k)
    check_uniform(st["params"]["weight"], bound, f"{what}.weight", tight=True)
    check_uniform(st["params"]["bias"], bound, f"{what}.bias", tight=False)


@points(1, cell="test_conv2d")
def test_conv2d_cross_correlation(student):
    """cross-correlation as torch computes it: the kernel is not flipped"""
    ref = nn.Conv2d(1, 1, 3, bias=False)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor([[[[1.0, 2.0, 0.0], [0.0, -1.0, 3.0], [0.5, 0.0, -2.0]]]]))
    m = student_module(student, "Conv2d", ref, 1, 1, 3, bias=False)
    x = x_of(24, 1, 1, 5, 6)
    out = m(x)
    try:
        assert_close(out, F.conv2d(x, ref.weight.detach()), "Conv2d(1, 1, 3) with an asymmetric kernel")
    except StudentError:
        flipped = F.conv2d(x, ref.weight.detach().flip(-1, -2))
        if type(out) is torch.Tensor and out.shape == flipped.shape and torch.allclose(out, flipped, atol=1e-5):
            raise StudentError("Conv2d with an asymmetric kernel: your output is the *flipped-kernel* (true) "
                               "convolution; deep-learning layers compute cross-correlation, without the "
                               "flip") from None
        raise


@points(1, cell="test_conv2d")
def test_conv2d_padding(student):
    """zero padding on all four sides (padding=1 and 2, stride 1, non-square input)"""
    conv_case(student, 30, 2, 3, 3, (2, 2, 5, 7), padding=1)
    conv_case(student, 33, 1, 2, 3, (1, 1, 4, 6), padding=2)


@points(1, cell="test_conv2d")
def test_conv2d_stride(student):
    """stride 2 and 3 without padding: H' = floor((H − k) / s) + 1 on sizes that do not divide"""
    conv_case(student, 36, 2, 3, 3, (2, 2, 10, 8), stride=3)
    conv_case(student, 39, 1, 2, 2, (1, 1, 7, 9), stride=2)


@points(1, cell="test_conv2d")
def test_conv2d_stride_and_padding(student):
    """stride and padding together, kernels 3, 4 and 5, non-square images"""
    conv_case(student, 42, 3, 4, 3, (2, 3, 9, 7), stride=2, padding=1)
    conv_case(student, 45, 2, 3, 5, (1, 2, 11, 6), stride=2, padding=2)
    conv_case(student, 48, 1, 2, 4, (2, 1, 8, 10), stride=3, padding=1)


@points(1, cell="test_conv2d")
def test_conv2d_channels_and_batch(student):
    """several input and output channels, a batch of 4, a 1×1 kernel"""
    conv_case(student, 51, 3, 5, 3, (4, 3, 8, 6))
    conv_case(student, 54, 4, 2, 1, (3, 4, 5, 7))


@points(1, cell="test_conv2d")
def test_conv2d_no_bias(student):
    """bias=False: no bias parameter, `bias` is None, output without bias"""
    m = student.Conv2d(2, 3, 3, bias=False)
    what = "Conv2d(2, 3, 3, bias=False)"
    check_layout(state(m, what), what, conv_layout(2, 3, 3, bias=False))
    if m.attr("bias") is not None:
        raise StudentError("Conv2d(2, 3, 3, bias=False).bias should be None")
    conv_case(student, 57, 2, 3, 3, (2, 2, 6, 5), bias=False, padding=1)


@points(1, cell="test_conv2d")
def test_conv2d_gradients(student):
    """gradients w.r.t. the input, weight and bias match nn.Conv2d's (stride 2, padding 1)"""
    conv_case(student, 60, 3, 4, 3, (2, 3, 7, 8), stride=2, padding=1, grads=True)


@points(1, cell="test_conv2d")
def test_conv2d_float64(student):
    """module.double() with a float64 input: float64 output and gradients, to float64 precision"""
    conv_case(student, 63, 2, 3, 3, (2, 2, 6, 7), padding=1, dtype=torch.float64, grads=True)


# ----------------------------------------------------------------------------- relu
@points(1, cell="test_relu", visibility="visible")
def test_relu_example(student):
    """the notebook's example values, float64 dtype kept, gradient 1[x > 0]"""
    x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 3.0])
    assert_close(student.relu(x), torch.tensor([0.0, 0.0, 0.0, 0.5, 3.0]), f"relu({x.tolist()})")
    check_tensor(student.relu(x_of(70, 2, 3, 4, dtype=torch.float64)), "relu on float64", (2, 3, 4), torch.float64)
    fn_grad(student, "relu", torch.tensor([-1.5, 2.0, -0.1, 0.7]), {}, F.relu, "relu on [-1.5, 2, -0.1, 0.7]")


@points(1, cell="test_relu")
def test_relu_values(student):
    """random tensors of rank 1 to 4, float32 and float64, large values: exact max(0, x)"""
    for k, (shape, dtype) in enumerate([((7,), torch.float32), ((3, 5), torch.float64),
                                        ((2, 3, 4, 5), torch.float32)]):
        x = x_of(71 + k, *shape, dtype=dtype, scale=100.0)
        assert_close(student.relu(x), F.relu(x), f"relu on a {dtype} input of shape {list(shape)}")


@points(1, cell="test_relu")
def test_relu_gradient(student):
    """gradient w.r.t. x is the output gradient where x > 0, zero elsewhere (float64, 3-D)"""
    x = x_of(75, 4, 3, 5, dtype=torch.float64)
    x = torch.where(x.abs() < 1e-3, torch.full_like(x, 0.5), x)  # ReLU's kink at 0 is left out
    fn_grad(student, "relu", x, {}, F.relu, "relu on a [4, 3, 5] float64 input", seed=76)


# ----------------------------------------------------------------------------- gelu
@points(1, cell="test_gelu", visibility="visible")
def test_gelu_example(student):
    """the notebook's float64 example: exact GELU (erf), not the tanh approximation"""
    x = torch.tensor([-3.0, -1.0, 0.0, 0.5, 2.0], dtype=torch.float64)
    got = student.gelu(x)
    check_tensor(got, "gelu on float64", x.shape, torch.float64)
    if torch.allclose(got, F.gelu(x, approximate="tanh"), rtol=1e-7, atol=1e-9):
        raise StudentError("gelu matches the tanh approximation; write the exact form x/2·(1 + erf(x/√2))")
    assert_close(got, F.gelu(x), f"gelu({x.tolist()})")


@points(1, cell="test_gelu")
def test_gelu_exact(student):
    """exact erf GELU on [-8, 8] and for |x| up to 50, float32 and float64, shape and dtype kept"""
    grid = torch.linspace(-8, 8, 321)
    for dtype in (torch.float32, torch.float64):
        x = grid.to(dtype).reshape(3, 107)
        got = student.gelu(x)
        check_tensor(got, f"gelu on {dtype}", x.shape, dtype)
        if torch.allclose(got.to(torch.float64), F.gelu(x.double(), approximate="tanh"), rtol=1e-6, atol=1e-7):
            raise StudentError(f"gelu on {dtype} matches the tanh approximation; use the exact erf form")
        assert_close(got, F.gelu(x), f"gelu on a {dtype} grid of [-8, 8]")
    x = torch.tensor([[-50.0, -20.0, -5.0], [5.0, 20.0, 50.0]], dtype=torch.float64)
    assert_close(student.gelu(x), F.gelu(x), "gelu for large |x|")


@points(1, cell="test_gelu")
def test_gelu_gradient(student):
    """gradient w.r.t. x matches F.gelu's: Φ(x) + x·φ(x) (float64, 3-D)"""
    fn_grad(student, "gelu", x_of(80, 2, 4, 6, dtype=torch.float64, scale=2.0), {}, F.gelu,
            "gelu on a [2, 4, 6] float64 input", seed=81)


# ----------------------------------------------------------------------------- softmax
@points(1, cell="test_softmax", visibility="visible")
def test_softmax_example(student):
    """the notebook's 2×3 example along dim=1 and dim=0, and scores of 1e4"""
    z = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    for d in (1, 0):
        assert_close(student.softmax(z, dim=d), F.softmax(z, dim=d), f"softmax of the 2×3 example, dim={d}")
    big = torch.tensor([[1e4, 0.0, -1e4]])
    assert_close(student.softmax(big, dim=-1), F.softmax(big, dim=-1), "softmax of [1e4, 0, -1e4]",
                 rtol=3e-3, atol=1e-6)


@points(2, cell="test_softmax")
def test_softmax_dims(student):
    """every dim of a [2, 3, 4] input (0, 1, 2, -1, -2, -3) and of a 4-D input: each slice along dim sums to 1"""
    x = x_of(90, 2, 3, 4, scale=3.0)
    for d in (0, 1, 2, -1, -2, -3):
        assert_close(student.softmax(x, dim=d), F.softmax(x, dim=d), f"softmax of a [2, 3, 4] input, dim={d}")
    x = x_of(91, 3, 1, 5, 2, scale=3.0)
    for d in (1, 2):
        assert_close(student.softmax(x, dim=d), F.softmax(x, dim=d), f"softmax of a [3, 1, 5, 2] input, dim={d}")


@points(1, cell="test_softmax")
def test_softmax_stable(student):
    """scores of ±1e4 (rows on very different scales, masked −inf entries) give finite, exact probabilities"""
    z = torch.tensor([[1e4, 0.0, -1e4, 5e3],
                      [-1e4, -1e4 + 1.0, -1e4 + 2.0, -1e4],
                      [3.0, 1e4, 1e4, -float("inf")],
                      [0.5, -float("inf"), 0.0, 1.0]])
    # float32 spacing near 1e4 is ~1e-3: a correct exp(x - logsumexp(x)) form is off by that much relatively,
    # while the bugs this rejects give nan, 0/0 or probabilities that are off entirely.
    for d in (1, 0):
        assert_close(student.softmax(z, dim=d), F.softmax(z, dim=d), f"softmax of scores of ±1e4 along dim={d}",
                     rtol=3e-3, atol=1e-6)
    z64 = z[:, :3].double() * 10
    assert_close(student.softmax(z64, dim=-1), F.softmax(z64, dim=-1), "softmax of float64 scores of ±1e5")


@points(1, cell="test_softmax")
def test_softmax_float64_gradient(student):
    """float64 in, float64 out; gradient w.r.t. x matches F.softmax's, along dim=1 of a 3-D input"""
    fn_grad(student, "softmax", x_of(95, 3, 4, 5, dtype=torch.float64, scale=2.0), {"dim": 1}, F.softmax,
            "softmax(x, dim=1) on a [3, 4, 5] float64 input", seed=96)
