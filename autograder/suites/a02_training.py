"""Hidden suite for a02_training (LBDL 3). Every test names the student bug it rejects.

cross_entropy
- sum instead of mean; returns [N] or [1] instead of a 0-d tensor       -> test_ce_values
- no max-subtraction: overflows to inf/nan for logits of ±1e4           -> test_ce_stable_large_logits
- subtracts the global max, not each row's: a low row underflows to -inf -> test_ce_stable_large_logits
- caches the loss by input shape (stale value on a second call)          -> test_ce_values (same shape twice)
- picks logits[:, targets] (an N×N matrix) instead of one per row        -> test_ce_values (N≠C)
- float64 computed in float32 (and cast back)                           -> test_ce_float64 (logits near 50)
- not differentiable (.item(), numpy) or wrong gradient                 -> test_ce_gradient
- calls F.cross_entropy / log_softmax / logsumexp (any alias)           -> trap
mlp_backward
- forgets the 1/N of the mean                                           -> test_mlp_grads_values
- transposed weight gradients ([D,H] instead of [H,D])                  -> test_mlp_grads_shapes
- ReLU derivative missing or taken on the wrong tensor                  -> test_mlp_grads_values (many ReLUs off)
- bias gradients averaged instead of summed, or not reduced over N      -> test_mlp_grads_values, test_mlp_grads_shapes
- float64 lost, or computed in float32 and cast back                    -> test_mlp_grads_float64 (tight tolerance)
- caches the gradients by input shapes (stale values on a second call)  -> test_mlp_grads_values (same shapes twice)
- uses autograd (.backward, autograd.grad, requires_grad_, torch.func)  -> trap (scoped to mlp_backward)
- forward-mode autograd the trap does not see (torch.func.jacfwd/jvp,
  torch.autograd.forward_ad)                                            -> static scan in every mlp_backward test
SGD
- momentum buffer wrong (dampened or reset)                             -> test_sgd_momentum
- float32 momentum buffer for float64 parameters (torch.zeros(p.shape)) -> test_sgd_momentum (float64 case)
- weight decay decoupled or added after momentum                        -> test_sgd_weight_decay
- crashes or updates when .grad is None                                 -> test_sgd_skips_none_and_generator
- consumes a generator twice (params list empty on step)                -> test_sgd_skips_none_and_generator
- zero_grad leaves stale gradients                                      -> test_zero_grad
- zero_grad crashes on a parameter whose .grad is None (p.grad.zero_()) -> test_zero_grad (one grad None)
AdamW
- no bias correction; eps inside the sqrt                               -> test_adamw_trajectory
- Adam's L2 (λw added to g) instead of decoupled decay                  -> test_adamw_weight_decay
- decay applied after the update, or scaled without lr                  -> test_adamw_weight_decay
- one global step counter instead of per-parameter (None grads)         -> test_adamw_skips_none
- defaults differ from torch (lr, betas, eps, weight_decay=0.01)        -> test_adamw_defaults (eps: tiny grads)
- float32 moments for float64 parameters (torch.zeros(p.shape))         -> test_adamw_trajectory (float64 case)
"""

import ast

import torch
import torch.nn.functional as F

from autograder.remote import StudentError
from autograder.testing import assert_close, check_tensor, gen, points


def ref_ce(z, t):
    return F.cross_entropy(z, t)


# ----------------------------------------------------------------------------- cross_entropy
@points(1, cell="test_cross_entropy", visibility="visible")
def test_ce_small_example(student):
    """the notebook's 2×3 example"""
    z, t = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]]), torch.tensor([0, 2])
    assert_close(student.cross_entropy(z, t), ref_ce(z, t), "cross_entropy on the 2×3 example")


@points(2, cell="test_cross_entropy")
def test_ce_values(student):
    """random logits, N ≠ C, a 0-d mean"""
    g = gen(11)
    for n, c in [(7, 5), (3, 11), (1, 2), (7, 5)]:  # the same shape twice: fresh logits, fresh loss
        z, t = torch.randn(n, c, generator=g) * 3, torch.randint(0, c, (n,), generator=g)
        assert_close(student.cross_entropy(z, t), ref_ce(z, t), f"cross_entropy on [{n},{c}] logits")


