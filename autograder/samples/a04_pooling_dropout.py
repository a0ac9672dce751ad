"""Wrong submissions for a04_pooling_dropout (each a plausible student answer), mostly as edits of
the reference, and correct ones in other styles."""

from . import Sample, edit

# The reference's stride default and window extraction, shared by both pooling cells.
STRIDE = "s = k if stride is None else stride"
WINDOWS = "windows = x.unfold(2, k, s).unfold(3, k, s)"
ZERO_PAD = "    x = F.pad(x, (padding, padding, padding, padding))  # (B, C, H+2p, W+2p), zeros\n"

SAMPLES = {
    "zero_padding": Sample(
        why="max-pool pads with zeros; avg-pool divides by the real-pixel count (count_include_pad=False)",
        patches={
            "max_pool2d": edit((", value=-math.inf)  # (B, C, H+2p, W+2p)",
                                ")  # (B, C, H+2p, W+2p), zeros: wrong for negative inputs")),
            "avg_pool2d": edit(
                (ZERO_PAD, "    ones = F.pad(torch.ones_like(x[:1, :1]), (padding,) * 4)"
                           ".unfold(2, k, s).unfold(3, k, s)\n" + ZERO_PAD),
                ("/ (k * k)", "/ ones.sum(dim=(-2, -1))  # averages over real pixels only")),
        },
        fails=frozenset({"test_max_small_example", "test_max_padding_negative", "test_max_float64",
                         "test_avg_small_example", "test_avg_padding_counts_pad"}),
    ),
    "stride_one_and_classic_dropout": Sample(
        why="stride defaults to 1; non-inverted dropout (no scaling in training, ×(1-p) in eval)",
        patches={
            "max_pool2d": edit((STRIDE, "s = stride or 1")),
            "avg_pool2d": edit((STRIDE, "s = stride or 1")),
            "Dropout": edit(("        if not self.training or self.p == 0.0:\n            return x\n",
                             "        if not self.training:\n            return x * (1 - self.p)\n"),
                            ("return x * keep / (1.0 - self.p)", "return x * keep  # no rescaling")),
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
            "Dropout": edit(("keep = torch.rand_like(x) >= self.p",
                             "keep = torch.rand(x.shape[1:]) >= self.p  # one mask, broadcast over the batch")),
        },
        fails=frozenset({"test_max_stride_and_kernel", "test_max_floor", "test_avg_stride_and_kernel",
                         "test_avg_floor", "test_max_padding_negative", "test_dropout_independent"}),
    ),
    "builtin_dropout_nan_at_one": Sample(
        forbidden_call="torch.nn.functional.dropout",
        why="Dropout calls F.dropout; avg-pool ignores stride; a hand-written variant divides by 1 - p = 0",
        patches={
            "avg_pool2d": edit((WINDOWS, "windows = x.unfold(2, k, k).unfold(3, k, k)  # stride ignored")),
            "Dropout": edit(
                ("            return torch.zeros_like(x)\n",
                 "            return x * (torch.rand_like(x) >= self.p) / (1 - self.p)  # 0/0: NaN\n"),
                ("        keep = torch.rand_like(x) >= self.p  # (same shape as x), True with probability 1 - p\n"
                 "        return x * keep / (1.0 - self.p)",
                 "        return F.dropout(x, self.p, self.training)")),
        },
        fails=frozenset({"test_avg_stride_and_kernel", "test_dropout_values_structure", "test_dropout_fraction",
                         "test_dropout_edge_p"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "im2col_and_bernoulli_where": Sample(
        why="pooling through F.unfold (im2col) on [B·C, 1, H, W]; dropout with torch.bernoulli and torch.where",
        patches={
            "max_pool2d": '''
def max_pool2d(x, kernel_size, stride=None, padding=0):
    b, c, h, w = x.shape
    stride = stride or kernel_size
    h_out = (h + 2 * padding - kernel_size) // stride + 1
    w_out = (w + 2 * padding - kernel_size) // stride + 1
    padded = F.pad(x.reshape(b * c, 1, h, w), [padding] * 4, value=float("-inf"))
    cols = F.unfold(padded, kernel_size, stride=stride)  # (B*C, k*k, H_out*W_out)
    return cols.max(dim=1).values.reshape(b, c, h_out, w_out)
''',
            "avg_pool2d": '''
def avg_pool2d(x, kernel_size, stride=None, padding=0):
    b, c, h, w = x.shape
    stride = stride or kernel_size
    h_out = (h + 2 * padding - kernel_size) // stride + 1
    w_out = (w + 2 * padding - kernel_size) // stride + 1
    cols = F.unfold(x.reshape(b * c, 1, h, w), kernel_size, padding=padding, stride=stride)  # zero padding
    return cols.mean(dim=1).reshape(b, c, h_out, w_out)
''',
            "Dropout": '''
class Dropout(nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"p = {p} is not a probability")
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        if self.p == 1:
            return x * 0  # avoid x / 0: torch.where would still backpropagate its NaN
        keep = torch.bernoulli(torch.full_like(x, 1 - self.p)).bool()
        return torch.where(keep, x / (1 - self.p), torch.zeros_like(x))
''',
        },
        fails=frozenset(),
    ),
    "explicit_window_loops": Sample(
        why="a Python loop over the output positions, padding by slice-assignment into a filled tensor; "
            "dropout with Tensor.bernoulli_ and a float mask",
        patches={
            "max_pool2d": '''
def _windows(x, k, s, p, fill):
    """Every k×k window (a list of rows of [B, C, k, k] tensors), after padding with `fill`."""
    b, c, h, w = x.shape
    xp = x.new_full((b, c, h + 2 * p, w + 2 * p), fill)
    xp[:, :, p:p + h, p:p + w] = x
    n_rows, n_cols = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    return [[xp[:, :, i * s:i * s + k, j * s:j * s + k] for j in range(n_cols)] for i in range(n_rows)]


def max_pool2d(x, kernel_size, stride=None, padding=0):
    if stride is None:
        stride = kernel_size
    rows = _windows(x, kernel_size, stride, padding, float("-inf"))
    return torch.stack([torch.stack([win.flatten(2).max(dim=2).values for win in row], dim=-1) for row in rows],
                       dim=-2)
''',
            "avg_pool2d": '''
def avg_pool2d(x, kernel_size, stride=None, padding=0):
    if stride is None:
        stride = kernel_size
    rows = _windows(x, kernel_size, stride, padding, 0.0)
    return torch.stack([torch.stack([win.mean(dim=(2, 3)) for win in row], dim=-1) for row in rows], dim=-2)
''',
            "Dropout": edit(
                ("        keep = torch.rand_like(x) >= self.p  # (same shape as x), True with probability 1 - p\n"
                 "        return x * keep / (1.0 - self.p)",
                 "        mask = torch.empty_like(x).bernoulli_(1.0 - self.p)  # 1.0 = keep, 0.0 = drop\n"
                 "        return x * mask * (1.0 / (1.0 - self.p))")),
        },
        fails=frozenset(),
    ),
    "conv_average_and_masked_fill": Sample(
        why="average pooling as a depthwise convolution with a 1/k² kernel; max of the flattened windows; "
            "dropout via masked_fill of a torch.rand mask, in float64 draws",
        patches={
            "max_pool2d": edit(("    return windows.amax(dim=(-2, -1))",
                                "    return windows.flatten(-2).max(dim=-1).values")),
            "avg_pool2d": '''
def avg_pool2d(x, kernel_size, stride=None, padding=0):
    c = x.shape[1]
    kernel = torch.full((c, 1, kernel_size, kernel_size), 1.0 / kernel_size**2, dtype=x.dtype)
    return F.conv2d(x, kernel, stride=stride or kernel_size, padding=padding, groups=c)
''',
            "Dropout": edit(
                ("        keep = torch.rand_like(x) >= self.p  # (same shape as x), True with probability 1 - p\n"
                 "        return x * keep / (1.0 - self.p)",
                 "        drop = torch.rand(x.shape, dtype=torch.float64) < self.p\n"
                 "        return x.masked_fill(drop, 0.0) / (1.0 - self.p)")),
        },
        fails=frozenset(),
    ),
    "summed_area_table_avg_pool": Sample(
        why="average pooling from a summed-area table (two cumsums, four corner lookups per window), in the "
            "input's dtype",
        patches={
            "avg_pool2d": '''
def avg_pool2d(x, kernel_size, stride=None, padding=0):
    k = kernel_size
    s = k if stride is None else stride
    xp = F.pad(x, (padding, padding, padding, padding))  # (B, C, H + 2p, W + 2p), zeros
    sat = F.pad(xp.cumsum(-2).cumsum(-1), (1, 0, 1, 0))  # sat[..., i, j] = xp[..., :i, :j].sum()
    top = torch.arange((xp.shape[-2] - k) // s + 1)[:, None] * s  # (H_out, 1)
    left = torch.arange((xp.shape[-1] - k) // s + 1) * s  # (W_out,)
    window = (sat[..., top + k, left + k] - sat[..., top, left + k]
              - sat[..., top + k, left] + sat[..., top, left])  # (B, C, H_out, W_out)
    return window / (k * k)
''',
        },
        fails=frozenset(),
    ),
}
