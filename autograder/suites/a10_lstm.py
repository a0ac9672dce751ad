"""Hidden suite for a10_lstm (LBDL, The missing bits: RNNs). Every test names the student bug it rejects.

References are nn.LSTMCell / nn.LSTM carrying the same random weights (loaded into the student's module by
name), built and run here, in the grader, after the student's call. Shapes are random and non-square
(I ≠ H, and N, L, num_layers all differ).

LSTMCell
- parameters misnamed, in submodules (nn.Linear), not nn.Parameters, transposed
  ([I, 4H]), one fused bias instead of bias_ih and bias_hh                  -> test_cell_parameters
- bias=False still registers (zero) biases                                  -> test_cell_no_bias
- init U(0, 1/sqrt(H)), N(0, 1/H), bound 1/sqrt(I) (I < H and I > H both
  tried), zero or constant biases, bias_hh a copy of bias_ih                -> test_cell_init
- gate order i, g, f, o / f, i, g, o / i, f, o, g                           -> test_cell_forward
- sigmoid on g; h = o * c (no tanh); c = f * c + g (no input gate)          -> test_cell_forward
- only one of the two biases added                                          -> test_cell_forward
- hx ignored (always zeros), h and c of hx swapped                          -> test_cell_forward
- hx=None not supported, or not zeros                                       -> test_cell_default_state
- unbatched [I] input breaks, or returns [1, H]                             -> test_cell_unbatched
- not differentiable; wrong gradients w.r.t. input, h, c or a parameter     -> test_cell_gradients
- float32 zeros for hx=None (float64 lost or an error), float32 casts       -> test_cell_float64
- calls nn.LSTMCell / torch.lstm_cell / torch._VF / aten.lstm_cell (any
  alias, getattr), subclasses nn.RNNCellBase                                -> trap
LSTM
- parameters not named weight_ih_l{k}, ... (LSTMCell submodules, an
  nn.ParameterList), weight_ih_l1 [4H, I] instead of [4H, H], one layer only -> test_lstm_parameters
- bias=False still registers biases, or adds them                           -> test_lstm_no_bias
- init as for the cell; every layer a copy of layer 0                       -> test_lstm_init
- cell math wrong (gate order, nonlinearities, one bias)                    -> test_lstm_single_layer
- c or h not carried from step to step (reset to c_0 / h_0)                 -> test_lstm_single_layer
- h_n from the first step; every layer's h_n taken from the last layer      -> test_lstm_single_layer (+ multilayer)
- output of the first layer instead of the last; every layer fed the raw
  input; one layer's weights used for all layers                            -> test_lstm_multilayer
- h_0[0] / c_0[0] used for every layer, or hx ignored                       -> test_lstm_multilayer (+ batch_first_hx)
- hx=None not zeros, or not supported                                       -> test_lstm_default_state
- batch_first ignored, or output not moved back to [N, L, H]                -> test_lstm_batch_first
- batch_first also transposes hx ([N, K, H]) or h_n / c_n                    -> test_lstm_batch_first_hx
- unbatched [L, I] input breaks, returns [L, 1, H], hx unsqueezed on the
  wrong dim, or is read as L sequences of length 1 under batch_first        -> test_lstm_unbatched
- state detached inside the time loop (truncated backprop), h_n / c_n
  detached, input detached                                                  -> test_lstm_gradients
- wrong gradients w.r.t. input, h_0, c_0 or any layer's parameter           -> test_lstm_gradients
- float64 lost (float32 zeros for hx=None)                                  -> test_lstm_float64
- returns (output, h_n, c_n) instead of (output, (h_n, c_n))                -> every LSTM value test
- calls nn.LSTM / torch.lstm / torch._VF / aten.mkldnn_rnn_layer (any
  alias, getattr), subclasses nn.LSTM or nn.RNNBase                         -> trap
"""

import math

import torch
import torch.nn as nn

from autograder.remote import StudentError
from autograder.testing import assert_close, check_tensor, gen, points

CELL_CELL = "test_lstm_cell"
LSTM_CELL = "test_lstm"


# ----------------------------------------------------------------------------- helpers
def cell_shapes(I, H, bias=True):
    shapes = {"weight_ih": (4 * H, I), "weight_hh": (4 * H, H)}
    if bias:
        shapes.update({"bias_ih": (4 * H,), "bias_hh": (4 * H,)})
    return shapes


def lstm_shapes(I, H, K, bias=True):
    shapes = {}
    for k in range(K):
        shapes.update({f"{n}_l{k}": s for n, s in cell_shapes(I if k == 0 else H, H, bias).items()})
    return shapes


