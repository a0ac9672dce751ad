"""Wrong submissions for a06_attention (each a plausible student answer)."""

from . import Sample

SAMPLES = {
    "mask_bugs": Sample(
        why="bool mask inverted (True = blocked, torch's module convention), float mask multiplied, "
            "causal mask without the diagonal",
        patches={
            "scaled_dot_product_attention": '''
def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False):
    L, S = query.shape[-2], key.shape[-2]
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])
    if is_causal:
        scores = scores.masked_fill(torch.ones(L, S, dtype=torch.bool).triu(), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(attn_mask, float("-inf"))
        else:
            scores = scores * attn_mask
    return torch.softmax(scores, dim=-1) @ value
''',
        },
        fails=frozenset({"test_sdpa_small_example", "test_sdpa_bool_mask", "test_sdpa_float_mask",
                         "test_sdpa_causal", "test_sdpa_causal_rectangular", "test_mha_masks", "test_mha_causal"}),
    ),
    "unscaled_naive_softmax": Sample(
        why="no 1/sqrt(E) scale and a softmax without max subtraction",
        patches={
            "scaled_dot_product_attention": '''
def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False):
    scores = query @ key.transpose(-2, -1)
    L, S = scores.shape[-2:]
    if is_causal:
        scores = scores.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), float("-inf"))
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else scores + attn_mask
    e = scores.exp()
    return e / e.sum(dim=-1, keepdim=True) @ value
''',
        },
        fails=frozenset({"test_sdpa_small_example", "test_sdpa_values", "test_sdpa_large_scores",
                         "test_sdpa_gradients", "test_mha_self_attention", "test_mha_small_example"}),
    ),
    "head_split_by_view": Sample(
        why="heads split with .view(B, H, L, D) (no transpose), no ValueError for indivisible embed_dim",
        patches={
            "multihead_attention": '''
class MultiheadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, bias=True):
        super().__init__()
        self.num_heads, self.head_dim = num_heads, embed_dim // num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def forward(self, query, key, value, attn_mask=None, is_causal=False):
        B, L, E = query.shape
        S, H, D = key.shape[1], self.num_heads, self.head_dim
        q = self.q_proj(query).view(B, H, L, D)
        k = self.k_proj(key).view(B, H, S, D)
        v = self.v_proj(value).view(B, H, S, D)
        y = scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal)
        return self.out_proj(y.reshape(B, L, E))
''',
        },
        fails=frozenset({"test_mha_small_example", "test_mha_self_attention", "test_mha_cross_attention",
                         "test_mha_embed_dim_not_divisible"}),
    ),
    "torch_sdpa_and_bias_ignored": Sample(
        forbidden_call="torch.nn.functional.scaled_dot_product_attention",
        why="MultiheadAttention calls F.scaled_dot_product_attention; bias=False ignored",
        patches={
            "multihead_attention": '''
class MultiheadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, bias=True):
        super().__init__()
        if embed_dim % num_heads != 0:
            raise ValueError("embed_dim must be divisible by num_heads")
        self.num_heads, self.head_dim = num_heads, embed_dim // num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, query, key, value, attn_mask=None, is_causal=False):
        B, L, E = query.shape
        S, H, D = key.shape[1], self.num_heads, self.head_dim
        q = self.q_proj(query).view(B, L, H, D).transpose(1, 2)
        k = self.k_proj(key).view(B, S, H, D).transpose(1, 2)
        v = self.v_proj(value).view(B, S, H, D).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal)
        return self.out_proj(y.transpose(1, 2).reshape(B, L, E))
''',
        },
        fails=frozenset({"test_mha_small_example", "test_mha_self_attention", "test_mha_parameters",
                         "test_mha_no_bias", "test_mha_gradients"}),
    ),
}
