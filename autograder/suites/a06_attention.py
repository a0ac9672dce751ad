"""Hidden suite for a06_attention (LBDL 4.8). Every test names the student bug it rejects.

scaled_dot_product_attention (reference: F.scaled_dot_product_attention, computed here)
- no 1/sqrt(E) scale; sqrt(L), sqrt(S) or sqrt(Ev) instead of sqrt(E)    -> test_sdpa_values (L, S, E, Ev all differ)
- scale applied after the softmax                                       -> test_sdpa_values
- softmax over the query dim (-2) instead of the keys (-1)              -> test_sdpa_values (L ≠ S)
- output [.., L, E] or value not used as [.., S, Ev]                    -> test_sdpa_values (Ev ≠ E)
- key.transpose(1, 2) / .T / permute(0, 2, 1) / bmm: only 3-D works     -> test_sdpa_batch_dims (2-D, 4-D, 5-D)
- bool mask inverted (True = blocked)                                   -> test_sdpa_bool_mask
- bool mask multiplied / added as 0-1 / masked after the softmax        -> test_sdpa_bool_mask
- mask not broadcast ([L, S], [B, 1, S], [B, H, L, S] shapes)           -> test_sdpa_bool_mask, test_sdpa_float_mask
- float mask ignored, multiplied, or treated as a bool mask             -> test_sdpa_float_mask
- causal mask excludes the diagonal, or is upper-triangular             -> test_sdpa_causal
- causal mask built as [L, L], or aligned bottom-right when L ≠ S       -> test_sdpa_causal_rectangular
- hand-written softmax without max subtraction (inf/NaN)                -> test_sdpa_large_scores
- float64 lost or computed in float32                                   -> test_sdpa_float64
- not differentiable / wrong gradients w.r.t. query, key, value         -> test_sdpa_gradients
MultiheadAttention (reference: F.linear + F.scaled_dot_product_attention with the same weights;
the visible test uses nn.MultiheadAttention itself, with its inverted bool-mask convention converted)
- parameters not named q_proj/k_proj/v_proj/out_proj.{weight,bias}, a
  single fused in_proj, shared Linear between q/k/v, wrong shapes       -> test_mha_parameters
- bias=False ignored (biases still present or still added)              -> test_mha_parameters, test_mha_no_bias
- heads split by .view(B, H, L, D) without transpose, or merged so      -> test_mha_self_attention
- scale 1/sqrt(E) instead of 1/sqrt(D) (heads not split at all)         -> test_mha_self_attention
- output projection missing                                             -> test_mha_self_attention
- returns (output, weights) instead of the output only                  -> test_mha_small_example and all value tests
- key projection applied to value (or query used as key), S = L assumed -> test_mha_cross_attention (S ≠ L, key ≠ value)
- attn_mask dropped, inverted (torch module convention), or not
  broadcast per head ([L, S], [B, 1, 1, S], [B, H, L, S])               -> test_mha_masks
- is_causal dropped, or causal mask wrong for L ≠ S                     -> test_mha_causal
- gradients w.r.t. inputs and parameters                                -> test_mha_gradients
- float64 (after .double()) lost                                        -> test_mha_float64
- no ValueError when embed_dim % num_heads != 0                         -> test_mha_embed_dim_not_divisible
Forbidden (trapped at runtime): F.scaled_dot_product_attention and its aten kernels,
nn.MultiheadAttention, F.multi_head_attention_forward.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from autograder.remote import StudentError
from autograder.testing import assert_close, assert_raises, check_tensor, gen, points

SDPA_CELL = "test_scaled_dot_product_attention"
MHA_CELL = "test_multihead_attention"
NAMES = ("q_proj", "k_proj", "v_proj", "out_proj")


def shape(t):
    return list(t.shape)


def bool_mask(g, size, p=0.5):
    """A random boolean mask (True = attend) with at least one True in every row."""
    m = torch.rand(size, generator=g) < p
    idx = torch.randint(0, size[-1], size[:-1], generator=g)
    return m.scatter(-1, idx[..., None], True)


def float_mask(g, size, dtype=torch.float32):
    """Random additive biases, with -inf on some (never all) entries of each row."""
    bias = torch.randn(size, generator=g, dtype=dtype) * 2
    return bias.masked_fill(~bool_mask(g, size, p=0.7), float("-inf"))


def qkv(g, batch, L, S, E, Ev, dtype=torch.float32, scale=1.0):
    q = torch.randn(*batch, L, E, generator=g, dtype=dtype) * scale
    k = torch.randn(*batch, S, E, generator=g, dtype=dtype) * scale
    v = torch.randn(*batch, S, Ev, generator=g, dtype=dtype)
    return q, k, v


def describe(q, k, v, **kw):
    extra = ""
    if kw.get("attn_mask") is not None:
        m = kw["attn_mask"]
        extra += f", {'bool' if m.dtype == torch.bool else 'float'} attn_mask {shape(m)}"
    if kw.get("is_causal"):
        extra += ", is_causal=True"
    return f"query {shape(q)}, key {shape(k)}, value {shape(v)}{extra}"


def check_sdpa(student, q, k, v, rtol=None, atol=None, **kw):
    got = student.scaled_dot_product_attention(q, k, v, **kw)
    ref = F.scaled_dot_product_attention(q, k, v, **kw)
    assert_close(got, ref, f"scaled_dot_product_attention({describe(q, k, v, **kw)})", rtol=rtol, atol=atol)


# ----------------------------------------------------------------------------- scaled_dot_product_attention
@points(1, cell=SDPA_CELL, visibility="visible")
def test_sdpa_small_example(student):
    """the notebook's examples: one query and two keys by hand, then a batch with each kind of mask"""
    q = torch.tensor([[1.0, 0.0]])
    k = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    v = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    check_sdpa(student, q, k, v)
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 6)
    check_sdpa(student, q, k, v)
    check_sdpa(student, q, k, v, attn_mask=torch.tensor([[True, False, True, False, True]] * 3))
    check_sdpa(student, q, k, v, attn_mask=torch.randn(3, 5))
    check_sdpa(student, q, k, v, is_causal=True)


