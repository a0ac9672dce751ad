"""Hidden suite for a09_gpt (LBDL 5.3, 7.1). Every test names the student bug it rejects.

CharTokenizer
- ids in order of appearance instead of sorted characters               -> test_tokenizer_sorted_ids
- decode fails on tensors / round trip loses characters                 -> test_tokenizer_round_trip
- unknown character raises KeyError (or is skipped) instead of ValueError -> test_tokenizer_round_trip
GPT.forward
- logits only for the last position, or [B, V, T] / wrong dtype          -> test_forward_shapes
- loss returned without targets, or a non-scalar loss                   -> test_forward_shapes
- attention not causal (mask missing, or off by one: diagonal excluded)  -> test_causal
- attention never reaches back (heads split without transpose, so SDPA
  attends over heads; attention dropped): later logits ignore token t     -> test_causal
- position embedding missing (model is permutation-equivariant)         -> test_uses_positions
- positions not arange(T) from 0 (reversed, right-aligned to the context):
  a prefix gets other logits than inside the longer sequence             -> test_uses_positions
- default PyTorch init: loss at init far from ln(V)                     -> test_loss_at_init
- dropout still active in eval mode                                     -> test_dropout_eval
- cannot learn (no residuals, broken gradient path, detached parts)     -> test_overfits_one_batch
GPT.generate
- prompt not returned as prefix, wrong length, wrong dtype              -> test_generate_shape_prefix
- no cropping to context_length (crashes on long prompts)               -> test_generate_crops_context
- top_k=1 not greedy                                                    -> test_generate_greedy
- top_k keeps the wrong set (only the max, k+1, ties with <=)            -> test_generate_greedy
- temperature not applied before sampling                               -> test_generate_temperature
- samples not drawn from softmax(logits / T) (uniform noise, argmax,
  hard-coded special cases for the tested temperatures)                 -> test_generate_temperature
- temperature <= 0 accepted                                             -> test_generate_rejects_bad_temperature
train_gpt
- not one float loss per step, or loss does not fall                    -> test_train_gpt_contract
- lr ignored (hard-coded), losses not the step's own loss (fabricated),
  windows shorter than context_length + 1                               -> test_train_gpt_contract
- model left in eval mode (no model.train(): dropout off while training) -> test_train_gpt_contract
- windows not shifted by one (targets == inputs), too few steps          -> test_train_gpt_learns_corpus
- CUDA path broken, or device ignored (runs only where a GPU exists;
  worth 0 points)                                                       -> test_train_gpt_cuda
generate(top_p=...) (distributions: many samples against the nucleus computed here from the logits)
- nucleus drops the token that crosses top_p (a tiny top_p then fails)  -> test_top_p_keeps_crossing_token
- nucleus taken over the whole batch, sorted the wrong way, not
  renormalised, or on logits                                            -> test_top_p_distribution
- nucleus before the temperature, or before top_k / not renormalised
  after it                                                              -> test_top_p_after_temperature_and_top_k
- top_p=1 drops tokens; top_p 0 / negative / > 1 accepted
  (or 0 taken as None)                          -> test_top_p_one_keeps_all_and_rejects_bad_values
get_lr
- warm-up off by one ((step + 1) / warmup), step 0 not 0; cosine over
  total_steps instead of total - warmup; linear decay; no clamp after   -> test_get_lr_schedule
- cosine to 0 whatever min_lr; 0 after total_steps; ValueError missing -> test_get_lr_min_lr_and_errors
clip_grad_norm (against torch.nn.utils.clip_grad_norm_ on copies, here)
- per-parameter norms; sum of norms; the norm after clipping returned;
  a single tensor or a generator (iterated twice) mishandled; weights
  scaled instead of gradients                                            -> test_clip_grad_norm_matches_torch
- scales up below max_norm; no 1e-6 in the denominator                 -> test_clip_grad_norm_threshold_and_eps
- float32 arithmetic on float64 gradients                              -> test_clip_grad_norm_float64
train_gpt on the worker's recording stand-in LM (every optimizer step: the rate of its param group and
the gradients it sees, replayed here from the recorded weights and batch)
- gradients never zeroed / zeroed every other step (accumulate)         -> test_train_gpt_fresh_gradients
- schedule applied with warmup_steps=0; rate set after the step or for
  step + 1; total steps - 1; no floor lr / 10; step skipped at rate 0  -> test_train_gpt_warmup_cosine
- no clipping, clipping after the step or before backward, per
  parameter, or only with warm-up                                       -> test_train_gpt_clipping
estimate_loss (same stand-in: records mode, autograd, inputs, targets)
- not exactly iters batches, the same windows every batch, targets not
  shifted, a mean that is not the batches' mean                         -> test_estimate_loss_value
- train mode or autograd during evaluation; mode not restored           -> test_estimate_loss_eval_no_grad
"""

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.remote import StudentError
from autograder.testing import assert_close, assert_raises, check_tensor, gen, number, points

TEXT = "the quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX! 0123456789\n"


def config(student, **kw):
    base = dict(vocab_size=13, context_length=16, d_model=32, n_heads=4, n_layers=2, dropout=0.0)
    base.update(kw)
    return student.GPTConfig(**base)


def model(student, seed=0, **kw):
    torch.manual_seed(seed)
    return student.GPT(config(student, **kw))


def forward(m, idx, targets=None):
    out = m(idx) if targets is None else m(idx, targets)
    if not isinstance(out, tuple) or len(out) != 2:
        raise StudentError(f"GPT.forward should return a (logits, loss) tuple, got {type(out).__name__}")
    return out


# ----------------------------------------------------------------------------- tokenizer
@points(1, cell="test_tokenizer", visibility="visible")
def test_tokenizer_small_example(student):
    """the notebook's 'hello world' example"""
    tok = student.CharTokenizer("hello world")
    assert number(tok.attr("vocab_size"), "vocab_size") == 8, "'hello world' has 8 distinct characters"
    assert tok.encode(" dehlorw") == list(range(8)), "ids must follow the sorted characters"


@points(1, cell="test_tokenizer")
def test_tokenizer_sorted_ids(student):
    """ids follow the sorted characters of the text, vocab_size counts them"""
    tok = student.CharTokenizer(TEXT)
    chars = sorted(set(TEXT))
    assert number(tok.attr("vocab_size"), "vocab_size") == len(chars)
    assert tok.encode("".join(chars)) == list(range(len(chars))), "ids are not the sorted character order"


@points(1, cell="test_tokenizer")
def test_tokenizer_round_trip(student):
    """decode(encode(s)) == s, decode accepts a 1-D tensor, an unknown character raises ValueError"""
    tok = student.CharTokenizer(TEXT)
    s = "over the lazy fox. 42\n"
    ids = tok.encode(s)
    assert isinstance(ids, list) and all(isinstance(i, int) for i in ids), "encode must return a list of ints"
    assert tok.decode(ids) == s, "decode(encode(s)) != s"
    assert tok.decode(torch.tensor(ids)) == s, "decode of a tensor of ids differs"
    assert_raises(lambda: tok.encode("fox~"), "ValueError", "encode('fox~') with '~' not in the text")


# ----------------------------------------------------------------------------- forward
@points(2, cell="test_gpt", visibility="visible")
def test_forward_shapes(student):
    """logits [B, T, V] float32 for every position (T < context_length too); loss None or a 0-d tensor"""
    m = model(student)
    m.eval()
    for b, t in [(3, 16), (2, 5), (1, 1)]:
        idx = torch.randint(0, 13, (b, t), generator=gen(b * 100 + t))
        logits, loss = forward(m, idx)
        check_tensor(logits, f"logits for idx [{b},{t}]", (b, t, 13), torch.float32)
        if loss is not None:
            raise StudentError("forward(idx) without targets must return loss None")
    idx = torch.randint(0, 13, (4, 16), generator=gen(7))
    _, loss = forward(m, idx, idx)
    check_tensor(loss, "loss", (), torch.float32)