def module_state(m, what):
    st = m.probe("module_state")
    if not st["is_module"]:
        raise StudentError(f"{what} should be a torch.nn.Module, got {st['cls']}")
    return st


def check_params(st, what, shapes):
    """Exactly these parameter names and shapes, float32, as nn.LSTMCell / nn.LSTM register them."""
    names, want = sorted(st["params"]), sorted(shapes)
    if names != want:
        raise StudentError(f"{what}: parameters should be {want} (nn.Parameters registered on the module itself, "
                           f"named as in torch), got {names}")
    for name, shape in shapes.items():
        value = st["params"][name]
        if tuple(value.shape) != shape:
            raise StudentError(f"{what}.{name} has shape {tuple(value.shape)}, expected {shape} (torch's layout: "
                               "weights [4*hidden_size, inputs], rows in gate order i, f, g, o)")
        check_tensor(value, f"{what}.{name}", shape, torch.float32)
    return st["params"]


def describe(value):
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}: ({', '.join(describe(v) for v in value)})"
    if isinstance(value, torch.Tensor):
        return f"Tensor{list(value.shape)}"
    return type(value).__name__


def pair(value, what, names):
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise StudentError(f"{what} should return the tuple ({', '.join(names)}), got {describe(value)}")
    return value


def lstm_parts(value, what):
    """(output, (h_n, c_n)) as nn.LSTM returns it."""
    output, state = pair(value, what, ("output", "(h_n, c_n)"))
    h_n, c_n = pair(state, f"{what}[1]", ("h_n", "c_n"))
    return output, h_n, c_n


def random_state(g, shapes, dtype=torch.float32):
    """Random weights (std 1/sqrt(fan-in)) and biases (std 0.5): gates neither saturated nor all near 1/2, and
    bias_ih ≠ bias_hh, so a dropped bias shows."""
    out = {}
    for name, shape in shapes.items():
        scale = 1 / math.sqrt(shape[1]) if len(shape) == 2 else 0.5
        out[name] = (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)
    return out


def make_cell(student, I, H, g, bias=True, dtype=torch.float32):
    """The student's LSTMCell with our random weights loaded; returns (module, reference nn.LSTMCell, label)."""
    what = f"LSTMCell({I}, {H}{'' if bias else ', bias=False'})"
    m = student.LSTMCell(I, H) if bias else student.LSTMCell(I, H, bias=False)
    check_params(module_state(m, what), what, cell_shapes(I, H, bias))
    if dtype != torch.float32:
        m.to(dtype)
    state = random_state(g, cell_shapes(I, H, bias), dtype)
    m.probe("load_state", state)
    ref = nn.LSTMCell(I, H, bias=bias).to(dtype)
    ref.load_state_dict(state)
    return m, ref, what


def make_lstm(student, I, H, K, g, bias=True, batch_first=False, dtype=torch.float32):
    """The student's LSTM with our random weights loaded; returns (module, reference nn.LSTM, label)."""
    kwargs = {}
    if K != 1:
        kwargs["num_layers"] = K
    if not bias:
        kwargs["bias"] = False
    if batch_first:
        kwargs["batch_first"] = True
    what = f"LSTM({I}, {H}{''.join(f', {k}={v}' for k, v in kwargs.items())})"
    m = student.LSTM(I, H, **kwargs)
    check_params(module_state(m, what), what, lstm_shapes(I, H, K, bias))
    if dtype != torch.float32:
        m.to(dtype)
    state = random_state(g, lstm_shapes(I, H, K, bias), dtype)
    m.probe("load_state", state)
    ref = nn.LSTM(I, H, **kwargs).to(dtype)
    ref.load_state_dict(state)
    return m, ref, what


def shape_of(t):
    return list(t.shape)


def check_cell(m, ref, x, hx, what, **tol):
    """The student's (h, c) against nn.LSTMCell's on the same input and state."""
    label = f"{what} on input {shape_of(x)}" + (", hx=None" if hx is None else f", hx of {shape_of(hx[0])}")
    got = m(x) if hx is None else m(x, hx)
    h, c = pair(got, label, ("h", "c"))
    with torch.no_grad():
        h_ref, c_ref = ref(x) if hx is None else ref(x, hx)
    assert_close(h, h_ref, f"{label}: h", **tol)
    assert_close(c, c_ref, f"{label}: c", **tol)


