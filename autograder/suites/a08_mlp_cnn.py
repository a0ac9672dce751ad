"""Hidden suite for a08_mlp_cnn (LBDL 5.1, 5.2). Every test names the student bug it rejects.

The three models are trained by the suite's own trainer (worker probe `fit`: AdamW, weight decay
0, batch 64, a fresh shuffle per epoch) with the recipe the notebook documents, E1 epochs at
lr 3e-3 then E2 at 3e-4, and evaluated on the fixed test split (eval mode, argmax).
`train_classifier` and `accuracy` are tested on the worker's spy model, which logs the train flag,
autograd state and leftover gradients at every forward. Accuracies that decide a grade are
computed here, in the grader, from the logits or weights the worker reports. A model that already scores
> 50 % untrained, or whose accuracy collapses when every test pixel moves by 1e-3, is refused (it recognises the
test images instead of learning: test_*_reaches_*).

MLP
- wrong output shape/dtype, does not flatten [N,1,8,8] or [N,C,H,W]        -> test_mlp_small_example, test_mlp_flattens
- depth ignored or off by one (depth=0 must be one Linear)                 -> test_mlp_parameter_count
- no nonlinearity between layers (a linear model whatever the depth)      -> test_mlp_nonlinear_logits
- ReLU or softmax after the output layer (logits can never be negative)    -> test_mlp_nonlinear_logits
- ReLU before each Linear instead of after (depth=1 affine on pixels)      -> test_mlp_nonlinear_logits
- sigmoid / tanh / GELU instead of ReLU, log-softmax output (no f(2x)=2f(x)) -> test_mlp_nonlinear_logits
- layers registered but skipped in forward (a parameter without gradient) -> test_mlp_gradients_reach_every_layer
- cannot reach 95 % with the documented recipe                             -> test_mlp_reaches_95
ConvNet
- wrong output shape, num_classes ignored                        -> test_convnet_shapes, test_convnet_structure
- no convolution at all, or an oversized model (>= 200k parameters)        -> test_convnet_structure
- eval mode still random or batch-dependent (dropout/BatchNorm mode)       -> test_convnet_eval_mode
- too weak to reach 97 % with the documented recipe                        -> test_convnet_reaches_97
- looks the test split up (dlcourse's data) instead of learning            -> test_convnet_reaches_97 (and MLP, ResNet)
ResNet
- width / blocks / num_classes ignored, names stem/blocks/head missing     -> test_resnet_arguments
- no BatchNorm in the blocks, or one conv / one BatchNorm per block        -> test_resnet_arguments
- global max pooling instead of average (logits not additive)             -> test_resnet_arguments
- BatchNorm built but not used in forward                                 -> test_resnet_batchnorm_used
- a block's size not quadratic in width, blocks not all alike              -> test_resnet_parameter_count
- no skip connection (x + f(x) missing)                                    -> test_resnet_skip_connections
- ReLU not after the addition: x + relu(f(x)), or x + f(x) with no ReLU   -> test_resnet_skip_connections
- head on flattened features instead of global pooling                     -> test_resnet_arguments (head [C, width])
- cannot reach 97 % with the documented recipe                             -> test_resnet_reaches_97
train_classifier
- does not train in place / ignores epochs / cannot reach 90 % on the spy  -> test_train_classifier_trains_spy
- never calls model.train() (or leaves it in eval mode after evaluating)   -> test_train_classifier_train_mode
- no zero_grad (or once per epoch): gradients accumulate                   -> test_train_classifier_zero_grad
- ignores the lr argument (hard-coded learning rate)                       -> test_train_classifier_zero_grad
- scales lr (10 * lr), warm-up/one-cycle schedule, SGD-sized first step    -> test_train_classifier_zero_grad
- returns per-batch losses, or epoch sums instead of per-example means    -> test_train_classifier_loss_values
- mean of the batch means (the smaller last batch weighs like a full one) -> test_train_classifier_loss_values
- drops the smaller last batch                                             -> test_train_classifier_loss_values
- tensors instead of floats (loss.item() missing: graphs kept alive)       -> test_train_classifier_loss_values
- loss re-evaluated after the epoch instead of accumulated during it      -> test_train_classifier_loss_values
accuracy
- percentage instead of a fraction                                         -> test_accuracy_small_example
- model left in train mode (dropout active) or gradient recorded           -> test_accuracy_eval_mode_no_grad
- mean of per-batch accuracies, or divides by batches * batch_size         -> test_accuracy_partial_batches
(numpy scalars, e.g. np.mean(...), count as numbers for accuracy and the per-epoch losses.)
"""