@points(2, cell="test_gpt")
def test_causal(student):
    """changing token t never changes the logits of positions before t, and changes every position from t
    on (attention reaches back over time; several t, several layers)"""
    m = model(student, n_layers=3)
    m.eval()
    idx = torch.randint(0, 13, (2, 16), generator=gen(11))
    base, _ = forward(m, idx)
    for t in (0, 3, 9, 15):
        changed = idx.clone()
        changed[:, t] = (changed[:, t] + 5) % 13
        logits, _ = forward(m, changed)
        assert_close(logits[:, :t], base[:, :t], f"logits before position {t} after changing token {t}", atol=1e-5)
        if bool((logits[:, t:] - base[:, t:]).abs().max() < 1e-7):
            raise StudentError(f"changing token {t} changed no logits at all (is the input used?)")
        moved = (logits[:, t:] - base[:, t:]).abs().amax(dim=(0, 2))  # (16 - t,) per later position
        if bool((moved < 1e-6).any()):
            later = t + int((moved < 1e-6).nonzero()[0])
            raise StudentError(f"changing token {t} leaves the logits at position {later} unchanged: attention "
                               "does not reach back over time (heads split as [B, H, T, C/H]?)")


@points(1, cell="test_gpt")
def test_uses_positions(student):
    """position embeddings: the same token at two positions gets different logits; positions count from 0,
    so a prefix of a sequence gets the same logits as inside the full sequence"""
    m = model(student)
    m.eval()
    logits, _ = forward(m, torch.full((1, 8), 4))
    logits = check_tensor(logits, "logits of a constant sequence", (1, 8, 13))
    scale = 1.0 + float(logits.abs().max())
    if bool((logits[0, 1] - logits[0, 6]).abs().max() < 1e-4 * scale):  # equal up to round-off
        raise StudentError("a constant sequence gives identical logits at every position: no position embedding?")
    idx = torch.randint(0, 13, (2, 16), generator=gen(12))
    full, _ = forward(m, idx)
    full = check_tensor(full, "logits for idx [2,16]", (2, 16, 13))
    for k in (1, 6, 11):
        part, _ = forward(m, idx[:, :k])
        assert_close(part, full[:, :k], f"logits of the first {k} tokens alone vs inside 16 tokens "
                     "(positions must be arange(T), counted from the start)", atol=1e-5)


@points(1, cell="test_gpt")
def test_loss_at_init(student):
    """the loss at initialisation is close to ln(vocab_size) (small initial logits)"""
    for v in (13, 65):
        m = model(student, vocab_size=v, seed=v)
        m.eval()
        idx = torch.randint(0, v, (8, 16), generator=gen(v))
        _, loss = forward(m, idx, torch.randint(0, v, (8, 16), generator=gen(v + 1)))
        got = number(loss, "loss")
        assert abs(got - math.log(v)) < 0.1 * math.log(v), (
            f"loss at init with vocab {v} is {got:.3f}, expected about ln({v}) = {math.log(v):.3f} "
            "(initialise weights with a small std, e.g. 0.02)")


@points(1, cell="test_gpt")
def test_dropout_eval(student):
    """with dropout=0.5, eval() gives deterministic logits while train() does not"""
    m = model(student, dropout=0.5)
    idx = torch.randint(0, 13, (2, 16), generator=gen(21))
    m.eval()
    a, _ = forward(m, idx)
    b, _ = forward(m, idx)
    assert_close(b, a, "two eval-mode forward passes with dropout=0.5", atol=1e-6)
    m.train()
    c, _ = forward(m, idx)
    d, _ = forward(m, idx)
    if bool((c - d).abs().max() < 1e-7):
        raise StudentError("with dropout=0.5 in train mode, two forward passes are identical: dropout unused?")


@points(2, cell="test_gpt")
def test_overfits_one_batch(student):
    """the suite's own AdamW loop drives the loss on one fixed batch near zero"""
    m = model(student, d_model=48, n_layers=2)
    idx = torch.randint(0, 13, (4, 16), generator=gen(31))
    targets = torch.randint(0, 13, (4, 16), generator=gen(32))
    losses = m.probe("lm_fit", idx, targets, 150, 3e-3)
    assert losses[-1] < 0.3, f"after 150 steps on one batch the loss is {losses[-1]:.3f} (from {losses[0]:.3f})"


# ----------------------------------------------------------------------------- generate
@points(1, cell="test_gpt")
def test_generate_shape_prefix(student):
    """returns [B, T + n] int64 ids that start with the prompt"""
    m = model(student)
    m.eval()
    prompt = torch.randint(0, 13, (3, 4), generator=gen(41))
    out = check_tensor(m.generate(prompt, 7), "generate(prompt [3,4], 7)", (3, 11), torch.int64)
    assert torch.equal(out[:, :4], prompt), "generate must return the prompt as prefix"
    assert bool(((out >= 0) & (out < 13)).all()), "generated ids out of the vocabulary"


@points(1, cell="test_gpt")
def test_generate_crops_context(student):
    """a prompt longer than context_length works (the context is cropped to its last tokens)"""
    m = model(student, context_length=8)
    m.eval()
    prompt = torch.randint(0, 13, (2, 20), generator=gen(42))
    out = check_tensor(m.generate(prompt, 5, top_k=1), "generate on a prompt of 20 > context 8", (2, 25), torch.int64)
    ctx = out[:, 12:20]  # the last 8 tokens of the prompt decide the first new token
    logits, _ = forward(m, ctx)
    assert torch.equal(out[:, 20], logits[:, -1].argmax(-1)), "the first new token ignores the cropped context"