def check_lstm(m, ref, x, hx, what, **tol):
    """The student's (output, (h_n, c_n)) against nn.LSTM's on the same input and state."""
    label = f"{what} on input {shape_of(x)}" + (", hx=None" if hx is None else f", hx of {shape_of(hx[0])}")
    got = m(x) if hx is None else m(x, hx)
    output, h_n, c_n = lstm_parts(got, label)
    with torch.no_grad():
        out_ref, (h_ref, c_ref) = ref(x) if hx is None else ref(x, hx)
    assert_close(output, out_ref, f"{label}: output", **tol)
    assert_close(h_n, h_ref, f"{label}: h_n", **tol)
    assert_close(c_n, c_ref, f"{label}: c_n", **tol)


def randn(g, *shape, dtype=torch.float32):
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)


def check_uniform(t, bound, what, *, tight):
    """Samples of U(-bound, bound): inside it, not constant; with enough samples, reaching both ends, centred,
    with the uniform's spread."""
    t = t.detach().to(torch.float64).flatten()
    lo, hi, mx = t.min().item(), t.max().item(), t.abs().max().item()
    law = f"U(-{bound:.4g}, {bound:.4g}) = U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))"
    if mx > bound * (1 + 1e-5):
        raise StudentError(f"{what} has values up to {mx:.4g} in absolute value, outside torch's {law} "
                           "(is the bound computed from hidden_size?)")
    if hi == lo:
        raise StudentError(f"{what} is constant ({hi:.4g}); torch draws every entry from {law}")
    if t.numel() < 100:
        return
    reach = 0.97 if tight else 0.5
    if hi < reach * bound or lo > -reach * bound:
        raise StudentError(f"{what} lies in [{lo:.4g}, {hi:.4g}]; torch's {law} fills the whole interval "
                           "(is the bound computed from hidden_size, and symmetric?)")
    if tight:
        std, want = t.std().item(), bound / math.sqrt(3)
        if abs(std / want - 1) > 0.05 or abs(t.mean().item()) > 0.05 * bound:
            raise StudentError(f"{what} has mean {t.mean().item():.3g} and std {std:.4g}; {law} has mean 0 and "
                               f"std {want:.4g}")


def check_init(params, H, what):
    bound = 1 / math.sqrt(H)
    for name, value in params.items():
        check_uniform(value, bound, f"{what}.{name}", tight=value.numel() >= 2000)
    names = sorted(params)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if params[a].shape == params[b].shape and torch.equal(params[a], params[b]):
                raise StudentError(f"{what}: {a} and {b} hold the same values; torch draws each parameter "
                                   "independently")


def tree_backward(m, args, grad_outs, what, paths):
    """Forward and backward in the worker through probe forward_backward_tree; checks the output's structure."""
    got = m.probe("forward_backward_tree", args, {}, grad_outs)
    if set(got["leaf_cls"]) != set(paths):
        expected = "(output, (h_n, c_n))" if len(paths) == 3 else "(h, c)"
        raise StudentError(f"{what} returned {got['structure']}; expected the tuple {expected} of tensors")
    for cls in got["leaf_cls"].values():
        if cls != "torch.Tensor":
            raise StudentError(f"{what} returned a {cls} inside its output; expected exactly torch.Tensors")
    return got


def leaf(out, path):
    for i in path.split("."):
        out = out[int(i)]
    return out


def check_grads(got, expected, what):
    """expected: label -> (key in got['grads'] or got['param_grads'], reference gradient)."""
    for label, (kind, key, ref) in expected.items():
        grad = got[kind].get(key)
        if grad is None:
            raise StudentError(f"{what}: the outputs do not depend differentiably on {label} "
                               "(did you detach, use .item(), numpy or torch.no_grad?)")
        assert_close(grad, ref, f"{what}: gradient w.r.t. {label}")


# ----------------------------------------------------------------------------- LSTMCell
@points(1, cell=CELL_CELL, visibility="visible")
def test_cell_small_example(student):
    """the notebook's test: your LSTMCell(3, 4) with its own weights vs nn.LSTMCell (hx, None, unbatched)"""
    what = "LSTMCell(3, 4)"
    m = student.LSTMCell(3, 4)
    params = check_params(module_state(m, what), what, cell_shapes(3, 4))
    ref = nn.LSTMCell(3, 4)
    ref.load_state_dict(params)
    g = gen(1000)
    x, h0, c0 = randn(g, 2, 3), randn(g, 2, 4), randn(g, 2, 4)
    check_cell(m, ref, x, (h0, c0), what, atol=1e-5)
    check_cell(m, ref, x, None, what, atol=1e-5)
    check_cell(m, ref, x[0], (h0[0], c0[0]), what, atol=1e-5)


