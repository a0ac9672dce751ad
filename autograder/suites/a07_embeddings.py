"""Hidden suite for a07_embeddings (LBDL 4.9–4.10). Every test names the student bug it rejects.

Embedding
- weight not an nn.Parameter, not named `weight`, extra parameters     -> test_embedding_parameter
- transposed layout [embedding_dim, num_embeddings]                    -> test_embedding_parameter, load_state
- init uniform, scaled (1/sqrt(D), Xavier), zeros, truncated           -> test_embedding_init
- only 1-D indices work (flatten/view bugs, index_select w/o reshape)  -> test_embedding_forward_shapes
- returns the wrong rows (off by one, column lookup)                   -> test_embedding_forward_shapes
- index == num_embeddings not rejected, or rejected with an unclear
  error (RuntimeError, message naming neither index nor range)         -> test_embedding_out_of_range
- negative index wraps around silently (weight[-1] is the last row)   -> test_embedding_negative_index
- gradient lost (.data / detach / no_grad) or not accumulated for
  repeated indices                                                     -> test_embedding_gradient
- output dtype hard-coded float32 (one_hot(...).float() @ weight)      -> test_embedding_float64
- calls F.embedding / torch.embedding / nn.Embedding                   -> trap
sinusoidal_positional_encoding
- sin and cos swapped (even = cos)                                     -> test_pe_even_sin_odd_cos, test_pe_values
- concatenated halves [sin… | cos…] instead of interleaved             -> test_pe_even_sin_odd_cos, test_pe_values
- exponent i/dim instead of 2i/dim, or 2i/(dim/2)                      -> test_pe_values
- base argument ignored (10000 hard-coded)                             -> test_pe_base
- float64 output, wrong shape ([dim, length], [length, dim/2])         -> test_pe_shape_dtype
apply_rotary
- interleaved-pairs convention (2i, 2i+1) instead of rotate_half       -> test_rope_values_batched, _positions
- rotate_half sign error (cat([x2, -x1]), i.e. rotating by −θ)         -> test_rope_values_batched, _small_example
- wrong frequency exponent (i/D, 2i/(D/2)), or cos/sin repeated with
  repeat_interleave instead of cat([a, a])                             -> test_rope_values_batched, _relative
- base ignored                                                         -> test_rope_base
- positions ignored / assumed arange(T)                                -> test_rope_positions
- only works for [T, D] or only for [B, H, T, D]                       -> test_rope_2d_input, _values_batched
- dtype not preserved (cos/sin kept in float64, or x cast to float32)  -> test_rope_dtype
- not a rotation (norm changes: cos and sin applied to wrong halves)   -> test_rope_norm_preserved
- scores not a function of m − n                                       -> test_rope_relative
"""

import re

import torch
import torch.nn as nn

from autograder.remote import StudentError
from autograder.testing import assert_close, check_tensor, gen, points

E, P, R = "test_embedding", "test_sinusoidal", "test_rotary"


# ----------------------------------------------------------------------------- Embedding
def torch_embedding(num, dim, seed, dtype=torch.float32):
    torch.manual_seed(seed)
    return nn.Embedding(num, dim).to(dtype)


def student_copy(student, ref: nn.Embedding, *, double=False):
    """The student's Embedding with the reference table copied in."""
    m = student.Embedding(ref.num_embeddings, ref.embedding_dim)
    if double:
        m.double()
    m.probe("load_state", {"weight": ref.weight.detach().clone()})
    return m


def expect_index_error(call, bad: int, num: int, what: str) -> None:
    """`call` must raise IndexError/ValueError whose message names `bad` or the valid range."""
    try:
        call()
    except StudentError as exc:
        text = str(exc)
        if "forbids" in text:
            raise
        found = re.search(r" raised (IndexError|ValueError)(: .*)?$", text)
        if not found:
            raise StudentError(f"{what}: expected an IndexError (or ValueError), but {text}") from None
        message = (found.group(2) or "")[2:]
        if " (in cell " in message:  # drop the student's source line the grader appends
            message = message[: message.rindex(" (in cell ")]
        names = [str(bad), str(num), str(num - 1)]
        if not any(re.search(rf"(?<!\d){re.escape(n)}(?!\d)", message) for n in names):
            raise StudentError(f"{what}: raised {found.group(1)}, but its message {message!r} names neither the bad "
                               f"index {bad} nor the valid range 0 … {num - 1}: put one of them in the message"
                               ) from None
        return
    raise StudentError(f"{what}: expected an IndexError (or ValueError), but a result came back "
                       "(check the range yourself: indexing wraps negative indices silently)")


