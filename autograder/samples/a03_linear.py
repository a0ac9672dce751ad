"""Wrong submissions for a03_linear (each a plausible student answer), as edits of the reference,
and right answers in other styles (CORRECT)."""

from . import Sample, edit

_UNFOLD = "cols = F.unfold(x, k, padding=p, stride=s)  # (B, C*k*k, H'*W')"
_MATMUL = "y = self.weight.reshape(self.out_channels, -1) @ cols"
_LINEAR_W = "nn.Parameter(torch.empty(out_features, in_features).uniform_(-bound, bound))"
_LINEAR_B = "nn.Parameter(torch.empty(out_features).uniform_(-bound, bound))"

SAMPLES = {
    "flipped_kernel_tanh_gelu": Sample(
        why="Conv2d computes the true (flipped-kernel) convolution; GELU uses the tanh approximation",
        patches={
            "Conv2d": edit((_MATMUL, "y = self.weight.flip(-1, -2).reshape(self.out_channels, -1) @ cols"
                                     "  # a convolution flips its kernel")),
            "gelu": edit(("torch.erf(x / math.sqrt(2))",
                          "torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))")),
        },
        fails=frozenset({"test_conv2d_example", "test_conv2d_cross_correlation", "test_conv2d_padding",
                         "test_conv2d_gradients", "test_gelu_example", "test_gelu_exact", "test_gelu_gradient"}),
    ),
    "linear_transposed_unstable_softmax": Sample(
        why="Linear stores weight as [in, out] with N(0, 1) init; softmax over the last dim, no max subtraction",
        patches={
            "Linear": edit((_LINEAR_W, "nn.Parameter(torch.randn(in_features, out_features))"),
                           (_LINEAR_B, "nn.Parameter(torch.zeros(out_features))"),
                           ("x @ self.weight.T", "x @ self.weight")),
            "softmax": edit(("(x - x.amax(dim=dim, keepdim=True)).exp()", "x.exp()"),
                            ("e.sum(dim=dim, keepdim=True)", "e.sum(dim=-1, keepdim=True)")),
        },
        fails=frozenset({"test_linear_example", "test_linear_param_layout", "test_linear_init", "test_linear_gradients",
                         "test_softmax_example", "test_softmax_dims", "test_softmax_stable"}),
    ),
    "forbidden_relu_one_sided_padding": Sample(
        forbidden_call="torch.nn.functional.relu",
        why="relu calls F.relu; Conv2d pads the width only and keeps a zero bias when bias=False",
        patches={
            "relu": edit(("torch.where(x > 0, x, torch.zeros_like(x))", "F.relu(x)")),
            "Conv2d": edit(('self.register_parameter("bias", None)',
                            "self.bias = nn.Parameter(torch.zeros(out_channels))  # no bias = a zero bias"),
                           ("(h + 2 * p - k) // s + 1, ", "(h - k) // s + 1, "),
                           (_UNFOLD, "cols = F.unfold(F.pad(x, (p, p)), k, stride=s)  # pads the last dim only")),
        },
        fails=frozenset({"test_relu_example", "test_relu_values", "test_relu_gradient", "test_conv2d_example",
                         "test_conv2d_padding", "test_conv2d_no_bias", "test_conv2d_stride_and_padding"}),
    ),
    "wrong_fan_float32_accumulator": Sample(
        why="kaiming_uniform_ with its default gain and a zero bias; Conv2d's fan-in forgets k·k and "
            "accumulates into a float32 buffer (float64 lost)",
        patches={
            "Linear": edit(("torch.empty(out_features, in_features).uniform_(-bound, bound)",
                            "nn.init.kaiming_uniform_(torch.empty(out_features, in_features))"),
                           (_LINEAR_B, "nn.Parameter(torch.zeros(out_features))")),
            "Conv2d": edit(
                ("math.sqrt(in_channels * kernel_size * kernel_size)", "math.sqrt(in_channels)"),
                (_UNFOLD,
                 "xp = F.pad(x, (p, p, p, p))\n"
                 "        acc = torch.zeros(b, self.out_channels, h_out, w_out)  # float32 whatever x is\n"
                 "        for u in range(k):\n"
                 "            for v in range(k):\n"
                 "                patch = xp[:, :, u:u + s * (h_out - 1) + 1:s, v:v + s * (w_out - 1) + 1:s]\n"
                 "                acc += torch.einsum('bchw,oc->bohw', patch, self.weight[:, :, u, v])"),
                (_MATMUL, "y = acc.reshape(b, self.out_channels, -1)")),
        },
        fails=frozenset({"test_linear_init", "test_conv2d_init", "test_conv2d_float64"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "einsum_and_offset_loop": Sample(
        why="Linear by einsum with torch's own kaiming_uniform_(a=sqrt(5)) init and `self.bias = None`; Conv2d as "
            "a loop over the k·k kernel offsets into an accumulator of x's dtype",
        patches={
            "Linear": '''
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # what torch does: bound 1/sqrt(in)
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features))
            nn.init.uniform_(self.bias, -1 / math.sqrt(in_features), 1 / math.sqrt(in_features))
        else:
            self.bias = None

    def forward(self, x):
        out = torch.einsum("...i,oi->...o", x, self.weight)
        return out if self.bias is None else out + self.bias
''',
            "Conv2d": '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.k, self.s, self.p = kernel_size, stride, padding
        fan_in = in_channels * kernel_size ** 2
        lim = fan_in ** -0.5
        self.weight = nn.Parameter(torch.rand(out_channels, in_channels, kernel_size, kernel_size) * 2 * lim - lim)
        self.bias = nn.Parameter(torch.rand(out_channels) * 2 * lim - lim) if bias else None

    def forward(self, x):
        k, s, p = self.k, self.s, self.p
        xp = F.pad(x, [p, p, p, p])
        H = (xp.shape[2] - k) // s + 1
        W = (xp.shape[3] - k) // s + 1
        out = x.new_zeros(x.shape[0], self.weight.shape[0], H, W)
        for u in range(k):
            for v in range(k):
                window = xp[:, :, u:u + (H - 1) * s + 1:s, v:v + (W - 1) * s + 1:s]  # (B, C, H', W')
                out = out + torch.einsum("bchw,oc->bohw", window, self.weight[:, :, u, v])
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1)
        return out
''',
        },
        fails=frozenset(),
    ),
    "tensor_unfold_clamp_ndtr_float64": Sample(
        why="Linear on a flattened 2-D view; Conv2d by Tensor.unfold patches and a 6-D einsum; relu by clamp, "
            "gelu as x·ndtr(x), softmax computed in float64 and cast back",
        patches={
            "Linear": edit(("y = x @ self.weight.T  # (*, out_features)",
                            "flat = x.reshape(-1, self.in_features).matmul(self.weight.t())\n"
                            "        y = flat.reshape(*x.shape[:-1], self.out_features)")),
            "Conv2d": edit((_UNFOLD, "xp = F.pad(x, (p, p, p, p))\n"
                                     "        patches = xp.unfold(2, k, s).unfold(3, k, s)  # (B, C, H', W', k, k)"),
                           (_MATMUL, "y = torch.einsum('bchwuv,ocuv->bohw', patches, self.weight).flatten(2)")),
            "relu": "def relu(x):\n    return x.clamp(min=0)\n",
            "gelu": "def gelu(x):\n    return x * torch.special.ndtr(x)  # Phi(x), the standard normal CDF\n",
            "softmax": '''
def softmax(x, dim):
    z = x.to(torch.float64)
    z = z - z.max(dim=dim, keepdim=True).values
    p = z.exp() / z.exp().sum(dim=dim, keepdim=True)
    return p.to(x.dtype)
''',
        },
        fails=frozenset(),
    ),
    "masks_erfc_logsumexp": Sample(
        why="relu as x times a 0/1 mask; gelu via erfc; softmax as exp(x - logsumexp); Conv2d with a student "
            "helper for the output size and an einsum over unfold's columns",
        patches={
            "relu": edit(("torch.where(x > 0, x, torch.zeros_like(x))", "x * (x > 0).to(x.dtype)")),
            "gelu": edit(("0.5 * x * (1 + torch.erf(x / math.sqrt(2)))", "x / 2 * torch.erfc(-x / math.sqrt(2))")),
            "softmax": "def softmax(x, dim):\n    return torch.exp(x - torch.logsumexp(x, dim=dim, keepdim=True))\n",
            "Conv2d": edit(
                ("class Conv2d(nn.Module):",
                 "def out_size(n, k, s, p):\n    return (n + 2 * p - k) // s + 1\n\n\nclass Conv2d(nn.Module):"),
                ("h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1",
                 "h_out, w_out = out_size(h, k, s, p), out_size(w, k, s, p)"),
                (_MATMUL, "y = torch.einsum('ok,bkl->bol', self.weight.flatten(1), cols)"),
                ("y + self.bias[:, None]", "y + self.bias.unsqueeze(-1)")),
        },
        fails=frozenset(),
    ),
    "movedim_softmax_where_neg_inf": Sample(
        why="softmax along the last axis after movedim, masked -inf entries set to 0 by torch.where; relu as "
            "torch.maximum with zero",
        patches={
            "softmax": '''
def softmax(x, dim):
    z = x.movedim(dim, -1)  # (..., n): normalise along the last axis
    m = z.max(dim=-1, keepdim=True).values  # finite whenever the slice has a finite score
    e = torch.where(z == float("-inf"), torch.zeros_like(z), (z - m).exp())  # masked entries: exactly 0
    return (e / e.sum(dim=-1, keepdim=True)).movedim(-1, dim)
''',
            "relu": '''
def relu(x):
    return torch.maximum(x, torch.zeros_like(x))
''',
        },
        fails=frozenset(),
    ),
}