@points(1, cell="test_cross_entropy")
def test_ce_stable_large_logits(student):
    """logits of ±1e4 give the finite, exact loss; rows on very different scales (each row's own max)"""
    z = torch.tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 5e3], [3.0, 1e4, 1e4]])
    t = torch.tensor([0, 2, 0])
    assert_close(student.cross_entropy(z, t), ref_ce(z, t), "cross_entropy with logits of ±1e4", rtol=1e-5)
    z = torch.tensor([[1e4, 9990.0, 0.0], [-1e4, -9997.0, -1e4 - 5], [2.0, -1.0, 0.5]])
    t = torch.tensor([1, 0, 2])
    assert_close(student.cross_entropy(z, t), ref_ce(z, t),
                 "cross_entropy with rows of scale 1e4, -1e4 and 1 (subtract each row's max, not the global max)",
                 rtol=1e-5)


@points(1, cell="test_cross_entropy")
def test_ce_float64(student):
    """float64 in, float64 out, to float64 precision (logits near 50: float32 would lose ~1e-6)"""
    g = gen(12)
    z, t = torch.randn(6, 4, generator=g, dtype=torch.float64), torch.randint(0, 4, (6,), generator=g)
    assert_close(student.cross_entropy(z, t), ref_ce(z, t), "cross_entropy on float64")
    g = gen(14)
    z = torch.randn(6, 5, generator=g, dtype=torch.float64) * 3 + 50
    t = torch.randint(0, 5, (6,), generator=g)
    assert_close(student.cross_entropy(z, t), ref_ce(z, t),
                 "cross_entropy on float64 logits near 50 (computed in float32?)", rtol=1e-10, atol=1e-12)


@points(1, cell="test_cross_entropy")
def test_ce_gradient(student):
    """the loss is differentiable and its gradient w.r.t. the logits is softmax − one-hot, over N"""
    g = gen(13)
    z, t = torch.randn(5, 4, generator=g, dtype=torch.float64), torch.randint(0, 4, (5,), generator=g)
    got = student.probe("forward_backward", student.ref("cross_entropy"), (z.clone().requires_grad_(), t), {},
                        torch.tensor(1.0, dtype=torch.float64), origin="cross_entropy")
    zz = z.clone().requires_grad_()
    ref_ce(zz, t).backward()
    if "arg0" not in got["grads"] or got["grads"]["arg0"] is None:
        raise StudentError("cross_entropy's result does not depend differentiably on the logits "
                           "(did you use .item(), numpy, or detach the logits?)")
    assert_close(got["grads"]["arg0"], zz.grad, "gradient of cross_entropy w.r.t. the logits")


# ----------------------------------------------------------------------------- mlp_backward
def make_mlp(seed, n, d, h, c, dtype=torch.float32):
    g = gen(seed)
    x = torch.randn(n, d, generator=g, dtype=dtype)
    t = torch.randint(0, c, (n,), generator=g)
    p = {"w1": torch.randn(h, d, generator=g, dtype=dtype), "b1": torch.randn(h, generator=g, dtype=dtype),
         "w2": torch.randn(c, h, generator=g, dtype=dtype) * 0.5, "b2": torch.randn(c, generator=g, dtype=dtype)}
    return x, t, p


def ref_grads(x, t, p):
    leaf = {k: v.clone().requires_grad_() for k, v in p.items()}
    z = F.linear(torch.relu(F.linear(x, leaf["w1"], leaf["b1"])), leaf["w2"], leaf["b2"])
    F.cross_entropy(z, t).backward()
    return {k: v.grad for k, v in leaf.items()}


_FORWARD_AD = {"func", "functorch", "forward_ad", "jacfwd", "jacrev", "jvp", "vjp", "hessian", "linearize",
               "make_dual", "unpack_dual", "dual_level", "grad_and_value"}


