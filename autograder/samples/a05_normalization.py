"""Wrong submissions for a05_normalization, as edits of the reference, and correct ones in other styles."""

from . import Sample, edit

SAMPLES = {
    "bn_running_stats_wrong": Sample(
        why="BatchNorm2d: momentum convention reversed and the biased variance in the running update",
        patches={"batchnorm2d": edit(
            ("self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)",
             "self.running_mean.mul_(self.momentum).add_((1 - self.momentum) * mean)"),
            ("self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))  # unbiased",
             "self.running_var.mul_(self.momentum).add_((1 - self.momentum) * var)"))},
        fails=frozenset({"test_bn_visible", "test_bn_running_stats", "test_bn_several_steps",
                         "test_bn_defaults", "test_bn_eps_momentum", "test_bn_float64"}),
    ),
    "bn_stats_under_autograd": Sample(
        why="BatchNorm2d updates its running statistics without torch.no_grad(): right values, leaking graphs",
        patches={"batchnorm2d": edit(("            with torch.no_grad():\n", "            if True:\n"))},
        fails=frozenset({"test_bn_gradients"}),
    ),
    "layer_norm_builtin_rms_centred": Sample(
        forbidden_call="torch.nn.functional.layer_norm",
        why="LayerNorm calls F.layer_norm (forbidden); RMSNorm subtracts the mean",
        patches={
            "layernorm": edit(("return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias",
                               "return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)")),
            "rmsnorm": edit(("        mean_sq = x.pow(2)",
                             "        x = x - x.mean(dim=dims, keepdim=True)  # wrong: RMSNorm does not centre\n"
                             "        mean_sq = x.pow(2)")),
        },
        fails=frozenset({"test_ln_visible", "test_ln_forward", "test_rms_visible", "test_rms_forward",
                         "test_rb_forward"}),
    ),
    "post_norm_tanh_and_eval_batch_stats": Sample(
        why="ResidualBlock is post-norm with the tanh GELU; BatchNorm2d keeps batch statistics (unbiased) in eval",
        patches={
            "batchnorm2d": edit(
                ("        if self.training:\n            mean = x.mean(dim=(0, 2, 3))  # (C,)\n"
                 "            var = x.var(dim=(0, 2, 3), correction=0)  # (C,) biased: normalises this batch\n",
                 "        mean = x.mean(dim=(0, 2, 3))\n"
                 "        var = x.var(dim=(0, 2, 3))  # unbiased, and used in eval mode too\n"
                 "        if self.training:\n"),
                ("self.momentum * var * n / (n - 1)", "self.momentum * var"),
                ("        else:\n            mean, var = self.running_mean, self.running_var\n", "")),
            "residual_block": edit(("F.gelu(self.fc1(self.norm(x)))", 'F.gelu(self.fc1(x), approximate="tanh")'),
                                   ("return x + self.fc2(h)", "return self.norm(x + self.fc2(h))")),
        },
        fails=frozenset({"test_bn_eval_mode", "test_bn_train_forward", "test_bn_several_steps", "test_rb_forward",
                         "test_rb_gradients", "test_rb_visible"}),
    ),
    "eps_outside_sqrt_no_skip": Sample(
        why="LayerNorm and RMSNorm add eps outside the sqrt; ResidualBlock forgets the skip connection",
        patches={
            "layernorm": edit(("torch.sqrt(var + self.eps)", "(torch.sqrt(var) + self.eps)")),
            "rmsnorm": edit(("x * torch.rsqrt(mean_sq + self.eps)", "x / (mean_sq.sqrt() + self.eps)")),
            "residual_block": edit(("return x + self.fc2(h)", "return self.fc2(h)")),
        },
        fails=frozenset({"test_ln_eps", "test_rms_eps", "test_rb_forward", "test_rb_gradients", "test_rb_visible"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "bn_channel_loop": Sample(
        why="BatchNorm2d as a Python loop over the channels, running stats updated entry by entry, "
            "Tensor.var()'s unbiased default for the running variance, no num_batches_tracked",
        patches={"batchnorm2d": '''
class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.C = num_features
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(self.C))
        self.bias = nn.Parameter(torch.zeros(self.C))
        self.register_buffer("running_mean", torch.zeros(self.C))
        self.register_buffer("running_var", torch.ones(self.C))

    def forward(self, x):
        channels = []
        for c in range(self.C):
            xc = x[:, c]  # (N, H, W)
            if self.training:
                mu = xc.mean()
                sigma2 = ((xc - mu) ** 2).mean()
                with torch.no_grad():
                    m = self.momentum
                    self.running_mean[c] = (1 - m) * self.running_mean[c] + m * mu
                    self.running_var[c] = (1 - m) * self.running_var[c] + m * xc.var()
            else:
                mu, sigma2 = self.running_mean[c], self.running_var[c]
            channels.append(self.weight[c] * (xc - mu) / torch.sqrt(sigma2 + self.eps) + self.bias[c])
        return torch.stack(channels, dim=1)
'''},
        fails=frozenset(),
    ),
    "flattened_stats_float64_rms_erf_gelu": Sample(
        why="LayerNorm flattens the trailing axes and uses torch.var_mean; RMSNorm computes in float64 "
            "and casts back; ResidualBlock with a hand-written erf GELU and LayerNorm((dim,))",
        patches={
            "layernorm": '''
class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        if isinstance(normalized_shape, int):
            shape = torch.Size([normalized_shape])
        else:
            shape = torch.Size(normalized_shape)
        self.shape, self.eps = shape, eps
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        lead = x.shape[:x.dim() - len(self.shape)]
        flat = x.reshape(*lead, -1)  # (..., D), D = prod(normalized_shape)
        var, mu = torch.var_mean(flat, dim=-1, correction=0, keepdim=True)
        y = (flat - mu) * torch.rsqrt(var + self.eps)
        return y.reshape(x.shape) * self.weight + self.bias
''',
            "rmsnorm": '''
class RMSNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-6):
        super().__init__()
        self.shape = torch.Size([normalized_shape] if isinstance(normalized_shape, int) else normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.shape))

    def forward(self, x):
        axes = list(range(x.dim() - len(self.shape), x.dim()))
        x64 = x.to(torch.float64)
        rms = torch.sqrt(torch.mean(x64 * x64, dim=axes, keepdim=True) + self.eps)
        return (x64 / rms).to(x.dtype) * self.weight
''',
            "residual_block": '''
def gelu_exact(h):
    return 0.5 * h * (1.0 + torch.erf(h / math.sqrt(2.0)))


class ResidualBlock(nn.Module):
    def __init__(self, dim, hidden_dim):
        super().__init__()
        self.norm = LayerNorm((dim,))
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x):
        branch = self.fc2(gelu_exact(self.fc1(self.norm(x))))
        return branch + x
''',
        },
        fails=frozenset(),
    ),
    "bn_keepdim_lerp_reassigned_buffers": Sample(
        why="BatchNorm2d with keepdim statistics, the running stats reassigned with torch.lerp (still buffers), "
            "the unbiased variance from torch.var; LayerNorm through the biased std; nn.GELU() as a submodule",
        patches={
            "batchnorm2d": '''
class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        for name, init in [("weight", torch.ones), ("bias", torch.zeros)]:
            setattr(self, name, nn.Parameter(init(num_features)))
        self.register_buffer("running_mean", torch.zeros(num_features), persistent=True)
        self.register_buffer("running_var", torch.full((num_features,), 1.0))

    def forward(self, x):
        shape = (1, x.shape[1], 1, 1)
        if self.training:
            mean = x.mean(dim=[0, 2, 3], keepdim=True)
            var = (x - mean).square().mean(dim=[0, 2, 3], keepdim=True)
            unbiased = torch.var(x.detach(), dim=[0, 2, 3], unbiased=True)
            self.running_mean = torch.lerp(self.running_mean, mean.detach().flatten(), self.momentum)
            self.running_var = torch.lerp(self.running_var, unbiased, self.momentum)
        else:
            mean, var = self.running_mean.reshape(shape), self.running_var.reshape(shape)
        return self.weight.reshape(shape) * (x - mean) / (var + self.eps).sqrt() + self.bias.reshape(shape)
''',
            "layernorm": edit(("(x - mean).pow(2).mean(dim=dims, keepdim=True)",
                               "x.std(dim=dims, keepdim=True, correction=0) ** 2")),
            "residual_block": edit(("        self.fc2 = nn.Linear(hidden_dim, dim)\n",
                                    "        self.fc2 = nn.Linear(hidden_dim, dim)\n        self.act = nn.GELU()\n"),
                                   ("F.gelu(", "self.act(")),
        },
        fails=frozenset(),
    ),
    "vector_norm_ln_float64_bn_stats": Sample(
        why="LayerNorm's biased std as a vector norm over the trailing axes (a lone [D] vector works); BatchNorm2d "
            "computes its statistics in float64 from a [C, N·H·W] view and casts back to the module's dtype",
        patches={
            "layernorm": '''
class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        centred = x - x.mean(dim=dims, keepdim=True)
        std = torch.linalg.vector_norm(centred, dim=dims, keepdim=True) / math.sqrt(math.prod(self.normalized_shape))
        return centred / torch.sqrt(std * std + self.eps) * self.weight + self.bias
''',
            "batchnorm2d": '''
class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        c = x.shape[1]
        if self.training:
            cols = x.transpose(0, 1).reshape(c, -1).double()  # (C, N*H*W), statistics in float64
            n = cols.shape[1]
            mean, var = cols.mean(dim=1), cols.var(dim=1, correction=0)
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_((m * mean).to(self.running_mean.dtype))
                self.running_var.mul_(1 - m).add_((m * n / (n - 1) * var).to(self.running_var.dtype))
            mean, var = mean.to(x.dtype), var.to(x.dtype)
        else:
            mean, var = self.running_mean, self.running_var
        shape = (1, c, 1, 1)
        x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return x_hat * self.weight.view(shape) + self.bias.view(shape)
''',
        },
        fails=frozenset(),
    ),
}