@points(1, cell=E, visibility="visible")
def test_embedding_small_example(student):
    """the notebook's example: weight [4, 3], [2, 2] indices, a repeated token's gradient, bad indices"""
    m = student.Embedding(4, 3)
    w = torch.arange(12.0).view(4, 3)
    m.probe("load_state", {"weight": w})
    idx = torch.tensor([[1, 3], [0, 1]])
    assert_close(m(idx), w[idx], "Embedding(4, 3) on indices [[1, 3], [0, 1]]")
    got = m.probe("forward_backward", (torch.tensor([2, 2, 0]),), {}, torch.ones(3, 3))
    grad = got["param_grads"].get("weight")
    if grad is None:
        raise StudentError("Embedding: no gradient reached `weight` (index the Parameter itself, not .data)")
    assert_close(grad, torch.tensor([[1.0] * 3, [0.0] * 3, [2.0] * 3, [0.0] * 3]),
                 "gradient of weight after embedding tokens [2, 2, 0] (sum of outputs)")
    for bad in (4, -1):
        expect_index_error(lambda bad=bad: m(torch.tensor([0, bad])), bad, 4, f"Embedding(4, 3) on index {bad}")


@points(1, cell=E)
def test_embedding_parameter(student):
    """a single nn.Parameter named `weight`, shape [num_embeddings, embedding_dim] (nn.Embedding's layout)"""
    m = student.Embedding(7, 5)
    state = m.probe("module_state")
    if not state["is_module"]:
        raise StudentError(f"Embedding should subclass torch.nn.Module, got {state['cls']}")
    names = sorted(state["params"])
    if names != ["weight"]:
        raise StudentError(f"Embedding's parameters should be exactly ['weight'] (as nn.Embedding), found {names}")
    if state["param_types"]["weight"] != "Parameter":
        raise StudentError(f"weight should be an nn.Parameter, got {state['param_types']['weight']}")
    check_tensor(state["params"]["weight"], "Embedding(7, 5).weight", (7, 5), torch.float32)


@points(2, cell=E)
def test_embedding_init(student):
    """weight is initialised i.i.d. N(0, 1), like nn.Embedding (mean, std and tail mass on 200 000 entries)"""
    m = student.Embedding(2000, 100)
    w = check_tensor(m.probe("module_state")["params"].get("weight"), "Embedding(2000, 100).weight",
                     (2000, 100), torch.float32).double()
    mean, std = w.mean().item(), w.std().item()
    inside = (w.abs() < 1).double().mean().item()  # N(0,1): 0.6827
    tail = (w.abs() > 2).double().mean().item()  # N(0,1): 0.0455
    if abs(mean) > 0.02 or abs(std - 1) > 0.02:
        raise StudentError(f"Embedding's initial weight has mean {mean:.3f} and std {std:.3f}; nn.Embedding draws "
                           "from N(0, 1): mean 0, std 1 (no scaling by the dimension)")
    if abs(inside - 0.6827) > 0.01 or abs(tail - 0.0455) > 0.005:
        raise StudentError(f"Embedding's initial weight has mean 0 and std 1, but {inside:.1%} of entries lie in "
                           f"(-1, 1) and {tail:.2%} beyond ±2; a normal distribution has 68.3% and 4.55% "
                           "(use torch.randn or nn.init.normal_, not a uniform or truncated distribution)")
    again = student.Embedding(2000, 100).probe("module_state")["params"]["weight"]
    if torch.equal(w.float(), again):
        raise StudentError("two Embedding(2000, 100) tables are identical: draw the weight at random")


