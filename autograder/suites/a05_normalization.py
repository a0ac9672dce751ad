"""Hidden suite for a05_normalization (LBDL 4.6-4.7). Every test names the student bug it rejects.

BatchNorm2d
- normalises with the unbiased variance (must be biased)                 -> test_bn_train_forward, test_bn_visible
- updates running_var with the biased variance (must be unbiased)         -> test_bn_running_stats
- momentum reversed: running = m*running + (1-m)*batch                     -> test_bn_running_stats
- running stats not updated, or updated in eval mode                       -> test_bn_running_stats, test_bn_eval_mode
- eval mode still normalises with the batch's statistics                   -> test_bn_eval_mode
- statistics over the wrong axes ((0,) only, (2, 3), all axes)             -> test_bn_train_forward
- eps outside the sqrt, or ignored                                         -> test_bn_eps_momentum, test_bn_defaults
- eps / momentum arguments ignored, or wrong defaults                      -> test_bn_eps_momentum, test_bn_defaults
- affine weight/bias ignored or swapped                                    -> test_bn_train_forward, test_bn_eval_mode
- running stats drift over several steps, or train() after eval() broken   -> test_bn_several_steps
- wrong input or parameter gradients (e.g. statistics detached)            -> test_bn_gradients
- running stats updated under autograd (the buffers keep every step's graph) -> test_bn_gradients
- parameters/buffers missing, wrong names, shapes or init; not buffers     -> test_bn_init
- float64 lost (float32 constants/buffers that .double() does not move)    -> test_bn_float64
- calls F.batch_norm / nn.BatchNorm2d (any alias)                          -> trap
LayerNorm
- eps outside the sqrt, or ignored                                         -> test_ln_eps
- normalises only the last axis for a tuple normalized_shape               -> test_ln_tuple_shape
- unbiased variance                                                        -> test_ln_forward, test_ln_visible
- affine weight/bias ignored                                               -> test_ln_forward, test_ln_tuple_shape
- breaks on inputs with several (or no) batch axes                         -> test_ln_forward
- wrong gradients (mean or variance detached)                              -> test_ln_gradients
- parameter shapes/init wrong, int normalized_shape not accepted           -> test_ln_params
- float64 lost                                                             -> test_ln_float64
RMSNorm
- subtracts the mean (that is LayerNorm)                                   -> test_rms_forward, test_rms_visible
- eps outside the sqrt, or ignored; wrong default eps                      -> test_rms_eps
- weight ignored; an extra bias parameter                                  -> test_rms_forward, test_rms_params
- tuple normalized_shape reduced over the last axis only                   -> test_rms_forward
- wrong gradients / float64 lost                                           -> test_rms_gradients
ResidualBlock
- no skip connection                                                       -> test_rb_forward, test_rb_gradients
- post-norm norm(x + f(x)), or the skip taken from norm(x)                 -> test_rb_forward
- tanh-approximate GELU (or ReLU)                                          -> test_rb_forward (float64)
- submodule names/shapes differ (norm, fc1 [hidden, dim], fc2 [dim, hidden]) -> test_rb_structure
- input gradient without the identity term, wrong parameter gradients     -> test_rb_gradients
- norm is not a LayerNorm of the block (wrong eps, affine ignored)         -> test_rb_forward (random norm params)
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.remote import StudentError
from autograder.testing import assert_close, check_tensor, gen, points

BN_STATE = ("weight", "bias", "running_mean", "running_var")


# ----------------------------------------------------------------------------- helpers
def module_state(m, what):
    st = m.probe("module_state")
    if not st["is_module"]:
        raise StudentError(f"{what} should be a torch.nn.Module subclass, got {st['cls']}")
    return st


def buffer(m, name, what):
    bufs = module_state(m, what)["buffers"]
    if name not in bufs:
        raise StudentError(f"{what} has no buffer named {name!r} (buffers: {sorted(bufs)}); "
                           f"create it with self.register_buffer({name!r}, ...)")
    return bufs[name]


def load(m, ref, names):
    """Copy the torch reference module's tensors `names` into the student's module."""
    m.probe("load_state", {k: getattr(ref, k).detach().clone() for k in names})


def forward_backward(m, x, grad_out, what):
    """Output, input gradient and parameter gradients of the student's module."""
    got = m.probe("forward_backward", (x.clone().requires_grad_(),), {}, grad_out)
    if got["out_cls"] != "torch.Tensor":
        raise StudentError(f"{what} returned a {got['out_cls']}; expected a torch.Tensor")
    if got["grads"].get("arg0") is None:
        raise StudentError(f"{what}: the output does not depend differentiably on the input "
                           "(was something detached, or computed under torch.no_grad()?)")
    return got