def greedy(m, prompt, n, context):
    idx = prompt.clone()
    for _ in range(n):
        logits, _ = forward(m, idx[:, -context:])
        idx = torch.cat([idx, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return idx


@points(1, cell="test_gpt")
def test_generate_greedy(student):
    """top_k=1 is greedy decoding, at any temperature; top_k=3 samples exactly the 3 most likely tokens"""
    m = model(student, seed=3)
    m.eval()
    prompt = torch.randint(0, 13, (2, 3), generator=gen(43))
    ref = greedy(m, prompt, 6, 16)
    for temperature in (1.0, 3.0):
        out = check_tensor(m.generate(prompt, 6, temperature=temperature, top_k=1), "generate(top_k=1)", (2, 9),
                           torch.int64)
        assert torch.equal(out, ref), f"generate(top_k=1, temperature={temperature}) is not greedy decoding"
    # the prompt whose 3rd and 4th most likely next tokens are farthest apart (no near-ties)
    prompts = torch.arange(13).reshape(13, 1).repeat(1, 2)  # (13, 2)
    last = check_tensor(forward(m, prompts)[0], "logits for 13 prompts", (13, 2, 13))[:, -1]  # (13, V)
    top = last.topk(4, dim=-1).values  # (13, 4)
    best = int((top[:, 2] - top[:, 3]).argmax())
    top3 = set(last[best].topk(3).indices.tolist())
    out = check_tensor(m.generate(prompts[best:best + 1].repeat(300, 1), 1, temperature=100.0, top_k=3),
                       "generate(top_k=3) on 300 copies of a prompt", (300, 3), torch.int64)
    got = set(out[:, -1].tolist())
    assert got == top3, (f"top_k=3 at temperature 100 sampled the tokens {sorted(got)}; expected exactly the 3 "
                         f"most likely ones {sorted(top3)}")


@points(1, cell="test_gpt")
def test_generate_temperature(student):
    """a tiny temperature is greedy; a huge one spreads samples over the vocabulary; in between, samples
    follow softmax(logits / temperature)"""
    m = model(student, seed=4)
    m.eval()
    prompt = torch.randint(0, 13, (2, 3), generator=gen(44))
    out = m.generate(prompt, 6, temperature=1e-4)
    assert torch.equal(check_tensor(out, "generate(temperature=1e-4)", (2, 9)), greedy(m, prompt, 6, 16)), (
        "with temperature 1e-4 sampling should be greedy: divide the logits by the temperature")
    wide = check_tensor(m.generate(torch.zeros(64, 1, dtype=torch.int64), 1, temperature=100.0),
                        "generate(temperature=100)", (64, 2))
    assert len(set(wide[:, 1].tolist())) >= 5, "with temperature 100, 64 samples should cover many tokens"
    logits = check_tensor(forward(m, prompt[:1])[0], "logits for a prompt", (1, 3, 13))[0, -1]  # (V,)
    temperature = max(float(logits.std()) / 2, 1e-3)  # logits / T spread ~2: neither uniform nor one-hot
    probs = torch.softmax(logits.double() / temperature, dim=-1)
    n = 4000
    out = check_tensor(m.generate(prompt[:1].repeat(n, 1), 1, temperature=temperature),
                       f"generate(temperature={temperature:.3g}) on {n} copies of a prompt", (n, 4), torch.int64)
    freq = torch.bincount(out[:, -1].clamp(0, 12), minlength=13).double() / n
    tv = 0.5 * float((freq - probs).abs().sum())
    assert tv < 0.08, (f"at temperature {temperature:.3g} the sampled frequencies are {tv:.2f} (total variation) "
                       "away from softmax(logits / temperature): sample with torch.multinomial from those "
                       "probabilities")


@points(1, cell="test_gpt")
def test_generate_rejects_bad_temperature(student):
    """temperature 0 or negative raises ValueError"""
    m = model(student)
    m.eval()
    for t in (0.0, -1.0):
        try:
            m.generate(torch.zeros(1, 2, dtype=torch.int64), 2, temperature=t)
        except StudentError as exc:
            if "ValueError" not in str(exc):
                raise StudentError(f"temperature={t}: expected ValueError, but {exc}") from None
        else:
            raise StudentError(f"generate(temperature={t}) should raise ValueError")


# ----------------------------------------------------------------------------- train_gpt
@points(1, cell="test_train_gpt", visibility="visible")
def test_train_gpt_contract(student):
    """one float loss per step, and the loss falls on a repetitive text; with lr=0 the model is unchanged and
    every loss is the model's loss on a window of context_length + 1 tokens; training puts the model in
    train mode (dropout on) even if it was in eval mode"""
    tok_ids = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 3] * 50)
    m = model(student, vocab_size=4, context_length=8, d_model=32, n_heads=2, n_layers=1)
    losses = student.train_gpt(m, tok_ids, 60, 8, 3e-3, device="cpu")
    if not isinstance(losses, list) or len(losses) != 60:
        raise StudentError(f"train_gpt should return a list of 60 losses, got {type(losses).__name__}")
    if not all(isinstance(v, float) and math.isfinite(v) for v in losses):
        raise StudentError("train_gpt's losses must be finite Python floats")
    assert losses[-1] < losses[0] * 0.6, f"loss did not fall: first {losses[0]:.3f}, last {losses[-1]:.3f}"
    # lr=0 on a constant text: every window is the same, so every step's loss is known exactly
    m = model(student, seed=1, vocab_size=4, context_length=8, d_model=32, n_heads=2, n_layers=1)
    m.eval()
    probe = torch.randint(0, 4, (2, 8), generator=gen(61))
    before, _ = forward(m, probe)
    window = torch.full((1, 8), 2)
    _, expected = forward(m, window, window)
    expected = number(expected, "loss")
    losses = student.train_gpt(m, torch.full((40,), 2), 5, 4, 0.0, device="cpu")
    if not isinstance(losses, list) or len(losses) != 5:
        raise StudentError(f"train_gpt(steps=5) should return a list of 5 losses, got {type(losses).__name__}")
    m.eval()
    after, _ = forward(m, probe)
    assert_close(after, before, "logits after train_gpt with lr=0 (is lr used?)", atol=1e-6)
    for i, got in enumerate(losses):
        got = number(got, f"loss of step {i}")
        assert abs(got - expected) < 1e-4 * max(1.0, expected), (
            f"with lr=0 on a constant text, step {i} reported loss {got:.5f}, but the model's loss on a window of "
            f"context_length + 1 = 9 tokens is {expected:.5f}")
    m = model(student, seed=2, vocab_size=4, context_length=8, d_model=32, n_heads=2, n_layers=1, dropout=0.5)
    m.eval()  # e.g. left in eval mode after sampling
    _, expected = forward(m, window, window)
    expected = number(expected, "loss")
    losses = student.train_gpt(m, torch.full((40,), 2), 4, 4, 0.0, device="cpu")
    if all(abs(number(v, "loss") - expected) < 1e-6 for v in losses):
        raise StudentError("train_gpt on a model in eval mode with dropout=0.5 reports exactly the eval-mode loss "
                           "at every step: call model.train() so dropout is active while training")


def corpus_ids():
    from dlcourse.data import corpus_text

    text = corpus_text()[:200_000]
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    ids = torch.tensor([stoi[c] for c in text])
    n = int(0.9 * len(ids))
    return ids[:n], ids[n:], len(chars)


@points(3, cell="test_train_gpt")
def test_train_gpt_learns_corpus(student):
    """a short run on the corpus brings the validation loss below 3.1 (ln V ≈ 4.5; unigram ≈ 3.3)"""
    train, val, v = corpus_ids()
    m = model(student, vocab_size=v, context_length=32, d_model=64, n_heads=4, n_layers=2, seed=5)
    losses = student.train_gpt(m, train, 250, 16, 3e-3, device="cpu")
    if not isinstance(losses, list) or len(losses) != 250:
        raise StudentError("train_gpt should return one loss per step")
    m.eval()
    g = gen(51)
    starts = torch.randint(0, len(val) - 33, (16,), generator=g)
    win = torch.stack([val[s:s + 33] for s in starts.tolist()])  # (16, 33)
    logits, _ = forward(m, win[:, :-1])
    logits = check_tensor(logits, "logits", (16, 32, v))
    val_loss = F.cross_entropy(logits.reshape(-1, v), win[:, 1:].reshape(-1)).item()
    assert val_loss < 3.1, f"validation loss after 250 steps is {val_loss:.3f}, expected < 3.1"


@points(0, cell="test_train_gpt")
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on the grading machine")
def test_train_gpt_cuda(student):
    """on a CUDA machine: device='cuda' trains (bf16 autocast) with finite, falling losses; device='cpu'
    keeps the model on the CPU"""
    tok_ids = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 3] * 50)
    m = model(student, vocab_size=4, context_length=8, d_model=32, n_heads=2, n_layers=1)
    losses = student.train_gpt(m, tok_ids, 60, 8, 3e-3, device="cuda")
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0] * 0.6
    m = model(student, vocab_size=4, context_length=8, d_model=32, n_heads=2, n_layers=1)
    student.train_gpt(m, tok_ids, 2, 8, 3e-3, device="cpu")
    m.eval()
    logits, _ = forward(m, tok_ids[:8].reshape(1, 8))  # fails if train_gpt moved the model to the GPU anyway
    check_tensor(logits, "logits after train_gpt(device='cpu') on a CUDA machine", (1, 8, 4))


# ----------------------------------------------------------------------------- generate: top_p
def seed_worker(student, seed, origin="GPT.generate"):
    """Seed the worker's global RNG (the spy's constructor calls torch.manual_seed): samples are then the
    same at every grading of the same code."""
    student.probe("make_spy", 1, 1, hidden=1, seed=seed, origin=origin)


def last_logits(m, prompts):
    """The next-token logits of each prompt row, (P, V) float64, from the student's forward."""
    logits, _ = forward(m, prompts)
    p, t = prompts.shape
    return check_tensor(logits, f"logits for prompts [{p},{t}]", (p, t, 13))[:, -1].double()


