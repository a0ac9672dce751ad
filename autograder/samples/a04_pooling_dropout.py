"""Wrong submissions for a04_pooling_dropout (each a plausible student answer)."""

from . import Sample

SAMPLES = {
    "zero_padding": Sample(
        why="max-pool pads with zeros; avg-pool divides by the real-pixel count (count_include_pad=False)",
        patches={
            "max_pool2d": '''
def max_pool2d(x, kernel_size, stride=None, padding=0):
    k = kernel_size
    s = k if stride is None else stride
    x = F.pad(x, (padding, padding, padding, padding))  # zeros: wrong for negative inputs
    return x.unfold(2, k, s).unfold(3, k, s).amax(dim=(-2, -1))
''',
            "avg_pool2d": '''
def avg_pool2d(x, kernel_size, stride=None, padding=0):
    k = kernel_size
    s = k if stride is None else stride
    pad = (padding, padding, padding, padding)
    sums = F.pad(x, pad).unfold(2, k, s).unfold(3, k, s).sum(dim=(-2, -1))
    ones = F.pad(torch.ones_like(x[:1, :1]), pad).unfold(2, k, s).unfold(3, k, s).sum(dim=(-2, -1))
    return sums / ones  # averages over real pixels only
''',
        },
        fails=frozenset({"test_max_small_example", "test_max_padding_negative", "test_max_float64",
                         "test_avg_small_example", "test_avg_padding_counts_pad"}),
    ),
    "stride_one_and_classic_dropout": Sample(
        why="stride defaults to 1; non-inverted dropout (no scaling in training, ×(1-p) in eval)",
        patches={
            "max_pool2d": '''
def max_pool2d(x, kernel_size, stride=None, padding=0):
    k, s = kernel_size, stride or 1
    x = F.pad(x, (padding,) * 4, value=float("-inf"))
    return x.unfold(2, k, s).unfold(3, k, s).amax(dim=(-2, -1))
''',
            "avg_pool2d": '''
def avg_pool2d(x, kernel_size, stride=None, padding=0):
    k, s = kernel_size, stride or 1
    return F.pad(x, (padding,) * 4).unfold(2, k, s).unfold(3, k, s).mean(dim=(-2, -1))
''',
            "Dropout": '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError("p must be in [0, 1]")
        self.p = p

    def forward(self, x):
        if self.training:
            return x * (torch.rand_like(x) >= self.p)
        return x * (1 - self.p)
''',
        },
        fails=frozenset({"test_max_default_stride", "test_avg_default_stride", "test_max_small_example",
                         "test_dropout_values_structure", "test_dropout_mean", "test_dropout_eval",
                         "test_dropout_gradient"}),
    ),
    "reshape_pooling_shared_mask": Sample(
        why="pooling by view (only k = stride, divisible, no padding); one dropout mask for the whole batch",
        patches={
            "max_pool2d": '''
def max_pool2d(x, kernel_size, stride=None, padding=0):
    b, c, h, w = x.shape
    k = kernel_size
    return x.view(b, c, h // k, k, w // k, k).amax(dim=(3, 5))
''',
            "avg_pool2d": '''
def avg_pool2d(x, kernel_size, stride=None, padding=0):
    b, c, h, w = x.shape
    k = kernel_size
    return x.reshape(b, c, h // k, k, w // k, k).mean(dim=(3, 5))
''',
            "Dropout": '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError("p must be in [0, 1]")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return torch.zeros_like(x)
        mask = torch.rand(x.shape[1:]) >= self.p  # one mask, broadcast over the batch
        return x * mask / (1 - self.p)
''',
        },
        fails=frozenset({"test_max_stride_and_kernel", "test_max_floor", "test_avg_stride_and_kernel",
                         "test_avg_floor", "test_max_padding_negative", "test_dropout_independent"}),
    ),
    "builtin_dropout_nan_at_one": Sample(
        forbidden_call="torch.nn.functional.dropout",
        why="Dropout calls F.dropout; avg-pool ignores stride; a hand-written variant divides by 1 - p = 0",
        patches={
            "avg_pool2d": '''
def avg_pool2d(x, kernel_size, stride=None, padding=0):
    k = kernel_size
    x = F.pad(x, (padding,) * 4)
    return x.unfold(2, k, k).unfold(3, k, k).mean(dim=(-2, -1))  # stride ignored
''',
            "Dropout": '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError("p must be in [0, 1]")
        self.p = p

    def forward(self, x):
        if self.p == 1.0:
            return x * (torch.rand_like(x) >= self.p) / (1 - self.p)  # 0/0: NaN
        return F.dropout(x, self.p, self.training)
''',
        },
        fails=frozenset({"test_avg_stride_and_kernel", "test_dropout_values_structure", "test_dropout_fraction",
                         "test_dropout_edge_p"}),
    ),
}