def param_grad(got, name, what):
    g = got["param_grads"].get(name)
    if g is None:
        raise StudentError(f"{what}: parameter {name!r} got no gradient (is it used in forward?)")
    return g


def torch_grads(module, x, grad_out):
    """The torch module's output, input gradient and parameter gradients."""
    module.zero_grad(set_to_none=True)
    xx = x.clone().requires_grad_()
    out = module(xx)
    out.backward(grad_out)
    return out.detach(), xx.grad, {k: p.grad for k, p in module.named_parameters()}


def channel_data(seed, shape, dtype=torch.float32, scale=1.0):
    """[N, C, H, W] activations whose channels have their own offset and spread."""
    g = gen(seed)
    c = shape[1]
    spread = (torch.rand(c, generator=g, dtype=torch.float64) * 2.5 + 0.3).to(dtype) * scale
    offset = (torch.randn(c, generator=g, dtype=torch.float64) * 2).to(dtype) * scale
    return torch.randn(*shape, generator=g, dtype=dtype) * spread.view(1, c, 1, 1) + offset.view(1, c, 1, 1)


def row_data(seed, shape, dtype=torch.float32, scale=1.0, offset=1.5):
    """Data with a different offset and scale per row (per leading index)."""
    g = gen(seed)
    x = torch.randn(*shape, generator=g, dtype=dtype)
    lead = shape[:-1] + (1,)
    return scale * (x * (torch.rand(*lead, generator=g, dtype=dtype) * 2 + 0.5)
                    + offset * torch.randn(*lead, generator=g, dtype=dtype))


def torch_bn(c, seed, dtype=torch.float32, stats=False, **kwargs):
    """nn.BatchNorm2d with random (non-default) weight, bias and optionally running stats."""
    ref = nn.BatchNorm2d(c, dtype=dtype, **kwargs)
    g = gen(seed)
    with torch.no_grad():
        ref.weight.copy_(torch.rand(c, generator=g) * 1.5 + 0.5)
        ref.bias.copy_(torch.randn(c, generator=g))
        if stats:
            ref.running_mean.copy_(torch.randn(c, generator=g) * 2)
            ref.running_var.copy_(torch.rand(c, generator=g) * 3 + 0.2)
    return ref


def randomize_affine(ref, seed, bias=True):
    g = gen(seed)
    with torch.no_grad():
        ref.weight.copy_(torch.rand(ref.weight.shape, generator=g) * 1.5 + 0.5)
        if bias:
            ref.bias.copy_(torch.randn(ref.bias.shape, generator=g))
    return ref


def check_bn_stats(m, ref, what):
    st = module_state(m, what)
    for name in ("running_mean", "running_var"):
        if name not in st["buffers"]:
            raise StudentError(f"{what}: no buffer named {name!r} (buffers: {sorted(st['buffers'])})")
    assert_close(st["buffers"]["running_mean"], ref.running_mean,
                 f"{what}: running_mean (expected (1 - momentum)·running + momentum·batch mean)")
    assert_close(st["buffers"]["running_var"], ref.running_var,
                 f"{what}: running_var (updated with the unbiased batch variance, n/(n-1) times the biased one)")