@points(2, cell=SDPA_CELL)
def test_sdpa_values(student):
    """3-D inputs [B, L, E] with L, S, E and Ev all different: scale 1/sqrt(E), softmax over the keys"""
    g = gen(601)
    for b, L, S, E, Ev in [(2, 5, 7, 3, 6), (3, 4, 2, 9, 5), (1, 1, 6, 16, 2)]:
        q, k, v = qkv(g, (b,), L, S, E, Ev, scale=1.5)
        check_sdpa(student, q, k, v)


@points(1, cell=SDPA_CELL)
def test_sdpa_batch_dims(student):
    """any number of leading dims: unbatched [L, E], [B, H, L, E] and [2, 1, 3, L, E]"""
    g = gen(602)
    for batch, L, S, E, Ev in [((), 4, 6, 5, 3), ((2, 3), 5, 4, 6, 7), ((2, 1, 3), 3, 5, 4, 2)]:
        q, k, v = qkv(g, batch, L, S, E, Ev)
        check_sdpa(student, q, k, v)


@points(1, cell=SDPA_CELL)
def test_sdpa_bool_mask(student):
    """boolean attn_mask, True = may attend, broadcast from [L, S], [B, 1, S] and [B, H, L, S]"""
    g = gen(603)
    q, k, v = qkv(g, (3,), 4, 6, 5, 3)
    check_sdpa(student, q, k, v, attn_mask=bool_mask(g, (4, 6)))
    check_sdpa(student, q, k, v, attn_mask=bool_mask(g, (3, 1, 6)))  # key padding: one row per batch
    q, k, v = qkv(g, (2, 3), 5, 4, 6, 2)
    check_sdpa(student, q, k, v, attn_mask=bool_mask(g, (2, 3, 5, 4)))
    check_sdpa(student, q, k, v, attn_mask=bool_mask(g, (5, 4)))