@points(2, cell=E)
def test_embedding_forward_shapes(student):
    """copied weights, index tensors of shape [], [6], [3, 4] and [2, 3, 4] -> [*idx.shape, embedding_dim]"""
    ref = torch_embedding(11, 6, seed=70)
    m = student_copy(student, ref)
    g = gen(71)
    shapes = [(), (6,), (3, 4), (2, 3, 4)]
    for shape in shapes:
        idx = torch.randint(0, 11, shape, generator=g)
        if len(shape) == 1:
            idx[0], idx[-1] = 10, 0  # both ends of the table
        with torch.no_grad():
            expected = ref(idx)
        assert_close(m(idx), expected, f"Embedding(11, 6) on indices of shape {list(shape)}")


@points(2, cell=E)
def test_embedding_gradient(student):
    """gradient w.r.t. weight with repeated indices accumulates (sums), unused rows get zero, as nn.Embedding"""
    ref = torch_embedding(9, 4, seed=72)
    m = student_copy(student, ref)
    idx = torch.tensor([[3, 1, 3, 8], [3, 0, 1, 5]])  # 3 three times, 1 twice; 2, 4, 6, 7 unused
    grad_out = torch.randn(2, 4, 4, generator=gen(73))
    got = m.probe("forward_backward", (idx,), {}, grad_out)
    check_tensor(got["out"], "Embedding(9, 4) on [2, 4] indices", (2, 4, 4), torch.float32)
    ref(idx).backward(grad_out)
    grad = got["param_grads"].get("weight")
    if grad is None:
        raise StudentError("Embedding: no gradient reached `weight`: the output must come from the Parameter "
                           "itself (not .data, .detach() or a copy made under no_grad)")
    assert_close(grad, ref.weight.grad, "gradient of weight for indices with repeats (rows 3 and 1)")


@points(1, cell=E)
def test_embedding_out_of_range(student):
    """an index equal to num_embeddings raises IndexError/ValueError naming the index or the range"""
    m = student.Embedding(13, 4)
    expect_index_error(lambda: m(torch.tensor([[0, 5], [13, 2]])), 13, 13,
                       "Embedding(13, 4) on indices containing 13")


@points(1, cell=E)
def test_embedding_negative_index(student):
    """a negative index raises IndexError/ValueError instead of wrapping around to the last rows"""
    m = student.Embedding(13, 4)
    expect_index_error(lambda: m(torch.tensor([4, -3, 7])), -3, 13, "Embedding(13, 4) on indices containing -3")


@points(1, cell=E)
def test_embedding_float64(student):
    """after .double(), float64 weights give float64 outputs, to float64 precision"""
    ref = torch_embedding(8, 5, seed=74, dtype=torch.float64)
    m = student_copy(student, ref, double=True)
    idx = torch.tensor([[7, 0, 3], [3, 3, 1]])
    with torch.no_grad():
        expected = ref(idx)
    assert_close(m(idx), expected, "Embedding(8, 5).double() on [2, 3] indices")


