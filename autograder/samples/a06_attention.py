"""Wrong submissions for a06_attention, as edits of the reference, and correct ones in other styles."""

from . import Sample, edit

SAMPLES = {
    "mask_bugs": Sample(
        why="bool mask inverted (True = blocked, torch's module convention), float mask multiplied, "
            "causal mask without the diagonal",
        patches={"scaled_dot_product_attention": edit(
            (".tril()  # (L, S), top-left aligned", ".tril(-1)  # (L, S), diagonal excluded"),
            ("scores.masked_fill(~attn_mask, float(\"-inf\"))  # True = attend",
             "scores.masked_fill(attn_mask, float(\"-inf\"))  # True = blocked"),
            ("scores = scores + attn_mask", "scores = scores * attn_mask"))},
        fails=frozenset({"test_sdpa_small_example", "test_sdpa_bool_mask", "test_sdpa_float_mask",
                         "test_sdpa_causal", "test_sdpa_causal_rectangular", "test_mha_masks", "test_mha_causal"}),
    ),
    "unscaled_naive_softmax": Sample(
        why="no 1/sqrt(E) scale and a softmax without max subtraction",
        patches={"scaled_dot_product_attention": edit(
            ("query @ key.transpose(-2, -1) / math.sqrt(E)", "query @ key.transpose(-2, -1)"),
            ("weights = torch.softmax(scores, dim=-1)",
             "weights = scores.exp() / scores.exp().sum(dim=-1, keepdim=True)"))},
        fails=frozenset({"test_sdpa_small_example", "test_sdpa_values", "test_sdpa_large_scores",
                         "test_sdpa_gradients", "test_mha_self_attention", "test_mha_small_example"}),
    ),
    "head_split_by_view": Sample(
        why="heads split with .view(B, H, L, D) (no transpose), no ValueError for indivisible embed_dim",
        patches={"multihead_attention": edit(
            ("        if embed_dim % num_heads != 0:\n            raise ValueError(f\"embed_dim ({embed_dim}) must be "
             "divisible by num_heads ({num_heads})\")\n", ""),
            ("reshape(B, L, H, D).transpose(1, 2)", "view(B, H, L, D)"),
            ("reshape(B, S, H, D).transpose(1, 2)", "view(B, H, S, D)"),
            ("y.transpose(1, 2).reshape(B, L, E)", "y.reshape(B, L, E)"))},
        fails=frozenset({"test_mha_small_example", "test_mha_self_attention", "test_mha_cross_attention",
                         "test_mha_embed_dim_not_divisible"}),
    ),
    "torch_sdpa_and_bias_ignored": Sample(
        forbidden_call="torch.nn.functional.scaled_dot_product_attention",
        why="MultiheadAttention calls F.scaled_dot_product_attention; bias=False ignored",
        patches={"multihead_attention": edit(
            (", bias=bias)", ")"), ("y = scaled_dot_product_attention(", "y = F.scaled_dot_product_attention("))},
        fails=frozenset({"test_mha_small_example", "test_mha_self_attention", "test_mha_parameters",
                         "test_mha_no_bias", "test_mha_gradients"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "einsum_additive_mask_manual_softmax": Sample(
        why="einsum scores; both masks turned into one additive bias with torch.where; a hand-written stable "
            "softmax (max subtracted); MHA projections made in a loop, heads split with unflatten/permute",
        patches={
            "scaled_dot_product_attention": '''
def _stable_softmax(s, dim=-1):
    e = torch.exp(s - s.amax(dim=dim, keepdim=True))
    return e / e.sum(dim=dim, keepdim=True)


def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False):
    L, S = query.size(-2), key.size(-2)
    scores = torch.einsum("...le,...se->...ls", query, key) * query.size(-1) ** -0.5
    bias = torch.zeros(L, S, dtype=scores.dtype, device=scores.device)
    if is_causal:
        future = torch.arange(S, device=scores.device)[None, :] > torch.arange(L, device=scores.device)[:, None]
        bias = bias.masked_fill(future, -math.inf)
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            attn_mask = torch.where(attn_mask, 0.0, -math.inf).to(scores.dtype)
        bias = bias + attn_mask
    return torch.einsum("...ls,...sv->...lv", _stable_softmax(scores + bias), value)
''',
            "multihead_attention": edit(
                ("        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)\n"
                 "        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)\n"
                 "        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)\n"
                 "        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)\n",
                 "        for name in (\"q_proj\", \"k_proj\", \"v_proj\", \"out_proj\"):\n"
                 "            setattr(self, name, nn.Linear(embed_dim, embed_dim, bias=bias))\n"),
                ("reshape(B, L, H, D).transpose(1, 2)", "unflatten(-1, (H, D)).permute(0, 2, 1, 3)"),
                ("reshape(B, S, H, D).transpose(1, 2)", "unflatten(-1, (H, D)).permute(0, 2, 1, 3)"),
                ("y.transpose(1, 2).reshape(B, L, E)", "y.permute(0, 2, 1, 3).flatten(2)")),
        },
        fails=frozenset(),
    ),
    "float64_scores_head_loop": Sample(
        why="scores and weights computed in float64 and cast back; MHA attends head by head in a Python "
            "loop over column slices (the mask expanded to [B, H, L, S]) and concatenates",
        patches={
            "scaled_dot_product_attention": edit(
                ("scores = query @ key.transpose(-2, -1) / math.sqrt(E)",
                 "scores = query.double() @ key.double().transpose(-2, -1) / math.sqrt(E)"),
                ("return weights @ value", "return (weights @ value.double()).to(value.dtype)")),
            "multihead_attention": edit((
                "        q = self.q_proj(query).reshape(B, L, H, D).transpose(1, 2)  # (B, H, L, D)\n"
                "        k = self.k_proj(key).reshape(B, S, H, D).transpose(1, 2)  # (B, H, S, D)\n"
                "        v = self.v_proj(value).reshape(B, S, H, D).transpose(1, 2)  # (B, H, S, D)\n"
                "        y = scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal)"
                "  # (B, H, L, D)\n"
                "        y = y.transpose(1, 2).reshape(B, L, E)  # (B, L, H, D) -> (B, L, E): heads side by side\n",
                "        q, k, v = self.q_proj(query), self.k_proj(key), self.v_proj(value)\n"
                "        mask = None if attn_mask is None else attn_mask.expand(B, H, L, S)\n"
                "        outs = []\n"
                "        for h in range(H):\n"
                "            cols = slice(h * D, (h + 1) * D)\n"
                "            outs.append(scaled_dot_product_attention(q[..., cols], k[..., cols], v[..., cols],\n"
                "                                                     attn_mask=None if mask is None else mask[:, h],\n"
                "                                                     is_causal=is_causal))\n"
                "        y = torch.cat(outs, dim=-1)  # (B, L, E)\n")),
        },
        fails=frozenset(),
    ),
    "scaled_query_where_mask": Sample(
        why="query scaled before the product, bool masks applied with torch.where, a causal mask from "
            "torch.tril(torch.ones(L, S)).bool(); MHA heads split with view/permute and merged with contiguous().view",
        patches={
            "scaled_dot_product_attention": edit(
                ("scores = query @ key.transpose(-2, -1) / math.sqrt(E)",
                 "scores = (query / math.sqrt(E)) @ key.transpose(-2, -1)"),
                ("torch.ones(L, S, dtype=torch.bool, device=query.device).tril()",
                 "torch.tril(torch.ones(L, S, device=query.device)).bool()"),
                ("scores.masked_fill(~allowed, float(\"-inf\"))",
                 "torch.where(allowed, scores, float(\"-inf\"))"),
                ("scores.masked_fill(~attn_mask, float(\"-inf\"))",
                 "torch.where(attn_mask, scores, float(\"-inf\"))")),
            "multihead_attention": edit(
                ("if embed_dim % num_heads != 0:", "if embed_dim // num_heads * num_heads != embed_dim:"),
                ("reshape(B, L, H, D).transpose(1, 2)", "view(B, -1, H, D).permute(0, 2, 1, 3)"),
                ("reshape(B, S, H, D).transpose(1, 2)", "view(B, -1, H, D).permute(0, 2, 1, 3)"),
                ("y.transpose(1, 2).reshape(B, L, E)", "y.permute(0, 2, 1, 3).contiguous().view(B, L, E)")),
        },
        fails=frozenset(),
    ),
    "flattened_bmm_own_projections": Sample(
        why="SDPA with the leading dims flattened into one batch for torch.bmm, the causal mask as an additive "
            "bias; MHA with hand-made projection modules (weight/bias Parameters), heads split with movedim; "
            "float64 after .double()",
        patches={
            "scaled_dot_product_attention": '''
def scaled_dot_product_attention(query, key, value, attn_mask=None, is_causal=False):
    *batch, L, E = query.shape
    S, Ev = key.shape[-2], value.shape[-1]
    q, k, v = query.reshape(-1, L, E), key.reshape(-1, S, E), value.reshape(-1, S, Ev)  # (N, ., .)
    scores = torch.bmm(q, k.transpose(1, 2)).view(*batch, L, S) * (1.0 / math.sqrt(E))  # (..., L, S)
    if is_causal:
        blocked = ~torch.ones(L, S, dtype=torch.bool).tril()
        scores = scores + torch.zeros(L, S, dtype=scores.dtype).masked_fill(blocked, float("-inf"))
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, float("-inf")) if attn_mask.dtype == torch.bool else scores + attn_mask
    weights = torch.softmax(scores, dim=-1).reshape(-1, L, S)  # (N, L, S)
    return torch.bmm(weights, v).view(*batch, L, Ev)
''',
            "multihead_attention": '''
class _Projection(nn.Module):
    def __init__(self, dim, bias):
        super().__init__()
        bound = 1 / math.sqrt(dim)
        self.weight = nn.Parameter(torch.empty(dim, dim).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def forward(self, x):
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias


class MultiheadAttention(nn.Module):
    def __init__(self, embed_dim, num_heads, bias=True):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"{num_heads} heads do not divide embed_dim={embed_dim}")
        self.num_heads = num_heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (_Projection(embed_dim, bias) for _ in range(4))

    def forward(self, query, key, value, attn_mask=None, is_causal=False):
        def heads(x):  # (B, T, E) -> (B, H, T, D)
            return x.unflatten(-1, (self.num_heads, -1)).movedim(2, 1)

        y = scaled_dot_product_attention(heads(self.q_proj(query)), heads(self.k_proj(key)),
                                         heads(self.v_proj(value)), attn_mask=attn_mask, is_causal=is_causal)
        return self.out_proj(y.movedim(1, 2).flatten(2))  # (B, L, E)
''',
        },
        fails=frozenset(),
    ),
}
