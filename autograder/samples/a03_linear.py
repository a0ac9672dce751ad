"""Wrong submissions for a03_linear (each a plausible student answer)."""

from . import Sample

SAMPLES = {
    "flipped_kernel_tanh_gelu": Sample(
        why="Conv2d computes the true (flipped-kernel) convolution; GELU uses the tanh approximation",
        patches={
            "Conv2d": '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.out_channels, self.kernel_size, self.stride, self.padding = out_channels, kernel_size, stride, padding
        bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound))
        else:
            self.register_parameter("bias", None)

    def forward(self, x):
        b, _, h, w = x.shape
        k, s, p = self.kernel_size, self.stride, self.padding
        h_out, w_out = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        cols = F.unfold(x, k, padding=p, stride=s)
        kernel = self.weight.flip(-1, -2)  # "convolution" flips the kernel, as in signal processing
        y = kernel.reshape(self.out_channels, -1) @ cols
        if self.bias is not None:
            y = y + self.bias[:, None]
        return y.reshape(b, self.out_channels, h_out, w_out)
''',
            "gelu": '''
def gelu(x):
    return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
''',
        },
        fails=frozenset({"test_conv2d_example", "test_conv2d_cross_correlation", "test_conv2d_padding",
                         "test_conv2d_gradients", "test_gelu_example", "test_gelu_exact", "test_gelu_gradient"}),
    ),
    "linear_transposed_unstable_softmax": Sample(
        why="Linear stores weight as [in, out] with N(0, 1) init; softmax over the last dim, no max subtraction",
        patches={
            "Linear": '''
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x):
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y
''',
            "softmax": '''
def softmax(x, dim):
    e = x.exp()
    return e / e.sum(dim=-1, keepdim=True)
''',
        },
        fails=frozenset({"test_linear_example", "test_linear_param_layout", "test_linear_init", "test_linear_gradients",
                         "test_softmax_example", "test_softmax_dims", "test_softmax_stable"}),
    ),
    "forbidden_relu_one_sided_padding": Sample(
        forbidden_call="torch.nn.functional.relu",
        why="relu calls F.relu; Conv2d pads the width only and keeps a zero bias when bias=False",
        patches={
            "relu": '''
def relu(x):
    return F.relu(x)
''',
            "Conv2d": '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.out_channels, self.kernel_size, self.stride, self.padding = out_channels, kernel_size, stride, padding
        bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
        b = torch.empty(out_channels).uniform_(-bound, bound) if bias else torch.zeros(out_channels)
        self.bias = nn.Parameter(b)

    def forward(self, x):
        k, s, p = self.kernel_size, self.stride, self.padding
        x = F.pad(x, (p, p))  # pads the last dimension only
        b, _, h, w = x.shape
        h_out, w_out = (h - k) // s + 1, (w - k) // s + 1
        y = self.weight.reshape(self.out_channels, -1) @ F.unfold(x, k, stride=s)
        return (y + self.bias[:, None]).reshape(b, self.out_channels, h_out, w_out)
''',
        },
        fails=frozenset({"test_relu_example", "test_relu_values", "test_relu_gradient", "test_conv2d_example",
                         "test_conv2d_padding", "test_conv2d_no_bias", "test_conv2d_stride_and_padding"}),
    ),
    "wrong_fan_float32_accumulator": Sample(
        why="kaiming_uniform_ with its default gain and a zero bias; Conv2d's fan-in forgets k·k and "
            "accumulates into a float32 buffer (float64 lost)",
        patches={
            "Linear": '''
class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.weight)  # default a=0: bound sqrt(6 / in), not 1 / sqrt(in)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x):
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y
''',
            "Conv2d": '''
class Conv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        bound = 1 / math.sqrt(in_channels)  # fan-in without the kernel area
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = nn.Parameter(torch.empty(shape).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound)) if bias else None

    def forward(self, x):
        k, s, p = self.kernel_size, self.stride, self.padding
        xp = F.pad(x, (p, p, p, p))
        b, _, h, w = xp.shape
        h_out, w_out = (h - k) // s + 1, (w - k) // s + 1
        out = torch.zeros(b, self.weight.shape[0], h_out, w_out)  # float32 whatever x is
        for u in range(k):
            for v in range(k):
                patch = xp[:, :, u:u + s * (h_out - 1) + 1:s, v:v + s * (w_out - 1) + 1:s]
                out += torch.einsum("bchw,oc->bohw", patch, self.weight[:, :, u, v])
        if self.bias is not None:
            out = out + self.bias[:, None, None]
        return out
''',
        },
        fails=frozenset({"test_linear_init", "test_conv2d_init", "test_conv2d_float64"}),
    ),
}