def _dotted(node):
    """'torch.func.jacfwd' for that attribute chain; None if it is not a plain chain of names."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else None


def autograd_refs(student, name="mlp_backward"):
    """References to torch.func / forward-mode autograd in the code `name` reaches (its functions and
    the imports they use): 'torch.func.jacfwd (cell c, line n)'. The runtime trap sees torch.autograd.grad
    and .backward, but forward-mode autograd (jacfwd, jvp, forward_ad) calls neither."""
    static = student.static
    if static is None:
        return []
    out = []
    for stmt, cell in static.reachable(name):
        for node in ast.walk(stmt):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = getattr(node, "module", None)
                chains = [f"{module}.{a.name}" if module else a.name for a in node.names]
            elif isinstance(node, ast.Attribute):
                chains = [_dotted(node) or ""]
            else:
                continue
            for chain in chains:
                parts = chain.split(".")
                if parts[0] in ("torch", "functorch") and set(parts) & _FORWARD_AD:
                    where = f"{chain} (cell {cell}, line {node.lineno})"
                    if where not in out:
                        out.append(where)
    return out


def grads_of(student, x, t, p):
    found = autograd_refs(student)
    if found:
        raise StudentError(f"mlp_backward uses autograd ({found[0]}), which this assignment forbids there: "
                           "compute every gradient by hand")
    got = student.mlp_backward(x, t, **p)
    if not isinstance(got, dict):
        raise StudentError(f"mlp_backward should return a dict of gradients, got {type(got).__name__}")
    missing = sorted({"w1", "b1", "w2", "b2"} - set(got))
    if missing:
        raise StudentError(f"mlp_backward's dict is missing {missing}")
    return got


@points(1, cell="test_mlp_backward", visibility="visible")
def test_mlp_small_example(student):
    """the notebook's float64 example against autograd"""
    torch.manual_seed(0)
    x, t = torch.randn(5, 4, dtype=torch.float64), torch.tensor([0, 2, 1, 2, 0])
    p = {"w1": torch.randn(3, 4, dtype=torch.float64), "b1": torch.randn(3, dtype=torch.float64),
         "w2": torch.randn(3, 3, dtype=torch.float64), "b2": torch.randn(3, dtype=torch.float64)}
    got, ref = grads_of(student, x, t, p), ref_grads(x, t, p)
    for k in ref:
        assert_close(got[k], ref[k], f"mlp_backward's grad of {k}")


@points(2, cell="test_mlp_backward")
def test_mlp_grads_values(student):
    """all four gradients on random sizes (N, D, H, C all different), many ReLUs off"""
    for seed, (n, d, h, c) in enumerate([(9, 6, 7, 4), (16, 3, 12, 5), (9, 6, 7, 4)]):  # last: same shapes
        x, t, p = make_mlp(20 + seed, n, d, h, c)
        got, ref = grads_of(student, x, t, p), ref_grads(x, t, p)
        for k in ("w2", "b2", "w1", "b1"):
            assert_close(got[k], ref[k], f"grad of {k} (N={n}, D={d}, H={h}, C={c})", atol=1e-5)


@points(1, cell="test_mlp_backward")
def test_mlp_grads_shapes(student):
    """each gradient has exactly its parameter's shape (F.linear layout), batch of one included"""
    x, t, p = make_mlp(30, 1, 5, 3, 2)
    got = grads_of(student, x, t, p)
    for k, v in p.items():
        check_tensor(got[k], f"mlp_backward's grad of {k} (N=1)", v.shape, v.dtype)
    ref = ref_grads(x, t, p)
    for k in ref:
        assert_close(got[k], ref[k], f"grad of {k} with a batch of one", atol=1e-5)


@points(1, cell="test_mlp_backward")
def test_mlp_grads_float64(student):
    """float64 in, float64 gradients, to float64 precision (not computed in float32 and cast back)"""
    x, t, p = make_mlp(31, 8, 4, 6, 3, torch.float64)
    got, ref = grads_of(student, x, t, p), ref_grads(x, t, p)
    for k in ref:
        assert_close(got[k], ref[k], f"grad of {k} on float64 (to 1e-9: computed in float32?)",
                     rtol=1e-9, atol=1e-11)