@points(1, cell=SDPA_CELL)
def test_sdpa_float_mask(student):
    """float attn_mask is added to the scaled scores (random biases and some -inf), broadcast"""
    g = gen(604)
    q, k, v = qkv(g, (2,), 5, 3, 4, 6)
    check_sdpa(student, q, k, v, attn_mask=torch.randn(5, 3, generator=g) * 3)
    check_sdpa(student, q, k, v, attn_mask=float_mask(g, (2, 5, 3)))
    q, k, v = qkv(g, (2, 3), 4, 6, 5, 3)
    check_sdpa(student, q, k, v, attn_mask=float_mask(g, (2, 1, 4, 6)))


@points(1, cell=SDPA_CELL)
def test_sdpa_causal(student):
    """is_causal=True with L = S: query l sees keys 0..l, diagonal included"""
    g = gen(605)
    for batch, T, E, Ev in [((2,), 6, 4, 5), ((2, 3), 4, 8, 3), ((), 5, 3, 3)]:
        q, k, v = qkv(g, batch, T, T, E, Ev)
        check_sdpa(student, q, k, v, is_causal=True)


@points(1, cell=SDPA_CELL)
def test_sdpa_causal_rectangular(student):
    """is_causal=True with L ≠ S: the mask tril(ones(L, S)) is aligned to the top-left corner"""
    g = gen(606)
    for batch, L, S in [((2,), 3, 6), ((2,), 6, 3), ((2, 2), 4, 7)]:
        q, k, v = qkv(g, batch, L, S, 5, 4)
        check_sdpa(student, q, k, v, is_causal=True)


@points(1, cell=SDPA_CELL)
def test_sdpa_large_scores(student):
    """scores in the thousands (a saturated softmax) give the finite, exact result"""
    g = gen(607)
    q, k, v = qkv(g, (2,), 4, 5, 6, 3, dtype=torch.float64, scale=40.0)
    check_sdpa(student, q, k, v)
    check_sdpa(student, q, k, v, attn_mask=float_mask(g, (4, 5), dtype=torch.float64))


@points(1, cell=SDPA_CELL)
def test_sdpa_float64(student):
    """float64 in, float64 out, to float64 precision (with a float64 mask and with is_causal)"""
    g = gen(608)
    q, k, v = qkv(g, (3,), 5, 7, 4, 6, dtype=torch.float64)
    check_sdpa(student, q, k, v)
    check_sdpa(student, q, k, v, attn_mask=float_mask(g, (5, 7), dtype=torch.float64))
    check_sdpa(student, q, k, v, is_causal=True)


def sdpa_grads(student, q, k, v, grad_out, **kw):
    got = student.probe("forward_backward", student.ref("scaled_dot_product_attention"),
                        (q.clone().requires_grad_(), k.clone().requires_grad_(), v.clone().requires_grad_()),
                        kw, grad_out, origin="scaled_dot_product_attention")
    what = f"scaled_dot_product_attention({describe(q, k, v, **kw)})"
    if got["out_cls"] != "torch.Tensor":
        raise StudentError(f"{what} should return a torch.Tensor, got {got['out_cls']}")
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]
    F.scaled_dot_product_attention(*leaves, **kw).backward(grad_out)
    assert_close(got["out"], F.scaled_dot_product_attention(q, k, v, **kw), what)
    for i, (name, leaf) in enumerate(zip(("query", "key", "value"), leaves)):
        grad = got["grads"].get(f"arg{i}")
        if grad is None:
            raise StudentError(f"{what}: the output does not depend differentiably on {name} "
                               "(did you detach, use .item() or numpy?)")
        assert_close(grad, leaf.grad, f"{what}: gradient w.r.t. {name}")