@points(1, cell=CELL_CELL)
def test_cell_parameters(student):
    """weight_ih [4H, I], weight_hh [4H, H], bias_ih and bias_hh [4H]: nn.Parameters with torch's names (I ≠ H)"""
    for I, H in [(5, 3), (2, 7)]:
        what = f"LSTMCell({I}, {H})"
        check_params(module_state(student.LSTMCell(I, H), what), what, cell_shapes(I, H))


@points(1, cell=CELL_CELL)
def test_cell_init(student):
    """every parameter drawn from U(-1/sqrt(H), 1/sqrt(H)), biases included, each independently (I < H, I > H)"""
    for I, H in [(10, 64), (100, 9)]:
        what = f"LSTMCell({I}, {H})"
        params = check_params(module_state(student.LSTMCell(I, H), what), what, cell_shapes(I, H))
        check_init(params, H, what)


@points(2, cell=CELL_CELL)
def test_cell_forward(student):
    """h and c against nn.LSTMCell with random weights and a random state: gate order i, f, g, o, both biases"""
    g = gen(1001)
    for N, I, H in [(4, 3, 5), (1, 6, 2), (7, 5, 5)]:
        m, ref, what = make_cell(student, I, H, g)
        check_cell(m, ref, randn(g, N, I), (randn(g, N, H), randn(g, N, H)), what)


@points(1, cell=CELL_CELL)
def test_cell_default_state(student):
    """hx=None means h = c = 0"""
    g = gen(1002)
    for N, I, H in [(3, 4, 6), (5, 7, 3)]:
        m, ref, what = make_cell(student, I, H, g)
        check_cell(m, ref, randn(g, N, I), None, what)


@points(1, cell=CELL_CELL)
def test_cell_unbatched(student):
    """unbatched input [I] with hx tensors [H] (or None) gives h and c of shape [H]"""
    g = gen(1003)
    m, ref, what = make_cell(student, 6, 4, g)
    check_cell(m, ref, randn(g, 6), (randn(g, 4), randn(g, 4)), what)
    check_cell(m, ref, randn(g, 6), None, what)


@points(2, cell=CELL_CELL)
def test_cell_gradients(student):
    """gradients w.r.t. the input, h, c and all four parameters match nn.LSTMCell's (float64)"""
    g = gen(1004)
    N, I, H = 3, 5, 4
    m, ref, what = make_cell(student, I, H, g, dtype=torch.float64)
    x, h0, c0 = (randn(g, N, I, dtype=torch.float64), randn(g, N, H, dtype=torch.float64),
                 randn(g, N, H, dtype=torch.float64))
    gh, gc = randn(g, N, H, dtype=torch.float64), randn(g, N, H, dtype=torch.float64)
    what = f"{what} in float64 on input [{N}, {I}] with hx"
    args = (x.clone().requires_grad_(), (h0.clone().requires_grad_(), c0.clone().requires_grad_()))
    got = tree_backward(m, args, {"0": gh, "1": gc}, what, ("0", "1"))
    leaves = [t.clone().requires_grad_() for t in (x, h0, c0)]
    h_ref, c_ref = ref(leaves[0], (leaves[1], leaves[2]))
    torch.autograd.backward([h_ref, c_ref], [gh, gc])
    assert_close(leaf(got["out"], "0"), h_ref, f"{what}: h")
    assert_close(leaf(got["out"], "1"), c_ref, f"{what}: c")
    expected = {"the input": ("grads", "arg0", leaves[0].grad), "hx[0] (h)": ("grads", "arg1.0", leaves[1].grad),
                "hx[1] (c)": ("grads", "arg1.1", leaves[2].grad)}
    expected.update({name: ("param_grads", name, p.grad) for name, p in ref.named_parameters()})
    check_grads(got, expected, what)


@points(1, cell=CELL_CELL)
def test_cell_float64(student):
    """after .to(torch.float64): float64 in, float64 out, to float64 precision (hx given and None, unbatched)"""
    g = gen(1005)
    m, ref, what = make_cell(student, 7, 3, g, dtype=torch.float64)
    what += ".to(torch.float64)"
    f64 = torch.float64
    check_cell(m, ref, randn(g, 4, 7, dtype=f64), (randn(g, 4, 3, dtype=f64), randn(g, 4, 3, dtype=f64)), what)
    check_cell(m, ref, randn(g, 4, 7, dtype=f64), None, what)
    check_cell(m, ref, randn(g, 7, dtype=f64), None, what)


