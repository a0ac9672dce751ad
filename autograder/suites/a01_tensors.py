"""Hidden suite for a01_tensors (LBDL 1–2). Every test names the student bug it rejects.

pairwise_sq_dists
- returns distances instead of squared distances (an extra sqrt)    -> test_pairwise_values
- output transposed ([M, N]) or summed over the wrong axis          -> test_pairwise_values (N≠M≠D)
- mean instead of sum over D                                        -> test_pairwise_values
- loses float64 (casts to float32), or returns a numpy array/list   -> test_pairwise_dtype_float64
- computes in float32 and casts the result back to float64          -> test_pairwise_dtype_float64 (points near 100)
- caches results by input shape (stale values on a second call)     -> test_pairwise_values (same shapes twice)
- breaks on N=1 / M=1 / D=1 (squeeze, wrong broadcasting)           -> test_pairwise_degenerate_shapes
- Python loops instead of broadcasting                              -> test_pairwise_vectorised
- the loop hidden in map()/reduce() or in a top-level lambda        -> test_pairwise_vectorised
- calls torch.cdist (any alias, torch.ops.aten)                     -> trap on every test
patchify
- patches in column-major order, or channel last inside a patch     -> test_patchify_order
- only works for square images / H == W                             -> test_patchify_order (H≠W)
- wrong sizes (H/p)(W/p) or C·p·p                                   -> test_patchify_shapes
- no ValueError when H or W is not divisible                        -> test_patchify_not_divisible
- caches results by input shape (stale values on a second call)     -> test_patchify_order (same shape twice)
- converts to float (or uses F.unfold, float-only): integer images fail -> test_patchify_shapes (int64)
gaussian_features
- sigma instead of sigma² / missing factor 2                        -> test_gaussian_values (sigma≠1)
- [K, N] instead of [N, K]; wrong sign                              -> test_gaussian_values
- assumes sorted centers; caches by shape and sigma                 -> test_gaussian_values (unsorted, repeated)
- dtype not kept, or computed in float32 and cast back              -> test_gaussian_dtype (float64 tolerance)
fit_ridge
- λ scaled by N (1/N loss), or λ added to every entry               -> test_ridge_regularised
- returns [K, 1] instead of [K]                                     -> test_ridge_exact
- ignores weight_decay                                              -> test_ridge_regularised, test_ridge_shrinks
- float64 inputs solved in float32                                  -> test_ridge_exact (badly scaled columns)
- a small nonzero default weight_decay ("for stability")            -> test_ridge_exact (badly scaled columns)
- caches results by input shape (stale values on a second call)     -> test_ridge_regularised (same shapes twice)
"""

import ast

import einops
import torch

from autograder.testing import assert_close, assert_raises, check_tensor, gen, points


def ref_sq_dists(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


_LOOP_NODES = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_LOOP_FUNCS = {"map", "filter", "reduce"}  # builtins (and functools.reduce) calling Python once per row
_LOOP_METHODS = {"apply_", "map_", "map2_"}  # Tensor methods calling Python once per element


def _called_name(node):
    """'map' for `map(...)` or `functools.reduce(...)`, 'apply_' for `t.apply_(...)`; None for any other
    node (einops.reduce and other vectorised functions of the same name are not loops)."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name) and func.id in _LOOP_FUNCS:
        return func.id
    if isinstance(func, ast.Attribute):
        if func.attr in _LOOP_METHODS:
            return func.attr
        if func.attr == "reduce" and isinstance(func.value, ast.Name) and func.value.id == "functools":
            return "functools.reduce"
    return None


def python_loops(student, name):
    """Python loops in the code `name` reaches: the suite's static scan (for, while, comprehensions in
    functions), plus the loops it does not look for: map()/filter()/reduce() or Tensor.apply_ calls in
    functions and lambdas, and loops in a top-level lambda (`name = lambda x, y: [... for ...]`)."""
    static = student.static
    if static is None:
        return []
    out = list(static.loops_in(name))
    for stmt, cell in static.reachable(name):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bodies = [stmt]
        else:  # a top-level assignment: only the lambdas in it are code the name runs
            bodies = [node for node in ast.walk(stmt) if isinstance(node, ast.Lambda)]
        for body in bodies:
            lambda_body = isinstance(body, ast.Lambda)  # loops_in already saw the functions' loops
            for node in ast.walk(body):
                called = _called_name(node)
                if (lambda_body and isinstance(node, _LOOP_NODES)) or called:
                    where = f"cell {cell}, line {node.lineno}" + (f", {called}()" if called else "")
                    if where not in out:
                        out.append(where)
    return out


# ----------------------------------------------------------------------------- pairwise_sq_dists
@points(1, cell="test_pairwise_sq_dists", visibility="visible")
def test_pairwise_small_example(student):
    """the notebook's small example: 3 points against 2"""
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0], [3.0, 4.0]])
    y = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    assert_close(student.pairwise_sq_dists(x, y), ref_sq_dists(x, y), "pairwise_sq_dists(x, y)")