@points(1, cell=SDPA_CELL)
def test_sdpa_gradients(student):
    """gradients w.r.t. query, key and value match autograd through F.scaled_dot_product_attention"""
    g = gen(609)
    q, k, v = qkv(g, (2,), 4, 6, 5, 3, dtype=torch.float64)
    grad_out = torch.randn(2, 4, 3, generator=g, dtype=torch.float64)
    sdpa_grads(student, q, k, v, grad_out, attn_mask=float_mask(g, (4, 6), dtype=torch.float64))
    sdpa_grads(student, q, k, v, grad_out, is_causal=True)


# ----------------------------------------------------------------------------- MultiheadAttention
def param_names(bias=True):
    return sorted(f"{n}.{w}" for n in NAMES for w, keep in (("weight", True), ("bias", bias)) if keep)


def random_state(g, E, bias=True, dtype=torch.float32):
    state = {}
    for n in NAMES:
        state[f"{n}.weight"] = torch.randn(E, E, generator=g, dtype=dtype) / math.sqrt(E)
        if bias:
            state[f"{n}.bias"] = torch.randn(E, generator=g, dtype=dtype) * 0.3
    return state


def ref_mha(state, H, query, key, value, attn_mask=None, is_causal=False):
    """Multi-head attention from F.linear and F.scaled_dot_product_attention, SDPA mask convention."""
    B, L, E = query.shape
    S, D = key.shape[1], E // H

    def heads(x, name, T):
        return F.linear(x, state[f"{name}.weight"], state.get(f"{name}.bias")).view(B, T, H, D).transpose(1, 2)

    y = F.scaled_dot_product_attention(heads(query, "q_proj", L), heads(key, "k_proj", S),
                                       heads(value, "v_proj", S), attn_mask=attn_mask, is_causal=is_causal)
    y = y.transpose(1, 2).reshape(B, L, E)  # (B, L, E)
    return F.linear(y, state["out_proj.weight"], state.get("out_proj.bias"))


def module_params(m, what, bias=True):
    st = m.probe("module_state")
    if not st["is_module"]:
        raise StudentError(f"{what} should be a torch.nn.Module, got {st['cls']}")
    names = sorted(st["params"])
    if names != param_names(bias):
        raise StudentError(f"{what}: parameters should be {param_names(bias)} (four nn.Linear submodules "
                           f"q_proj, k_proj, v_proj, out_proj), got {names}")
    return st["params"]


def make_mha(student, E, H, g, bias=True, dtype=torch.float32):
    """The student's module with our random weights loaded; returns (module, state)."""
    m = student.MultiheadAttention(E, H) if bias else student.MultiheadAttention(E, H, bias=False)
    if dtype != torch.float32:
        m.to(dtype)
    state = random_state(g, E, bias, dtype)
    m.probe("load_state", state)
    return m, state


def output(value, what):
    if isinstance(value, tuple):
        raise StudentError(f"{what} returned a tuple; forward should return only the output tensor "
                           "(not torch's (output, weights) pair)")
    return value


def check_mha(m, state, H, query, key, value, what, **kw):
    got = output(m(query, key, value, **kw), what)
    assert_close(got, ref_mha(state, H, query, key, value, **kw), what)