def nucleus_probs(logits, temperature=1.0, top_k=None, top_p=None):
    """The distribution generate must sample from, (V,) float64: logits / temperature, the top_k largest,
    softmax, then the fewest most-probable tokens whose probabilities sum to >= top_p, renormalised."""
    z = logits.double() / temperature
    if top_k is not None:
        kth = z.topk(min(top_k, z.numel())).values[-1]
        z = z.masked_fill(z < kth, float("-inf"))
    probs = torch.softmax(z, dim=-1)
    if top_p is not None and top_p < 1:
        ranked, order = probs.sort(descending=True)
        keep = torch.zeros_like(probs, dtype=torch.bool)
        keep[order] = (ranked.cumsum(0) - ranked) < top_p
        probs = torch.where(keep, probs, torch.zeros_like(probs))
        probs = probs / probs.sum()
    return probs


def boundary_margin(logits, temperature, top_k, top_p):
    """How far top_p is from every cumulative sum of the (renormalised) distribution it is applied to:
    a small margin would make the nucleus depend on round-off."""
    probs = nucleus_probs(logits, temperature, top_k).sort(descending=True).values
    return float((probs.cumsum(0) - top_p).abs().min())


def kept(probs):
    return sorted(int(i) for i in (probs > 0).nonzero().flatten())


def sampled_counts(m, prompts, n, what, **kw):
    """generate(…, 1, **kw) on n copies of each prompt row; the (P, V) counts of the new token."""
    p, t = prompts.shape
    batch = prompts.repeat_interleave(n, dim=0)  # (P * n, T)
    out = check_tensor(m.generate(batch, 1, **kw), what, (p * n, t + 1), torch.int64)
    if not torch.equal(out[:, :t], batch):
        raise StudentError(f"{what}: the prompt is not returned as the prefix")
    new = out[:, -1]
    if bool(((new < 0) | (new >= 13)).any()):
        raise StudentError(f"{what}: sampled ids outside the vocabulary")
    return torch.stack([torch.bincount(new[i * n:(i + 1) * n], minlength=13) for i in range(p)])


def check_samples(counts, probs, what):
    """Sampled counts (V,) against the distribution (V,): nothing outside its support, every likely token
    present, each frequency within 5 standard deviations (+2/n) of its probability."""
    n = int(counts.sum())
    freq = counts.double() / n
    outside = ((probs == 0) & (counts > 0)).nonzero().flatten().tolist()
    if outside:
        raise StudentError(f"{what}: sampled token(s) {outside} ({[int(counts[i]) for i in outside]} of {n} draws) "
                           f"that must not be kept: the tokens to keep are {kept(probs)}")
    never = ((probs * n > 30) & (counts == 0)).nonzero().flatten().tolist()
    if never:
        raise StudentError(f"{what}: token(s) {never} (probability {[round(float(probs[i]), 3) for i in never]} "
                           f"after renormalising) never sampled in {n} draws: the tokens to keep are {kept(probs)}")
    bound = 5 * (probs * (1 - probs) / n).sqrt() + 2.0 / n
    if bool(((freq - probs).abs() > bound).any()):
        tv = 0.5 * float((freq - probs).abs().sum())
        raise StudentError(f"{what}: the sampled frequencies are {tv:.3f} (total variation) away from the "
                           f"renormalised distribution over the kept tokens {kept(probs)} (n={n})")


def spread_temperature(logits):
    """A temperature that spreads the (tiny, at init) logits to a standard deviation of about 2."""
    return max(float(logits.std()) / 2, 1e-4)


def prompts_13():
    return torch.stack([torch.tensor([i, (3 * i + 1) % 13, (5 * i + 2) % 13]) for i in range(13)])  # (13, 3)


@points(1, cell="test_top_p", visibility="visible")
def test_top_p_small_example(student):
    """the notebook's example: returns the prompt then the new tokens; top_p=1e-6 is greedy; top_p 0 or 1.5
    raises ValueError"""
    m = model(student, seed=7)
    m.eval()
    seed_worker(student, 70)
    prompt = torch.randint(0, 13, (2, 3), generator=gen(71))
    logits = last_logits(m, prompt)
    out = check_tensor(m.generate(prompt, 5, top_p=1e-6), "generate(prompt [2,3], 5, top_p=1e-6)", (2, 8),
                       torch.int64)
    assert torch.equal(out[:, :3], prompt), "generate must return the prompt as prefix"
    assert torch.equal(out[:, 3], logits.argmax(-1)), "top_p=1e-6 must keep only the most likely token (greedy)"
    for bad in (0.0, 1.5):
        assert_raises(lambda bad=bad: m.generate(prompt, 1, top_p=bad), "ValueError", f"generate(top_p={bad})")


def pick_rows(logits, temperature, top_k, top_p_of, rows=2):
    """Rows whose nucleus (with top_p_of(row's distribution)) is safely away from round-off, at most `rows`."""
    chosen = []
    for r in range(logits.shape[0]):
        p = top_p_of(nucleus_probs(logits[r], temperature, top_k))
        if p is not None and boundary_margin(logits[r], temperature, top_k, p) > 0.02:
            chosen.append((r, p))
        if len(chosen) == rows:
            break
    if len(chosen) < rows:
        raise StudentError("could not find prompts whose next-token distribution is spread enough to test "
                           "top_p (are the logits at initialisation all equal?)")
    return chosen


def nucleus_setup(student, seed):
    """A student GPT in eval mode, the 13 test prompts, and its next-token logits for them (computed from its
    own forward): what every nucleus test samples against."""
    m = model(student, seed=seed)
    m.eval()
    prompts = prompts_13()
    return m, prompts, last_logits(m, prompts)

@points(2, cell="test_top_p")
def test_top_p_distribution(student):
    """with top_p=0.6 (or near) two prompts in one batch (nuclei of different sizes) are each sampled from their own
    nucleus, renormalised: never a token outside it, each kept token at its renormalised frequency (6000
    samples)"""
    m, prompts, logits = nucleus_setup(student, seed=8)
    temperature = spread_temperature(logits)
    best = None
    for top_p in (0.6, 0.5, 0.7, 0.4, 0.8):
        sizes = {}
        for r in range(13):
            probs = nucleus_probs(logits[r], temperature, None, top_p)
            if boundary_margin(logits[r], temperature, None, top_p) > 0.02 and 2 <= len(kept(probs)) <= 10:
                sizes[r] = len(kept(probs))
        # two rows whose nuclei differ most in size: a nucleus cut at one rank for the whole batch fails
        pairs = [(abs(sizes[a] - sizes[b]), -a, -b) for a in sizes for b in sizes if a < b]
        if pairs and (best is None or max(pairs)[0] > best[0][0]):
            best = (max(pairs), top_p)
        if best is not None and best[0][0] >= 2:
            break
    if best is None:
        raise StudentError("could not find two prompts whose next-token distribution is spread enough to test top_p")
    (_, a, b), top_p = best
    rows = [-a, -b]
    seed_worker(student, 80)
    counts = sampled_counts(m, prompts[rows], 3000, f"generate(…, 1, temperature={temperature:.3g}, top_p={top_p})",
                            temperature=temperature, top_p=top_p)
    for i, r in enumerate(rows):
        check_samples(counts[i], nucleus_probs(logits[r], temperature, None, top_p),
                      f"top_p={top_p} at temperature {temperature:.3g}, prompt {prompts[r].tolist()} (batch row {i})")


