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
                                   ("offsets = torch.arange(context_length + 1)",
                                    "offsets = torch.arange(context_length)"))},
        fails=frozenset({"test_train_gpt_contract"}),
    ),
    "train_gpt_fabricated_losses": Sample(
        why="hostile: trains, but reports a made-up falling curve instead of each step's loss",
        patches={"train_gpt": edit(("losses.append(loss.item())", "losses.append(4.0 * 0.99 ** len(losses))"))},
        fails=frozenset({"test_train_gpt_contract"}),
    ),
    "train_gpt_never_zeroes_gradients": Sample(
        why="train_gpt never zeroes the gradients: they accumulate across steps (clipping and AdamW keep the "
            "loss falling, so only the recorded optimizer steps show it)",
        patches={"train_gpt": edit(("        opt.zero_grad(set_to_none=True)\n", ""))},
        fails=frozenset({"test_train_gpt_fresh_gradients", "test_train_gpt_warmup_cosine", "test_train_gpt_clipping"}),
    ),
    "warmup_off_by_one": Sample(
        why="warm-up max_lr * (step + 1) / warmup_steps (step 0 is not 0)",
        patches={"get_lr": edit(("return max_lr * step / warmup_steps", "return max_lr * (step + 1) / warmup_steps"))},
        fails=frozenset({"test_get_lr_small_example", "test_get_lr_schedule", "test_train_gpt_warmup_cosine"}),
    ),
    "cosine_ignores_min_lr": Sample(
        why="the cosine decays to 0 whatever min_lr (min_lr only after total_steps)",
        patches={"get_lr": edit(("return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (max_lr - min_lr)",
                                 "return 0.5 * (1.0 + math.cos(math.pi * progress)) * max_lr"))},
        fails=frozenset({"test_get_lr_small_example", "test_get_lr_min_lr_and_errors", "test_train_gpt_warmup_cosine"}),
    ),
    "train_gpt_schedule_without_floor_and_always_on": Sample(
        why="train_gpt calls get_lr without min_lr=lr / 10, and applies the cosine even with warmup_steps=0",
        patches={"train_gpt": edit(("        if warmup_steps > 0:\n            for group",
                                    "        if True:\n            for group"),
                                   ("get_lr(step, lr, warmup_steps, steps, min_lr=lr / 10)",
                                    "get_lr(step, lr, warmup_steps, steps)"))},
        fails=frozenset({"test_train_gpt_fresh_gradients", "test_train_gpt_warmup_cosine"}),
    ),
    "clip_per_parameter": Sample(
        why="clips each gradient to max_norm by its own norm instead of one global norm",
        patches={"clip_grad_norm": edit((
            "    if total_norm > max_norm:\n"
            "        scale = max_norm / (total_norm + 1e-6)  # ()\n"
            "        for g in grads:\n"
            "            g.mul_(scale.to(g.dtype))\n",
            "    for g in grads:\n"
            "        n = torch.linalg.vector_norm(g)\n"
            "        if n > max_norm:\n"
            "            g.mul_(max_norm / (n + 1e-6))\n"))},
        fails=frozenset({"test_clip_grad_norm_small_example", "test_clip_grad_norm_matches_torch",
                         "test_train_gpt_clipping"}),
    ),
    "clip_without_eps": Sample(
        why="clipping factor max_norm / total_norm, without torch's 1e-6",
        patches={"clip_grad_norm": edit(("max_norm / (total_norm + 1e-6)", "max_norm / total_norm"))},
        fails=frozenset({"test_clip_grad_norm_threshold_and_eps"}),
    ),
    "clip_always_rescales": Sample(
        why="rescales every gradient to norm max_norm, also when the norm is below it (scales up)",
        patches={"clip_grad_norm": edit(("    if total_norm > max_norm:\n", "    if True:\n"))},
        fails=frozenset({"test_clip_grad_norm_small_example", "test_clip_grad_norm_threshold_and_eps",
                         "test_clip_grad_norm_float64", "test_train_gpt_clipping"}),
    ),
    "clip_with_torch": Sample(
        why="clip_grad_norm calls torch.nn.utils.clip_grad_norm_ (forbidden)",
        forbidden_call="torch.nn.utils.clip_grad_norm_",
        patches={"clip_grad_norm": edit(("    if isinstance(parameters, torch.Tensor):\n",
                                         "    return torch.nn.utils.clip_grad_norm_(parameters, max_norm)\n"
                                         "    if isinstance(parameters, torch.Tensor):\n"))},
        fails=frozenset({"test_clip_grad_norm_small_example", "test_clip_grad_norm_matches_torch",
                         "test_train_gpt_clipping"}),
    ),
    "clip_with_torch_by_getattr": Sample(
        why="hostile: reaches torch's clip_grad_norm_ by a computed attribute name (no static trace; the worker's "
            "wrapper traps the call)",
        forbidden_call="torch.nn.utils.clip_grad_norm_",
        patches={"clip_grad_norm": edit(("    if isinstance(parameters, torch.Tensor):\n",
                                         "    return getattr(torch.nn.utils, 'clip_grad' + '_norm_')(parameters,"
                                         " max_norm)\n"
                                         "    if isinstance(parameters, torch.Tensor):\n"))},
        fails=frozenset({"test_clip_grad_norm_small_example", "test_clip_grad_norm_matches_torch",
                         "test_train_gpt_clipping"}),
    ),
    "lr_scheduler_in_train_gpt": Sample(
        why="train_gpt schedules the rate with torch.optim.lr_scheduler.LambdaLR (forbidden)",
        forbidden_call="torch.optim.lr_scheduler",
        patches={"train_gpt": edit((
            "    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)\n",
            "    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)\n"
            "    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: get_lr(s, 1.0, warmup_steps, steps, 0.1)"
            " if warmup_steps > 0 else 1.0)\n"),
            ("        losses.append(loss.item())\n", "        sched.step()\n        losses.append(loss.item())\n"),
            ("        if warmup_steps > 0:\n            for group in opt.param_groups:\n"
             "                group[\"lr\"] = get_lr(step, lr, warmup_steps, steps, min_lr=lr / 10)\n", ""))},
        fails=frozenset({"test_train_gpt_contract", "test_train_gpt_fresh_gradients", "test_train_gpt_warmup_cosine"}),
    ),
    "train_gpt_clips_after_the_step": Sample(
        why="gradients clipped after optimizer.step() (the step sees them unclipped)",
        patches={"train_gpt": edit((
            "        if max_grad_norm is not None:\n"
            "            clip_grad_norm(model.parameters(), max_grad_norm)\n", ""),
            ("        opt.step()\n", "        opt.step()\n        if max_grad_norm is not None:\n"
             "            clip_grad_norm(model.parameters(), max_grad_norm)\n"))},
        fails=frozenset({"test_train_gpt_clipping"}),
    ),
    "estimate_loss_in_train_mode_with_grad": Sample(
        why="estimate_loss neither switches to eval mode nor turns off autograd",
        patches={"estimate_loss": edit(("    model.eval()\n", ""),
                                       ("        with torch.no_grad():\n", "        if True:\n"))},
        fails=frozenset({"test_estimate_loss_eval_no_grad"}),
    ),
    "estimate_loss_leaves_train_mode": Sample(
        why="estimate_loss ends with model.train() instead of restoring the mode the model came in",
        patches={"estimate_loss": edit(("model.train(was_training)", "model.train()"))},
        fails=frozenset({"test_estimate_loss_small_example", "test_estimate_loss_eval_no_grad"}),
    ),
    "estimate_loss_one_batch": Sample(
        why="estimate_loss evaluates one batch and returns its loss whatever iters",
        patches={"estimate_loss": edit(("            for _ in range(iters):", "            for _ in range(1):"),
                                       ("    return total / iters", "    return total"))},
        fails=frozenset({"test_estimate_loss_value"}),
    ),
    "top_p_drops_the_crossing_token": Sample(
        why="the nucleus keeps the tokens whose cumulative probability stays <= top_p, dropping the one that "
            "crosses it",
        patches={"gpt": edit(("sorted_probs.masked_fill(before >= top_p, 0.0)",
                              "sorted_probs.masked_fill(sorted_probs.cumsum(dim=-1) > top_p, 0.0)"))},
        fails=frozenset({"test_top_p_small_example", "test_top_p_keeps_crossing_token"}),
    ),
    "top_p_before_temperature_and_top_k": Sample(
        why="the nucleus is taken on softmax(logits) before the temperature and top_k are applied",
        patches={"gpt": edit(
            ("            logits = logits[:, -1, :].float() / temperature  # (B, V)\n",
             "            logits = logits[:, -1, :].float()  # (B, V)\n"
             "            if top_p is not None and top_p < 1:\n"
             "                sp, order = torch.softmax(logits, dim=-1).sort(dim=-1, descending=True)\n"
             "                drop = torch.zeros_like(sp, dtype=torch.bool).scatter(-1, order,"
             " (sp.cumsum(-1) - sp) >= top_p)\n"
             "                logits = logits.masked_fill(drop, float('-inf'))\n"
             "            logits = logits / temperature\n"),
            ("            if top_p is not None and top_p < 1:\n                sorted_probs",
             "            if False:\n                sorted_probs"))},
        fails=frozenset({"test_top_p_after_temperature_and_top_k"}),
    ),
    "top_p_accepts_zero": Sample(
        why="top_p = 0 accepted (and then greedy) instead of a ValueError",
        patches={"gpt": edit(("if top_p is not None and not 0 < top_p <= 1:",
                              "if top_p is not None and not 0 <= top_p <= 1:"),
                             ("masked_fill(before >= top_p, 0.0)",
                              "masked_fill((before >= top_p) & (before > 0), 0.0)"))},
        fails=frozenset({"test_top_p_small_example", "test_top_p_one_keeps_all_and_rejects_bad_values"}),
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
        why="lm_head tied to wte; top_k by sampling among topk values (the nucleus among them) and gathering ids; "
            "windows by torch.stack; "
            "AdamW's default weight decay",
        patches={
            "gpt": edit(("                nn.init.zeros_(module.bias)\n",
                         "                nn.init.zeros_(module.bias)\n"
                         "        self.lm_head.weight = self.wte.weight\n"),
                        ("            if top_k is not None:\n"
                         "                kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]"
                         "  # (B, 1)\n"
                         "                logits = logits.masked_fill(logits < kth, float(\"-inf\"))\n"
                         "            probs = torch.softmax(logits, dim=-1)  # (B, V)\n",
                         "            ids = None\n"
                         "            if top_k is not None:\n"
                         "                logits, ids = torch.topk(logits, min(top_k, logits.shape[-1]))  # (B, k)\n"
                         "            probs = torch.softmax(logits, dim=-1)  # (B, k or V)\n"),
                        ("            idx = torch.cat([idx, torch.multinomial(probs, 1)], dim=1)",
                         "            nxt = torch.multinomial(probs, 1)  # (B, 1), among the top_k if given\n"
                         "            idx = torch.cat([idx, nxt if ids is None else ids.gather(1, nxt)], dim=1)")),
            "train_gpt": edit(("lr=lr, weight_decay=0.0", "lr=lr"),
                              ("windows = data[starts[:, None] + offsets[None, :]].to(device)",
                               "windows = torch.stack([data[i:i + context_length + 1] for i in starts.tolist()])"
                               ".to(device)")),
        },
        fails=frozenset(),
    ),
    "unfold_windows_train_each_step": Sample(
        why="train_gpt switches the model to training mode at every step, draws windows from data.unfold (views), "
            "sets the rate at the top of every step (lr itself without warm-up), zeroes the gradients after the step, "
            "keeps AdamW's default weight decay and returns the stacked losses with .tolist()",
        patches={
            "train_gpt": '''
def get_batch(data, batch_size, context_length, device):
    windows = data.unfold(0, context_length + 1, 1)  # (len(data) - T, T + 1), views into data
    batch = windows[torch.randint(len(windows), (batch_size,))].to(device)  # (B, T + 1)
    return batch[:, :-1], batch[:, 1:]


def train_gpt(model, data, steps, batch_size, lr, device=None, warmup_steps=0, max_grad_norm=None):
    device = best_device(device)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        rate = lr if warmup_steps == 0 else get_lr(step, lr, warmup_steps, steps, lr / 10)
        for group in optimizer.param_groups:
            group["lr"] = rate
        model.train(True)  # whatever mode the model came in (generate leaves it in eval mode)
        x, y = get_batch(data, batch_size, model.config.context_length, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            _, loss = model(x, y)
        loss.backward()
        if max_grad_norm:
            clip_grad_norm(list(model.parameters()), max_grad_norm)
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.detach())
    return torch.stack(losses).float().cpu().tolist()
''',
        },
        fails=frozenset(),
    ),
    "float64_clip_ascending_nucleus_clamped_schedule": Sample(
        why="clip_grad_norm from a float64 vector of per-gradient norms, returning a Python float; the nucleus "
            "from an ascending sort (a token is dropped when the mass above it, 1 - its tail sum, reaches top_p); "
            "get_lr with a clamped progress; estimate_loss under inference_mode, computing the cross-entropy "
            "from the logits itself, averaging with statistics.fmean",
        patches={
            "clip_grad_norm": '''
def clip_grad_norm(parameters, max_norm):
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if len(grads) == 0:
        return 0.0
    norms = torch.stack([torch.linalg.vector_norm(g.to(torch.float64)) for g in grads])  # (n,) float64
    total = torch.linalg.vector_norm(norms)
    if total.item() > max_norm:
        factor = max_norm / (total + 1e-6)
        for g in grads:
            g.mul_(factor.to(g.dtype))
    return total.item()
''',
            "gpt": edit(("sorted_probs, order = probs.sort(dim=-1, descending=True)",
                         "asc, order = torch.sort(probs, dim=-1)"),
                        ("before = sorted_probs.cumsum(dim=-1) - sorted_probs", "tail = torch.cumsum(asc, dim=-1)"),
                        ("sorted_probs = sorted_probs.masked_fill(before >= top_p, 0.0)",
                         "asc = torch.where(1.0 - tail >= top_p, torch.zeros_like(asc), asc)"),
                        ("probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)",
                         "probs = torch.empty_like(probs).scatter_(-1, order, asc)")),
            "get_lr": '''
def get_lr(step, max_lr, warmup_steps, total_steps, min_lr=0.0):
    if warmup_steps < 0 or warmup_steps >= total_steps:
        raise ValueError("bad schedule")
    if step < warmup_steps:
        return step / warmup_steps * max_lr
    progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
    return min_lr + (max_lr - min_lr) * (1 + math.cos(progress * math.pi)) / 2
''',
            "estimate_loss": '''
import statistics


def estimate_loss(model, data, batch_size, iters):
    mode = model.training
    model.train(False)
    device = next(model.parameters()).device
    values = []
    with torch.inference_mode():
        for _ in range(iters):
            x, y = get_batch(data, batch_size, model.config.context_length, device)
            logits, _ = model(x)
            values.append(F.cross_entropy(logits.flatten(0, 1).float(), y.flatten()).item())
    model.train(mode)
    return statistics.fmean(values)
''',
        },
        fails=frozenset(),
    ),
}