@points(2, cell="test_pairwise_sq_dists")
def test_pairwise_values(student):
    """random [N, D] and [M, D] with N, M, D all different"""
    g = gen(101)
    for n, m, d in [(7, 5, 3), (4, 9, 16), (7, 5, 3)]:  # the same shapes twice: fresh values, fresh answer
        x, y = torch.randn(n, d, generator=g) * 3, torch.randn(m, d, generator=g) * 3 + 1
        assert_close(student.pairwise_sq_dists(x, y), ref_sq_dists(x, y), f"pairwise_sq_dists on [{n},{d}], [{m},{d}]",
                     atol=1e-4)


@points(1, cell="test_pairwise_sq_dists")
def test_pairwise_dtype_float64(student):
    """float64 in, float64 out, to float64 precision (points near 100: float32 loses the differences)"""
    g = gen(102)
    x = torch.randn(6, 4, generator=g, dtype=torch.float64)
    y = torch.randn(3, 4, generator=g, dtype=torch.float64)
    assert_close(student.pairwise_sq_dists(x, y), ref_sq_dists(x, y), "pairwise_sq_dists on float64", atol=1e-10)
    x = torch.randn(8, 5, generator=g, dtype=torch.float64) + 100
    y = torch.randn(6, 5, generator=g, dtype=torch.float64) + 100
    assert_close(student.pairwise_sq_dists(x, y), ref_sq_dists(x, y),
                 "pairwise_sq_dists on float64 points near 100 (computed in float32?)", atol=1e-10)


@points(1, cell="test_pairwise_sq_dists")
def test_pairwise_degenerate_shapes(student):
    """N = 1, M = 1 and D = 1 keep their dimensions"""
    g = gen(103)
    for n, m, d in [(1, 4, 3), (5, 1, 2), (3, 2, 1), (1, 1, 1)]:
        x, y = torch.randn(n, d, generator=g), torch.randn(m, d, generator=g)
        assert_close(student.pairwise_sq_dists(x, y), ref_sq_dists(x, y), f"pairwise_sq_dists on [{n},{d}], [{m},{d}]",
                     atol=1e-4)


@points(1, cell="test_pairwise_sq_dists")
def test_pairwise_vectorised(student):
    """correct on a larger input, and no Python loop in the code (for, while, comprehension)"""
    g = gen(104)
    x, y = torch.randn(50, 8, generator=g), torch.randn(40, 8, generator=g)
    assert_close(student.pairwise_sq_dists(x, y), ref_sq_dists(x, y), "pairwise_sq_dists on [50,8], [40,8]", atol=1e-4)
    loops = python_loops(student, "pairwise_sq_dists")
    assert not loops, f"pairwise_sq_dists uses a Python loop ({loops[0]}): use broadcasting instead"


