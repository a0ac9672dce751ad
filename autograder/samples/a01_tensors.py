"""Wrong submissions for a01_tensors (each a plausible student answer)."""

from . import Sample

SAMPLES = {
    "partly_wrong": Sample(
        why="distances instead of squared distances; patches in column-major order",
        patches={
            "pairwise_sq_dists": '''
def pairwise_sq_dists(x, y):
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1).sqrt()
''',
            "patchify": '''
def patchify(images, patch_size):
    b, c, h, w = images.shape
    p = patch_size
    if h % p or w % p:
        raise ValueError("not divisible")
    x = images.reshape(b, c, h // p, p, w // p, p).permute(0, 4, 2, 1, 3, 5)  # (B, w, h, C, p1, p2): wrong
    return x.reshape(b, (h // p) * (w // p), c * p * p)
''',
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
            "fit_ridge": '''
def fit_ridge(features, y, weight_decay=0.0):
    n, k = features.shape
    gram = features.T @ features / n + weight_decay * torch.eye(k, dtype=features.dtype)
    return torch.linalg.solve(gram, features.T @ y / n)
''',
        },
        fails=frozenset({"test_pairwise_values", "test_pairwise_vectorised", "test_gaussian_values",
                         "test_ridge_regularised", "test_ridge_shrinks"}),
    ),
}
