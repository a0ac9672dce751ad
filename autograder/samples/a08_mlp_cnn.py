"""Wrong submissions for a08_mlp_cnn (each a plausible student answer)."""

from . import Sample

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
        why="no model.train(); gradients cleared once per epoch, so they accumulate over its batches",
        patches={
            "train_classifier": '''
def train_classifier(model, train_loader, epochs, lr):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        batch_losses = []
        for x, y in train_loader:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
        losses.append(sum(batch_losses) / len(batch_losses))
    return losses
''',
        },
        fails=frozenset({"test_train_classifier_train_mode", "test_train_classifier_zero_grad"}),
    ),
    "per_batch_losses_fixed_lr": Sample(
        why="returns one loss per batch, and trains with a hard-coded learning rate",
        patches={
            "train_classifier": '''
def train_classifier(model, train_loader, epochs, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(epochs):
        model.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses
''',
        },
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
            "resnet": '''
class BasicBlock(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))  # no skip connection


class ResNet(nn.Module):
    def __init__(self, num_classes=10, width=32, blocks=2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.blocks = nn.Sequential(*[BasicBlock(width) for _ in range(blocks)])
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))
''',
        },
        fails=frozenset({"test_convnet_reaches_97", "test_resnet_skip_connections"}),
    ),
    "mlp_ignores_depth": Sample(
        why="always one hidden layer whatever depth, and a ReLU after the output layer",
        patches={
            "mlp": '''
class MLP(nn.Module):
    def __init__(self, in_features, hidden_features, out_features, depth):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.fc2 = nn.Linear(hidden_features, out_features)

    def forward(self, x):
        return F.relu(self.fc2(F.relu(self.fc1(x.flatten(1)))))
''',
        },
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
}