@points(1, cell=CELL_CELL)
def test_cell_no_bias(student):
    """bias=False: only weight_ih and weight_hh, and no bias added"""
    g = gen(1006)
    m, ref, what = make_cell(student, 5, 3, g, bias=False)
    check_cell(m, ref, randn(g, 4, 5), (randn(g, 4, 3), randn(g, 4, 3)), what)
    check_cell(m, ref, randn(g, 5), None, what)


# ----------------------------------------------------------------------------- LSTM
@points(1, cell=LSTM_CELL, visibility="visible")
def test_lstm_small_example(student):
    """the notebook's test: your LSTM(3, 4, num_layers=2) with its own weights vs nn.LSTM (batch_first, unbatched)"""
    g = gen(1100)
    for batch_first in (False, True):
        what = f"LSTM(3, 4, num_layers=2{', batch_first=True' if batch_first else ''})"
        m = student.LSTM(3, 4, num_layers=2, batch_first=True) if batch_first else student.LSTM(3, 4, num_layers=2)
        params = check_params(module_state(m, what), what, lstm_shapes(3, 4, 2))
        ref = nn.LSTM(3, 4, num_layers=2, batch_first=batch_first)
        ref.load_state_dict(params)
        hx = (randn(g, 2, 2, 4), randn(g, 2, 2, 4))
        check_lstm(m, ref, randn(g, 2, 5, 3) if batch_first else randn(g, 5, 2, 3), hx, what, atol=1e-5)
        if not batch_first:
            check_lstm(m, ref, randn(g, 5, 3), None, what, atol=1e-5)


@points(1, cell=LSTM_CELL)
def test_lstm_parameters(student):
    """weight_ih_l{k} [4H, I] then [4H, H], weight_hh_l{k} [4H, H], biases [4H], for 1 to 3 layers (I ≠ H)"""
    for I, H, K in [(5, 3, 1), (2, 7, 2), (6, 4, 3)]:
        what = f"LSTM({I}, {H}" + (f", num_layers={K})" if K != 1 else ")")
        m = student.LSTM(I, H, num_layers=K) if K != 1 else student.LSTM(I, H)
        check_params(module_state(m, what), what, lstm_shapes(I, H, K))


@points(1, cell=LSTM_CELL)
def test_lstm_init(student):
    """every parameter of every layer drawn independently from U(-1/sqrt(H), 1/sqrt(H)) (I < H, I > H)"""
    for I, H, K in [(10, 64, 2), (100, 9, 1)]:
        what = f"LSTM({I}, {H}" + (f", num_layers={K})" if K != 1 else ")")
        m = student.LSTM(I, H, num_layers=K) if K != 1 else student.LSTM(I, H)
        params = check_params(module_state(m, what), what, lstm_shapes(I, H, K))
        check_init(params, H, what)


@points(1, cell=LSTM_CELL)
def test_lstm_single_layer(student):
    """one layer: output at every step and the final (h_n, c_n), random weights and hx, L = 1 and N = 1 too"""
    g = gen(1101)
    for L, N, I, H in [(6, 3, 4, 5), (1, 2, 3, 4), (5, 1, 2, 3)]:
        m, ref, what = make_lstm(student, I, H, 1, g)
        check_lstm(m, ref, randn(g, L, N, I), (randn(g, 1, N, H), randn(g, 1, N, H)), what)


@points(2, cell=LSTM_CELL)
def test_lstm_multilayer(student):
    """2 and 3 layers: each reads the layer below and starts from its own h_0[k], c_0[k]; h_n/c_n of every layer"""
    g = gen(1102)
    for L, N, I, H, K in [(5, 3, 4, 6, 2), (4, 2, 7, 3, 3)]:
        m, ref, what = make_lstm(student, I, H, K, g)
        check_lstm(m, ref, randn(g, L, N, I), (randn(g, K, N, H), randn(g, K, N, H)), what)


@points(1, cell=LSTM_CELL)
def test_lstm_default_state(student):
    """hx=None means zeros for every layer"""
    g = gen(1103)
    m, ref, what = make_lstm(student, 3, 5, 2, g)
    check_lstm(m, ref, randn(g, 6, 4, 3), None, what)


