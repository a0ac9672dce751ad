"""Wrong submissions for a01_tensors (each a plausible student answer), mostly as edits of the
reference, and right answers in other styles (CORRECT)."""

from . import Sample, edit

SAMPLES = {
    "partly_wrong": Sample(
        why="distances instead of squared distances; patches in column-major order",
        patches={
            "pairwise_sq_dists": edit(("(diff * diff).sum(dim=-1)", "(diff * diff).sum(dim=-1).sqrt()")),
            "patchify": edit(("x.permute(0, 2, 4, 1, 3, 5)  # (B, h, w, C, p1, p2)",
                              "x.permute(0, 4, 2, 1, 3, 5)  # (B, w, h, C, p1, p2): column-major")),
        },
        fails=frozenset({"test_pairwise_values", "test_pairwise_small_example", "test_patchify_order"}),
    ),
    "cdist_and_loops": Sample(
        forbidden_call="torch.cdist",
        why="torch.cdist through an alias; a Python loop; sigma instead of 2σ²; λ/N",
        patches={
            "pairwise_sq_dists": '''
_dist = torch.cdist

def pairwise_sq_dists(x, y):
    return _dist(x, y) ** 2
''',
            "gaussian_features": '''
def gaussian_features(x, centers, sigma):
    return torch.stack([torch.exp(-(x - c) ** 2 / sigma) for c in centers], dim=1)
''',
            "fit_ridge": edit(("k = features.shape[1]", "n, k = features.shape"),
                              ("features.T @ features + weight_decay", "features.T @ features / n + weight_decay"),
                              ("features.T @ y)", "features.T @ y / n)")),
        },
        fails=frozenset({"test_pairwise_values", "test_pairwise_vectorised", "test_gaussian_values",
                         "test_ridge_regularised", "test_ridge_shrinks"}),
    ),
    "hidden_loops_and_float32": Sample(
        why="the row loop hidden in map(lambda); Gaussians computed in float32 and cast back to float64; "
            "a tiny default weight_decay 'for stability'",
        patches={
            "pairwise_sq_dists": edit((
                "    diff = x[:, None, :] - y[None, :, :]  # (N, M, D)\n"
                "    return (diff * diff).sum(dim=-1)  # (N, M)",
                "    return torch.stack(list(map(lambda row: ((row - y) ** 2).sum(dim=-1), x)))")),
            "gaussian_features": edit(("diff = x[:, None] - centers[None, :]",
                                       "diff = x.float()[:, None] - centers.float()[None, :]"),
                                      ("return torch.exp(-(diff**2) / (2 * sigma**2))",
                                       "return torch.exp(-(diff**2) / (2 * sigma**2)).to(x.dtype)")),
            "fit_ridge": edit(("weight_decay: float = 0.0", "weight_decay: float = 1e-6")),
        },
        fails=frozenset({"test_pairwise_vectorised", "test_gaussian_dtype", "test_ridge_exact"}),
    ),
    "lambda_comprehension_in_float32": Sample(
        why="a top-level lambda whose list comprehension loops over rows, in float32 cast back to the input dtype",
        patches={
            "pairwise_sq_dists": "pairwise_sq_dists = lambda x, y: torch.stack(\n"
                                 "    [((row.float() - y.float()) ** 2).sum(-1) for row in x]).to(x.dtype)\n",
        },
        fails=frozenset({"test_pairwise_vectorised", "test_pairwise_dtype_float64"}),
    ),
    "caches_by_shape": Sample(
        why="hostile: each function remembers its first answer per input shape and returns it again",
        patches={
            "pairwise_sq_dists": edit((
                "    diff = x[:, None, :] - y[None, :, :]  # (N, M, D)\n"
                "    return (diff * diff).sum(dim=-1)  # (N, M)",
                "    key = (tuple(x.shape), tuple(y.shape), x.dtype)\n"
                "    if key not in _CACHE:\n"
                "        diff = x[:, None, :] - y[None, :, :]\n"
                "        _CACHE[key] = (diff * diff).sum(dim=-1)\n"
                "    return _CACHE[key]"), ("def pairwise_sq_dists", "_CACHE = {}\n\ndef pairwise_sq_dists")),
            "patchify": edit(("    p = patch_size\n",
                              "    p = patch_size\n"
                              "    if (images.shape, p) in _SEEN:\n"
                              "        return _SEEN[images.shape, p]\n"),
                             ("    return x.reshape(b, (h // p) * (w // p), c * p * p)",
                              "    _SEEN[images.shape, p] = x.reshape(b, (h // p) * (w // p), c * p * p)\n"
                              "    return _SEEN[images.shape, p]"),
                             ("def patchify", "_SEEN = {}\n\ndef patchify")),
            "gaussian_features": edit(("    diff = x[:, None] - centers[None, :]  # (N, K)\n",
                                       "    if (x.shape, centers.shape, sigma) in _MEMO:\n"
                                       "        return _MEMO[x.shape, centers.shape, sigma]\n"
                                       "    diff = x[:, None] - centers[None, :]  # (N, K)\n"),
                                      ("    return torch.exp(-(diff**2) / (2 * sigma**2))",
                                       "    key = (x.shape, centers.shape, sigma)\n"
                                       "    _MEMO[key] = torch.exp(-(diff**2) / (2 * sigma**2))\n"
                                       "    return _MEMO[key]"),
                                      ("def gaussian_features", "_MEMO = {}\n\ndef gaussian_features")),
            "fit_ridge": edit(("    k = features.shape[1]\n",
                               "    k = features.shape[1]\n"
                               "    if (features.shape, weight_decay) in _FITS:\n"
                               "        return _FITS[features.shape, weight_decay]\n"),
                              ("    return torch.linalg.solve(gram, features.T @ y)  # (K,)",
                               "    _FITS[features.shape, weight_decay] = torch.linalg.solve(gram, features.T @ y)\n"
                               "    return _FITS[features.shape, weight_decay]"),
                              ("def fit_ridge", "_FITS = {}\n\ndef fit_ridge")),
        },
        fails=frozenset({"test_pairwise_values", "test_patchify_order", "test_gaussian_values",
                         "test_ridge_regularised"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "lambda_and_einops_reduce": Sample(
        why="a top-level lambda (no loop in it) and einops.reduce, which is vectorised, not functools.reduce",
        patches={
            "pairwise_sq_dists": "pairwise_sq_dists = lambda x, y: einops.reduce(\n"
                                 "    (x[:, None, :] - y[None, :, :]) ** 2, 'n m d -> n m', 'sum')\n",
        },
        fails=frozenset(),
    ),
    "expanded_square_einops_lstsq": Sample(
        why="‖x‖² + ‖y‖² − 2x·y by a matrix product; einops.rearrange; ridge as least squares on [F; √λ I]",
        patches={
            "pairwise_sq_dists": edit((
                "    diff = x[:, None, :] - y[None, :, :]  # (N, M, D)\n"
                "    return (diff * diff).sum(dim=-1)  # (N, M)",
                "    x_sq = x.pow(2).sum(dim=1, keepdim=True)  # (N, 1)\n"
                "    y_sq = y.pow(2).sum(dim=1)  # (M,)\n"
                "    return (x_sq + y_sq - 2 * x @ y.T).clamp_min(0)  # (N, M)")),
            "patchify": '''
def patchify(images, patch_size):
    height, width = images.shape[-2:]
    if height % patch_size != 0 or width % patch_size != 0:
        raise ValueError(f"patch size {patch_size} does not divide {height}x{width}")
    return einops.rearrange(images, "b c (h p1) (w p2) -> b (h w) (c p1 p2)", p1=patch_size, p2=patch_size)
''',
            "gaussian_features": '''
def gaussian_features(x, centers, sigma):
    sq = (x.unsqueeze(1) - centers.unsqueeze(0)).square()  # (N, K)
    return sq.div(-2.0 * sigma * sigma).exp()
''',
            "fit_ridge": '''
def fit_ridge(features, y, weight_decay=0.0):
    # min ||Fw - y||^2 + lam ||w||^2 is least squares on F stacked over sqrt(lam) I, y over zeros
    n, k = features.shape
    lam_rows = (weight_decay ** 0.5) * torch.eye(k, dtype=features.dtype)
    big_f = torch.cat([features, lam_rows], dim=0)  # (N + K, K)
    big_y = torch.cat([y, torch.zeros(k, dtype=y.dtype)])  # (N + K,)
    return torch.linalg.lstsq(big_f, big_y[:, None]).solution[:, 0]
''',
        },
        fails=frozenset(),
    ),
    "einsum_unfold_cholesky": Sample(
        why="einsum over the difference tensor; Tensor.unfold for the patches; float64 intermediates; Cholesky",
        patches={
            "pairwise_sq_dists": edit(("return (diff * diff).sum(dim=-1)  # (N, M)",
                                       "return torch.einsum('nmd,nmd->nm', diff, diff)")),
            "patchify": '''
def patchify(images, patch_size):
    B, C, H, W = images.shape
    if H % patch_size or W % patch_size:
        raise ValueError("H and W must be multiples of patch_size")
    tiles = images.unfold(2, patch_size, patch_size).unfold(3, patch_size, patch_size)  # (B, C, h, w, p1, p2)
    tiles = tiles.permute(0, 2, 3, 1, 4, 5).contiguous()  # (B, h, w, C, p1, p2)
    return tiles.view(B, -1, C * patch_size * patch_size)
''',
            "gaussian_features": edit((
                "    diff = x[:, None] - centers[None, :]  # (N, K)\n"
                "    return torch.exp(-(diff**2) / (2 * sigma**2))",
                "    diff = x.double()[:, None] - centers.double()[None, :]  # (N, K), in float64\n"
                "    return torch.exp(-0.5 * (diff / sigma) ** 2).to(x.dtype)")),
            "fit_ridge": '''
def fit_ridge(features, y, weight_decay=0.0):
    A = features.mT @ features
    A = A + weight_decay * torch.eye(A.shape[0], dtype=A.dtype, device=A.device)
    L = torch.linalg.cholesky(A)  # A = L L^T, A positive definite
    return torch.cholesky_solve((features.mT @ y).unsqueeze(-1), L).squeeze(-1)
''',
        },
        fails=frozenset(),
    ),
    "where_loops_and_svd": Sample(
        why="pairwise in float64 then cast back; patchify with loops over the patch grid (allowed); ridge via SVD",
        patches={
            "pairwise_sq_dists": '''
def _sq_norms(t):
    return (t.double() ** 2).sum(-1)

def pairwise_sq_dists(x, y):
    d = _sq_norms(x)[:, None] + _sq_norms(y)[None, :] - 2.0 * (x.double() @ y.double().T)
    d = torch.where(d < 0, torch.zeros_like(d), d)  # round-off can dip below zero
    return d.to(torch.promote_types(x.dtype, y.dtype))
''',
            "patchify": '''
def patchify(images, patch_size):
    p = patch_size
    nrows, ncols = images.shape[2] // p, images.shape[3] // p
    if nrows * p != images.shape[2] or ncols * p != images.shape[3]:
        raise ValueError("image not divisible into patches")
    tokens = []
    for i in range(nrows):  # top to bottom
        for j in range(ncols):  # left to right
            tokens.append(images[:, :, i * p:(i + 1) * p, j * p:(j + 1) * p].flatten(1))  # (B, C*p*p)
    return torch.stack(tokens, dim=1)
''',
            "fit_ridge": '''
def fit_ridge(features, y, weight_decay=0.0):
    u, s, vh = torch.linalg.svd(features, full_matrices=False)
    shrink = s / (s**2 + weight_decay)  # 1/s without decay
    return vh.T @ (shrink * (u.T @ y))
''',
        },
        fails=frozenset(),
    ),
    "gather_any_dtype_expanded_square_qr": Sample(
        why="patchify by gathering pixels through a flat index (works for every dtype, integer images included); "
            "Gaussians from the expanded square in the input's dtype; ridge by QR of F stacked over sqrt(λ)·I",
        patches={
            "patchify": '''
def patchify(images, patch_size):
    b, c, h, w = images.shape
    p = patch_size
    if h % p or w % p:
        raise ValueError(f"{h}x{w} images do not split into {p}x{p} patches")
    rows = torch.arange(h).view(h // p, 1, 1, p, 1)  # (h, 1, 1, p1, 1): pixel row of each patch row
    cols = torch.arange(w).view(1, w // p, 1, 1, p)  # (1, w, 1, 1, p2): pixel column
    chans = torch.arange(c).view(1, 1, c, 1, 1)  # (1, 1, C, 1, 1)
    flat = (chans * h + rows) * w + cols  # (h, w, C, p1, p2): index into one image's C*H*W values
    return images.reshape(b, c * h * w)[:, flat.reshape(-1)].reshape(b, (h // p) * (w // p), c * p * p)
''',
            "gaussian_features": '''
def gaussian_features(x, centers, sigma):
    xc, cc = x[:, None], centers[None, :]  # (N, 1), (1, K)
    sq = (xc * xc - 2 * xc * cc + cc * cc).clamp_min(0)  # (N, K) = (x - c)^2, in x's dtype
    return torch.exp(sq * (-0.5 / sigma**2))
''',
            "fit_ridge": '''
def fit_ridge(features, y, weight_decay=0.0):
    n, k = features.shape
    a = torch.cat([features, weight_decay**0.5 * torch.eye(k, dtype=features.dtype)])  # (N + K, K)
    b = torch.cat([y, y.new_zeros(k)])  # (N + K,)
    q, r = torch.linalg.qr(a)  # reduced QR: q (N + K, K), r (K, K) upper triangular
    return torch.linalg.solve_triangular(r, (q.T @ b)[:, None], upper=True)[:, 0]
''',
        },
        fails=frozenset(),
    ),
}
