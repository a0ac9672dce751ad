"""Wrong submissions for a08_mlp_cnn (each a plausible student answer, an edit of the reference where the bug
is local), and correct ones in other styles."""

from . import Sample, edit

SAMPLES = {
    "accuracy_percent_in_train_mode": Sample(
        why="accuracy without model.eval() or torch.no_grad(), and as a percentage",
        patches={
            "accuracy": '''
def accuracy(model, loader):
    correct, total = 0, 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
        total += len(y)
    return 100.0 * correct / total
''',
        },
        fails=frozenset({"test_accuracy_small_example", "test_accuracy_eval_mode_no_grad",
                         "test_accuracy_partial_batches"}),
    ),
    "zero_grad_once_per_epoch": Sample(
        why="no model.train(); gradients cleared once per epoch, so they accumulate over its batches; the "
            "epoch's loss is the mean of its batch means",
        patches={"train_classifier": edit(
            ("        model.train()  # dropout on, BatchNorm uses (and updates) batch statistics\n",
             "        optimizer.zero_grad()  # once per epoch\n"),
            ("            optimizer.zero_grad()  # .grad accumulates: clear the previous batch's gradient\n", ""),
            ("total += loss.item() * len(y)", "total += loss.item()"), ("count += len(y)", "count += 1"))},
        fails=frozenset({"test_train_classifier_train_mode", "test_train_classifier_zero_grad",
                         "test_train_classifier_loss_values"}),
    ),
    "per_batch_losses_fixed_lr": Sample(
        why="returns one loss per batch, and trains with a hard-coded learning rate",
        patches={"train_classifier": edit(
            ("AdamW(model.parameters(), lr=lr)", "AdamW(model.parameters(), lr=1e-3)"),
            ("total += loss.item() * len(y)  # undo the batch mean: the last batch may be smaller",
             "losses.append(loss.item())  # one loss per batch"),
            ("        losses.append(total / count)\n", ""))},
        fails=frozenset({"test_train_classifier_trains_spy", "test_train_classifier_zero_grad",
                         "test_train_classifier_loss_values"}),
    ),
    "no_skip_and_weak_convnet": Sample(
        why="ResNet blocks return f(x) without adding x; a one-convolution ConvNet too weak for 97 %",
        patches={
            "convnet": '''
class ConvNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        return self.fc(F.relu(self.conv(x)).mean(dim=(2, 3)))
''',
            "resnet": edit(("F.relu(x + self.bn2(self.conv2(h)))", "F.relu(self.bn2(self.conv2(h)))")),
        },
        fails=frozenset({"test_convnet_reaches_97", "test_resnet_skip_connections"}),
    ),
    "mlp_ignores_depth": Sample(
        why="always one hidden layer whatever depth, and a ReLU after the output layer",
        patches={"mlp": edit(("for _ in range(depth):", "for _ in range(1):"),
                             ("layers.append(nn.Linear(width, out_features))",
                              "layers += [nn.Linear(width, out_features), nn.ReLU()]"))},
        fails=frozenset({"test_mlp_small_example", "test_mlp_parameter_count", "test_mlp_nonlinear_logits"}),
    ),
    "layers_from_strings": Sample(
        # a08 forbids no built-in; what every assignment refuses is code that reaches around the
        # grader, and eval() of strings is one of those (grader integrity)
        forbidden_call="grader integrity: eval",
        why="ConvNet layers built with eval() from strings, which the grader refuses in answer code",
        patches={
            "convnet": '''
LAYERS = ["Conv2d(1, 32, 3, padding=1)", "BatchNorm2d(32)", "ReLU()", "MaxPool2d(2)",
          "Conv2d(32, 64, 3, padding=1)", "BatchNorm2d(64)", "ReLU()", "MaxPool2d(2)",
          "Flatten()", "Linear(256, 128)", "ReLU()"]


class ConvNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(*[eval("nn." + spec) for spec in LAYERS], nn.Linear(128, num_classes))

    def forward(self, x):
        return self.net(x)
''',
        },
        fails=frozenset({"test_convnet_shapes", "test_convnet_structure", "test_convnet_reaches_97"}),
    ),
    "relu_inside_skip_max_pool": Sample(
        why="a block returns x + relu(f(x)) (the ReLU before the addition), and the ResNet pools with the global "
            "maximum instead of the average; both still train to 97 %",
        patches={"resnet": edit(("F.relu(x + self.bn2(self.conv2(h)))", "x + F.relu(self.bn2(self.conv2(h)))"),
                                ("self.head(h.mean(dim=(2, 3)))", "self.head(h.amax(dim=(2, 3)))"))},
        fails=frozenset({"test_resnet_arguments", "test_resnet_skip_connections"}),
    ),
    "gelu_mlp_reevaluated_loss": Sample(
        why="GELU instead of ReLU in the MLP (still nonlinear, still 95 %); the epoch's loss re-evaluated on the "
            "training set after the epoch instead of accumulated from its batches",
        patches={
            "mlp": edit(("nn.ReLU()]", "nn.GELU()]")),
            "train_classifier": edit((
                "        losses.append(total / count)\n",
                "        model.eval()\n        with torch.no_grad():\n            total, count = 0.0, 0\n"
                "            for x, y in train_loader:\n"
                "                total += F.cross_entropy(model(x), y, reduction='sum').item()\n"
                "                count += len(y)\n        losses.append(total / count)\n")),
        },
        fails=frozenset({"test_mlp_nonlinear_logits", "test_train_classifier_loss_values"}),
    ),
    "one_bn_per_block_scaled_lr": Sample(
        why="a residual block with a single BatchNorm (after its first convolution only); train_classifier "
            "multiplies the learning rate by 10 (lr=1e-9 still barely moves the weights)",
        patches={
            "resnet": edit(("self.bn2 = nn.BatchNorm2d(width)", "self.bn2 = nn.Identity()  # one BatchNorm is enough")),
            "train_classifier": edit(("AdamW(model.parameters(), lr=lr)", "AdamW(model.parameters(), lr=10 * lr)")),
        },
        fails=frozenset({"test_resnet_arguments", "test_train_classifier_zero_grad"}),
    ),
    "relu_before_linear_tensor_losses": Sample(
        why="the MLP applies ReLU before each hidden Linear (a no-op on pixels in [0, 1], so depth=1 is affine); "
            "train_classifier returns tensors (loss * len(y) without .item(), graphs kept alive)",
        patches={
            "mlp": edit(("layers += [nn.Linear(width, hidden_features), nn.ReLU()]",
                         "layers += [nn.ReLU(), nn.Linear(width, hidden_features)]")),
            "train_classifier": edit(("total += loss.item() * len(y)", "total += loss * len(y)")),
        },
        fails=frozenset({"test_mlp_nonlinear_logits", "test_train_classifier_loss_values"}),
    ),
    "convnet_looks_up_test_split": Sample(
        # hostile: the digits are public, so answer code can load the fixed test split itself
        why="a ConvNet far too weak for 97 % that, in eval mode, recognises the test images (looked up in "
            "dlcourse's own split) and returns their labels",
        patches={
            "convnet": '''
from dlcourse.data import digits_split as _split

_TABLE = {x.numpy().tobytes(): int(t) for x, t in zip(_split().x_test, _split().y_test)}


class ConvNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, kernel_size=3, padding=1)
        self.fc = nn.Linear(4, num_classes)

    def forward(self, x):
        out = self.fc(F.relu(self.conv(x)).mean(dim=(2, 3)))
        if not self.training:
            out = out.clone()
            for i in range(len(x)):
                label = _TABLE.get(x[i].detach().cpu().numpy().tobytes())
                if label is not None:
                    out[i] = 0.0
                    out[i, label] = 20.0
        return out
''',
        },
        fails=frozenset({"test_convnet_reaches_97"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "modulelist_mlp_functional_convnet": Sample(
        why="MLP as a ModuleList of hidden layers looped over with F.relu (reshape instead of Flatten); a "
            "ConvNet with named layers, functional pooling and dropout (F.dropout with self.training)",
        patches={
            "mlp": '''
class MLP(nn.Module):
    def __init__(self, in_features, hidden_features, out_features, depth):
        super().__init__()
        sizes = [in_features] + [hidden_features] * depth
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.out = nn.Linear(sizes[-1], out_features)

    def forward(self, x):
        h = x.reshape(x.shape[0], -1)
        for layer in self.hidden:
            h = F.relu(layer(h))
        return self.out(h)
''',
            "convnet": '''
class ConvNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.conv2, self.bn2 = nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)  # (N, 16, 4, 4)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)  # (N, 32, 2, 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(F.dropout(x, p=0.2, training=self.training))
''',
        },
        fails=frozenset(),
    ),
    "sequential_residual_inference_accuracy": Sample(
        why="ResNet blocks hold their branch in one nn.Sequential (biased convs, in-place ReLU), a ModuleList "
            "of blocks looped in forward, nn.AdaptiveAvgPool2d; accuracy under torch.inference_mode with "
            "model.train(False), predictions concatenated and averaged",
        patches={
            "resnet": '''
class BasicBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.branch = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width))

    def forward(self, x):
        return torch.relu(self.branch(x) + x)


class ResNet(nn.Module):
    def __init__(self, num_classes=10, width=32, blocks=2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        self.blocks = nn.ModuleList([BasicBlock(width) for _ in range(blocks)])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        return self.head(self.pool(x).flatten(1))
''',
            "accuracy": '''
def accuracy(model, loader):
    model.train(False)
    device = next(model.parameters()).device
    preds, labels = [], []
    with torch.inference_mode():
        for x, y in loader:
            preds.append(model(x.to(device)).argmax(dim=-1).cpu())
            labels.append(y)
    return (torch.cat(preds) == torch.cat(labels)).float().mean().item()
''',
        },
        fails=frozenset(),
    ),
    "zero_grad_after_step_loss_module": Sample(
        why="nn.CrossEntropyLoss module, gradients cleared after each step (and once before training), "
            "the epoch's loss summed in a tensor and averaged at the end",
        patches={
            "train_classifier": '''
def train_classifier(model, train_loader, epochs, lr):
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    optimizer.zero_grad()
    history = []
    for epoch in range(epochs):
        model.train(True)
        running, seen = torch.zeros(()), 0
        for inputs, targets in train_loader:
            inputs, targets = inputs.to(device), targets.to(device)
            loss = criterion(model(inputs), targets)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            running += loss.detach().cpu() * targets.shape[0]
            seen += targets.shape[0]
        history.append((running / seen).item())
    return history
''',
        },
        fails=frozenset(),
    ),
    "numpy_scalars": Sample(
        why="per-epoch losses from np.average(batch losses, weights=batch sizes) and accuracy from np.mean: "
            "numpy.float64 values (a float subclass), which count as numbers",
        patches={
            "train_classifier": '''
import numpy as np


def train_classifier(model, train_loader, epochs, lr):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        model.train()
        batch_losses, sizes = [], []
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
            sizes.append(len(y))
        history.append(np.average(batch_losses, weights=sizes))
    return history
''',
            "accuracy": '''
import numpy as np


def accuracy(model, loader):
    model.eval()
    hits = []
    with torch.no_grad():
        for x, y in loader:
            hits.append((model(x).argmax(1) == y).numpy())
    return np.mean(np.concatenate(hits))
''',
        },
        fails=frozenset(),
    ),
    "summed_losses_dropout_convnet": Sample(
        why="train_classifier with reduction='sum' (backward on sum / batch size, the epoch's loss the running "
            "sum over examples), zero_grad(set_to_none=False); a ConvNet with dropout before its classifier "
            "(off in eval mode: deterministic, per-example logits)",
        patches={
            "train_classifier": '''
def train_classifier(model, train_loader, epochs, lr):
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        model.train()
        loss_sum, seen = 0.0, 0
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad(set_to_none=False)
            total = F.cross_entropy(model(x), y, reduction="sum")  # summed over the batch
            (total / len(y)).backward()  # the gradient of the batch mean
            optimizer.step()
            loss_sum += total.item()  # this step's loss, before the step changed the weights
            seen += len(y)
        history.append(loss_sum / seen)
    return history
''',
            "convnet": edit(("            nn.Flatten(),  # (N, 256)\n",
                             "            nn.Flatten(),  # (N, 256)\n            nn.Dropout(0.25),\n")),
        },
        fails=frozenset(),
    ),
}
