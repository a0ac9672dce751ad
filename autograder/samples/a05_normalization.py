"""Wrong submissions for a05_normalization (each a plausible student answer)."""

from . import Sample

_BN_RUNNING_WRONG = '''
class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        if self.training:
            mean = x.mean(dim=(0, 2, 3))
            var = x.var(dim=(0, 2, 3), unbiased=False)
            with torch.no_grad():  # momentum reversed, and the biased variance
                self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mean
                self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean[None, :, None, None]) / torch.sqrt(var[None, :, None, None] + self.eps)
        return self.weight[None, :, None, None] * x_hat + self.bias[None, :, None, None]
'''

_BN_EVAL_BATCH_STATS = '''
class BatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x):
        mean = x.mean(dim=(0, 2, 3), keepdim=True)
        var = x.var(dim=(0, 2, 3), keepdim=True)  # unbiased, and used in eval mode too
        if self.training:
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean.flatten())
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var.flatten())
        x_hat = (x - mean) / torch.sqrt(var + self.eps)
        return self.weight.view(1, -1, 1, 1) * x_hat + self.bias.view(1, -1, 1, 1)
'''

SAMPLES = {
    "bn_running_stats_wrong": Sample(
        why="BatchNorm2d: momentum convention reversed and the biased variance in the running update",
        patches={"batchnorm2d": _BN_RUNNING_WRONG},
        fails=frozenset({"test_bn_visible", "test_bn_running_stats", "test_bn_several_steps",
                         "test_bn_defaults", "test_bn_eps_momentum", "test_bn_float64"}),
    ),
    "layer_norm_builtin_rms_centred": Sample(
        forbidden_call="torch.nn.functional.layer_norm",
        why="LayerNorm calls F.layer_norm (forbidden); RMSNorm subtracts the mean",
        patches={
            "layernorm": '''
class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.shape))
        self.bias = nn.Parameter(torch.zeros(self.shape))

    def forward(self, x):
        return F.layer_norm(x, self.shape, self.weight, self.bias, self.eps)
''',
            "rmsnorm": '''
class RMSNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-6):
        super().__init__()
        self.shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.shape))

    def forward(self, x):
        dims = tuple(range(-len(self.shape), 0))
        x = x - x.mean(dim=dims, keepdim=True)  # wrong: RMSNorm does not centre
        return x / torch.sqrt(x.pow(2).mean(dim=dims, keepdim=True) + self.eps) * self.weight
''',
        },
        fails=frozenset({"test_ln_visible", "test_ln_forward", "test_rms_visible", "test_rms_forward",
                         "test_rb_forward"}),
    ),
    "post_norm_tanh_and_eval_batch_stats": Sample(
        why="ResidualBlock is post-norm with the tanh GELU; BatchNorm2d keeps batch statistics (unbiased) in eval",
        patches={
            "batchnorm2d": _BN_EVAL_BATCH_STATS,
            "residual_block": '''
class ResidualBlock(nn.Module):
    def __init__(self, dim, hidden_dim):
        super().__init__()
        self.norm = LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x):
        return self.norm(x + self.fc2(F.gelu(self.fc1(x), approximate="tanh")))
''',
        },
        fails=frozenset({"test_bn_eval_mode", "test_bn_train_forward", "test_bn_several_steps", "test_rb_forward",
                         "test_rb_gradients", "test_rb_visible"}),
    ),
    "eps_outside_sqrt_no_skip": Sample(
        why="LayerNorm and RMSNorm add eps outside the sqrt; ResidualBlock forgets the skip connection",
        patches={
            "layernorm": '''
class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()
        self.shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.shape))
        self.bias = nn.Parameter(torch.zeros(self.shape))

    def forward(self, x):
        dims = tuple(range(-len(self.shape), 0))
        mean = x.mean(dim=dims, keepdim=True)
        std = x.std(dim=dims, keepdim=True, unbiased=False)
        return (x - mean) / (std + self.eps) * self.weight + self.bias
''',
            "rmsnorm": '''
class RMSNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-6):
        super().__init__()
        self.shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(self.shape))

    def forward(self, x):
        dims = tuple(range(-len(self.shape), 0))
        return x / (x.pow(2).mean(dim=dims, keepdim=True).sqrt() + self.eps) * self.weight
''',
            "residual_block": '''
class ResidualBlock(nn.Module):
    def __init__(self, dim, hidden_dim):
        super().__init__()
        self.norm = LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.fc2 = nn.Linear(hidden_dim, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(self.norm(x))))
''',
        },
        fails=frozenset({"test_ln_eps", "test_rms_eps", "test_rb_forward", "test_rb_gradients", "test_rb_visible"}),
    ),
}
