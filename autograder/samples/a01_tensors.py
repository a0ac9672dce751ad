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
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
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
}