# ----------------------------------------------------------------------------- sinusoidal
def ref_pe(length, dim, base=10000.0):
    t = torch.arange(length, dtype=torch.float64)[:, None]
    inv = base ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    a = t * inv
    pe = torch.empty(length, dim, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = a.sin(), a.cos()
    return pe.float()


PE_TOL = {"rtol": 1e-4, "atol": 2e-5}


@points(1, cell=P, visibility="visible")
def test_pe_small_example(student):
    """the notebook's example: length 4, dim 6, float32; base=100 too"""
    assert_close(student.sinusoidal_positional_encoding(4, 6), ref_pe(4, 6), "sinusoidal_positional_encoding(4, 6)")
    assert_close(student.sinusoidal_positional_encoding(4, 6, base=100.0), ref_pe(4, 6, 100.0),
                 "sinusoidal_positional_encoding(4, 6, base=100.0)")


@points(1, cell=P)
def test_pe_shape_dtype(student):
    """a float32 tensor of shape [length, dim], also for length 1, dim 2 and length ≠ dim"""
    for length, dim in [(1, 2), (7, 10), (33, 64)]:
        check_tensor(student.sinusoidal_positional_encoding(length, dim),
                     f"sinusoidal_positional_encoding({length}, {dim})", (length, dim), torch.float32)


@points(1, cell=P)
def test_pe_even_sin_odd_cos(student):
    """interleaved columns: column 2i is sin(t·ω_i), column 2i+1 is cos(t·ω_i), ω_i = base^(−2i/dim)"""
    length, dim = 20, 8
    pe = check_tensor(student.sinusoidal_positional_encoding(length, dim),
                      f"sinusoidal_positional_encoding({length}, {dim})", (length, dim))
    ref = ref_pe(length, dim)
    t = torch.arange(length, dtype=torch.float64)
    hint = ""
    if torch.allclose(pe[:, dim // 2].double(), t.cos(), atol=1e-4):
        hint = " (it looks like [sin … | cos …] halves: interleave them, sin in even and cos in odd columns)"
    elif torch.allclose(pe[:, 0].double(), t.cos(), atol=1e-4):
        hint = " (it looks like cos in even and sin in odd columns: swap them)"
    for col, fn in [(0, "sin(t)"), (1, "cos(t)"), (2, f"sin(t / 10000^(2/{dim}))"), (3, f"cos(t / 10000^(2/{dim}))")]:
        assert_close(pe[:, col], ref[:, col], f"column {col} of sinusoidal_positional_encoding({length}, {dim}) "
                     f"should be {fn}{hint}", check_dtype=False, **PE_TOL)


@points(2, cell=P)
def test_pe_values(student):
    """all values for (length, dim) = (50, 16) and (128, 32) and (9, 2), default base"""
    for length, dim in [(50, 16), (128, 32), (9, 2)]:
        assert_close(student.sinusoidal_positional_encoding(length, dim), ref_pe(length, dim),
                     f"sinusoidal_positional_encoding({length}, {dim})", check_dtype=False, **PE_TOL)


@points(1, cell=P)
def test_pe_base(student):
    """the base argument is used: base=100.0 and base=10000.0 passed explicitly, and base=2.5"""
    for length, dim, base in [(40, 12, 100.0), (40, 12, 10000.0), (16, 6, 2.5)]:
        assert_close(student.sinusoidal_positional_encoding(length, dim, base=base), ref_pe(length, dim, base),
                     f"sinusoidal_positional_encoding({length}, {dim}, base={base})", check_dtype=False, **PE_TOL)


# ----------------------------------------------------------------------------- RoPE
def ref_rope(x, positions, base=10000.0):
    d = x.shape[-1]
    inv = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    a = positions.double()[:, None] * inv[None, :]
    a = torch.cat([a, a], dim=-1)
    x64 = x.double()
    rot = torch.cat([-x64[..., d // 2:], x64[..., : d // 2]], dim=-1)
    return (x64 * a.cos() + rot * a.sin()).to(x.dtype)


def rand(shape, seed, dtype=torch.float32):
    return torch.randn(*shape, generator=gen(seed), dtype=dtype)


@points(1, cell=R, visibility="visible")
def test_rope_small_example(student):
    """the notebook's [3, 4] example: position 0 unchanged, pairs (0, 2) and (1, 3) rotated"""
    x = torch.tensor([[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 2.0]])
    pos = torch.tensor([0, 1, 2])
    assert_close(student.apply_rotary(x, pos), ref_rope(x, pos), "apply_rotary on the notebook's [3, 4] example")
    q = rand((2, 3, 5, 8), 80)
    pos = torch.tensor([3, 7, 0, 12, 1])
    assert_close(student.apply_rotary(q, pos), ref_rope(q, pos), "apply_rotary on [2, 3, 5, 8] queries")


@points(2, cell=R)
def test_rope_values_batched(student):
    """[B, H, T, D] inputs, positions 0 … T−1, D = 8 and 16: half-split pairs, rotate_half = cat([−x2, x1])"""
    for shape, seed in [((2, 3, 6, 8), 81), ((1, 2, 9, 16), 82)]:
        x = rand(shape, seed)
        pos = torch.arange(shape[-2])
        assert_close(student.apply_rotary(x, pos), ref_rope(x, pos),
                     f"apply_rotary on {list(shape)} with positions 0…{shape[-2] - 1}", check_dtype=False)


@points(2, cell=R)
def test_rope_positions(student):
    """the given positions are used, not arange(T): unsorted, with gaps ([3, 7, 0, 12], …)"""
    cases = [((2, 4, 8), torch.tensor([3, 7, 0, 12])), ((3, 2, 5, 12), torch.tensor([40, 2, 2, 9, 31]))]
    for i, (shape, pos) in enumerate(cases):
        x = rand(shape, 83 + i)
        assert_close(student.apply_rotary(x, pos), ref_rope(x, pos),
                     f"apply_rotary on {list(shape)} with positions {pos.tolist()}", check_dtype=False)


@points(1, cell=R)
def test_rope_2d_input(student):
    """a [T, D] input (no batch or head dimensions)"""
    x, pos = rand((6, 16), 85), torch.tensor([5, 4, 3, 2, 1, 0])
    assert_close(student.apply_rotary(x, pos), ref_rope(x, pos), "apply_rotary on a [6, 16] input",
                 check_dtype=False)


@points(1, cell=R)
def test_rope_base(student):
    """the base argument is used: base=100.0 and base=10000.0 passed explicitly"""
    x, pos = rand((2, 7, 16), 86), torch.tensor([0, 9, 3, 27, 14, 5, 1])
    for base in (100.0, 10000.0):
        assert_close(student.apply_rotary(x, pos, base=base), ref_rope(x, pos, base),
                     f"apply_rotary(x, positions, base={base})", check_dtype=False)


@points(1, cell=R)
def test_rope_dtype(student):
    """the output has x's dtype: float32 in -> float32 out, float64 in -> float64 out"""
    pos = torch.tensor([1, 4, 0, 8])
    x = rand((3, 4, 10), 87)
    assert_close(student.apply_rotary(x, pos), ref_rope(x, pos), "apply_rotary on float32 input")
    x = rand((3, 4, 10), 88, torch.float64)
    # float32-level tolerance: computing the frequencies in float32 (as HF Llama does) is fine
    assert_close(student.apply_rotary(x, pos), ref_rope(x, pos), "apply_rotary on float64 input",
                 rtol=1e-5, atol=1e-6)


@points(1, cell=R)
def test_rope_norm_preserved(student):
    """RoPE is a rotation: every output vector has the norm of its input vector"""
    x, pos = rand((2, 3, 8, 12), 89), torch.tensor([0, 5, 1, 30, 7, 2, 19, 11])
    out = check_tensor(student.apply_rotary(x, pos), "apply_rotary on [2, 3, 8, 12]", x.shape)
    assert_close(out.double().norm(dim=-1), x.double().norm(dim=-1),
                 "norms of apply_rotary's output vectors (a rotation keeps every norm)", rtol=1e-5, atol=1e-5)


@points(1, cell=R)
def test_rope_relative(student):
    """<RoPE(q, m), RoPE(k, n)> depends only on m − n: shifting all positions by 17 keeps every score"""
    q, k = rand((5, 16), 90, torch.float64), rand((5, 16), 91, torch.float64)
    pq, pk = torch.tensor([0, 3, 8, 2, 11]), torch.tensor([6, 1, 8, 14, 4])
    scores = []
    for shift in (0, 17):
        rq = check_tensor(student.apply_rotary(q, pq + shift), "apply_rotary on [5, 16] queries", q.shape)
        rk = check_tensor(student.apply_rotary(k, pk + shift), "apply_rotary on [5, 16] keys", k.shape)
        scores.append(rq.double() @ rk.double().T)  # (5, 5)
    assert_close(scores[1], scores[0], "attention scores RoPE(q, m)·RoPE(k, n) after shifting m and n by 17 "
                 "(they must depend on m − n only)", rtol=1e-5, atol=1e-5)
