"""Wrong submissions for a07_embeddings (each a plausible student answer)."""

from . import Sample

SAMPLES = {
    "uniform_init_wraps_negative": Sample(
        why="Embedding initialised uniformly and scaled, negative indices wrap around; PE sin/cos swapped",
        patches={
            "embedding": '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings = num_embeddings
        bound = 1 / math.sqrt(embedding_dim)
        self.weight = nn.Parameter(torch.empty(num_embeddings, embedding_dim).uniform_(-bound, bound))

    def forward(self, idx):
        return self.weight[idx]  # index == num raises, but -1 silently gives the last row
''',
            "sinusoidal": '''
def sinusoidal_positional_encoding(length, dim, base=10000.0):
    t = torch.arange(length).float()[:, None]
    div = torch.exp(torch.arange(0, dim, 2).float() * (-math.log(base) / dim))
    pe = torch.zeros(length, dim)
    pe[:, 0::2] = torch.cos(t * div)  # swapped: even columns should be sin
    pe[:, 1::2] = torch.sin(t * div)
    return pe
''',
        },
        fails=frozenset({"test_embedding_init", "test_embedding_negative_index", "test_embedding_small_example",
                         "test_pe_even_sin_odd_cos", "test_pe_values", "test_pe_small_example"}),
    ),
    "forbidden_embedding_concat_pe": Sample(
        forbidden_call="torch.nn.functional.embedding",
        why="Embedding.forward calls F.embedding; PE as [sin | cos] halves with base ignored",
        patches={
            "embedding": '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(num_embeddings, embedding_dim))

    def forward(self, idx):
        return F.embedding(idx, self.weight)
''',
            "sinusoidal": '''
def sinusoidal_positional_encoding(length, dim, base=10000.0):
    t = torch.arange(length, dtype=torch.float32)[:, None]
    freqs = 10000.0 ** (-torch.arange(0, dim, 2, dtype=torch.float32) / dim)  # base ignored
    angles = t * freqs
    return torch.cat([angles.sin(), angles.cos()], dim=-1)  # halves, not interleaved
''',
        },
        fails=frozenset({"test_embedding_forward_shapes", "test_embedding_gradient", "test_pe_even_sin_odd_cos",
                         "test_pe_values", "test_pe_base"}),
    ),
    "rope_interleaved_pairs": Sample(
        why="RoPE with the paper's adjacent pairs (2i, 2i+1) instead of the half-split rotate_half convention",
        patches={
            "rotary": '''
def apply_rotary(x, positions, base=10000.0):
    d = x.shape[-1]
    inv_freq = base ** (-torch.arange(0, d, 2, dtype=torch.float32) / d)
    angles = positions.float()[:, None] * inv_freq[None, :]  # (T, D/2)
    cos, sin = angles.cos(), angles.sin()
    x1, x2 = x[..., 0::2], x[..., 1::2]  # adjacent pairs
    out = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    return out.flatten(-2)
''',
        },
        fails=frozenset({"test_rope_small_example", "test_rope_values_batched", "test_rope_positions",
                         "test_rope_2d_input", "test_rope_base", "test_rope_dtype"}),
    ),
    "rope_arange_positions": Sample(
        why="RoPE ignores `positions` (uses arange(T)) and the base; Embedding keeps float32 for float64 weights",
        patches={
            "embedding": '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.weight = nn.Parameter(torch.randn(num_embeddings, embedding_dim))

    def forward(self, idx):
        if (idx < 0).any() or (idx >= self.num_embeddings).any():
            raise IndexError(f"indices must lie in [0, {self.num_embeddings})")
        one_hot = (idx[..., None] == torch.arange(self.num_embeddings)).float()  # (*, V)
        return one_hot @ self.weight
''',
            "rotary": '''
def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rotary(x, positions, base=10000.0):
    t, d = x.shape[-2], x.shape[-1]
    inv_freq = 1.0 / (10000.0 ** (torch.arange(0, d, 2).float() / d))
    angles = torch.arange(t).float()[:, None] * inv_freq[None, :]  # positions assumed 0..T-1
    emb = torch.cat([angles, angles], dim=-1)
    return x * emb.cos() + rotate_half(x) * emb.sin()
''',
        },
        fails=frozenset({"test_embedding_float64", "test_rope_positions", "test_rope_base", "test_rope_2d_input",
                         "test_rope_small_example"}),
    ),
}