# ----------------------------------------------------------------------------- patchify
def ref_patchify(images, p):
    return einops.rearrange(images, "b c (h p1) (w p2) -> b (h w) (c p1 p2)", p1=p, p2=p)


@points(1, cell="test_patchify", visibility="visible")
def test_patchify_small_example(student):
    """the notebook's example: [2, 3, 4, 6] with 2x2 patches"""
    img = torch.arange(2 * 3 * 4 * 6, dtype=torch.float32).reshape(2, 3, 4, 6)
    assert_close(student.patchify(img, 2), ref_patchify(img, 2), "patchify(img [2,3,4,6], 2)", rtol=0, atol=0)


@points(2, cell="test_patchify")
def test_patchify_order(student):
    """patch order (row-major) and pixel order (channel slowest) on non-square, multi-channel images"""
    g = gen(201)
    for b, c, h, w, p in [(3, 2, 6, 9, 3), (1, 4, 8, 4, 4), (2, 1, 10, 15, 5), (3, 2, 6, 9, 3)]:  # last: again
        img = torch.randn(b, c, h, w, generator=g)
        assert_close(student.patchify(img, p), ref_patchify(img, p), f"patchify on [{b},{c},{h},{w}] with p={p}",
                     rtol=0, atol=0)


@points(1, cell="test_patchify")
def test_patchify_shapes(student):
    """p = 1 (every pixel a token) and p = H = W (one token), on int64 images: the notebook asks for any dtype,
    integer images included, values and dtype unchanged"""
    img = torch.arange(2 * 3 * 4 * 4).reshape(2, 3, 4, 4)  # int64
    assert_close(student.patchify(img, 1), ref_patchify(img, 1), "patchify(int64 img [2,3,4,4], 1)", rtol=0, atol=0)
    assert_close(student.patchify(img, 4), ref_patchify(img, 4), "patchify(int64 img [2,3,4,4], 4)", rtol=0, atol=0)


@points(1, cell="test_patchify")
def test_patchify_not_divisible(student):
    """ValueError when H or W is not a multiple of the patch size"""
    img = torch.zeros(1, 1, 6, 8)
    assert_raises(lambda: student.patchify(img, 4), "ValueError", "patchify on a 6x8 image with p=4 (H not divisible)")
    assert_raises(lambda: student.patchify(img, 3), "ValueError", "patchify on a 6x8 image with p=3 (W not divisible)")
    check_tensor(student.patchify(img, 2), "patchify on a 6x8 image with p=2", (1, 12, 4))


# ----------------------------------------------------------------------------- gaussian_features
def ref_gauss(x, c, sigma):
    return torch.exp(-((x[:, None] - c[None, :]) ** 2) / (2 * sigma**2))


@points(1, cell="test_gaussian_features", visibility="visible")
def test_gaussian_small_example(student):
    """the notebook's example: sigma = 1"""
    x, c = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([0.0, 2.0])
    assert_close(student.gaussian_features(x, c, 1.0), ref_gauss(x, c, 1.0), "gaussian_features(x, c, 1.0)")


@points(1, cell="test_gaussian_features")
def test_gaussian_values(student):
    """sigma ≠ 1 and N ≠ K: the 2σ² denominator and the [N, K] layout; unsorted centers, asked twice"""
    g = gen(301)
    x, c = torch.rand(9, generator=g) * 4 - 2, torch.linspace(-2, 2, 5)
    for sigma in (0.3, 1.7):
        assert_close(student.gaussian_features(x, c, sigma), ref_gauss(x, c, sigma),
                     f"gaussian_features with sigma={sigma}, x [9], centers [5]")
    x, c = torch.rand(9, generator=g) * 4 - 2, torch.tensor([1.5, -0.5, 2.0, -1.8, 0.1])
    assert_close(student.gaussian_features(x, c, 0.3), ref_gauss(x, c, 0.3),
                 "gaussian_features with sigma=0.3, other x [9], unsorted centers [5]")