@points(1, cell="test_top_p")
def test_top_p_keeps_crossing_token(student):
    """the token whose probability makes the sum cross top_p is kept (top_p half-way into the 2nd, the 3rd
    token's share); a tiny top_p keeps exactly the most likely token"""
    m, prompts, logits = nucleus_setup(student, seed=9)
    temperature = spread_temperature(logits)
    for size in (2, 3):
        def half_into(probs, size=size):
            ranked = probs.sort(descending=True).values
            if ranked[size - 1] < 0.08:  # the crossing token must be likely enough to be seen
                return None
            return float(ranked[:size - 1].sum() + 0.5 * ranked[size - 1])
        (r, top_p), = pick_rows(logits, temperature, None, half_into, rows=1)
        probs = nucleus_probs(logits[r], temperature, None, top_p)
        assert len(kept(probs)) == size
        seed_worker(student, 90 + size)
        counts = sampled_counts(m, prompts[r:r + 1], 3000, f"generate(…, temperature={temperature:.3g}, "
                                f"top_p={top_p:.3f})", temperature=temperature, top_p=top_p)
        check_samples(counts[0], probs, f"top_p={top_p:.3f} (half-way into token #{size}'s probability: the "
                      f"{size} most likely tokens are kept, the crossing one included)")
    out = check_tensor(m.generate(prompts, 1, top_p=1e-4), "generate(prompts [13,3], 1, top_p=1e-4)", (13, 4),
                       torch.int64)
    assert torch.equal(out[:, -1], logits.argmax(-1)), (
        "top_p=1e-4 must keep exactly the most likely token (the one that crosses top_p): sampling is then greedy")


@points(1, cell="test_top_p")
def test_top_p_after_temperature_and_top_k(student):
    """the nucleus is taken after the temperature and after top_k, on the renormalised remaining distribution
    (parameters chosen so that top_p before the temperature, or on the distribution before top_k, keeps other
    tokens)"""
    m, prompts, logits = nucleus_setup(student, seed=10)
    base = spread_temperature(logits)
    found = None
    grid = [0.3 + 0.025 * i for i in range(25)]  # 0.3 .. 0.9
    for factor in (1.0, 0.7, 1.5, 0.5, 2.0):
        temperature = base * factor
        for top_k in (6, 5, 7, 4, 8):
            for r in range(13):
                topk = set(logits[r].topk(top_k).indices.tolist())
                for top_p in grid:
                    right = kept(nucleus_probs(logits[r], temperature, top_k, top_p))
                    if not 2 <= len(right) < top_k:
                        continue
                    before_temperature = sorted(set(kept(nucleus_probs(logits[r], 1.0, None, top_p))) & topk)
                    before_top_k = sorted(set(kept(nucleus_probs(logits[r], temperature, None, top_p))) & topk)
                    if right == before_temperature or right == before_top_k:
                        continue
                    margins = (boundary_margin(logits[r], temperature, top_k, top_p),
                               boundary_margin(logits[r], 1.0, None, top_p),
                               boundary_margin(logits[r], temperature, None, top_p))
                    if min(margins) > 0.015:
                        found = (r, round(top_p, 3), temperature, top_k)
                        break
                if found:
                    break
            if found:
                break
        if found:
            break
    if found is None:
        raise StudentError("could not find a prompt whose next-token distribution tells the orders apart")
    r, top_p, temperature, top_k = found
    seed_worker(student, 100)
    what = f"generate(…, temperature={temperature:.3g}, top_k={top_k}, top_p={top_p})"
    counts = sampled_counts(m, prompts[r:r + 1], 3000, what, temperature=temperature, top_k=top_k, top_p=top_p)
    check_samples(counts[0], nucleus_probs(logits[r], temperature, top_k, top_p),
                  f"{what} (divide by the temperature, keep the top_k, softmax, then the nucleus of that "
                  "renormalised distribution)")


@points(1, cell="test_top_p")
def test_top_p_one_keeps_all_and_rejects_bad_values(student):
    """top_p=1 and top_p=None sample from the full softmax(logits / temperature), every token included;
    top_p 0, negative or above 1 raises ValueError"""
    m = model(student, seed=11)
    m.eval()
    prompts = prompts_13()[:1]
    logits = last_logits(m, prompts)
    temperature = max(float(logits.std()), 1e-4)  # spread about 1: every token has a fair chance
    probs = nucleus_probs(logits[0], temperature)
    for i, top_p in enumerate((1.0, None)):
        seed_worker(student, 110 + i)
        what = f"generate(…, temperature={temperature:.3g}, top_p={top_p})"
        counts = sampled_counts(m, prompts, 4000, what, temperature=temperature, top_p=top_p)
        check_samples(counts[0], probs, f"{what} (must keep every token)")
    for bad in (0.0, -0.1, 1.01):
        assert_raises(lambda bad=bad: m.generate(prompts, 1, top_p=bad), "ValueError", f"generate(top_p={bad})")


# ----------------------------------------------------------------------------- get_lr
def ref_lr(step, max_lr, warmup, total, min_lr=0.0):
    """The SPEC's schedule (linear warm-up from 0, cosine to min_lr at total, min_lr after)."""
    if step < warmup:
        return max_lr * step / warmup
    if step > total:
        return min_lr
    return min_lr + 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup))) * (max_lr - min_lr)


def call_many(student, name, calls):
    """The student's `name` on each (args, kwargs), in one round trip."""
    return student.probe("calls", student.ref(name), [(tuple(a), dict(k)) for a, k in calls], origin=name)


def check_schedule(student, max_lr, warmup, total, steps, min_lr=None):
    kwargs = {} if min_lr is None else {"min_lr": min_lr}
    got = call_many(student, "get_lr", [((s, max_lr, warmup, total), kwargs) for s in steps])
    for s, value in zip(steps, got):
        what = f"get_lr({s}, {max_lr}, {warmup}, {total}{'' if min_lr is None else f', min_lr={min_lr}'})"
        if isinstance(value, dict) and "raised" in value:
            raise StudentError(f"{what} raised {value['raised']}: {value['msg']}")
        v = number(value, what)
        want = ref_lr(s, max_lr, warmup, total, 0.0 if min_lr is None else min_lr)
        if not abs(v - want) <= 1e-9 * max_lr:
            hint = ""
            if s < warmup:
                hint = " (warm-up: max_lr * step / warmup_steps, so step 0 gives 0)"
            elif s > total:
                hint = " (after total_steps the rate stays min_lr)"
            else:
                hint = (" (cosine: min_lr + 0.5 * (1 + cos(pi * (step - warmup_steps) / (total_steps - warmup_steps)))"
                        " * (max_lr - min_lr))")
            raise StudentError(f"{what} returned {v:.9g}, expected {want:.9g}{hint}")


@points(1, cell="test_get_lr", visibility="visible")
def test_get_lr_small_example(student):
    """the notebook's examples: step 0 and half-way through the warm-up, its end, half-way through the cosine,
    total_steps and after, no warm-up"""
    check_schedule(student, 1.0, 10, 110, [0, 5, 10, 500])
    check_schedule(student, 1.0, 10, 110, [60, 110, 500], min_lr=0.1)
    check_schedule(student, 1.0, 0, 100, [0])
    assert_raises(lambda: student.get_lr(0, 1.0, 100, 100), "ValueError", "get_lr(0, 1.0, 100, 100)")


@points(2, cell="test_get_lr")
def test_get_lr_schedule(student):
    """every step of several schedules, from step 0 to past total_steps: the warm-up (step 0 gives 0; its last
    step), the boundary where the cosine starts at max_lr, total_steps (min_lr), and after"""
    check_schedule(student, 3e-3, 10, 100, list(range(131)))
    check_schedule(student, 1.0, 0, 50, list(range(61)))
    check_schedule(student, 2.0, 1, 7, list(range(10)))
    check_schedule(student, 0.5, 37, 38, list(range(41)))
    check_schedule(student, 6e-4, 200, 5000, [0, 1, 199, 200, 201, 2600, 4999, 5000, 5001, 10 ** 6])


@points(1, cell="test_get_lr")
def test_get_lr_min_lr_and_errors(student):
    """a non-default min_lr (the cosine ends there, the rate stays there after); ValueError unless
    0 <= warmup_steps < total_steps"""
    check_schedule(student, 1e-3, 5, 40, list(range(61)), min_lr=1e-4)
    check_schedule(student, 3.0, 0, 9, list(range(12)), min_lr=1.0)
    for warmup, total in ((-1, 10), (10, 10), (12, 10), (0, 0)):
        assert_raises(lambda w=warmup, t=total: student.get_lr(0, 1.0, w, t), "ValueError",
                      f"get_lr(0, 1.0, warmup_steps={warmup}, total_steps={total})")