# ----------------------------------------------------------------------------- BatchNorm2d
@points(1, cell="test_batchnorm2d", visibility="visible")
def test_bn_visible(student):
    """the notebook's example: one training step (output, running stats), then eval mode"""
    torch.manual_seed(0)
    x = (torch.randn(8, 3, 4, 4) * torch.tensor([1.0, 3.0, 0.5]).view(1, 3, 1, 1)
         + torch.tensor([0.0, 2.0, -1.0]).view(1, 3, 1, 1))
    m, ref = student.BatchNorm2d(3), nn.BatchNorm2d(3)
    assert_close(m(x), ref(x), "BatchNorm2d(3) in training mode (batch mean, biased variance)")
    check_bn_stats(m, ref, "BatchNorm2d(3) after one training step")
    m.eval()
    ref.eval()
    assert_close(m(x), ref(x), "BatchNorm2d(3) in eval mode (running statistics)")


@points(1, cell="test_batchnorm2d")
def test_bn_init(student):
    """parameters weight (ones), bias (zeros) and buffers running_mean (zeros), running_var (ones), all [C]"""
    st = module_state(student.BatchNorm2d(5), "BatchNorm2d(5)")
    for name, value in [("weight", 1.0), ("bias", 0.0)]:
        if name not in st["params"]:
            raise StudentError(f"BatchNorm2d(5) has no parameter {name!r} (parameters: {sorted(st['params'])})")
        if st["param_types"][name] != "Parameter":
            raise StudentError(f"BatchNorm2d(5).{name} should be an nn.Parameter")
        assert_close(st["params"][name], torch.full((5,), value), f"BatchNorm2d(5).{name} at initialisation")
    for name, value in [("running_mean", 0.0), ("running_var", 1.0)]:
        if name in st["params"]:
            raise StudentError(f"BatchNorm2d(5).{name} should be a buffer (register_buffer), not a parameter")
        if name not in st["buffers"]:
            raise StudentError(f"BatchNorm2d(5) has no buffer {name!r} (buffers: {sorted(st['buffers'])}); "
                               "use self.register_buffer")
        assert_close(st["buffers"][name], torch.full((5,), value), f"BatchNorm2d(5).{name} at initialisation")
    if not st["training"]:
        raise StudentError("a new BatchNorm2d should be in training mode (did __init__ call .eval()?)")


@points(2, cell="test_batchnorm2d")
def test_bn_train_forward(student):
    """training mode: batch mean and biased variance over (N, H, W), copied weight/bias, several shapes"""
    for seed, shape in enumerate([(4, 5, 3, 6), (2, 3, 5, 2), (1, 4, 3, 3), (16, 2, 1, 1)]):
        c = shape[1]
        x = channel_data(100 + seed, shape)
        ref = torch_bn(c, 200 + seed)
        m = student.BatchNorm2d(c)
        load(m, ref, ("weight", "bias"))
        assert_close(m(x), ref(x), f"BatchNorm2d({c}) in training mode on input {list(shape)} (copied weight, bias)")


@points(2, cell="test_batchnorm2d")
def test_bn_running_stats(student):
    """running stats after training steps: (1 - momentum)·running + momentum·(unbiased) batch statistic"""
    c = 3
    ref = torch_bn(c, 300, stats=True)
    m = student.BatchNorm2d(c)
    load(m, ref, BN_STATE)
    for step, shape in enumerate([(2, c, 2, 2), (3, c, 1, 2)]):
        x = channel_data(310 + step, shape)
        m(x)
        ref(x)
        check_bn_stats(m, ref, f"BatchNorm2d({c}) after training step {step + 1} on input {list(shape)}")


@points(2, cell="test_batchnorm2d")
def test_bn_eval_mode(student):
    """eval mode: normalises with the (copied) running statistics and leaves them unchanged"""
    c = 4
    ref = torch_bn(c, 400, stats=True)
    m = student.BatchNorm2d(c)
    load(m, ref, BN_STATE)
    m.eval()
    ref.eval()
    x = channel_data(401, (5, c, 3, 2))
    assert_close(m(x), ref(x), f"BatchNorm2d({c}) in eval mode (should use running_mean/running_var)")
    assert_close(m(x[:1]), ref(x[:1]), f"BatchNorm2d({c}) in eval mode on a batch of one")
    check_bn_stats(m, ref, f"BatchNorm2d({c}) after eval-mode calls (eval mode must not update them)")


