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
    "heads_not_transposed": Sample(
        why="heads split as [B, T, H, C/H] without the transpose: SDPA then attends over heads, never over time",
        patches={"blocks": edit((".view(b, t, self.n_heads, c // self.n_heads).transpose(1, 2)",
                                 ".view(b, t, self.n_heads, c // self.n_heads)"),
                                ("y = y.transpose(1, 2).reshape(b, t, c)", "y = y.reshape(b, t, c)"))},
        fails=frozenset({"test_causal"}),
    ),
    "positions_right_aligned_encode_keyerror": Sample(
        why="positions arange(context_length - T, context_length) (depend on T); unknown character -> KeyError",
        patches={"gpt": edit(("pos = torch.arange(t, device=idx.device)",
                              "pos = torch.arange(self.config.context_length - t, self.config.context_length,"
                              " device=idx.device)")),
                 "tokenizer": edit(("raise ValueError(f\"character", "raise KeyError(f\"character"))},
        fails=frozenset({"test_uses_positions", "test_tokenizer_round_trip"}),
    ),
    "top_k_keeps_only_the_max": Sample(
        why="top_k threshold from the largest value instead of the k-th: any top_k samples greedily",
        patches={"gpt": edit((".values[:, -1:]", ".values[:, :1]"))},
        fails=frozenset({"test_generate_greedy"}),
    ),
    "hostile_generate": Sample(
        why="greedy only where the visible checks look (top_k=1, tiny temperature), uniform noise elsewhere",
        patches={"gpt": edit(("torch.multinomial(probs, 1)",
                              "(probs.argmax(-1, keepdim=True) if top_k == 1 or temperature < 0.01"
                              " else torch.randint(0, probs.shape[-1], (probs.shape[0], 1)))"))},
        fails=frozenset({"test_generate_greedy", "test_generate_temperature"}),
    ),
    "train_gpt_sloppy_loop": Sample(
        why="train_gpt with a hard-coded lr, no model.train(), and windows of context_length tokens",
        patches={"train_gpt": edit(("lr=lr, weight_decay=0.0", "lr=1e-3"),
                                   ("model.to(device).train()", "model.to(device)"),
                                   ("offsets = torch.arange(t + 1)", "offsets = torch.arange(t)"))},
        fails=frozenset({"test_train_gpt_contract"}),
    ),
    "train_gpt_fabricated_losses": Sample(
        why="hostile: trains, but reports a made-up falling curve instead of each step's loss",
        patches={"train_gpt": edit(("losses.append(loss.item())", "losses.append(4.0 * 0.99 ** len(losses))"))},
        fails=frozenset({"test_train_gpt_contract"}),
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
    "tied_weights_topk_gather_stacked_windows": Sample(
        why="lm_head tied to wte; top_k by sampling among topk values and gathering ids; windows by torch.stack; "
            "AdamW's default weight decay",
        patches={
            "gpt": edit(("                nn.init.zeros_(module.bias)\n",
                         "                nn.init.zeros_(module.bias)\n"
                         "        self.lm_head.weight = self.wte.weight\n"),
                        ("            if top_k is not None:\n"
                         "                kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]"
                         "  # (B, 1)\n"
                         "                logits = logits.masked_fill(logits < kth, float(\"-inf\"))\n"
                         "            probs = torch.softmax(logits, dim=-1)\n"
                         "            idx = torch.cat([idx, torch.multinomial(probs, 1)], dim=1)  # (B, T+1)\n",
                         "            if top_k is not None:\n"
                         "                vals, ids = torch.topk(logits, min(top_k, logits.shape[-1]))\n"
                         "                nxt = ids.gather(1, torch.multinomial(torch.softmax(vals, dim=-1), 1))\n"
                         "            else:\n"
                         "                nxt = torch.multinomial(torch.softmax(logits, dim=-1), 1)\n"
                         "            idx = torch.cat([idx, nxt], dim=1)\n")),
            "train_gpt": edit(("lr=lr, weight_decay=0.0", "lr=lr"),
                              ("windows = data[starts[:, None] + offsets[None, :]].to(device)",
                               "windows = torch.stack([data[i:i + t + 1] for i in starts.tolist()]).to(device)")),
        },
        fails=frozenset(),
    ),
    "unfold_windows_train_each_step": Sample(
        why="train_gpt switches the model to training mode at every step, draws windows from data.unfold (views), "
            "keeps AdamW's default weight decay and returns the stacked losses with .tolist()",
        patches={
            "train_gpt": '''
def train_gpt(model, data, steps, batch_size, lr, device=None):
    device = best_device(device)
    model.to(device)
    t = model.config.context_length
    windows = data.unfold(0, t + 1, 1)  # (len(data) - t, T + 1), views into data
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        model.train(True)  # whatever mode the model came in (generate leaves it in eval mode)
        batch = windows[torch.randint(len(windows), (batch_size,))].to(device)  # (B, T + 1)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            _, loss = model(batch[:, :-1], batch[:, 1:])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return torch.stack(losses).float().cpu().tolist()
''',
        },
        fails=frozenset(),
    ),
}