import functools
import math

import torch
import torch.nn.functional as F

from autograder.remote import Remote, StudentError
from autograder.testing import assert_close, check_tensor, gen, number, points

LR = 3e-3
RECIPE = {"MLP": (8, 2), "ConvNet": (10, 4), "ResNet": (5, 2)}  # epochs at LR, then at LR / 10


@functools.cache
def digits():
    from dlcourse.data import digits_split

    return digits_split()


def seed_worker(student, seed):
    """The student's initial weights come from the worker's global RNG: seed it (the spy
    factory calls torch.manual_seed) so that a grade never depends on the order of the tests."""
    student.probe("make_spy", 1, 1, hidden=1, seed=seed, origin="seeding the worker")


def images(seed, n, shape=(1, 8, 8)):
    return torch.rand(n, *shape, generator=gen(seed))


def out_of(m, x, what, classes):
    return check_tensor(m(x), what, (x.shape[0], classes), torch.float32)


def state(m, what):
    st = m.probe("module_state")
    if not st["is_module"]:
        raise StudentError(f"{what} should be a torch.nn.Module, got {st['cls']}")
    return st


def count(params):
    return sum(p.numel() for p in params.values())


def score_on(m, x, y, what):
    m.eval()
    return float((out_of(m, x, what, 10).argmax(1) == y).double().mean())  # scored here, not in the worker


def train_and_score(student, m, name):
    """Train by the recipe and score on the test split; a model must learn, not recognise the test images
    (an untrained model scores near chance, and moving each pixel by at most 1e-3 changes next to nothing)."""
    e1, e2 = RECIPE[name]
    d = digits()
    before = score_on(m, d.x_test, d.y_test, f"{name} (untrained) in eval mode on the test split")
    if before > 0.5:
        raise StudentError(f"{name} scores {before:.1%} on the test split before any training: a model must "
                           "learn from the training it is given, not recognise the test digits")
    losses = m.probe("fit", d.x_train, d.y_train, e1, LR, batch_size=64, seed=0)
    losses += m.probe("fit", d.x_train, d.y_train, e2, LR / 10, batch_size=64, seed=1)
    if not all(math.isfinite(v) for v in losses):
        raise StudentError(f"{name}: the training loss became NaN/inf under the documented recipe")
    acc = score_on(m, d.x_test, d.y_test, f"{name} in eval mode on the test split")
    noise = (torch.rand(d.x_test.shape, generator=gen(99)) - 0.5) * 2e-3
    nudged = score_on(m, d.x_test + noise, d.y_test, f"{name} in eval mode on the nudged test split")
    if acc - nudged > 0.05:
        raise StudentError(f"{name} scores {acc:.1%} on the test split but {nudged:.1%} once every pixel moves by at "
                           "most 1e-3: its predictions must come from what it learned, not from recognising "
                           "the test images")
    return acc, losses


def check_threshold(student, m, name, threshold):
    acc, losses = train_and_score(student, m, name)
    e1, e2 = RECIPE[name]
    assert acc >= threshold, (
        f"{name} reaches {acc:.1%} test accuracy after the documented recipe ({e1} epochs of AdamW at "
        f"lr {LR:g}, then {e2} at {LR / 10:g}; final training loss {losses[-1]:.3f}); at least "
        f"{threshold:.0%} is required")