@points(1, cell="test_mlp_backward")
def test_mlp_big_logits(student):
    """large weights (saturated softmax) stay finite and exact"""
    x, t, p = make_mlp(32, 6, 4, 5, 3)
    p["w2"] = p["w2"] * 300
    got, ref = grads_of(student, x, t, p), ref_grads(x, t, p)
    for k in ref:
        assert_close(got[k], ref[k], f"grad of {k} with logits in the thousands", atol=1e-4)


# ----------------------------------------------------------------------------- optimizers
def trajectory(student, name, kwargs, inits, grads_seq, *, as_generator=False, zero_grad_at=()):
    got = student.probe("optimizer_trajectory", student.ref(name), inits, grads_seq, kwargs,
                        as_generator=as_generator, zero_grad_at=list(zero_grad_at), origin=name)
    return got


def torch_trajectory(cls, kwargs, inits, grads_seq):
    params = [torch.nn.Parameter(t.clone()) for t in inits]
    opt = cls(params, **kwargs)
    out = []
    for grads in grads_seq:
        for p, g in zip(params, grads):
            p.grad = None if g is None else g.clone()
        opt.step()
        out.append([p.detach().clone() for p in params])
    return out


def compare(student, name, ref_cls, kwargs, inits, grads_seq, what, rtol=1e-5, atol=1e-6, **kw):
    got = trajectory(student, name, kwargs, inits, grads_seq, **kw)["history"]
    ref = torch_trajectory(ref_cls, kwargs, inits, grads_seq)
    if len(got) != len(ref):
        raise StudentError(f"{what}: expected {len(ref)} steps, got {len(got)}")
    for step, (gs, rs) in enumerate(zip(got, ref)):
        for i, (a, b) in enumerate(zip(gs, rs)):
            assert_close(a, b, f"{what}: parameter {i} after step {step + 1}", rtol=rtol, atol=atol)


def problem(seed, shapes=((4, 3), (5,)), steps=4, dtype=torch.float32):
    g = gen(seed)
    inits = [torch.randn(*s, generator=g, dtype=dtype) for s in shapes]
    grads = [[torch.randn(*s, generator=g, dtype=dtype) for s in shapes] for _ in range(steps)]
    return inits, grads


@points(1, cell="test_optimizers", visibility="visible")
def test_sgd_plain(student):
    """SGD without momentum: w ← w − lr·g"""
    inits, grads = problem(40)
    compare(student, "SGD", torch.optim.SGD, {"lr": 0.1}, inits, grads, "SGD(lr=0.1)")


@points(1, cell="test_optimizers")
def test_sgd_momentum(student):
    """momentum 0.9: buffer starts at g, then μ·b + g; float64 parameters keep a float64 buffer"""
    inits, grads = problem(41, steps=5)
    compare(student, "SGD", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}, inits, grads, "SGD(momentum=0.9)")
    inits, grads = problem(49, steps=4, dtype=torch.float64)
    compare(student, "SGD", torch.optim.SGD, {"lr": 0.5, "momentum": 0.9}, inits, grads,
            "SGD(lr=0.5, momentum=0.9) on float64 parameters (to 1e-10: a float32 buffer?)", rtol=1e-10, atol=1e-12)


@points(1, cell="test_optimizers")
def test_sgd_weight_decay(student):
    """weight decay enters the gradient before momentum (torch's coupled form)"""
    inits, grads = problem(42, steps=4)
    compare(student, "SGD", torch.optim.SGD, {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.3}, inits, grads,
            "SGD(momentum=0.8, weight_decay=0.3)")