# ----------------------------------------------------------------------------- clip_grad_norm
def ref_clip(values, grads, max_norm):
    """torch.nn.utils.clip_grad_norm_ on copies, here in the trusted grader: (norm, clipped gradients)."""
    params = [torch.nn.Parameter(v.clone()) for v in values]
    for p, g in zip(params, grads):
        p.grad = None if g is None else g.clone()
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return float(norm), [None if p.grad is None else p.grad.detach().clone() for p in params]


def student_clip(student, values, grads, max_norm, mode):
    out = student.probe("clip", student.ref("clip_grad_norm"), values, grads, max_norm, mode=mode,
                        origin="clip_grad_norm")
    return out


def check_clip(student, values, grads, max_norm, mode, what, rtol=1e-5):
    """The student's clip_grad_norm vs torch's: the returned norm, every gradient afterwards (relative to the
    largest; `rtol`), gradients that were None stay None, the parameters themselves unchanged. The norm is
    checked to float32 round-off (1e-5) unless `rtol` is tighter than float32 can be (float64 cases)."""
    out = student_clip(student, values, grads, max_norm, mode)
    want_norm, want_grads = ref_clip(values, grads, max_norm)
    norm = number(out["norm"], f"{what}: the returned norm")
    norm_rtol = rtol if rtol < 1e-9 else max(rtol, 1e-5)
    if not abs(norm - want_norm) <= norm_rtol * max(want_norm, 1e-30):
        raise StudentError(f"{what} returned {norm:.10g}, expected the global L2 norm of all gradients before "
                           f"clipping, {want_norm:.10g}")
    scale = max([float(g.abs().max()) for g in want_grads if g is not None and g.numel()] or [1.0])
    for i, (got, want) in enumerate(zip(out["grads"], want_grads)):
        if want is None:
            if got is not None:
                raise StudentError(f"{what}: parameter {i} had no gradient and now has one: skip parameters whose "
                                   ".grad is None")
            continue
        got = check_tensor(got, f"{what}: gradient {i} afterwards", want.shape, want.dtype)
        err = float((got - want).abs().max()) if want.numel() else 0.0
        if not err <= rtol * scale:
            clipped = want_norm > max_norm
            hint = (f"the global norm {want_norm:.4g} exceeds max_norm={max_norm:.4g}: multiply every gradient in "
                    f"place by max_norm / (total_norm + 1e-6) = {max_norm / (want_norm + 1e-6):.6g}" if clipped else
                    f"the global norm {want_norm:.4g} does not exceed max_norm={max_norm:.4g}: leave the gradients "
                    "unchanged")
            raise StudentError(f"{what}: gradient {i} afterwards is off by up to {err:.3g} (largest gradient entry "
                               f"{scale:.3g}); {hint}")
    for i, (got, want) in enumerate(zip(out["values"], values)):
        if not torch.equal(check_tensor(got, f"{what}: parameter {i}"), want):
            raise StudentError(f"{what}: parameter {i} itself changed: clip its .grad, never the parameter")


def clip_case(seed, dtype=torch.float32, shapes=((3, 4), (5,), (), (2, 3, 2)), none_at=(1,), scale=1.0):
    g = gen(seed)
    values = [torch.randn(s, generator=g, dtype=dtype) for s in shapes]
    grads = [None if i in none_at else scale * torch.randn(s, generator=g, dtype=dtype) for i, s in enumerate(shapes)]
    norm = math.sqrt(sum(float((x.double() ** 2).sum()) for x in grads if x is not None))
    return values, grads, norm


@points(1, cell="test_clip_grad_norm", visibility="visible")
def test_clip_grad_norm_small_example(student):
    """the notebook's example: gradients [3, 0] and [0, 4] (norm 5) clipped to 1, a parameter without a gradient
    skipped; a generator whose norm is below max_norm left unchanged"""
    values = [torch.zeros(2), torch.zeros(2), torch.zeros(2)]
    check_clip(student, values, [torch.tensor([3.0, 0.0]), torch.tensor([0.0, 4.0]), None], 1.0, "list",
               "clip_grad_norm([a, b, c], 1.0)")
    check_clip(student, values[:2], [torch.tensor([0.6, 0.0]), torch.tensor([0.0, 0.8])], 10.0, "generator",
               "clip_grad_norm(generator of a, b, 10.0)")


@points(2, cell="test_clip_grad_norm")
def test_clip_grad_norm_matches_torch(student):
    """as torch.nn.utils.clip_grad_norm_ (computed here on copies): one global norm over all gradients, on a
    list, a tuple, a generator (iterable once) and a single tensor; parameters without a gradient skipped (0
    when none has one); only the gradients change"""
    values, grads, norm = clip_case(1)
    for mode in ("list", "tuple", "generator"):
        check_clip(student, values, grads, 0.3 * norm, mode, f"clip_grad_norm({mode} of 4 parameters, one without "
                   f"a gradient, max_norm={0.3 * norm:.4g})")
    values, grads, norm = clip_case(2, shapes=((4, 3),), none_at=())
    check_clip(student, values, grads, 0.5 * norm, "single", f"clip_grad_norm(one tensor, max_norm={0.5 * norm:.4g})")
    values, grads, norm = clip_case(3, shapes=((7,), (2, 2), (3,)), none_at=())
    check_clip(student, values, grads, 0.9 * norm, "generator", "clip_grad_norm(generator of 3, just above max_norm)")
    values, grads, norm = clip_case(4, shapes=((3,), (2,)), none_at=(0, 1))
    check_clip(student, values, grads, 1.0, "list", "clip_grad_norm(parameters none of which has a gradient, 1.0)")


@points(1, cell="test_clip_grad_norm")
def test_clip_grad_norm_threshold_and_eps(student):
    """gradients change only when the norm exceeds max_norm (never scaled up), and then by
    max_norm / (total_norm + 1e-6): visible with tiny gradients (norm 1e-5 clipped to 1e-6)"""
    values, grads, norm = clip_case(5)
    for factor in (1.5, 1e3):
        check_clip(student, values, grads, factor * norm, "list",
                   f"clip_grad_norm(norm {norm:.4g} below max_norm={factor * norm:.4g})", rtol=1e-7)
    for target, limit in ((1e-5, 1e-6), (3e-6, 2e-6)):
        values, grads, norm = clip_case(6, scale=1.0)
        grads = [None if x is None else x * (target / norm) for x in grads]
        check_clip(student, values, grads, limit, "list",
                   f"clip_grad_norm(gradients of norm {target:g}, max_norm={limit:g})", rtol=1e-4)


@points(1, cell="test_clip_grad_norm")
def test_clip_grad_norm_float64(student):
    """float64 gradients: the norm and the clipped gradients to float64 precision, in float64"""
    values, grads, norm = clip_case(7, dtype=torch.float64, shapes=((50, 40), (300,), (), (7, 3, 5)), scale=1e3)
    check_clip(student, values, grads, 0.25 * norm, "list", "clip_grad_norm(float64 gradients)", rtol=1e-12)
    values, grads, norm = clip_case(8, dtype=torch.float64, shapes=((60,),), none_at=())
    check_clip(student, values, grads, 2 * norm, "single", "clip_grad_norm(one float64 tensor, below max_norm)",
               rtol=1e-14)


# ----------------------------------------------------------------------------- the recording stand-in model
SPY_VOCAB, SPY_CONTEXT = 20, 6