@points(1, cell="test_batchnorm2d")
def test_bn_eps_momentum(student):
    """non-default eps=0.1 (inside the sqrt) and momentum=0.3, in training and eval mode"""
    c = 3
    ref = torch_bn(c, 500, eps=0.1, momentum=0.3)
    m = student.BatchNorm2d(c, eps=0.1, momentum=0.3)
    load(m, ref, ("weight", "bias"))
    x = channel_data(501, (4, c, 3, 3), scale=0.15)  # variances comparable to eps
    assert_close(m(x), ref(x), f"BatchNorm2d({c}, eps=0.1, momentum=0.3) in training mode")
    check_bn_stats(m, ref, f"BatchNorm2d({c}, eps=0.1, momentum=0.3) after one training step")
    m.eval()
    ref.eval()
    assert_close(m(x), ref(x), f"BatchNorm2d({c}, eps=0.1, momentum=0.3) in eval mode")


@points(1, cell="test_batchnorm2d")
def test_bn_defaults(student):
    """default eps=1e-5 and momentum=0.1, visible on channels whose variance is about eps"""
    c = 4
    ref = torch_bn(c, 600)
    m = student.BatchNorm2d(c)
    load(m, ref, ("weight", "bias"))
    x = channel_data(601, (6, c, 3, 3), scale=2e-3)  # variances of order 1e-5
    assert_close(m(x), ref(x), f"BatchNorm2d({c}) with defaults, tiny-variance channels, training mode")
    check_bn_stats(m, ref, f"BatchNorm2d({c}) with defaults after one training step")
    m.eval()
    ref.eval()
    assert_close(m(x), ref(x), f"BatchNorm2d({c}) with defaults, eval mode")


@points(2, cell="test_batchnorm2d")
def test_bn_several_steps(student):
    """train ×3, eval, train, eval with momentum=0.2: outputs and running stats match at every call"""
    c = 4
    ref = torch_bn(c, 700, momentum=0.2)
    m = student.BatchNorm2d(c, momentum=0.2)
    load(m, ref, ("weight", "bias"))
    plan = [("train", (8, c, 5, 5)), ("train", (3, c, 2, 7)), ("train", (6, c, 4, 4)), ("eval", (2, c, 5, 5)),
            ("train", (5, c, 3, 3)), ("eval", (3, c, 2, 2))]
    for step, (mode, shape) in enumerate(plan):
        getattr(m, mode)()
        getattr(ref, mode)()
        x = channel_data(710 + step, shape)
        what = f"BatchNorm2d({c}, momentum=0.2), call {step + 1} ({mode} mode, input {list(shape)})"
        assert_close(m(x), ref(x), what, rtol=1e-4, atol=1e-5)
        check_bn_stats(m, ref, what)


@points(1, cell="test_batchnorm2d")
def test_bn_gradients(student):
    """gradients of the input, weight and bias, in training mode and in eval mode"""
    c = 3
    for mode in ("train", "eval"):
        ref = torch_bn(c, 800, stats=True)
        m = student.BatchNorm2d(c)
        load(m, ref, BN_STATE)
        getattr(m, mode)()
        getattr(ref, mode)()
        x = channel_data(801, (4, c, 3, 2))
        grad_out = torch.randn(x.shape, generator=gen(802))
        what = f"BatchNorm2d({c}) in {mode} mode"
        got = forward_backward(m, x, grad_out, what)
        out, gx, gp = torch_grads(ref, x, grad_out)
        assert_close(got["out"], out, f"{what}: output")
        assert_close(got["grads"]["arg0"], gx, f"{what}: gradient w.r.t. the input", atol=1e-4)
        for name in ("weight", "bias"):
            assert_close(param_grad(got, name, what), gp[name], f"{what}: gradient w.r.t. {name}", atol=1e-4)
        tracked = module_state(m, what).get("buffers_requiring_grad", [])
        assert not tracked, (f"{what}: after a forward pass on an input that requires grad, the buffers {tracked} "
                             "require grad: update the running statistics under torch.no_grad() (or from "
                             "detached statistics), or every step's graph stays attached to them")


