"""Wrong submissions for a09_gpt, as edits of the reference (the GPT cell is long)."""

from . import Sample, edit

SAMPLES = {
    "not_causal": Sample(
        why="attention without the causal mask",
        patches={"blocks": edit(("is_causal=True", "is_causal=False"))},
        fails=frozenset({"test_causal"}),
    ),
    "no_positions_default_init": Sample(
        why="no position embedding; PyTorch's default init (loss at init far from ln V)",
        patches={"gpt": edit(("self.wte(idx) + self.wpe(pos)", "self.wte(idx)"), ("std=0.02)", "std=1.0)"))},
        fails=frozenset({"test_uses_positions", "test_loss_at_init"}),
    ),
    "torch_mha_and_sloppy_generate": Sample(
        why="nn.MultiheadAttention (forbidden); generate without cropping, temperature or its check",
        forbidden_call="torch.nn.MultiheadAttention",
        patches={
            "gpt": edit(("if not temperature > 0:", "if False:"),
                        ("context = idx[:, -self.config.context_length:]", "context = idx"),
                        ("logits = logits[:, -1, :].float() / temperature", "logits = logits[:, -1, :].float()")),
            "blocks": edit(("        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=False)\n",
                            "        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=False)\n"
                            "        self.mha = nn.MultiheadAttention(config.d_model, config.n_heads,"
                            " batch_first=True)\n")),
        },
        fails=frozenset({"test_generate_crops_context", "test_generate_temperature",
                         "test_generate_rejects_bad_temperature", "test_forward_shapes"}),
    ),
    "unshifted_targets": Sample(
        why="train_gpt trains on targets equal to the inputs (no shift)",
        patches={"train_gpt": edit(("x, y = windows[:, :-1], windows[:, 1:]",
                                    "x, y = windows[:, :-1], windows[:, :-1]"))},
        fails=frozenset({"test_train_gpt_learns_corpus"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "biases_everywhere": Sample(
        why="GPT-2's biases in every Linear and LayerNorm (the reference has none)",
        patches={"blocks": edit((", bias=False)", ")")), "gpt": edit(("nn.LayerNorm(config.d_model, bias=False)",
                                                                     "nn.LayerNorm(config.d_model)"))},
        fails=frozenset(),
    ),
    "explicit_attention": Sample(
        why="attention written out (scores, causal mask, softmax, dropout) instead of SDPA",
        patches={"blocks": edit((
            "        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,\n"
            "                                           dropout_p=self.dropout if self.training else 0.0)"
            "  # (B, H, T, D)\n",
            "        att = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (B, H, T, T)\n"
            "        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()  # (T, T)\n"
            "        att = F.dropout(att.masked_fill(~causal, float('-inf')).softmax(dim=-1), self.dropout,"
            " self.training)\n"
            "        y = att @ v  # (B, H, T, D)\n"))},
        fails=frozenset(),
    ),
}