def eval_checks(m, name, seed):
    """Eval mode: deterministic, and each example's logits do not depend on its batch."""
    m.eval()
    x = images(seed, 6)
    a, b = out_of(m, x, f"{name} in eval mode", 10), out_of(m, x, f"{name} in eval mode", 10)
    assert_close(b, a, f"{name}: two eval-mode forward passes on the same batch (dropout still on?)", atol=1e-5)
    one = out_of(m, x[2:3], f"{name} on one example", 10)
    assert_close(one[0], a[2], f"{name} in eval mode: an example's logits alone vs inside a batch "
                 "(BatchNorm must use its running statistics in eval mode)", rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------- MLP
def mlp_count(i, h, o, depth):
    if depth == 0:
        return i * o + o
    return i * h + h + (depth - 1) * (h * h + h) + h * o + o


@points(1, cell="test_mlp", visibility="visible")
def test_mlp_small_example(student):
    """the notebook's MLP(64, 32, 10, depth=2): [5,1,8,8] -> [5,10] float32, parameter count"""
    m = student.MLP(64, 32, 10, 2)
    out_of(m, images(1, 5), "MLP(64, 32, 10, 2) on [5, 1, 8, 8]", 10)
    got = count(state(m, "MLP")["params"])
    assert got == mlp_count(64, 32, 10, 2), (
        f"MLP(64, 32, 10, depth=2) has {got} parameters, expected {mlp_count(64, 32, 10, 2)} "
        "(two hidden Linear layers of width 32, then a Linear to 10)")


@points(2, cell="test_mlp")
def test_mlp_parameter_count(student):
    """depth = number of hidden layers: exact parameter counts for depth 0 (one Linear), 1, 3, 5"""
    for i, h, o, depth in [(64, 16, 10, 0), (64, 16, 10, 1), (20, 12, 3, 3), (7, 5, 2, 5), (64, 128, 10, 2)]:
        got = count(state(student.MLP(i, h, o, depth), "MLP")["params"])
        want = mlp_count(i, h, o, depth)
        assert got == want, (
            f"MLP({i}, {h}, {o}, depth={depth}) has {got} parameters, expected {want}: depth hidden "
            f"Linear+ReLU layers of width {h}, then one output Linear (depth=0: a single Linear {i}->{o})")


@points(1, cell="test_mlp")
def test_mlp_flattens(student):
    """flattens any [N, ...] input: [N,3,4,5] and already-flat [N,60] with in_features=60"""
    m = student.MLP(60, 16, 7, 2)
    m.eval()
    x = images(2, 4, (3, 4, 5))
    a = out_of(m, x, "MLP(60, 16, 7, 2) on [4, 3, 4, 5]", 7)
    b = out_of(m, x.reshape(4, 60), "MLP(60, 16, 7, 2) on [4, 60]", 7)
    assert_close(b, a, "MLP on flat [4, 60] vs the same values as [4, 3, 4, 5]")
    out_of(m, x[:1], "MLP on a batch of one", 7)


@points(1, cell="test_mlp")
def test_mlp_nonlinear_logits(student):
    """depth=0 is affine, depth>=1 is not (ReLU after every hidden Linear, none before the first one);
    the activation is ReLU (with zero biases f(2x) = 2 f(x)); outputs are logits, some negative"""
    xa, xb = images(3, 16).reshape(16, 64), images(4, 16).reshape(16, 64)

    def affine_gap(m):
        m.eval()
        fa, fb, fm = (out_of(m, x, "MLP", 10) for x in (xa, xb, (xa + xb) / 2))
        return float(((fa + fb) / 2 - fm).abs().max()), torch.cat([fa, fb])

    gap0, _ = affine_gap(student.MLP(64, 32, 10, 0))
    assert gap0 < 1e-4, ("MLP with depth=0 should be one Linear layer (affine), but f((a+b)/2) != "
                         f"(f(a)+f(b))/2 by {gap0:.3g}")
    seed_worker(student, 5)
    gap1, _ = affine_gap(student.MLP(64, 32, 10, 1))
    assert gap1 > 1e-3, ("MLP with depth=1 is an affine function of inputs in [0, 1]: its hidden layer needs "
                         "Linear -> ReLU (a ReLU before the first Linear does nothing to pixels in [0, 1])")
    seed_worker(student, 5)
    m = student.MLP(64, 32, 10, 2)
    gap2, outs = affine_gap(m)
    assert gap2 > 1e-3, "MLP with depth=2 is an affine function of its input: no ReLU between the layers?"
    if bool((outs >= 0).all()):
        raise StudentError("MLP outputs are never negative: return the last Linear's logits, "
                           "without a ReLU or softmax after it")
    # ReLU is positively homogeneous: without biases (the only 1-D parameters: no normalisation layers),
    # the whole MLP is, f(2x) = 2 f(x); sigmoid, tanh and GELU are not
    m.probe("load_state", {k: torch.zeros_like(p) for k, p in state(m, "MLP")["params"].items() if p.dim() == 1})
    x = torch.randn(16, 64, generator=gen(8))
    f1, f2 = out_of(m, x, "MLP", 10), out_of(m, 2 * x, "MLP", 10)
    gap = float((f2 - 2 * f1).abs().max()) / max(float(f2.abs().max()), 1e-6)
    assert gap < 1e-4, (
        f"MLP(64, 32, 10, 2) with its biases set to zero gives f(2x) != 2 f(x) (relative gap {gap:.3g}): the "
        "hidden activation must be ReLU (not sigmoid, tanh or GELU), with no normalisation layers and no "
        "(log-)softmax after the output layer")


@points(1, cell="test_mlp")
def test_mlp_gradients_reach_every_layer(student):
    """every parameter of MLP(20, 16, 4, depth=3) receives a non-zero gradient"""
    seed_worker(student, 6)
    m = student.MLP(20, 16, 4, 3)
    m.train()
    x = torch.randn(32, 20, generator=gen(6))
    got = m.probe("forward_backward", (x,), {}, torch.randn(32, 4, generator=gen(7)))
    if got["out_cls"] != "torch.Tensor":
        raise StudentError(f"MLP returned a {got['out_cls']}, expected a torch.Tensor")
    for name, g in got["param_grads"].items():
        if g is None or not bool(g.abs().sum() > 0):
            raise StudentError(f"parameter {name} gets no gradient: is that layer skipped in forward?")


@points(3, cell="test_mlp")
def test_mlp_reaches_95(student):
    """MLP(64, 128, 10, depth=2) trained by the suite's recipe reaches >= 95 % on the test split"""
    seed_worker(student, 10)
    check_threshold(student, student.MLP(64, 128, 10, 2), "MLP", 0.95)


# ----------------------------------------------------------------------------- ConvNet
@points(1, cell="test_convnet", visibility="visible")
def test_convnet_shapes(student):
    """ConvNet(): [4,1,8,8] -> [4,10] float32, fewer than 200k parameters"""
    m = student.ConvNet()
    out_of(m, images(11, 4), "ConvNet() on [4, 1, 8, 8]", 10)
    n = count(state(m, "ConvNet")["params"])
    assert n < 200_000, f"ConvNet has {n} parameters; keep it under 200k (8x8 digits need far fewer)"


@points(1, cell="test_convnet")
def test_convnet_structure(student):
    """num_classes is honoured, a convolution kernel (4-D weight) exists, under 200k parameters"""
    m = student.ConvNet(num_classes=3)
    out_of(m, images(12, 5), "ConvNet(num_classes=3) on [5, 1, 8, 8]", 3)
    params = state(m, "ConvNet")["params"]
    if not any(p.dim() == 4 for p in params.values()):
        raise StudentError("ConvNet has no convolution (no 4-D weight [out, in, kh, kw] among its parameters)")
    assert count(params) < 200_000, f"ConvNet(num_classes=3) has {count(params)} parameters (limit 200k)"


@points(1, cell="test_convnet")
def test_convnet_eval_mode(student):
    """eval mode: deterministic, and an example's logits do not depend on the rest of its batch"""
    seed_worker(student, 13)
    m = student.ConvNet()
    m.probe("fit", digits().x_train[:256], digits().y_train[:256], 1, LR, batch_size=64, seed=2)
    eval_checks(m, "ConvNet", 13)


@points(4, cell="test_convnet")
def test_convnet_reaches_97(student):
    """ConvNet() trained by the suite's recipe reaches >= 97 % on the test split"""
    seed_worker(student, 20)
    check_threshold(student, student.ConvNet(), "ConvNet", 0.97)


# ----------------------------------------------------------------------------- ResNet
def block_index(name):
    """'blocks.3.conv1.weight' -> 3; None for stem/head parameters."""
    parts = name.split(".")
    if len(parts) > 2 and parts[0] == "blocks" and parts[1].isdigit():
        return int(parts[1])
    return None


@points(1, cell="test_resnet", visibility="visible")
def test_resnet_shapes(student):
    """ResNet(): [4,1,8,8] -> [4,10] float32; has BatchNorm buffers and stem/blocks/head"""
    m = student.ResNet()
    out_of(m, images(21, 4), "ResNet() on [4, 1, 8, 8]", 10)
    st = state(m, "ResNet")
    if not any(k.endswith("running_mean") for k in st["buffers"]):
        raise StudentError("ResNet has no BatchNorm (no running_mean buffer)")
    for part in ("stem.", "blocks.", "head."):
        if not any(k.startswith(part) for k in st["params"]):
            raise StudentError(f"ResNet has no parameters under `{part[:-1]}` (found {sorted(st['params'])[:6]}...)")


@points(2, cell="test_resnet")
def test_resnet_arguments(student):
    """ResNet(5, width=16, blocks=3): [N,5], blocks.0-2 each with two 3x3 16->16 convs and two BatchNorms,
    head [5,16]

    head is Linear(width, num_classes) on globally *average*-pooled features: with the blocks zeroed, the logits of
    two digits' worth of ink in opposite corners add up, f(a + b) + f(0) = f(a) + f(b) (max-pooling does not)."""
    m = student.ResNet(num_classes=5, width=16, blocks=3)
    out_of(m, images(22, 3), "ResNet(5, width=16, blocks=3) on [3, 1, 8, 8]", 5)
    st = state(m, "ResNet")
    found = sorted({block_index(k) for k in st["params"]} - {None})
    assert found == [0, 1, 2], (
        f"ResNet(blocks=3) should have parameters under blocks.0, blocks.1, blocks.2; found blocks {found}")
    for i in range(3):
        convs = [k for k, p in st["params"].items() if block_index(k) == i and p.dim() == 4
                 and tuple(p.shape) == (16, 16, 3, 3)]
        if len(convs) < 2:
            raise StudentError(f"blocks.{i} has {len(convs)} 3x3 convolutions from width 16 to width 16; a block "
                               "has two")
        bns = [k for k, b in st["buffers"].items() if block_index(k) == i and k.endswith("running_mean")
               and b.numel() == 16]
        if len(bns) < 2:
            raise StudentError(f"blocks.{i} has {len(bns)} BatchNorm over its 16 channels (running_mean buffers); "
                               "a block has one after each of its two convolutions")
    head = st["params"].get("head.weight")
    if head is None or tuple(head.shape) != (5, 16):
        shape = None if head is None else tuple(head.shape)
        raise StudentError(f"head.weight should be [num_classes, width] = [5, 16] (a Linear on globally "
                           f"pooled features), got {shape}")
    # global average pooling is additive over disjoint regions: zero the blocks (each passes its input
    # through), then ink in the top-left and bottom-right corners, whose receptive fields do not meet
    m.probe("load_state", {k: torch.zeros_like(p) for k, p in st["params"].items() if block_index(k) is not None})
    m.eval()
    x = torch.zeros(4, 1, 8, 8)
    x[1, 0, 0, 0] = x[3, 0, 0, 0] = 1.0
    x[2, 0, 7, 7] = x[3, 0, 7, 7] = 1.0
    out = out_of(m, x, "ResNet(5, width=16, blocks=3) with zeroed blocks, eval mode", 5)
    gap = float((out[3] + out[0] - out[1] - out[2]).abs().max())
    scale = float((out[1:] - out[:1]).abs().max())
    if gap > 1e-5 + 1e-3 * scale:
        raise StudentError(f"with the blocks zeroed, ink in two opposite corners changes the logits by {gap:.3g} "
                           "more than the sum of each corner's effect: pool with the global *average* over "
                           "positions (h.mean(dim=(2, 3))), not the maximum")


@points(1, cell="test_resnet")
def test_resnet_parameter_count(student):
    """each block adds the same number of parameters, which grows with width like width**2"""
    c = {(w, b): count(state(student.ResNet(10, width=w, blocks=b), "ResNet")["params"])
         for w, b in [(8, 1), (8, 2), (8, 3), (16, 1), (16, 2)]}
    per8, per8b, per16 = c[8, 2] - c[8, 1], c[8, 3] - c[8, 2], c[16, 2] - c[16, 1]
    assert per8 > 0 and per8 == per8b, (
        f"blocks=1,2,3 at width 8 have {c[8, 1]}, {c[8, 2]}, {c[8, 3]} parameters: each block should add "
        "the same number")
    assert 3.5 < per16 / per8 <= 4.0, (
        f"one block has {per8} parameters at width 8 and {per16} at width 16: a block of width x width "
        "convolutions should grow like width**2")


@points(1, cell="test_resnet")
def test_resnet_batchnorm_used(student):
    """a training-mode forward updates every block's BatchNorm running statistics; eval mode is per-example"""
    seed_worker(student, 23)
    m = student.ResNet(width=8, blocks=2)
    before = {k: v for k, v in state(m, "ResNet")["buffers"].items() if k.endswith("running_mean")}
    m.train()
    out_of(m, images(23, 16), "ResNet(width=8, blocks=2) in training mode", 10)
    after = state(m, "ResNet")["buffers"]
    for i in range(2):
        moved = [k for k in before if block_index(k) == i and not torch.equal(before[k], after[k])]
        if not moved:
            raise StudentError(f"no BatchNorm of blocks.{i} updated its running_mean in training mode: "
                               "is it used in forward?")
    m.probe("fit", digits().x_train[:256], digits().y_train[:256], 1, LR, batch_size=64, seed=3)
    eval_checks(m, "ResNet", 24)


@points(2, cell="test_resnet")
def test_resnet_skip_connections(student):
    """skip connections: with every block parameter set to zero the output still depends on the input;
    the ReLU comes after the addition, relu(x + f(x))

    Zeroed residual branches output 0, so only the skip connections carry the stem's features. With every block
    BatchNorm's bias then set to -100, f(x) = -100 and relu(x + f(x)) = 0: the logits no longer depend on the
    input (they would with x + relu(f(x)) or x + f(x))."""
    for width, blocks in [(16, 2), (8, 4)]:
        seed_worker(student, 25 + blocks)
        m = student.ResNet(10, width=width, blocks=blocks)
        st = state(m, "ResNet")
        m.probe("load_state", {k: torch.zeros_like(p) for k, p in st["params"].items() if block_index(k) is not None})
        for mode in ("eval", "train"):
            getattr(m, mode)()
            out = out_of(m, images(26, 8), f"ResNet(width={width}, blocks={blocks}) with zeroed blocks", 10)
            if float((out - out[:1]).abs().max()) < 1e-6:
                raise StudentError(
                    f"ResNet(width={width}, blocks={blocks}) with all block parameters set to zero gives the same "
                    f"logits for every input ({mode} mode): a block must return x + f(x), not f(x)")
        biases = {k[: -len("running_mean")] + "bias" for k in st["buffers"]
                  if block_index(k) is not None and k.endswith("running_mean")}
        biases &= set(st["params"])  # affine BatchNorms (nn.BatchNorm2d's default)
        per_block = [sum(block_index(k) == i for k in biases) for i in range(blocks)]
        if min(per_block) >= 2:  # the branch ends with a BatchNorm (a block with fewer: test_resnet_arguments)
            m.probe("load_state", {k: torch.full_like(st["params"][k], -100.0) for k in biases})
            m.eval()
            out = out_of(m, images(27, 8), f"ResNet(width={width}, blocks={blocks}) with shifted BatchNorms", 10)
            if float((out - out[:1]).abs().max()) > 1e-4:
                raise StudentError(
                    f"ResNet(width={width}, blocks={blocks}) with zeroed blocks whose BatchNorm biases are -100 (so "
                    "f(x) = -100) still gives input-dependent logits: a block returns relu(x + f(x)) = 0 here; "
                    "apply the ReLU after the addition (not x + relu(f(x)), nor x + f(x) without a ReLU)")


@points(3, cell="test_resnet")
def test_resnet_reaches_97(student):
    """ResNet() trained by the suite's recipe reaches >= 97 % on the test split"""
    seed_worker(student, 30)
    check_threshold(student, student.ResNet(), "ResNet", 0.97)


# ----------------------------------------------------------------------------- train_classifier
def spy(student, origin, dropout=0.0, seed=0):
    return student.probe("make_spy", 64, 10, hidden=64, seed=seed, dropout=dropout, origin=origin)


def spy_forward(p, x):
    """The spy's eval-mode forward (Flatten, Linear, ReLU, Dropout, Linear), computed here."""
    return F.linear(F.relu(F.linear(x.flatten(1), p["net.1.weight"], p["net.1.bias"])), p["net.4.weight"],
                    p["net.4.bias"])


def spy_accuracy(s, x, y):
    """The reference accuracy, computed in the grader from the spy's weights."""
    logits = spy_forward(s.probe("module_state")["params"], x)
    return float((logits.argmax(1) == y).double().mean())


def log_of(student, s, origin):
    return student.probe("spy_log", s, origin=origin)


def loader(student, x, y, batch_size, origin, shuffle=True, seed=0):
    return student.probe("make_loader", x, y, batch_size, shuffle=shuffle, seed=seed, origin=origin)


def scalar(value, what):
    """number(), also for a numpy scalar (np.mean and np.average return numpy.float64, a float subclass
    that stays in the worker): its .item() is the plain Python number."""
    if isinstance(value, Remote) and value.cls.startswith("numpy.") and not value.is_module:
        value = value.item()
    return number(value, what)


def losses_of(value, epochs):
    if not isinstance(value, (list, tuple)):
        raise StudentError(f"train_classifier should return a list of per-epoch losses, got {type(value).__name__}")
    if len(value) != epochs:
        raise StudentError(f"train_classifier(..., epochs={epochs}) returned {len(value)} losses; "
                           "expected one mean loss per epoch")
    return [scalar(v, "each per-epoch loss") for v in value]


def first_epoch_loss(p, x, y, batch_size, lr):
    """The first epoch's mean training loss under AdamW(lr), replayed here from the spy's initial weights:
    each batch's loss is taken before its step, weighted by its size."""
    params = {k: v.clone().requires_grad_(True) for k, v in p.items()}
    opt = torch.optim.AdamW(params.values(), lr=lr)
    total = 0.0
    for i in range(0, len(x), batch_size):
        loss = F.cross_entropy(spy_forward(params, x[i:i + batch_size]), y[i:i + batch_size])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += float(loss) * len(y[i:i + batch_size])
    return total / len(x)


@points(2, cell="test_train_classifier", visibility="visible")
def test_train_classifier_trains_spy(student):
    """trains a reference model in place: 4 epochs at lr 5e-3 give >= 90 %; one loss per epoch, falling"""
    o = "train_classifier"
    d = digits()
    s = spy(student, o)
    losses = losses_of(student.train_classifier(s, loader(student, d.x_train, d.y_train, 64, o), 4, 5e-3), 4)
    acc = spy_accuracy(s, d.x_test, d.y_test)
    assert acc >= 0.9, (
        f"after train_classifier(model, loader, epochs=4, lr=5e-3) the model scores {acc:.1%} (expected >= 90%)")
    assert losses[-1] < losses[0], f"the per-epoch losses {[round(v, 3) for v in losses]} do not decrease"


@points(1, cell="test_train_classifier")
def test_train_classifier_train_mode(student):
    """calls model.train(): every epoch's batches run in training mode, even if the model arrives in eval mode"""
    o = "train_classifier"
    d = digits()
    s = spy(student, o, dropout=0.1)
    s.eval()
    x, y = d.x_train[:200], d.y_train[:200]
    student.train_classifier(s, loader(student, x, y, 50, o), 3, 1e-3)
    log = log_of(student, s, o)
    training = [e for e in log if e["training"] and e["grad_enabled"]]
    assert len(training) >= 3 * 4, (
        f"only {len(training)} of the forward passes ran in training mode with autograd on; expected 3 epochs x "
        "4 batches = 12 (call model.train() at the start of every epoch)")


@points(2, cell="test_train_classifier")
def test_train_classifier_zero_grad(student):
    """gradients are cleared every step (no accumulation), and the lr argument is used: lr=1e-9 leaves the
    weights in place, and one step at lr=1e-3 moves the weights by at most about 1e-3 (AdamW's first step
    is lr times the sign of the gradient), some by that much"""
    o = "train_classifier"
    d = digits()
    x = d.x_train[:32].repeat(4, 1, 1, 1)  # four identical batches of 32
    y = d.y_train[:32].repeat(4)
    s = spy(student, o, seed=1)
    before = s.probe("module_state")["params"]
    student.train_classifier(s, loader(student, x, y, 32, o, shuffle=False), 2, 1e-9)
    stale = [e["stale_grad"] for e in log_of(student, s, o) if e["training"] and e["grad_enabled"]]
    assert stale, "train_classifier made no training-mode forward pass"
    nonzero = [v for v in stale if v > 0]
    if nonzero and max(nonzero) > 1.05 * min(nonzero):
        raise StudentError(
            "gradients accumulate across batches (the gradient already present at each forward pass grows: "
            f"{', '.join(f'{v:.3g}' for v in stale)}): call optimizer.zero_grad() at every step")
    after = s.probe("module_state")["params"]
    moved = max(float((after[k] - before[k]).abs().max()) for k in before)
    assert moved < 1e-5, (
        f"with lr=1e-9 the weights moved by {moved:.3g}: use the lr argument for the optimizer")
    s = spy(student, o, seed=5)
    before = s.probe("module_state")["params"]
    student.train_classifier(s, loader(student, x[:32], y[:32], 32, o, shuffle=False), 1, 1e-3)  # one step
    after = s.probe("module_state")["params"]
    moved = max(float((after[k] - before[k]).abs().max()) for k in before)
    assert 0.9e-3 < moved < 1.1e-3, (
        f"one step of train_classifier(model, loader, epochs=1, lr=1e-3) moved the weights by up to {moved:.3g}; "
        "AdamW's first step moves each weight by about lr (1e-3): use torch.optim.AdamW(model.parameters(), "
        "lr=lr), with no learning-rate scaling, warm-up or schedule inside the first step")


@points(1, cell="test_train_classifier")
def test_train_classifier_loss_values(student):
    """each returned loss is the mean cross-entropy over the epoch's examples (a Python float per epoch, not
    a tensor), the smaller last batch weighted by its size, accumulated during the epoch (at lr=1e-2 the
    first epoch's loss is that of the batches before their steps, not a loss re-evaluated afterwards)"""
    o = "train_classifier"
    d = digits()
    x, y = d.x_train[40:112], d.y_train[40:112]  # 72 examples: batches of 32, 32 and 8
    s = spy(student, o, seed=2)
    p = s.probe("module_state")["params"]
    value = student.train_classifier(s, loader(student, x, y, 32, o, shuffle=False), 2, 1e-9)
    losses = losses_of(value, 2)
    if any(isinstance(v, torch.Tensor) for v in value):
        raise StudentError("train_classifier returned tensors as losses: return Python floats (loss.item()), "
                           "so that no tensor keeps the training graph alive")
    want = float(F.cross_entropy(spy_forward(p, x), y))
    for i, v in enumerate(losses):
        assert abs(v - want) < 1e-4 * max(1.0, want), (
            f"epoch {i + 1}: returned loss {v:.5f}, but the mean cross-entropy over that epoch's 72 examples is "
            f"{want:.5f} (batches of 32, 32 and 8, weights frozen by lr=1e-9): multiply each batch's mean loss "
            "by its size, sum, and divide by the number of examples")
    s = spy(student, o, seed=4)
    p = s.probe("module_state")["params"]
    got = losses_of(student.train_classifier(s, loader(student, x, y, 32, o, shuffle=False), 1, 1e-2), 1)[0]
    want = first_epoch_loss(p, x, y, 32, 1e-2)
    assert abs(got - want) < 2e-3 * max(1.0, want), (
        f"train_classifier(model, loader, epochs=1, lr=1e-2) returned the loss {got:.5f}, but the training "
        f"batches' losses (each taken before its step, weighted by size) average {want:.5f}: accumulate "
        "loss.item() * len(y) during the epoch rather than re-evaluating the model afterwards")


# ----------------------------------------------------------------------------- accuracy
def trained_spy(student, o, dropout=0.0, epochs=2, seed=0):
    d = digits()
    s = spy(student, o, dropout=dropout, seed=seed)
    s.probe("fit", d.x_train, d.y_train, epochs, 3e-3, batch_size=64, seed=seed)
    return s


def student_accuracy(student, s, x, y, batch_size, shuffle=False):
    value = student.accuracy(s, loader(student, x, y, batch_size, "accuracy", shuffle=shuffle))
    return scalar(value, "accuracy(...)")


@points(1, cell="test_accuracy", visibility="visible")
def test_accuracy_small_example(student):
    """the fraction (in [0, 1]) of test digits a trained reference model gets right"""
    o = "accuracy"
    d = digits()
    s = trained_spy(student, o)
    got = student_accuracy(student, s, d.x_test, d.y_test, 512)
    want = spy_accuracy(s, d.x_test, d.y_test)
    assert 0.0 <= got <= 1.0, f"accuracy returned {got}: return a fraction in [0, 1], not a percentage"
    assert abs(got - want) < 1e-6, f"accuracy returned {got:.6f}, expected {want:.6f}"


@points(2, cell="test_accuracy")
def test_accuracy_eval_mode_no_grad(student):
    """evaluates in eval mode without autograd (a model with dropout 0.6, handed over in train mode)"""
    o = "accuracy"
    d = digits()
    s = trained_spy(student, o, dropout=0.6, epochs=3)
    s.train()
    start = len(log_of(student, s, o))
    got = student_accuracy(student, s, d.x_test, d.y_test, 64)
    log = log_of(student, s, o)[start:]
    assert log, "accuracy never called the model"
    if any(e["training"] for e in log):
        raise StudentError("accuracy ran the model in training mode (dropout on): call model.eval() first")
    if any(e["grad_enabled"] for e in log):
        raise StudentError("accuracy recorded gradients: wrap the evaluation in torch.no_grad()")
    want = spy_accuracy(s, d.x_test, d.y_test)
    assert abs(got - want) < 1e-6, f"accuracy returned {got:.6f}, expected {want:.6f}"


@points(2, cell="test_accuracy")
def test_accuracy_partial_batches(student):
    """counts every example once whatever the batch size (last batch smaller), shuffled or not"""
    o = "accuracy"
    d = digits()
    s = trained_spy(student, o, epochs=1, seed=3)
    for n, bs, shuffle in [(450, 64, False), (130, 64, False), (100, 7, True), (37, 100, False), (450, 449, True)]:
        x, y = d.x_test[:n], d.y_test[:n]
        got = student_accuracy(student, s, x, y, bs, shuffle)
        want = spy_accuracy(s, x, y)
        assert abs(got - want) < 1e-6, (
            f"on {n} examples in batches of {bs} (last batch {n % bs or bs}) accuracy returned {got:.6f}, "
            f"expected {want:.6f}: count correct predictions over all examples, then divide by their number")