@points(1, cell="test_gaussian_features")
def test_gaussian_dtype(student):
    """float64 in, float64 out, to float64 precision (not computed in float32 and cast back)"""
    x, c = torch.linspace(-1, 1, 4, dtype=torch.float64), torch.linspace(-1, 1, 3, dtype=torch.float64)
    assert_close(student.gaussian_features(x, c, 0.5), ref_gauss(x, c, 0.5), "gaussian_features on float64")
    x = torch.linspace(-2, 2, 41, dtype=torch.float64)
    c = torch.tensor([-1.5, -0.2, 0.4, 1.1], dtype=torch.float64)
    assert_close(student.gaussian_features(x, c, 0.9), ref_gauss(x, c, 0.9),
                 "gaussian_features on float64 x [41] (float64 precision: computed in float32?)",
                 rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------------------- fit_ridge
def ref_ridge(f, y, lam):
    k = f.shape[1]
    return torch.linalg.solve(f.T @ f + lam * torch.eye(k, dtype=f.dtype), f.T @ y)


@points(1, cell="test_fit_ridge", visibility="visible")
def test_ridge_small_example(student):
    """the notebook's noise-free example recovers the weights"""
    f = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    w = torch.tensor([2.0, -1.0])
    assert_close(student.fit_ridge(f, f @ w), w, "fit_ridge on noise-free data", atol=1e-5)


@points(1, cell="test_fit_ridge")
def test_ridge_exact(student):
    """weight_decay = 0 on random well-posed float64 problems (one with badly scaled columns): the
    least-squares solution, shape [K]; a float32 solve or a tiny default weight_decay shows there"""
    g = gen(401)
    f = torch.randn(30, 6, generator=g, dtype=torch.float64)
    y = torch.randn(30, generator=g, dtype=torch.float64)
    assert_close(student.fit_ridge(f, y), ref_ridge(f, y, 0.0), "fit_ridge(F [30,6], y [30])", atol=1e-8)
    g = gen(405)
    scale = torch.tensor([1.0, 30.0, 0.03, 3.0, 0.3, 100.0], dtype=torch.float64)
    f = torch.randn(40, 6, generator=g, dtype=torch.float64) * scale
    y = torch.randn(40, generator=g, dtype=torch.float64)
    assert_close(student.fit_ridge(f, y), ref_ridge(f, y, 0.0),
                 "fit_ridge(F [40,6] with columns scaled 0.03..100, y [40]) (default weight_decay must be 0)",
                 atol=1e-8)


@points(1, cell="test_fit_ridge")
def test_ridge_regularised(student):
    """λ > 0 enters as λ·I on the normal equations (sums, not means)"""
    g = gen(402)
    f = torch.randn(25, 5, generator=g, dtype=torch.float64)
    y = torch.randn(25, generator=g, dtype=torch.float64)
    for lam in (0.7, 12.0):
        assert_close(student.fit_ridge(f, y, weight_decay=lam), ref_ridge(f, y, lam),
                     f"fit_ridge with weight_decay={lam}", atol=1e-8)
    f = torch.randn(25, 5, generator=g, dtype=torch.float64)  # same shapes and λ again: a fresh answer
    y = torch.randn(25, generator=g, dtype=torch.float64)
    assert_close(student.fit_ridge(f, y, weight_decay=0.7), ref_ridge(f, y, 0.7),
                 "fit_ridge with weight_decay=0.7 on other F [25,5], y [25]", atol=1e-8)


@points(1, cell="test_fit_ridge")
def test_ridge_shrinks(student):
    """more features than points is fine with weight decay; float32 works too"""
    g = gen(403)
    f = torch.randn(8, 12, generator=g)
    y = torch.randn(8, generator=g)
    assert_close(student.fit_ridge(f, y, 3.0), ref_ridge(f.double(), y.double(), 3.0).float(),
                 "fit_ridge(F [8,12], y [8], weight_decay=3.0)", rtol=1e-3, atol=1e-4)
