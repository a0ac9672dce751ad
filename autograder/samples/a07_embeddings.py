"""Wrong submissions for a07_embeddings (each a plausible student answer), as edits of the
reference, and correct ones in other styles."""

from . import Sample, edit

LOOKUP = "        return self.weight[idx]  # (*idx.shape, D)"
INTERLEAVE = "    pe[:, 0::2] = angles.sin()\n    pe[:, 1::2] = angles.cos()\n"
ROTATE = ("    angles = torch.cat([angles, angles], dim=-1)  # (T, D)\n"
          "    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)\n"
          "    return x * cos + rotate_half(x) * sin  # (..., T, D)")

SAMPLES = {
    "uniform_init_wraps_negative": Sample(
        why="Embedding initialised uniformly and scaled, negative indices wrap around; PE sin/cos swapped",
        patches={
            "embedding": edit(
                ("torch.randn(num_embeddings, embedding_dim)",
                 "torch.empty(num_embeddings, embedding_dim).uniform_(-1, 1) / math.sqrt(embedding_dim)"),
                ("if lo < 0 or hi >= self.num_embeddings:", "if hi >= self.num_embeddings:  # -1 gives the last row")),
            "sinusoidal": edit((INTERLEAVE, "    pe[:, 0::2] = angles.cos()  # swapped: even columns should be sin\n"
                                            "    pe[:, 1::2] = angles.sin()\n")),
        },
        fails=frozenset({"test_embedding_init", "test_embedding_negative_index", "test_embedding_small_example",
                         "test_pe_even_sin_odd_cos", "test_pe_values", "test_pe_small_example"}),
    ),
    "forbidden_embedding_concat_pe": Sample(
        forbidden_call="torch.nn.functional.embedding",
        why="Embedding.forward calls F.embedding; PE as [sin | cos] halves with base ignored",
        patches={
            "embedding": edit((LOOKUP, "        return F.embedding(idx, self.weight)")),
            "sinusoidal": edit(("inv_freq = base **", "inv_freq = 10000.0 **"),  # base ignored
                               (INTERLEAVE, "    pe = torch.cat([angles.sin(), angles.cos()], dim=-1)  # halves\n")),
        },
        fails=frozenset({"test_embedding_forward_shapes", "test_embedding_gradient", "test_pe_even_sin_odd_cos",
                         "test_pe_values", "test_pe_base"}),
    ),
    "rope_interleaved_pairs": Sample(
        why="RoPE with the paper's adjacent pairs (2i, 2i+1) instead of the half-split rotate_half convention",
        patches={
            "rotary": edit((ROTATE, "    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)  # (T, D/2)\n"
                                    "    x1, x2 = x[..., 0::2], x[..., 1::2]  # adjacent pairs\n"
                                    "    out = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)\n"
                                    "    return out.flatten(-2)")),
        },
        fails=frozenset({"test_rope_small_example", "test_rope_values_batched", "test_rope_positions",
                         "test_rope_2d_input", "test_rope_base", "test_rope_dtype"}),
    ),
    "rope_arange_positions": Sample(
        why="RoPE ignores `positions` (uses arange(T)) and the base; Embedding keeps float32 for float64 weights",
        patches={
            "embedding": edit((LOOKUP, "        one_hot = (idx[..., None] == torch.arange(self.num_embeddings))"
                                       ".float()  # (*, V)\n        return one_hot @ self.weight")),
            "rotary": edit(("inv_freq = base **", "inv_freq = 10000.0 **"),
                           ("positions.to(torch.float64)[:, None]",
                            "torch.arange(x.shape[-2], dtype=torch.float64)[:, None]")),  # positions assumed 0..T-1
        },
        fails=frozenset({"test_embedding_float64", "test_rope_positions", "test_rope_base", "test_rope_2d_input",
                         "test_rope_small_example"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "one_hot_and_float32_tutorial": Sample(
        why="Embedding as a one-hot product in the weight's dtype, registered with register_parameter; the "
            "PyTorch-tutorial PE (exp/log frequencies, float32, stack-and-reshape interleave); RoPE with the "
            "rotation written out per half, in float32 as HF Llama",
        patches={
            "embedding": '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.register_parameter("weight", nn.Parameter(nn.init.normal_(torch.empty(num_embeddings, embedding_dim))))

    def forward(self, idx):
        bad = (idx < 0) | (idx >= self.num_embeddings)
        if bad.any():
            raise IndexError(f"token {idx[bad].flatten()[0].item()} not in [0, {self.num_embeddings})")
        one_hot = F.one_hot(idx, self.num_embeddings).to(self.weight.dtype)  # (*, V)
        return one_hot @ self.weight
''',
            "sinusoidal": '''
def sinusoidal_positional_encoding(length, dim, base=10000.0):
    position = torch.arange(length).unsqueeze(1).float()
    div_term = torch.exp(torch.arange(0, dim, 2).float() * (-math.log(base) / dim))
    return torch.stack([torch.sin(position * div_term), torch.cos(position * div_term)], dim=-1).reshape(length, dim)
''',
            "rotary": '''
def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary(x, positions, base=10000.0):
    half = x.shape[-1] // 2
    inv_freq = 1.0 / base ** (torch.arange(half, dtype=torch.float32) * 2 / x.shape[-1])
    angles = torch.outer(positions.float(), inv_freq)  # (T, D/2), float32
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)
''',
        },
        fails=frozenset(),
    ),
    "index_select_and_loops": Sample(
        why="Embedding by index_select on the flattened indices (ValueError, nn.init.normal_ on the Parameter); "
            "PE filled column pair by column pair in a loop; RoPE with repeat and a flipped-halves rotate_half",
        patches={
            "embedding": '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_embeddings, embedding_dim))
        nn.init.normal_(self.weight)

    def forward(self, idx):
        n = self.weight.shape[0]
        if torch.any(idx < 0) or torch.any(idx >= n):
            raise ValueError(f"token ids must lie in 0 ... {n - 1}")
        rows = self.weight.index_select(0, idx.reshape(-1))  # (N, D)
        return rows.reshape(*idx.shape, self.weight.shape[1])
''',
            "sinusoidal": '''
def sinusoidal_positional_encoding(length, dim, base=10000.0):
    t = torch.arange(length, dtype=torch.float64)
    pe = torch.zeros(length, dim)
    for i in range(dim // 2):
        omega = base ** (-2 * i / dim)
        pe[:, 2 * i] = torch.sin(omega * t)
        pe[:, 2 * i + 1] = torch.cos(omega * t)
    return pe
''',
            "rotary": '''
def rotate_half(x):
    d = x.shape[-1]
    return torch.cat((-x[..., d // 2:], x[..., :d // 2]), dim=-1)


def apply_rotary(x, positions, base=10000.0):
    d = x.shape[-1]
    theta = torch.tensor([base ** (-2 * i / d) for i in range(d // 2)], dtype=torch.float64)
    angles = (positions[:, None] * theta).repeat(1, 2)  # (T, D): [angles, angles]
    return (x * angles.cos() + rotate_half(x) * angles.sin()).to(x.dtype)
''',
        },
        fails=frozenset(),
    ),
    "gather_and_complex_rope": Sample(
        why="Embedding by gather with an explicit check on min/max; PE through einsum; RoPE as a complex "
            "multiplication (x1 + i·x2)·e^{iθ} of the two halves",
        patches={
            "embedding": edit((LOOKUP, "        flat = idx.reshape(-1, 1).expand(-1, self.embedding_dim)  # (N, D)\n"
                                       "        return self.weight.gather(0, flat).reshape(*idx.shape, -1)")),
            "sinusoidal": edit(("    angles = t * inv_freq[None, :]  # (L, D/2)",
                                "    angles = torch.einsum(\"lo,f->lf\", t, inv_freq)")),
            "rotary": '''
def apply_rotary(x, positions, base=10000.0):
    d = x.shape[-1]
    freqs = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    rot = torch.polar(torch.ones(len(positions), d // 2, dtype=torch.float64), positions.double()[:, None] * freqs)
    z = torch.complex(x[..., : d // 2].double(), x[..., d // 2 :].double()) * rot  # (..., T, D/2)
    return torch.cat([z.real, z.imag], dim=-1).to(x.dtype)
''',
        },
        fails=frozenset(),
    ),
    "transposed_table_columns": Sample(
        why="Embedding by picking columns of the transposed table and moving the feature axis last (the "
            "weight's dtype, any index shape, 0-d included), range checked with a boolean mask",
        patches={
            "embedding": '''
class Embedding(nn.Module):
    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.weight = nn.Parameter(torch.empty(num_embeddings, embedding_dim).normal_())

    def forward(self, idx):
        bad = (idx < 0) | (idx >= self.num_embeddings)
        if bool(bad.any()):
            raise IndexError(f"index {int(idx[bad][0])} is outside 0 ... {self.num_embeddings - 1}")
        return self.weight.T[:, idx].movedim(0, -1)  # (D, *idx.shape) -> (*idx.shape, D)
''',
        },
        fails=frozenset(),
    ),
}