@points(1, cell=LSTM_CELL)
def test_lstm_batch_first(student):
    """batch_first=True: input [N, L, I], output [N, L, H], h_n and c_n [num_layers, N, H] (hx=None)"""
    g = gen(1104)
    for L, N, I, H, K in [(6, 3, 4, 5, 1), (4, 5, 3, 2, 2)]:
        m, ref, what = make_lstm(student, I, H, K, g, batch_first=True)
        check_lstm(m, ref, randn(g, N, L, I), None, what)


@points(1, cell=LSTM_CELL)
def test_lstm_batch_first_hx(student):
    """batch_first=True with hx given: h_0 and c_0 stay [num_layers, N, H], as in torch"""
    g = gen(1105)
    L, N, I, H, K = 5, 3, 4, 6, 2
    m, ref, what = make_lstm(student, I, H, K, g, batch_first=True)
    check_lstm(m, ref, randn(g, N, L, I), (randn(g, K, N, H), randn(g, K, N, H)), what)


@points(1, cell=LSTM_CELL)
def test_lstm_unbatched(student):
    """unbatched [L, I] input, hx [num_layers, H]: output [L, H], h_n and c_n [num_layers, H], either batch_first"""
    g = gen(1106)
    for batch_first in (False, True):
        L, I, H, K = 6, 3, 4, 2
        m, ref, what = make_lstm(student, I, H, K, g, batch_first=batch_first)
        check_lstm(m, ref, randn(g, L, I), (randn(g, K, H), randn(g, K, H)), what)
        check_lstm(m, ref, randn(g, L, I), None, what)


@points(1, cell=LSTM_CELL)
def test_lstm_no_bias(student):
    """bias=False: only the weights of every layer, and no bias added"""
    g = gen(1107)
    m, ref, what = make_lstm(student, 4, 3, 2, g, bias=False)
    check_lstm(m, ref, randn(g, 5, 2, 4), (randn(g, 2, 2, 3), randn(g, 2, 2, 3)), what)


@points(2, cell=LSTM_CELL)
def test_lstm_gradients(student):
    """gradients through every step and layer w.r.t. input, h_0, c_0, every parameter (output, h_n, c_n in the loss)"""
    g = gen(1108)
    f64 = torch.float64
    L, N, I, H, K = 6, 3, 4, 5, 2
    m, ref, what = make_lstm(student, I, H, K, g, dtype=f64)
    x, h0, c0 = randn(g, L, N, I, dtype=f64), randn(g, K, N, H, dtype=f64), randn(g, K, N, H, dtype=f64)
    grad_outs = {"0": randn(g, L, N, H, dtype=f64), "1.0": randn(g, K, N, H, dtype=f64),
                 "1.1": randn(g, K, N, H, dtype=f64)}
    what = f"{what} in float64 on input {[L, N, I]} with hx"
    args = (x.clone().requires_grad_(), (h0.clone().requires_grad_(), c0.clone().requires_grad_()))
    got = tree_backward(m, args, grad_outs, what, ("0", "1.0", "1.1"))
    leaves = [t.clone().requires_grad_() for t in (x, h0, c0)]
    out_ref, (h_ref, c_ref) = ref(leaves[0], (leaves[1], leaves[2]))
    torch.autograd.backward([out_ref, h_ref, c_ref], [grad_outs["0"], grad_outs["1.0"], grad_outs["1.1"]])
    for path, name, value in (("0", "output", out_ref), ("1.0", "h_n", h_ref), ("1.1", "c_n", c_ref)):
        assert_close(leaf(got["out"], path), value, f"{what}: {name}")
    expected = {"the input": ("grads", "arg0", leaves[0].grad), "hx[0] (h_0)": ("grads", "arg1.0", leaves[1].grad),
                "hx[1] (c_0)": ("grads", "arg1.1", leaves[2].grad)}
    expected.update({name: ("param_grads", name, p.grad) for name, p in ref.named_parameters()})
    check_grads(got, expected, what)


@points(1, cell=LSTM_CELL)
def test_lstm_float64(student):
    """after .to(torch.float64): float64 out, to float64 precision (3 layers, batch_first, hx=None, unbatched)"""
    g = gen(1109)
    f64 = torch.float64
    m, ref, what = make_lstm(student, 5, 4, 3, g, batch_first=True, dtype=f64)
    what += ".to(torch.float64)"
    check_lstm(m, ref, randn(g, 2, 6, 5, dtype=f64), None, what)
    check_lstm(m, ref, randn(g, 6, 5, dtype=f64), (randn(g, 3, 4, dtype=f64), randn(g, 3, 4, dtype=f64)), what)
