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
