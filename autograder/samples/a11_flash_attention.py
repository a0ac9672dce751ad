"""Wrong submissions for a11_flash_attention, as edits of the reference, and correct ones in other styles."""

from . import Sample, edit

SAMPLES = {
    "no_rescaling": Sample(
        why="the running sum and accumulator are not multiplied by exp(m_old - m_new) when the max grows",
        patches={"flash_attention": edit(
            ("l = alpha * l + p.sum(dim=-1)", "l = l + p.sum(dim=-1)"),
            ("acc = alpha[..., None] * acc + p @ value", "acc = acc + p @ value"))},
        fails=frozenset({"test_small_example", "test_values", "test_block_sizes", "test_large_scores",
                         "test_causal", "test_gradients", "test_memory_forward"}),
    ),
    "max_from_zero_block_local_causal": Sample(
        why="running max initialised to 0 (NaN when every score underflows) and the causal mask compares the "
            "block-local key index c with the query index instead of start + c",
        patches={"flash_attention": edit(
            ('m = query.new_full(query.shape[:-1], float("-inf"))', "m = query.new_zeros(query.shape[:-1])"),
            ("cols = torch.arange(start, stop, device=query.device)",
             "cols = torch.arange(stop - start, device=query.device)"))},
        fails=frozenset({"test_negative_scores", "test_causal", "test_causal_rectangular", "test_gradients_causal",
                         "test_small_example", "test_memory_small_example"}),
    ),
    "naive_backward": Sample(
        why="the backward recomputes the whole [L, S] matrix of probabilities at once (one block of all keys)",
        patches={"flash_attention": edit(
            ("        for start in range(0, last, ctx.block_size):\n"
             "            stop = min(start + ctx.block_size, S)\n"
             "            k, v = key",
             "        for start in range(0, last, S):\n"
             "            stop = S\n"
             "            k, v = key"))},
        fails=frozenset({"test_memory_backward", "test_memory_small_example"}),
    ),
    "autograd_through_the_loop": Sample(
        why="flash_attention runs the forward loop outside any autograd.Function: autograd differentiates it "
            "and saves every block",
        patches={"flash_attention": edit(
            ("    return FlashAttentionFunction.apply(query, key, value, is_causal, block_size)",
             "    class Ctx:\n"
             "        def save_for_backward(self, *tensors):\n"
             "            self.saved = tensors\n"
             "\n"
             "    return FlashAttentionFunction.forward(Ctx(), query, key, value, is_causal, block_size)"))},
        fails=frozenset({"test_custom_function", "test_forward_keeps_little", "test_memory_small_example"}),
    ),
    "sdpa_for_short_keys_and_naive_bytes": Sample(
        forbidden_call="torch.nn.functional.scaled_dot_product_attention",
        why="F.scaled_dot_product_attention as a shortcut when all keys fit in one block; attention_memory_bytes "
            "returns the naive 4*L*S",
        patches={
            "flash_attention": edit((
                "    return FlashAttentionFunction.apply(query, key, value, is_causal, block_size)",
                "    if key.shape[-2] <= block_size:\n"
                "        return F.scaled_dot_product_attention(query, key, value, is_causal=is_causal)\n"
                "    return FlashAttentionFunction.apply(query, key, value, is_causal, block_size)")),
            "attention_memory_bytes": edit(("return 4 * (scores + stats + accumulator)", "return 4 * L * S")),
        },
        fails=frozenset({"test_values", "test_block_sizes", "test_causal_rectangular", "test_amb_far_below_naive",
                         "test_amb_linear_growth", "test_amb_small_example"}),
    ),
    "per_block_division_and_full_mask": Sample(
        why="each block's contribution divided by its own partial sum (no single division at the end), and the "
            "causal mask built once as a full [L, S] tensor",
        patches={"flash_attention": edit(
            ("acc = alpha[..., None] * acc + p @ value[..., start:stop, :]  # (..., L, Ev)",
             "acc = alpha[..., None] * acc + p @ value[..., start:stop, :] / p.sum(dim=-1, keepdim=True)"),
            ("out = acc / l[..., None]", "out = acc / len(range(0, last, block_size))"),
            ("        rows = torch.arange(query.shape[-2], device=query.device)[:, None]  # (L, 1) query index i\n"
             "        cols = torch.arange(start, stop, device=query.device)  # (b,) key index j\n"
             "        z = z.masked_fill(cols > rows, float(\"-inf\"))",
             "        full = ~torch.ones(query.shape[-2], key.shape[-2], dtype=torch.bool).tril()\n"
             "        z = z.masked_fill(full[:, start:stop], float(\"-inf\"))"))},
        fails=frozenset({"test_values", "test_block_sizes", "test_causal", "test_small_example",
                         "test_memory_forward"}),
    ),
    "dropped_last_block_float32_state": Sample(
        why="the last partial block of keys is dropped, and the float64 path computes in float32",
        patches={"flash_attention": edit(
            ("        for start in range(0, last, block_size):\n            stop = min(start + block_size, S)",
             "        for start in range(0, max(last - block_size + 1, 1), block_size):\n"
             "            stop = min(start + block_size, S)"),
            ("    z = query @ key[..., start:stop, :].transpose(-2, -1) / math.sqrt(query.shape[-1])  # (..., L, b)",
             "    z = (query.float() @ key[..., start:stop, :].float().transpose(-2, -1) / math.sqrt(query.shape[-1]))"
             ".to(query.dtype)"))},
        fails=frozenset({"test_values", "test_block_sizes", "test_float64", "test_small_example"}),
    ),
    "backward_without_D": Sample(
        why="the backward forgets the softmax Jacobian's row term D = rowsum(dO * O): dZ = P * dP",
        patches={"flash_attention": edit(("dz = p * (grad_out @ v.transpose(-2, -1) - D[..., None])",
                                          "dz = p * (grad_out @ v.transpose(-2, -1))"))},
        fails=frozenset({"test_gradients", "test_gradients_causal", "test_small_example", "test_memory_backward",
                         "test_custom_function"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "flash2_query_and_key_tiles": Sample(
        why="FlashAttention-2's 2-D tiling: an outer loop over query tiles and an inner one over key tiles (causal "
            "tiles above the diagonal skipped), output written tile by tile; the backward loops over key tiles "
            "outside and query tiles inside (FA-2's order), dQ accumulated in place; memory counted per tile",
        patches={
            "flash_attention": '''
def _tile(query, key, qs, qe, ks, ke, is_causal):
    """Scaled scores of queries qs:qe against keys ks:ke, [..., bq, bk], causal entries at -inf."""
    z = torch.matmul(query[..., qs:qe, :], key[..., ks:ke, :].mT) * query.shape[-1] ** -0.5
    if is_causal:
        i = torch.arange(qs, qe, device=query.device).unsqueeze(-1)  # (bq, 1)
        j = torch.arange(ks, ke, device=query.device)  # (bk,)
        z = torch.where(j > i, float("-inf"), z)
    return z


class FlashAttentionFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, query, key, value, is_causal, block_size):
        L, S = query.shape[-2], key.shape[-2]
        out = query.new_empty(*query.shape[:-1], value.shape[-1])  # (..., L, Ev)
        lse = query.new_empty(query.shape[:-1])  # (..., L)
        for qs in range(0, L, block_size):
            qe = min(qs + block_size, L)
            m = query.new_full((*query.shape[:-2], qe - qs), -math.inf)  # (..., bq)
            l = torch.zeros_like(m)
            acc = query.new_zeros(*query.shape[:-2], qe - qs, value.shape[-1])  # (..., bq, Ev)
            for ks in range(0, S, block_size):
                if is_causal and ks > qe - 1:
                    break  # every key of this tile is in the future of every query of the tile
                ke = min(ks + block_size, S)
                z = _tile(query, key, qs, qe, ks, ke, is_causal)
                m_new = torch.maximum(m, z.max(dim=-1).values)
                scale_old = torch.exp(m - m_new)
                p = torch.exp(z - m_new.unsqueeze(-1))
                l = l * scale_old + p.sum(-1)
                acc = acc * scale_old.unsqueeze(-1) + torch.matmul(p, value[..., ks:ke, :])
                m = m_new
            out[..., qs:qe, :] = acc / l.unsqueeze(-1)
            lse[..., qs:qe] = m + l.log()
        ctx.save_for_backward(query, key, value, out, lse)
        ctx.is_causal, ctx.block_size = is_causal, block_size
        return out

    @staticmethod
    def backward(ctx, grad_out):
        query, key, value, out, lse = ctx.saved_tensors
        L, S, bs = query.shape[-2], key.shape[-2], ctx.block_size
        scale = query.shape[-1] ** -0.5
        delta = (grad_out * out).sum(-1)  # (..., L)
        dq, dk, dv = torch.zeros_like(query), torch.zeros_like(key), torch.zeros_like(value)
        for ks in range(0, S, bs):
            ke = min(ks + bs, S)
            for qs in range(0, L, bs):
                qe = min(qs + bs, L)
                if ctx.is_causal and ks > qe - 1:
                    continue
                p = torch.exp(_tile(query, key, qs, qe, ks, ke, ctx.is_causal) - lse[..., qs:qe, None])
                do = grad_out[..., qs:qe, :]
                dv[..., ks:ke, :] += p.mT @ do
                dz = p * (do @ value[..., ks:ke, :].mT - delta[..., qs:qe, None])
                dq[..., qs:qe, :] += dz @ key[..., ks:ke, :] * scale
                dk[..., ks:ke, :] += dz.mT @ query[..., qs:qe, :] * scale
        return dq, dk, dv, None, None


def flash_attention(query, key, value, is_causal=False, block_size=64):
    return FlashAttentionFunction.apply(query, key, value, is_causal, block_size)
''',
            "attention_memory_bytes": '''
def attention_memory_bytes(L, S, E, block_size):
    bq, bk = min(L, block_size), min(S, block_size)
    return 4 * (bq * bk + 2 * bq + bq * E) + 4 * L  # one tile of scores, its m, l and accumulator; the lse
''',
        },
        fails=frozenset(),
    ),
    "einsum_flat_running_lse": Sample(
        why="leading dims flattened into one batch (reshape, so a view node sits above the Function), einsum "
            "products, a running log-sum-exp updated with logaddexp and a normalised accumulator instead of (m, l); "
            "the backward walks the key blocks last to first; float bytes counted as a float",
        patches={
            "flash_attention": '''
class _Flash(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, is_causal, block_size):
        n, L, E = q.shape
        S = k.shape[1]
        lse = torch.full((n, L), float("-inf"), dtype=q.dtype)  # (N, L)
        acc = torch.zeros(n, L, v.shape[-1], dtype=q.dtype)  # (N, L, Ev), always normalised
        i = torch.arange(L).view(L, 1)  # (L, 1)
        for s0 in range(0, S, block_size):
            s1 = min(S, s0 + block_size)
            z = torch.einsum("nle,nse->nls", q, k[:, s0:s1]) / math.sqrt(E)  # (N, L, b)
            if is_causal:
                z = z.masked_fill(torch.arange(s0, s1).view(1, -1) > i, float("-inf"))
            blk = torch.logsumexp(z, dim=-1)  # (N, L), -inf for rows that see nothing here
            new = torch.logaddexp(lse, blk)
            w_old = torch.exp(lse - new).nan_to_num(0.0)  # -inf - -inf: nothing seen at all yet
            p = torch.exp(z - new.unsqueeze(-1)).nan_to_num(0.0)
            acc = acc * w_old.unsqueeze(-1) + torch.einsum("nls,nsv->nlv", p, v[:, s0:s1])
            lse = new
        ctx.save_for_backward(q, k, v, acc, lse)
        ctx.causal, ctx.bs = is_causal, block_size
        return acc

    @staticmethod
    def backward(ctx, do):
        q, k, v, o, lse = ctx.saved_tensors
        n, L, E = q.shape
        S = k.shape[1]
        rowdot = torch.einsum("nlv,nlv->nl", do, o)  # (N, L)
        dq = torch.zeros_like(q)
        dks, dvs = [], []
        i = torch.arange(L).view(L, 1)
        for s0 in reversed(range(0, S, ctx.bs)):
            s1 = min(S, s0 + ctx.bs)
            z = torch.einsum("nle,nse->nls", q, k[:, s0:s1]) / math.sqrt(E)
            if ctx.causal:
                z = z.masked_fill(torch.arange(s0, s1).view(1, -1) > i, float("-inf"))
            p = torch.exp(z - lse.unsqueeze(-1))  # (N, L, b)
            dvs.append(torch.einsum("nls,nlv->nsv", p, do))
            dz = p * (torch.einsum("nlv,nsv->nls", do, v[:, s0:s1]) - rowdot.unsqueeze(-1))
            dq = dq + torch.einsum("nls,nse->nle", dz, k[:, s0:s1]) / math.sqrt(E)
            dks.append(torch.einsum("nls,nle->nse", dz, q) / math.sqrt(E))
        return dq, torch.cat(dks[::-1], dim=1), torch.cat(dvs[::-1], dim=1), None, None


def flash_attention(query, key, value, is_causal=False, block_size=64):
    *batch, L, E = query.shape
    S, Ev = key.shape[-2], value.shape[-1]
    out = _Flash.apply(query.reshape(-1, L, E), key.reshape(-1, S, E), value.reshape(-1, S, Ev), is_causal,
                       block_size)  # (N, L, Ev)
    return out.reshape(*batch, L, Ev)
''',
            "attention_memory_bytes": '''
def attention_memory_bytes(L, S, E, block_size):
    floats = L * block_size + L + L * E  # a block of scores, the running log-sum-exp, the accumulator
    return 4.0 * max(floats, min(L, block_size) * min(S, block_size))
''',
        },
        fails=frozenset(),
    ),
    "reversed_blocks_guarded_ctx_attributes": Sample(
        why="key blocks visited last to first (so causal rows first meet fully masked blocks: the max is guarded "
            "with torch.where), in-place updates, tensors kept as ctx attributes instead of save_for_backward",
        patches={"flash_attention": edit(
            ("        for start in range(0, last, block_size):\n            stop = min(start + block_size, S)\n"
             "            z = block_scores(query, key, start, stop, is_causal)  # (..., L, b)\n"
             "            m_new = torch.maximum(m, z.amax(dim=-1))  # (..., L)\n"
             "            p = torch.exp(z - m_new[..., None])  # (..., L, b), masked entries exp(-inf) = 0\n"
             "            alpha = torch.exp(m - m_new)  # (..., L): the old sums, relative to the new max\n"
             "            l = alpha * l + p.sum(dim=-1)\n"
             "            acc = alpha[..., None] * acc + p @ value[..., start:stop, :]  # (..., L, Ev)\n"
             "            m = m_new\n",
             "        for start in reversed(range(0, S, block_size)):\n            stop = min(start + block_size, S)\n"
             "            z = block_scores(query, key, start, stop, is_causal)  # (..., L, b)\n"
             "            m_new = torch.maximum(m, z.amax(dim=-1))  # (..., L)\n"
             "            safe = torch.where(torch.isinf(m_new), torch.zeros_like(m_new), m_new)\n"
             "            p = torch.exp(z - safe[..., None])\n"
             "            alpha = torch.exp(m - safe)\n"
             "            l.mul_(alpha).add_(p.sum(dim=-1))\n"
             "            acc.mul_(alpha[..., None]).add_(p @ value[..., start:stop, :])\n"
             "            m = m_new\n"),
            ("        ctx.save_for_backward(query, key, value, out, lse)\n",
             "        ctx.tensors = (query, key, value, out, lse)\n"),
            ("        query, key, value, out, lse = ctx.saved_tensors\n",
             "        query, key, value, out, lse = ctx.tensors\n"))},
        fails=frozenset(),
    ),
}