@points(1, cell=MHA_CELL, visibility="visible")
def test_mha_small_example(student):
    """the notebook's test: your MultiheadAttention(8, 2) with its own weights against nn.MultiheadAttention"""
    m = student.MultiheadAttention(8, 2)
    p = module_params(m, "MultiheadAttention(8, 2)")
    ref = nn.MultiheadAttention(8, 2, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(torch.cat([p["q_proj.weight"], p["k_proj.weight"], p["v_proj.weight"]]))
        ref.in_proj_bias.copy_(torch.cat([p["q_proj.bias"], p["k_proj.bias"], p["v_proj.bias"]]))
        ref.out_proj.weight.copy_(p["out_proj.weight"])
        ref.out_proj.bias.copy_(p["out_proj.bias"])
    x = torch.randn(2, 5, 8, generator=gen(610))
    with torch.no_grad():
        expected, _ = ref(x, x, x, need_weights=False)
        causal, _ = ref(x, x, x, attn_mask=~torch.ones(5, 5, dtype=torch.bool).tril(), need_weights=False)
    what = "MultiheadAttention(8, 2) self-attention on [2, 5, 8]"
    assert_close(output(m(x, x, x), what), expected, f"{what}, compared with nn.MultiheadAttention", atol=1e-5)
    what += ", is_causal=True"
    assert_close(output(m(x, x, x, is_causal=True), what), causal, what, atol=1e-5)


@points(1, cell=MHA_CELL)
def test_mha_parameters(student):
    """an nn.Module with q_proj, k_proj, v_proj, out_proj of shape [E, E] (+ [E] biases; none if bias=False)"""
    for E, H, bias in [(12, 3, True), (6, 2, False)]:
        what = f"MultiheadAttention({E}, {H}{'' if bias else ', bias=False'})"
        m = student.MultiheadAttention(E, H) if bias else student.MultiheadAttention(E, H, bias=False)
        params = module_params(m, what, bias)
        for name, value in params.items():
            check_tensor(value, f"{what}.{name}", (E, E) if name.endswith("weight") else (E,), torch.float32)


@points(2, cell=MHA_CELL)
def test_mha_self_attention(student):
    """self-attention with random weights: heads split (B, L, H, D) -> (B, H, L, D), scale 1/sqrt(D), out_proj"""
    g = gen(611)
    for B, L, E, H in [(2, 5, 12, 3), (3, 4, 8, 4), (1, 6, 6, 1), (2, 3, 4, 4)]:
        m, state = make_mha(student, E, H, g)
        x = torch.randn(B, L, E, generator=g)
        check_mha(m, state, H, x, x, x, f"MultiheadAttention({E}, {H}) on x [{B}, {L}, {E}]")


@points(1, cell=MHA_CELL)
def test_mha_cross_attention(student):
    """cross-attention: query [B, L, E], key ≠ value [B, S, E] with S ≠ L"""
    g = gen(612)
    for B, L, S, E, H in [(2, 3, 6, 12, 3), (2, 5, 2, 8, 2)]:
        m, state = make_mha(student, E, H, g)
        q, k, v = (torch.randn(B, T, E, generator=g) for T in (L, S, S))
        check_mha(m, state, H, q, k, v, f"MultiheadAttention({E}, {H}) on query [{B}, {L}, {E}], "
                                        f"key and value [{B}, {S}, {E}]")


@points(1, cell=MHA_CELL)
def test_mha_masks(student):
    """attn_mask in the SDPA convention (bool True = attend, float added), broadcast to [B, H, L, S]"""
    g = gen(613)
    B, L, S, E, H = 2, 5, 4, 12, 4
    m, state = make_mha(student, E, H, g)
    q, k, v = (torch.randn(B, T, E, generator=g) for T in (L, S, S))
    for mask in [bool_mask(g, (L, S)), bool_mask(g, (B, 1, 1, S)), bool_mask(g, (B, H, L, S)),
                 float_mask(g, (L, S)), float_mask(g, (B, H, L, S))]:
        kind = "bool" if mask.dtype == torch.bool else "float"
        check_mha(m, state, H, q, k, v, f"MultiheadAttention({E}, {H}) cross-attention with a {kind} "
                                        f"attn_mask of shape {shape(mask)}", attn_mask=mask)


@points(1, cell=MHA_CELL)
def test_mha_causal(student):
    """is_causal=True: causal self-attention, and top-left aligned when L ≠ S"""
    g = gen(614)
    m, state = make_mha(student, 8, 2, g)
    x = torch.randn(3, 6, 8, generator=g)
    check_mha(m, state, 2, x, x, x, "MultiheadAttention(8, 2) self-attention on [3, 6, 8], is_causal=True",
              is_causal=True)
    q, k, v = (torch.randn(2, T, 8, generator=g) for T in (4, 7, 7))
    check_mha(m, state, 2, q, k, v, "MultiheadAttention(8, 2), L=4, S=7, is_causal=True", is_causal=True)


@points(1, cell=MHA_CELL)
def test_mha_no_bias(student):
    """bias=False: no bias in any projection, outputs match"""
    g = gen(615)
    m, state = make_mha(student, 12, 4, g, bias=False)
    module_params(m, "MultiheadAttention(12, 4, bias=False)", bias=False)
    q, k, v = (torch.randn(2, T, 12, generator=g) for T in (5, 4, 4))
    check_mha(m, state, 4, q, k, v, "MultiheadAttention(12, 4, bias=False) cross-attention")


@points(1, cell=MHA_CELL)
def test_mha_gradients(student):
    """gradients w.r.t. query, key, value and all eight parameters match autograd"""
    g = gen(616)
    B, L, S, E, H = 2, 5, 6, 12, 3
    m, state = make_mha(student, E, H, g)
    q, k, v = (torch.randn(B, T, E, generator=g) for T in (L, S, S))
    mask = float_mask(g, (L, S))
    grad_out = torch.randn(B, L, E, generator=g)
    got = m.probe("forward_backward", (q.clone().requires_grad_(), k.clone().requires_grad_(),
                                       v.clone().requires_grad_()), {"attn_mask": mask}, grad_out)
    what = f"MultiheadAttention({E}, {H}) with a float mask"
    if got["out_cls"] != "torch.Tensor":
        raise StudentError(f"{what} should return only the output tensor, got {got['out_cls']}")
    inputs = [t.clone().requires_grad_() for t in (q, k, v)]
    leaf_state = {n: t.clone().requires_grad_() for n, t in state.items()}
    out = ref_mha(leaf_state, H, *inputs, attn_mask=mask)
    out.backward(grad_out)
    assert_close(got["out"], out, what)
    for i, (name, leaf) in enumerate(zip(("query", "key", "value"), inputs)):
        grad = got["grads"].get(f"arg{i}")
        if grad is None:
            raise StudentError(f"{what}: the output does not depend differentiably on {name}")
        assert_close(grad, leaf.grad, f"{what}: gradient w.r.t. {name}")
    for name, leaf in leaf_state.items():
        grad = got["param_grads"].get(name)
        if grad is None:
            raise StudentError(f"{what}: parameter {name} got no gradient")
        assert_close(grad, leaf.grad, f"{what}: gradient w.r.t. {name}")


@points(1, cell=MHA_CELL)
def test_mha_float64(student):
    """after .double(), float64 inputs give float64 outputs to float64 precision"""
    g = gen(617)
    m, state = make_mha(student, 12, 3, g, dtype=torch.float64)
    q, k, v = (torch.randn(2, T, 12, generator=g, dtype=torch.float64) for T in (5, 7, 7))
    check_mha(m, state, 3, q, k, v, "MultiheadAttention(12, 3).double() cross-attention on float64")
    check_mha(m, state, 3, q, q, q, "MultiheadAttention(12, 3).double(), causal, float64", is_causal=True)


@points(1, cell=MHA_CELL)
def test_mha_embed_dim_not_divisible(student):
    """ValueError when embed_dim is not divisible by num_heads (and none when it is)"""
    for E, H in [(10, 3), (6, 4)]:
        assert_raises(lambda E=E, H=H: student.MultiheadAttention(E, H), "ValueError", f"MultiheadAttention({E}, {H})")
    student.MultiheadAttention(12, 4)