def lm_spy(student, origin, seed=0):
    """The worker's stand-in language model (GPT interface; records forwards and optimizer steps)."""
    cfg = student.GPTConfig(vocab_size=SPY_VOCAB, context_length=SPY_CONTEXT, d_model=8, n_heads=1, n_layers=1)
    return student.probe("make_lm_spy", cfg, seed=seed, origin=origin)


def lm_forward(w, idx):
    """The stand-in's logits, computed here from its weights: tanh(wte[idx] + wpe[:T]) @ head.T."""
    return torch.tanh(w["wte"][idx] + w["wpe"][: idx.shape[1]]) @ w["head"].T


def lm_loss(w, x, y):
    logits = lm_forward(w, x)
    return F.cross_entropy(logits.reshape(-1, SPY_VOCAB), y.reshape(-1))


def spy_data(seed, n=300):
    """Random ids in which every window of SPY_CONTEXT tokens occurs once, so a window tells its start."""
    data = torch.randint(0, SPY_VOCAB, (n,), generator=gen(seed))
    starts = {}
    for s in range(n - SPY_CONTEXT):
        starts.setdefault(tuple(data[s:s + SPY_CONTEXT].tolist()), s)
    assert len(starts) == n - SPY_CONTEXT, "spy data with a repeated window"
    return data, starts


def targets_of(data, starts, x, targets, what):
    """The targets of the inputs x [B, T] (each row a window of data, its next tokens), checked against the
    targets the student passed (if any); also returns the windows' starts."""
    if type(x) is not torch.Tensor or x.dim() != 2 or x.shape[1] != SPY_CONTEXT or x.dtype != torch.int64:
        raise StudentError(f"{what}: the model got inputs {getattr(x, 'shape', '?')}, expected [batch, "
                           f"context_length={SPY_CONTEXT}] int64 token ids")
    rows, ys = [], []
    for row in x.tolist():
        s = starts.get(tuple(row))
        if s is None:
            raise StudentError(f"{what}: an input row {row} is not a window of consecutive tokens of data")
        rows.append(s)
        ys.append(data[s + 1:s + 1 + SPY_CONTEXT])
    y = torch.stack(ys)
    if targets is not None and not torch.equal(targets, y):
        raise StudentError(f"{what}: the targets are not the inputs shifted by one token (the next "
                           f"context_length tokens of the same window of context_length + 1)")
    return y, rows


def forwards(log):
    return [e for e in log if e["kind"] == "forward"]


def spy_log(student, s, origin):
    return student.probe("spy_log", s, origin=origin)


# ----------------------------------------------------------------------------- train_gpt, watched
def spy_run(student, steps, lr, seed, batch_size=4, **kw):
    """train_gpt on the stand-in; returns (data, starts, losses, log, initial weights)."""
    o = "train_gpt"
    s = lm_spy(student, o, seed=seed)
    w0 = s.probe("module_state")["params"]
    data, starts = spy_data(seed)
    losses = student.train_gpt(s, data, steps, batch_size, lr, device="cpu", **kw)
    if not isinstance(losses, list) or len(losses) != steps:
        raise StudentError(f"train_gpt(steps={steps}) should return a list of {steps} losses")
    return data, starts, losses, spy_log(student, s, o), w0


def paired_steps(log, steps, what):
    """[(forward, step)] for every optimizer step: the last forward with autograd on before it."""
    pairs, last = [], None
    for e in log:
        if e["kind"] == "forward" and e["grad_enabled"]:
            last = e
        elif e["kind"] == "step":
            if last is None:
                raise StudentError(f"{what}: an optimizer step came before any training forward pass")
            pairs.append((last, e))
    n = len(pairs)
    if n == 0:
        raise StudentError(f"{what}: no torch.optim optimizer step over the model's parameters was seen: use "
                           "torch.optim.AdamW(model.parameters(), ...) and call its step()")
    if n != steps:
        raise StudentError(f"{what}: {n} optimizer steps for steps={steps}: take exactly one optimizer.step() per "
                           "training step (step 0 too)")
    return pairs


def true_grads(fwd, data, starts, what):
    w = {k: v.clone().requires_grad_(True) for k, v in fwd["weights"].items()}
    y, _ = targets_of(data, starts, fwd["idx"], fwd["targets"], what)
    loss = lm_loss(w, fwd["idx"], y)
    loss.backward()
    return {k: v.grad.detach() for k, v in w.items()}, float(loss)


def grads_close(got, want, rtol=1e-4):
    scale = max(float(g.abs().max()) for g in want.values())
    for k, g in want.items():
        h = got.get(k)
        if h is None or type(h) is not torch.Tensor or h.shape != g.shape:
            return False
        if float((h.double() - g.double()).abs().max()) > rtol * scale + 1e-12:
            return False
    return True


def check_steps(student, what, steps, lr, seed, warmup=None, max_grad_norm=None, batch_size=4, check_losses=False):
    """Run train_gpt on the stand-in (warmup_steps and max_grad_norm passed only when given) and check every
    optimizer step: its rate, and that it sees the gradient of its own batch (clipped like
    torch.nn.utils.clip_grad_norm_ when max_grad_norm is given)."""
    kw = {} if warmup is None else {"warmup_steps": warmup}
    if max_grad_norm is not None:
        kw["max_grad_norm"] = max_grad_norm
    data, starts, losses, log, _ = spy_run(student, steps, lr, seed, batch_size=batch_size, **kw)
    pairs = paired_steps(log, steps, what)
    previous = None
    warmup = warmup or 0
    for t, (fwd, step) in enumerate(pairs):
        want_lr = ref_lr(t, lr, warmup, steps, lr / 10) if warmup > 0 else lr
        for got_lr in step["lr"]:
            if not abs(got_lr - want_lr) <= 1e-6 * lr:
                rule = (f"get_lr({t}, lr, warmup_steps={warmup}, steps={steps}, min_lr=lr / 10)" if warmup > 0 else
                        "lr (warmup_steps=0: no schedule)")
                raise StudentError(f"{what}: optimizer step {t} ran at learning rate {got_lr:.6g}, expected {rule} = "
                                   f"{want_lr:.6g} (set it in optimizer.param_groups before step {t})")
        g, loss = true_grads(fwd, data, starts, what)
        want = g
        if max_grad_norm is not None:
            names = sorted(g)
            _, clipped = ref_clip([g[k] for k in names], [g[k] for k in names], max_grad_norm)
            want = dict(zip(names, clipped))
        got = step["grads"]
        if not grads_close(got, want):
            if previous is not None and max_grad_norm is None and all(got.get(k) is not None for k in g) and \
                    grads_close({k: got[k] - previous[k] for k in g}, g):
                raise StudentError(f"{what}: the gradient seen by optimizer step {t} is this step's gradient plus the "
                                   "previous step's: gradients accumulate; zero them at every step "
                                   "(optimizer.zero_grad())")
            if max_grad_norm is not None and grads_close(got, g):
                raise StudentError(f"{what}: optimizer step {t} saw the unclipped gradient (norm "
                                   f"{float(torch.sqrt(sum((v ** 2).sum() for v in g.values()))):.4g} > "
                                   f"max_grad_norm={max_grad_norm:.4g}): clip with clip_grad_norm(model.parameters(), "
                                   "max_grad_norm) between backward and the optimizer step")
            rule = "" if max_grad_norm is None else f", clipped to a global norm of max_grad_norm={max_grad_norm:.4g}"
            raise StudentError(f"{what}: the gradient seen by optimizer step {t} is not the gradient of step {t}'s "
                               f"batch{rule} (zero the gradients every step, then backward, then clip, then step)")
        previous = got
        if check_losses and not abs(number(losses[t], f"loss of step {t}") - loss) <= 1e-4 * max(1.0, loss):
            raise StudentError(f"{what}: step {t} reported the loss {number(losses[t], 'loss'):.5f}, but the loss of "
                               f"its batch before the step is {loss:.5f}")
    return pairs


