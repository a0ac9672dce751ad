"""Hidden suite for a09_gpt (LBDL 5.3, 7.1). Every test names the student bug it rejects.

CharTokenizer
- ids in order of appearance instead of sorted characters               -> test_tokenizer_sorted_ids
- decode fails on tensors / round trip loses characters                 -> test_tokenizer_round_trip
GPT.forward
- logits only for the last position, or [B, V, T] / wrong dtype          -> test_forward_shapes
- loss returned without targets, or a non-scalar loss                   -> test_forward_shapes
- attention not causal (mask missing, or off by one: diagonal excluded)  -> test_causal
- position embedding missing (model is permutation-equivariant)         -> test_uses_positions
- default PyTorch init: loss at init far from ln(V)                     -> test_loss_at_init
- dropout still active in eval mode                                     -> test_dropout_eval
- cannot learn (no residuals, broken gradient path, detached parts)     -> test_overfits_one_batch
GPT.generate
- prompt not returned as prefix, wrong length, wrong dtype              -> test_generate_shape_prefix
- no cropping to context_length (crashes on long prompts)               -> test_generate_crops_context
- top_k=1 not greedy                                                    -> test_generate_greedy
- temperature not applied before sampling                               -> test_generate_temperature
- temperature <= 0 accepted                                             -> test_generate_rejects_bad_temperature
train_gpt
- not one float loss per step, or loss does not fall                    -> test_train_gpt_contract
- windows not shifted by one (targets == inputs), too few steps          -> test_train_gpt_learns_corpus
- CUDA path broken (runs only where a GPU exists; worth 0 points)       -> test_train_gpt_cuda
"""

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.remote import StudentError
from autograder.testing import assert_close, check_tensor, gen, number, points

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
    """decode(encode(s)) == s, and decode accepts a 1-D tensor"""
    tok = student.CharTokenizer(TEXT)
    s = "over the lazy fox. 42\n"
    ids = tok.encode(s)
    assert isinstance(ids, list) and all(isinstance(i, int) for i in ids), "encode must return a list of ints"
    assert tok.decode(ids) == s, "decode(encode(s)) != s"
    assert tok.decode(torch.tensor(ids)) == s, "decode of a tensor of ids differs"


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
    """changing token t never changes the logits of positions before t (several t, several layers)"""
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


@points(1, cell="test_gpt")
def test_uses_positions(student):
    """position embeddings: the same token at two positions gets different logits"""
    m = model(student)
    m.eval()
    logits, _ = forward(m, torch.full((1, 8), 4))
    logits = check_tensor(logits, "logits of a constant sequence", (1, 8, 13))
    scale = 1.0 + float(logits.abs().max())
    if bool((logits[0, 1] - logits[0, 6]).abs().max() < 1e-4 * scale):  # equal up to round-off
        raise StudentError("a constant sequence gives identical logits at every position: no position embedding?")


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
    """top_k=1 is greedy decoding, at any temperature"""
    m = model(student, seed=3)
    m.eval()
    prompt = torch.randint(0, 13, (2, 3), generator=gen(43))
    ref = greedy(m, prompt, 6, 16)
    for temperature in (1.0, 3.0):
        out = check_tensor(m.generate(prompt, 6, temperature=temperature, top_k=1), "generate(top_k=1)", (2, 9),
                           torch.int64)
        assert torch.equal(out, ref), f"generate(top_k=1, temperature={temperature}) is not greedy decoding"


@points(1, cell="test_gpt")
def test_generate_temperature(student):
    """a tiny temperature is greedy; a huge one spreads samples over the vocabulary"""
    m = model(student, seed=4)
    m.eval()
    prompt = torch.randint(0, 13, (2, 3), generator=gen(44))
    out = m.generate(prompt, 6, temperature=1e-4)
    assert torch.equal(check_tensor(out, "generate(temperature=1e-4)", (2, 9)), greedy(m, prompt, 6, 16)), (
        "with temperature 1e-4 sampling should be greedy: divide the logits by the temperature")
    wide = check_tensor(m.generate(torch.zeros(64, 1, dtype=torch.int64), 1, temperature=100.0),
                        "generate(temperature=100)", (64, 2))
    assert len(set(wide[:, 1].tolist())) >= 5, "with temperature 100, 64 samples should cover many tokens"


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
    """one float loss per step, and the loss falls on a repetitive text"""
    tok_ids = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 3] * 50)
    m = model(student, vocab_size=4, context_length=8, d_model=32, n_heads=2, n_layers=1)
    losses = student.train_gpt(m, tok_ids, 60, 8, 3e-3, device="cpu")
    if not isinstance(losses, list) or len(losses) != 60:
        raise StudentError(f"train_gpt should return a list of 60 losses, got {type(losses).__name__}")
    if not all(isinstance(v, float) and math.isfinite(v) for v in losses):
        raise StudentError("train_gpt's losses must be finite Python floats")
    assert losses[-1] < losses[0] * 0.6, f"loss did not fall: first {losses[0]:.3f}, last {losses[-1]:.3f}"


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
    """on a CUDA machine: device='cuda' trains (bf16 autocast) with finite, falling losses"""
    tok_ids = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 3] * 50)
    m = model(student, vocab_size=4, context_length=8, d_model=32, n_heads=2, n_layers=1)
    losses = student.train_gpt(m, tok_ids, 60, 8, 3e-3, device="cuda")
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0] * 0.6