@points(1, cell="test_batchnorm2d")
def test_bn_float64(student):
    """after .double(): float64 output and running statistics, to float64 precision"""
    c = 3
    ref = torch_bn(c, 900, dtype=torch.float64, stats=True)
    m = student.BatchNorm2d(c)
    m.double()
    load(m, ref, BN_STATE)
    x = channel_data(901, (5, c, 2, 3), dtype=torch.float64)
    assert_close(m(x), ref(x), f"BatchNorm2d({c}).double() in training mode on float64")
    check_bn_stats(m, ref, f"BatchNorm2d({c}).double() after one training step")
    m.eval()
    ref.eval()
    assert_close(m(x), ref(x), f"BatchNorm2d({c}).double() in eval mode on float64")


# ----------------------------------------------------------------------------- LayerNorm
def ln_pair(student, shape, seed, eps=None, dtype=torch.float32):
    kwargs = {} if eps is None else {"eps": eps}
    ref = randomize_affine(nn.LayerNorm(shape, dtype=dtype, **kwargs), seed)
    m = student.LayerNorm(shape, **kwargs)
    if dtype == torch.float64:
        m.double()
    load(m, ref, ("weight", "bias"))
    return m, ref


@points(1, cell="test_layernorm", visibility="visible")
def test_ln_visible(student):
    """the notebook's examples: LayerNorm(4) on two rows, LayerNorm((4, 5)) on [2, 3, 4, 5]"""
    x = torch.tensor([[1.0, 2.0, 3.0, 6.0], [-1.0, 0.0, 0.0, 5.0]])
    assert_close(student.LayerNorm(4)(x), nn.LayerNorm(4)(x), "LayerNorm(4) on the notebook's 2×4 example")
    x2 = torch.randn(2, 3, 4, 5, generator=gen(1000))
    assert_close(student.LayerNorm((4, 5))(x2), nn.LayerNorm((4, 5))(x2), "LayerNorm((4, 5)) on [2, 3, 4, 5]")


@points(1, cell="test_layernorm")
def test_ln_params(student):
    """weight (ones) and bias (zeros) are Parameters of shape normalized_shape, for an int and a tuple"""
    for shape, expected in [(6, (6,)), ((3, 4), (3, 4))]:
        st = module_state(student.LayerNorm(shape), f"LayerNorm({shape})")
        for name, value in [("weight", 1.0), ("bias", 0.0)]:
            if name not in st["params"]:
                raise StudentError(f"LayerNorm({shape}) has no parameter {name!r} "
                                   f"(parameters: {sorted(st['params'])})")
            if st["param_types"][name] != "Parameter":
                raise StudentError(f"LayerNorm({shape}).{name} should be an nn.Parameter")
            assert_close(st["params"][name], torch.full(expected, value), f"LayerNorm({shape}).{name} at init")


@points(1, cell="test_layernorm")
def test_ln_forward(student):
    """LayerNorm(7) with copied non-default weight and bias on inputs with 0, 1 and 3 batch axes"""
    m, ref = ln_pair(student, 7, 1100)
    for seed, shape in enumerate([(7,), (5, 7), (2, 3, 4, 7)]):
        x = row_data(1110 + seed, shape)
        assert_close(m(x), ref(x), f"LayerNorm(7) (copied weight, bias) on input {list(shape)}")


@points(1, cell="test_layernorm")
def test_ln_tuple_shape(student):
    """a tuple normalized_shape normalises over the last len(normalized_shape) axes together"""
    for seed, (norm_shape, shape) in enumerate([((4, 6), (3, 5, 4, 6)), ((2, 3, 4), (2, 2, 3, 4))]):
        m, ref = ln_pair(student, norm_shape, 1200 + seed)
        x = row_data(1210 + seed, shape)
        assert_close(m(x), ref(x), f"LayerNorm({norm_shape}) on input {list(shape)} (copied weight, bias)")