@points(1, cell="test_optimizers")
def test_sgd_skips_none_and_generator(student):
    """a parameter without .grad is left alone; params may be a generator"""
    inits, grads = problem(43, steps=3)
    grads[0][1] = None
    grads[2][0] = None
    kwargs = {"lr": 0.1, "momentum": 0.5}
    got = trajectory(student, "SGD", kwargs, inits, grads, as_generator=True)["history"]
    ref = torch_trajectory(torch.optim.SGD, kwargs, inits, grads)
    for step, (gs, rs) in enumerate(zip(got, ref)):
        for i, (a, b) in enumerate(zip(gs, rs)):
            assert_close(a, b, f"SGD over a generator, some grads None: parameter {i} after step {step + 1}",
                         rtol=1e-5, atol=1e-6)


@points(1, cell="test_optimizers")
def test_adamw_trajectory(student):
    """AdamW: moments, bias correction, eps outside the sqrt"""
    inits, grads = problem(44, steps=6)
    for g in grads:  # small gradients make eps placement visible
        g[1] = g[1] * 1e-4
    compare(student, "AdamW", torch.optim.AdamW, {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-6,
                                                   "weight_decay": 0.0}, inits, grads, "AdamW(betas=(0.8, 0.95))")
    inits, grads = problem(50, steps=4, dtype=torch.float64)
    compare(student, "AdamW", torch.optim.AdamW, {"lr": 0.5, "weight_decay": 0.1}, inits, grads,
            "AdamW(lr=0.5, weight_decay=0.1) on float64 parameters (to 1e-10: float32 moments?)",
            rtol=1e-10, atol=1e-12)


@points(1, cell="test_optimizers")
def test_adamw_weight_decay(student):
    """decoupled weight decay: w ← w·(1 − lr·λ) before the Adam step"""
    inits, grads = problem(45, steps=4)
    compare(student, "AdamW", torch.optim.AdamW, {"lr": 0.1, "weight_decay": 0.5}, inits, grads,
            "AdamW(lr=0.1, weight_decay=0.5)")


@points(1, cell="test_optimizers")
def test_adamw_skips_none(student):
    """per-parameter step counts: a parameter without .grad does not advance"""
    inits, grads = problem(46, steps=4)
    grads[0][1] = None
    grads[1][1] = None
    compare(student, "AdamW", torch.optim.AdamW, {"lr": 0.05}, inits, grads, "AdamW with some grads None",
            as_generator=True)


@points(1, cell="test_optimizers")
def test_adamw_defaults(student):
    """defaults match torch.optim.AdamW: lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01
    (parameter 1's gradients are ~1e-8, so the default eps shows)"""
    inits, grads = problem(47, steps=3, dtype=torch.float64)
    for g in grads:
        g[1] = g[1] * 1e-8
    compare(student, "AdamW", torch.optim.AdamW, {}, inits, grads, "AdamW() with default arguments")


@points(1, cell="test_optimizers")
def test_zero_grad(student):
    """zero_grad() clears every gradient (to None or zeros), for both optimizers, and copes with a
    parameter whose .grad is None (as before the first backward)"""
    inits, all_grads = problem(48, steps=2)
    none_grads = [[all_grads[0][0], None], all_grads[1]]
    for name, kwargs, grads in [("SGD", {"lr": 0.1}, all_grads), ("AdamW", {"lr": 0.01}, all_grads),
                                ("SGD", {"lr": 0.1}, none_grads), ("AdamW", {"lr": 0.01}, none_grads)]:
        try:
            got = trajectory(student, name, kwargs, inits, grads, zero_grad_at=[0])
        except StudentError as exc:
            if grads is all_grads:
                raise
            raise StudentError(f"{name}.zero_grad() when a parameter's .grad is None: {exc}") from None
        for i, g in enumerate(got["after_zero"][0]):
            if g is not None and (type(g) is not torch.Tensor or bool(g.abs().sum() != 0)):
                raise StudentError(f"{name}.zero_grad() left a non-zero gradient on parameter {i}")
        ref = torch_trajectory({"SGD": torch.optim.SGD, "AdamW": torch.optim.AdamW}[name], kwargs, inits, grads)
        for i, (a, b) in enumerate(zip(got["history"][1], ref[1])):
            assert_close(a, b, f"{name}: parameter {i} after zero_grad() and another step", rtol=1e-5, atol=1e-6)