@points(2, cell="test_train_gpt")
def test_train_gpt_fresh_gradients(student):
    """on a stand-in model that records each optimizer step: every step sees exactly the gradient of its own
    batch (zeroed every step, never accumulated), at the constant rate lr (warmup_steps=0), and reports that
    batch's loss"""
    check_steps(student, "train_gpt(model, data, steps=6, batch_size=4, lr=1e-2, warmup_steps=0)", 6, 1e-2, 1,
                warmup=0, check_losses=True)
    check_steps(student, "train_gpt(model, data, steps=4, batch_size=3, lr=3e-3)", 4, 3e-3, 2, batch_size=3)


@points(2, cell="test_train_gpt")
def test_train_gpt_warmup_cosine(student):
    """with warmup_steps > 0 optimizer step t runs at get_lr(t, lr, warmup_steps, steps, min_lr=lr / 10):
    rate 0 at step 0, the warm-up's last step, the cosine down to near lr / 10"""
    check_steps(student, "train_gpt(model, data, steps=12, batch_size=4, lr=1e-2, warmup_steps=3)", 12, 1e-2, 3,
                warmup=3)
    check_steps(student, "train_gpt(model, data, steps=6, batch_size=4, lr=2e-3, warmup_steps=5)", 6, 2e-3, 4,
                warmup=5)


@points(2, cell="test_train_gpt")
def test_train_gpt_clipping(student):
    """with max_grad_norm every optimizer step sees its batch's gradient clipped to that global norm (as
    clip_grad_norm does), with or without warm-up; a max_grad_norm above the norms changes nothing"""
    data, starts = spy_data(5)
    s = lm_spy(student, "train_gpt", seed=5)
    w = s.probe("module_state")["params"]
    x = torch.stack([data[i:i + SPY_CONTEXT] for i in range(0, 40, 10)])
    y = torch.stack([data[i + 1:i + 1 + SPY_CONTEXT] for i in range(0, 40, 10)])
    w = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    lm_loss(w, x, y).backward()
    norm = float(torch.sqrt(sum((v.grad ** 2).sum() for v in w.values())))
    check_steps(student, f"train_gpt(..., steps=5, lr=1e-2, max_grad_norm={norm / 4:.4g})", 5, 1e-2, 5,
                max_grad_norm=norm / 4)
    check_steps(student, f"train_gpt(..., steps=5, lr=1e-2, warmup_steps=2, max_grad_norm={norm / 4:.4g})", 5, 1e-2,
                5, warmup=2, max_grad_norm=norm / 4)
    check_steps(student, f"train_gpt(..., steps=3, lr=1e-2, max_grad_norm={100 * norm:.4g})", 3, 1e-2, 6,
                max_grad_norm=100 * norm)


# ----------------------------------------------------------------------------- estimate_loss
@points(1, cell="test_estimate_loss", visibility="visible")
def test_estimate_loss_small_example(student):
    """the notebook's example: a fresh GPT on random ids has a validation loss near ln(4), returned as a float;
    the model's mode is restored (train stays train, eval stays eval)"""
    m = model(student, vocab_size=4, context_length=8, d_model=32, n_heads=2, n_layers=1, dropout=0.5)
    m.train()
    ids = torch.randint(0, 4, (200,), generator=gen(120))
    val = student.estimate_loss(m, ids, 8, 5)
    if not isinstance(val, float):
        raise StudentError(f"estimate_loss should return a Python float, got {type(val).__name__}")
    assert abs(val - math.log(4)) < 0.2, f"a fresh model on random ids has a loss near ln(4) = 1.386, got {val:.3f}"
    assert m.probe("module_state")["training"], "estimate_loss must leave a model that came in training mode in it"
    m.eval()
    student.estimate_loss(m, ids, 8, 2)
    assert not m.probe("module_state")["training"], "estimate_loss must leave a model that came in eval mode in it"


def estimate_on_spy(student, s, data, batch_size, iters, what):
    before = len(spy_log(student, s, "estimate_loss"))
    value = student.estimate_loss(s, data, batch_size, iters)
    if isinstance(value, dict) or not isinstance(value, (int, float, torch.Tensor)) or isinstance(value, bool):
        raise StudentError(f"{what} should return a Python float, got {type(value).__name__}")
    return number(value, what), forwards(spy_log(student, s, "estimate_loss")[before:])


@points(2, cell="test_estimate_loss")
def test_estimate_loss_value(student):
    """on a stand-in model that records its inputs: exactly `iters` forward passes of `batch_size` random windows
    of context_length + 1 tokens (inputs and the targets shifted by one), fresh windows for every batch, and the
    return value is the mean of those batches' losses; the weights are untouched"""
    o = "estimate_loss"
    s = lm_spy(student, o, seed=11)
    w = s.probe("module_state")["params"]
    data, starts = spy_data(11)
    what = "estimate_loss(model, data, batch_size=5, iters=7)"
    value, fwds = estimate_on_spy(student, s, data, 5, 7, what)
    if len(fwds) != 7:
        raise StudentError(f"{what} ran {len(fwds)} forward passes; expected exactly iters = 7")
    losses, all_starts = [], []
    for f in fwds:
        if tuple(f["idx"].shape) != (5, SPY_CONTEXT):
            raise StudentError(f"{what}: a batch of inputs has shape {tuple(f['idx'].shape)}, expected "
                               f"(batch_size, context_length) = (5, {SPY_CONTEXT})")
        y, rows = targets_of(data, starts, f["idx"], f["targets"], what)
        losses.append(float(lm_loss(w, f["idx"], y)))
        all_starts += rows
    if len(set(all_starts)) < 12:
        raise StudentError(f"{what}: the 35 windows start at only {len(set(all_starts))} distinct positions: draw "
                           "random windows, fresh for every batch, as train_gpt does")
    want = sum(losses) / len(losses)
    assert abs(value - want) <= 1e-5 * max(1.0, want), (
        f"{what} returned {value:.6f}, but the mean of the losses of its 7 batches is {want:.6f}")
    after = s.probe("module_state")["params"]
    if any(not torch.equal(after[k], w[k]) for k in w):
        raise StudentError(f"{what} changed the model's weights: estimating a loss must not train")
    value, fwds = estimate_on_spy(student, s, data, 3, 1, "estimate_loss(model, data, batch_size=3, iters=1)")
    if len(fwds) != 1:
        raise StudentError(f"estimate_loss(..., iters=1) ran {len(fwds)} forward passes; expected 1")
    y, _ = targets_of(data, starts, fwds[0]["idx"], fwds[0]["targets"], "estimate_loss(…, iters=1)")
    want = float(lm_loss(w, fwds[0]["idx"], y))
    assert abs(value - want) <= 1e-5 * max(1.0, want), (
        f"estimate_loss(model, data, batch_size=3, iters=1) returned {value:.6f}, but its one batch's loss is "
        f"{want:.6f}")


@points(2, cell="test_estimate_loss")
def test_estimate_loss_eval_no_grad(student):
    """every forward pass runs in eval mode and under torch.no_grad(); the model comes back in the mode it came
    in (training, or eval)"""
    o = "estimate_loss"
    data, _ = spy_data(12)
    for start_training in (True, False):
        s = lm_spy(student, o, seed=12)
        s.probe("train_mode", start_training)
        mode = "training" if start_training else "eval"
        what = f"estimate_loss on a model in {mode} mode"
        _, fwds = estimate_on_spy(student, s, data, 4, 3, what)
        if not fwds:
            raise StudentError(f"{what}: the model was never called")
        if any(f["training"] for f in fwds):
            raise StudentError(f"{what}: forward passes ran in training mode (dropout on): call model.eval() first")
        if any(f["grad_enabled"] for f in fwds):
            raise StudentError(f"{what}: forward passes recorded gradients: run them under torch.no_grad()")
        if s.probe("module_state")["training"] != start_training:
            raise StudentError(f"{what}: the model came back in {'eval' if start_training else 'training'} mode: "
                               "restore the mode it came in (model.train(was_training))")