@points(1, cell="test_layernorm")
def test_ln_eps(student):
    """eps inside the sqrt: non-default eps=0.1, and the default 1e-5 on rows of variance about 1e-5"""
    m, ref = ln_pair(student, 8, 1300, eps=0.1)
    x = row_data(1301, (4, 8), scale=0.2)
    assert_close(m(x), ref(x), "LayerNorm(8, eps=0.1) on rows of variance about eps")
    m, ref = ln_pair(student, 8, 1302)
    x = row_data(1303, (4, 8), scale=3e-3)
    assert_close(m(x), ref(x), "LayerNorm(8) (default eps=1e-5) on rows of variance about 1e-5")


@points(1, cell="test_layernorm")
def test_ln_gradients(student):
    """gradients of the input, weight and bias, normalized_shape (3, 5), float64"""
    m, ref = ln_pair(student, (3, 5), 1400, dtype=torch.float64)
    x = row_data(1401, (2, 4, 3, 5), dtype=torch.float64)
    grad_out = torch.randn(x.shape, generator=gen(1402), dtype=torch.float64)
    got = forward_backward(m, x, grad_out, "LayerNorm((3, 5))")
    out, gx, gp = torch_grads(ref, x, grad_out)
    assert_close(got["out"], out, "LayerNorm((3, 5)) on float64: output")
    assert_close(got["grads"]["arg0"], gx, "LayerNorm((3, 5)): gradient w.r.t. the input")
    for name in ("weight", "bias"):
        assert_close(param_grad(got, name, "LayerNorm((3, 5))"), gp[name], f"LayerNorm((3, 5)): gradient w.r.t. {name}")


@points(1, cell="test_layernorm")
def test_ln_float64(student):
    """after .double(): float64 in, float64 out, to float64 precision"""
    m, ref = ln_pair(student, 6, 1500, dtype=torch.float64)
    x = row_data(1501, (3, 2, 6), dtype=torch.float64)
    assert_close(m(x), ref(x), "LayerNorm(6).double() on float64")


# ----------------------------------------------------------------------------- RMSNorm
def rms_pair(student, shape, seed, eps=None, dtype=torch.float32):
    kwargs = {} if eps is None else {"eps": eps}
    ref = randomize_affine(nn.RMSNorm(shape, eps=1e-6 if eps is None else eps, dtype=dtype), seed, bias=False)
    m = student.RMSNorm(shape, **kwargs)
    if dtype == torch.float64:
        m.double()
    load(m, ref, ("weight",))
    return m, ref


@points(1, cell="test_rmsnorm", visibility="visible")
def test_rms_visible(student):
    """the notebook's example: RMSNorm(4) against nn.RMSNorm(4, eps=1e-6)"""
    x = torch.tensor([[1.0, 2.0, 3.0, 6.0], [-1.0, 0.0, 0.0, 5.0]])
    assert_close(student.RMSNorm(4)(x), nn.RMSNorm(4, eps=1e-6)(x), "RMSNorm(4) on the notebook's 2×4 example")


@points(1, cell="test_rmsnorm")
def test_rms_params(student):
    """one Parameter `weight` (ones) of shape normalized_shape, no bias, for an int and a tuple"""
    for shape, expected in [(6, (6,)), ((3, 4), (3, 4))]:
        st = module_state(student.RMSNorm(shape), f"RMSNorm({shape})")
        if sorted(st["params"]) != ["weight"]:
            raise StudentError(f"RMSNorm({shape}) should have exactly one parameter, 'weight'; "
                               f"found {sorted(st['params'])}")
        if st["param_types"]["weight"] != "Parameter":
            raise StudentError(f"RMSNorm({shape}).weight should be an nn.Parameter")
        assert_close(st["params"]["weight"], torch.ones(expected), f"RMSNorm({shape}).weight at initialisation")


@points(1, cell="test_rmsnorm")
def test_rms_forward(student):
    """x / sqrt(mean(x²) + eps) · weight, no mean subtraction, copied weight, int and tuple shapes"""
    for seed, (norm_shape, shape) in enumerate([(7, (7,)), (7, (2, 3, 7)), ((4, 5), (3, 4, 5))]):
        m, ref = rms_pair(student, norm_shape, 1600 + seed)
        x = row_data(1610 + seed, shape, offset=3.0)
        assert_close(m(x), ref(x), f"RMSNorm({norm_shape}) (copied weight) on input {list(shape)}")


@points(1, cell="test_rmsnorm")
def test_rms_eps(student):
    """eps inside the sqrt: non-default eps=0.1, and the default 1e-6 on rows of mean square about 1e-6"""
    m, ref = rms_pair(student, 8, 1700, eps=0.1)
    x = row_data(1701, (4, 8), scale=0.2, offset=0.5)
    assert_close(m(x), ref(x), "RMSNorm(8, eps=0.1) on rows of mean square about eps")
    m, ref = rms_pair(student, 8, 1702)
    x = row_data(1703, (4, 8), scale=1e-3, offset=0.5)
    assert_close(m(x), ref(x), "RMSNorm(8) (default eps=1e-6) on rows of mean square about 1e-6")


@points(1, cell="test_rmsnorm")
def test_rms_gradients(student):
    """gradients of the input and weight, normalized_shape (3, 5), float64"""
    m, ref = rms_pair(student, (3, 5), 1800, eps=1e-4, dtype=torch.float64)
    x = row_data(1801, (2, 4, 3, 5), dtype=torch.float64, offset=2.0)
    grad_out = torch.randn(x.shape, generator=gen(1802), dtype=torch.float64)
    what = "RMSNorm((3, 5), eps=1e-4)"
    got = forward_backward(m, x, grad_out, what)
    out, gx, gp = torch_grads(ref, x, grad_out)
    assert_close(got["out"], out, f"{what} on float64: output")
    assert_close(got["grads"]["arg0"], gx, f"{what}: gradient w.r.t. the input")
    assert_close(param_grad(got, "weight", what), gp["weight"], f"{what}: gradient w.r.t. weight")


# ----------------------------------------------------------------------------- ResidualBlock
def rb_expected(dim, hidden):
    return {"norm.weight": (dim,), "norm.bias": (dim,), "fc1.weight": (hidden, dim), "fc1.bias": (hidden,),
            "fc2.weight": (dim, hidden), "fc2.bias": (dim,)}


def rb_params(dim, hidden, seed, dtype):
    """Random block parameters: norm affine far from (1, 0), pre-activations of order 1-2."""
    g = gen(seed)

    def r(*s):
        return torch.randn(*s, generator=g, dtype=torch.float64).to(dtype)

    return {"norm.weight": 1 + 0.5 * r(dim), "norm.bias": 0.5 * r(dim),
            "fc1.weight": 1.5 * r(hidden, dim) / dim ** 0.5, "fc1.bias": 0.5 * r(hidden),
            "fc2.weight": r(dim, hidden) / hidden ** 0.5, "fc2.bias": 0.3 * r(dim)}


def rb_reference(p, x):
    dim = x.shape[-1]
    h = F.layer_norm(x, (dim,), p["norm.weight"], p["norm.bias"], eps=1e-5)
    return x + F.linear(F.gelu(F.linear(h, p["fc1.weight"], p["fc1.bias"])), p["fc2.weight"], p["fc2.bias"])


def rb_student(student, dim, hidden, params):
    m = student.ResidualBlock(dim, hidden)
    st = module_state(m, f"ResidualBlock({dim}, {hidden})")
    check_rb_structure(st, dim, hidden)
    if next(iter(params.values())).dtype == torch.float64:
        m.double()
    m.probe("load_state", params)
    return m


def check_rb_structure(st, dim, hidden):
    got = {k: tuple(v.shape) for k, v in st["params"].items()}
    expected = rb_expected(dim, hidden)
    if got != expected:
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        wrong = sorted(k for k in set(got) & set(expected) if got[k] != expected[k])
        parts = [f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else "",
                 "wrong shapes " + ", ".join(f"{k} {got[k]} (expected {expected[k]})" for k in wrong) if wrong else ""]
        raise StudentError(f"ResidualBlock({dim}, {hidden}) parameters: " + "; ".join(p for p in parts if p)
                           + " (submodules norm, fc1, fc2)")


@points(1, cell="test_residual_block", visibility="visible")
def test_rb_visible(student):
    """the notebook's example: parameter names and shapes, output x + fc2(gelu(fc1(norm(x))))"""
    m = student.ResidualBlock(8, 32)
    st = module_state(m, "ResidualBlock(8, 32)")
    check_rb_structure(st, 8, 32)
    x = torch.randn(2, 5, 8, generator=gen(1900)) * 2 + 1
    assert_close(m(x), rb_reference(st["params"], x), "ResidualBlock(8, 32) with its own initial parameters")


@points(1, cell="test_residual_block")
def test_rb_structure(student):
    """submodules norm (LayerNorm(dim)), fc1 (weight [hidden, dim]), fc2 (weight [dim, hidden]), nothing else"""
    for dim, hidden in [(6, 10), (5, 3)]:
        m = student.ResidualBlock(dim, hidden)
        check_rb_structure(module_state(m, f"ResidualBlock({dim}, {hidden})"), dim, hidden)
        norm = m.attr("norm")
        if not getattr(norm, "is_module", False):
            raise StudentError(f"ResidualBlock({dim}, {hidden}).norm should be your LayerNorm(dim) module")
        st = module_state(norm, "ResidualBlock.norm")
        assert_close(st["params"]["weight"], torch.ones(dim), "ResidualBlock.norm.weight at initialisation")
        assert_close(st["params"]["bias"], torch.zeros(dim), "ResidualBlock.norm.bias at initialisation")


@points(2, cell="test_residual_block")
def test_rb_forward(student):
    """pre-norm x + fc2(gelu(fc1(norm(x)))), exact GELU, copied random parameters, float64 and float32"""
    for seed, (dim, hidden, shape, dtype) in enumerate([(6, 10, (3, 6), torch.float64),
                                                       (5, 12, (2, 3, 5), torch.float64),
                                                       (8, 16, (4, 2, 8), torch.float32)]):
        p = rb_params(dim, hidden, 2000 + seed, dtype)
        m = rb_student(student, dim, hidden, p)
        x = row_data(2010 + seed, shape, dtype=dtype, scale=2.0)
        assert_close(m(x), rb_reference(p, x), f"ResidualBlock({dim}, {hidden}) on {dtype} input {list(shape)} "
                     "(expected x + fc2(gelu(fc1(norm(x)))), exact GELU)")


@points(2, cell="test_residual_block")
def test_rb_gradients(student):
    """gradients of the input (identity path included) and of every parameter, float64"""
    dim, hidden = 6, 9
    p = rb_params(dim, hidden, 2100, torch.float64)
    m = rb_student(student, dim, hidden, p)
    x = row_data(2101, (2, 3, dim), dtype=torch.float64, scale=2.0)
    grad_out = torch.randn(x.shape, generator=gen(2102), dtype=torch.float64)
    what = f"ResidualBlock({dim}, {hidden})"
    got = forward_backward(m, x, grad_out, what)
    leaf = {k: v.clone().requires_grad_() for k, v in p.items()}
    xx = x.clone().requires_grad_()
    out = rb_reference(leaf, xx)
    out.backward(grad_out)
    assert_close(got["out"], out, f"{what} on float64: output")
    assert_close(got["grads"]["arg0"], xx.grad, f"{what}: gradient w.r.t. the input (grad_out + the branch's)")
    for name in p:
        assert_close(param_grad(got, name, what), leaf[name].grad, f"{what}: gradient w.r.t. {name}")
    check_tensor(got["out"], f"{what} output", x.shape, torch.float64)
