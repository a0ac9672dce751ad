"""Wrong submissions for a02_training (each a plausible student answer), mostly as edits of the
reference, and right answers in other styles (CORRECT)."""

from . import Sample, edit

SAMPLES = {
    "partly_wrong": Sample(
        why="cross-entropy without max subtraction; gradients missing the 1/N",
        patches={
            "cross_entropy": edit(("lse = (logits - m).exp().sum(dim=1).log() + m[:, 0]",
                                   "lse = logits.exp().sum(dim=1).log()  # no max subtracted")),
            "mlp_backward": edit(("    dz = dz / n  # (N, C)\n", "")),  # forgot the 1/N of the mean
        },
        fails=frozenset({"test_ce_stable_large_logits", "test_mlp_grads_values", "test_mlp_small_example"}),
    ),
    "autograd_and_adam_l2": Sample(
        forbidden_call="torch.nn.functional.log_softmax",
        why="autograd inside mlp_backward; Adam's L2 instead of decoupled decay; F.log_softmax",
        patches={
            "cross_entropy": '''
import torch.nn.functional as F

def cross_entropy(logits, targets):
    return -F.log_softmax(logits, dim=1).gather(1, targets[:, None]).mean()
''',
            "mlp_backward": '''
def mlp_backward(x, targets, w1, b1, w2, b2):
    params = [w1.clone().requires_grad_(), b1.clone().requires_grad_(), w2.clone().requires_grad_(),
              b2.clone().requires_grad_()]
    with torch.enable_grad():
        z = torch.relu(x @ params[0].T + params[1]) @ params[2].T + params[3]
        loss = cross_entropy(z, targets)
        grads = torch.autograd.grad(loss, params)
    return dict(zip(["w1", "b1", "w2", "b2"], grads))
''',
            "optimizers": edit(
                ("            p.mul_(1 - self.lr * self.weight_decay)\n",
                 "            g = p.grad + self.weight_decay * p  # Adam's L2, not decoupled\n"),
                ('s["m"].mul_(b1).add_((1 - b1) * p.grad)', 's["m"].mul_(b1).add_((1 - b1) * g)'),
                ("(1 - b2) * p.grad * p.grad", "(1 - b2) * g * g"),
            ),
        },
        fails=frozenset({"test_ce_values", "test_mlp_grads_values", "test_adamw_weight_decay", "test_adamw_defaults"}),
    ),
    "global_max_float32_zero_grad": Sample(
        why="cross-entropy shifted by the global max (a low row underflows to -inf); backprop in float32 cast "
            "back; zero_grad by p.grad.zero_() (crashes when a grad is None); AdamW moments in float32 "
            "(torch.zeros(p.shape)) and a default eps of 1e-6",
        patches={
            "cross_entropy": edit(("m = logits.max(dim=1, keepdim=True).values.detach()  # (N, 1)",
                                   "m = logits.max().detach().expand(logits.shape[0], 1)  # one max for all rows")),
            "mlp_backward": edit(
                ("    n = x.shape[0]\n",
                 "    n = x.shape[0]\n"
                 "    dtype = x.dtype\n"
                 "    x, w1, b1, w2, b2 = (t.float() for t in (x, w1, b1, w2, b2))\n"),
                ('return {"w1": da.T @ x, "b1": da.sum(0), "w2": dz.T @ h, "b2": dz.sum(0)}',
                 'grads = {"w1": da.T @ x, "b1": da.sum(0), "w2": dz.T @ h, "b2": dz.sum(0)}\n'
                 '    return {k: g.to(dtype) for k, g in grads.items()}'),
            ),
            "optimizers": edit(
                ("            p.grad = None", "            p.grad.zero_()"),
                ('"m": torch.zeros_like(p), "v": torch.zeros_like(p)',
                 '"m": torch.zeros(p.shape), "v": torch.zeros(p.shape)'),
                ("eps: float = 1e-8,", "eps: float = 1e-6,"),
            ),
        },
        fails=frozenset({"test_ce_stable_large_logits", "test_mlp_grads_float64", "test_zero_grad",
                         "test_adamw_trajectory", "test_adamw_defaults"}),
    ),
    "jacfwd_and_shape_cache": Sample(
        forbidden_call="torch.func.jacfwd",
        why="hostile: gradients by forward-mode autograd (torch.func.jacfwd, which the runtime trap does not "
            "see); the loss remembered per input shape; SGD's momentum buffer in float32",
        patches={
            "cross_entropy": edit(
                ("    m = logits.max(dim=1",
                 "    if (logits.shape, logits.dtype) in _LOSSES:\n"
                 "        return _LOSSES[logits.shape, logits.dtype]\n"
                 "    m = logits.max(dim=1"),
                ("    return (lse - correct).mean()",
                 "    _LOSSES[logits.shape, logits.dtype] = (lse - correct).mean()\n"
                 "    return _LOSSES[logits.shape, logits.dtype]"),
                ("def cross_entropy", "_LOSSES = {}\n\n\ndef cross_entropy"),
            ),
            "mlp_backward": '''
def mlp_backward(x, targets, w1, b1, w2, b2):
    def loss(w1, b1, w2, b2):
        z = torch.relu(x @ w1.T + b1) @ w2.T + b2
        m = z.max(dim=1, keepdim=True).values
        return ((z - m).exp().sum(1).log() + m[:, 0] - z[torch.arange(len(z)), targets]).mean()
    grads = torch.func.jacfwd(loss, argnums=(0, 1, 2, 3))(w1, b1, w2, b2)
    return dict(zip(["w1", "b1", "w2", "b2"], grads))
''',
            "optimizers": edit(("self.buffers[i] = g.clone()",
                                "self.buffers[i] = torch.zeros(p.shape)  # float32, whatever p is\n"
                                "                    self.buffers[i].add_(g)")),
        },
        fails=frozenset({"test_ce_values", "test_mlp_small_example", "test_mlp_grads_values", "test_mlp_grads_shapes",
                         "test_mlp_grads_float64", "test_mlp_big_logits", "test_sgd_momentum"}),
    ),
}

# Right answers in other styles than the reference's: they must keep full marks.
CORRECT = {
    "backward_checks_own_loss": Sample(
        why="mlp_backward also computes the loss with the student's own cross_entropy (not F.cross_entropy)",
        patches={"mlp_backward": edit(("    z = h @ w2.T + b2  # (N, C)\n",
                                       "    z = h @ w2.T + b2  # (N, C)\n"
                                       "    loss = cross_entropy(z, targets)  # for debugging: should fall\n"
                                       "    assert torch.isfinite(loss)\n"))},
        fails=frozenset(),
    ),
    "one_hot_einsum_torch_style_adamw": Sample(
        why="log-softmax by hand with one-hot targets; einsum backprop with torch.where for ReLU; "
            "SGD state keyed by parameter; AdamW written like torch's (lerp_, addcmul_, step size, denom)",
        patches={
            "cross_entropy": '''
def cross_entropy(logits, targets):
    shifted = logits - logits.amax(dim=-1, keepdim=True)  # not detached: the shift cancels in the gradient
    log_probs = shifted - shifted.exp().sum(dim=-1, keepdim=True).log()
    one_hot = torch.nn.functional.one_hot(targets, logits.shape[-1]).to(logits.dtype)
    return -(one_hot * log_probs).sum() / logits.shape[0]
''',
            "mlp_backward": '''
def _softmax_rows(z):
    e = torch.exp(z - z.amax(dim=1, keepdim=True))
    return e / e.sum(dim=1, keepdim=True)

def mlp_backward(x, targets, w1, b1, w2, b2):
    pre = torch.einsum("nd,hd->nh", x, w1) + b1
    hid = torch.where(pre > 0, pre, torch.zeros_like(pre))
    logits = torch.einsum("nh,ch->nc", hid, w2) + b2
    onehot = torch.nn.functional.one_hot(targets, logits.shape[1]).to(logits.dtype)
    g_logits = (_softmax_rows(logits) - onehot) / x.shape[0]
    g_hid = torch.einsum("nc,ch->nh", g_logits, w2)
    g_pre = torch.where(pre > 0, g_hid, torch.zeros_like(g_hid))
    return {
        "w1": torch.einsum("nh,nd->hd", g_pre, x),
        "b1": g_pre.sum(dim=0),
        "w2": torch.einsum("nc,nh->ch", g_logits, hid),
        "b2": g_logits.sum(dim=0),
    }
''',
            "optimizers": '''
class SGD:
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.param_list = [p for p in params]
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.momentum_buffer = {}  # parameter -> its buffer, created on its first step

    @torch.no_grad()
    def step(self):
        for p in self.param_list:
            if p.grad is None:
                continue
            d_p = p.grad.add(p, alpha=self.weight_decay) if self.weight_decay != 0 else p.grad
            if self.momentum != 0:
                buf = self.momentum_buffer.get(p)
                if buf is None:
                    buf = self.momentum_buffer[p] = torch.clone(d_p).detach()
                else:
                    buf.mul_(self.momentum).add_(d_p)
                d_p = buf
            p.add_(d_p, alpha=-self.lr)

    def zero_grad(self):
        for p in self.param_list:
            if p.grad is not None:
                p.grad = None


class AdamW:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        self.param_list = [p for p in params]
        self.lr, self.eps, self.weight_decay = lr, eps, weight_decay
        self.beta1, self.beta2 = betas
        self.steps = [0 for _ in self.param_list]
        self.exp_avg = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.param_list]
        self.exp_avg_sq = [torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.param_list]

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.param_list):
            grad = p.grad
            if grad is None:
                continue
            self.steps[i] += 1
            t = self.steps[i]
            p.mul_(1 - self.lr * self.weight_decay)
            self.exp_avg[i].lerp_(grad, 1 - self.beta1)
            self.exp_avg_sq[i].mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            bias_correction1 = 1 - self.beta1 ** t
            bias_correction2 = 1 - self.beta2 ** t
            step_size = self.lr / bias_correction1
            denom = (self.exp_avg_sq[i].sqrt() / math.sqrt(bias_correction2)).add_(self.eps)
            p.addcdiv_(self.exp_avg[i], denom, value=-step_size)

    def zero_grad(self):
        for p in self.param_list:
            p.grad = None
''',
        },
        fails=frozenset(),
    ),
    "masking_float64_base_class": Sample(
        why="target logits picked by a mask; backprop in float64 cast back; a shared optimizer base class "
            "whose zero_grad zeroes in place (torch's set_to_none=False) when asked",
        patches={
            "cross_entropy": edit(("correct = logits.gather(1, targets[:, None])[:, 0]  # (N,)",
                                   "is_target = torch.arange(logits.shape[1]) == targets[:, None]  # (N, C)\n"
                                   "    correct = torch.where(is_target, logits, 0.0).sum(dim=1)")),
            "mlp_backward": edit(
                ("    n = x.shape[0]\n",
                 "    n = x.shape[0]\n"
                 "    dtype = x.dtype\n"
                 "    x, w1, b1, w2, b2 = (t.double() for t in (x, w1, b1, w2, b2))\n"),
                ('return {"w1": da.T @ x, "b1": da.sum(0), "w2": dz.T @ h, "b2": dz.sum(0)}',
                 'grads = {"w1": da.T @ x, "b1": da.sum(0), "w2": dz.T @ h, "b2": dz.sum(0)}\n'
                 '    return {k: g.to(dtype) for k, g in grads.items()}'),
            ),
            "optimizers": '''
class _Optimizer:
    def __init__(self, params):
        self.params = list(params)
        self.state = {}  # index -> per-parameter state, created lazily

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_()
                p.grad.zero_()


class SGD(_Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay

    @torch.no_grad()
    def step(self):
        for i, w in enumerate(self.params):
            if w.grad is None:
                continue
            grad = w.grad + self.weight_decay * w
            if self.momentum > 0:
                if i in self.state:
                    self.state[i] = self.momentum * self.state[i] + grad
                else:
                    self.state[i] = grad.clone()
                grad = self.state[i]
            w -= self.lr * grad


class AdamW(_Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay

    @torch.no_grad()
    def step(self):
        beta1, beta2 = self.betas
        for i, w in enumerate(self.params):
            if w.grad is None:
                continue
            s = self.state.setdefault(i, {"t": 0, "m": torch.zeros_like(w), "v": torch.zeros_like(w)})
            s["t"] += 1
            s["m"] = beta1 * s["m"] + (1 - beta1) * w.grad
            s["v"] = beta2 * s["v"] + (1 - beta2) * w.grad ** 2
            m_hat = s["m"] / (1 - beta1 ** s["t"])
            v_hat = s["v"] / (1 - beta2 ** s["t"])
            w -= self.lr * self.weight_decay * w
            w -= self.lr * m_hat / (torch.sqrt(v_hat) + self.eps)
''',
        },
        fails=frozenset(),
    ),
    "builtin_softmax_lazy_state": Sample(
        why="mlp_backward with torch.softmax (stable, allowed here) and one_hot, ReLU mask by masked_fill; "
            "optimizers that create their state lazily in each parameter's dtype, AdamW with the bias corrections "
            "folded into the step size and eps (the same update, rearranged)",
        patches={
            "mlp_backward": '''
def mlp_backward(x, targets, w1, b1, w2, b2):
    a = torch.addmm(b1, x, w1.T)  # (N, H)
    h = a.clamp_min(0)  # (N, H)
    z = torch.addmm(b2, h, w2.T)  # (N, C)
    y = torch.nn.functional.one_hot(targets, z.shape[1]).to(z.dtype)  # (N, C)
    dz = (torch.softmax(z, dim=1) - y) / x.shape[0]  # (N, C), stable for logits in the thousands
    da = (dz @ w2).masked_fill(a <= 0, 0.0)  # (N, H)
    return {"w2": dz.T @ h, "b2": dz.sum(0), "w1": da.T @ x, "b1": da.sum(0)}
''',
            "optimizers": '''
class _Lazy:
    """State created at a parameter's first step, in that parameter's dtype."""

    def __init__(self, params):
        self.params = list(params)
        self.state = {}

    def zero_grad(self):
        for p in self.params:
            p.grad = None


class SGD(_Lazy):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            d = p.grad.add(p, alpha=self.weight_decay)
            if self.momentum:
                buf = self.state.get(i)
                buf = d.clone() if buf is None else buf.mul_(self.momentum).add_(d)
                self.state[i] = d = buf
            p.add_(d, alpha=-self.lr)


class AdamW(_Lazy):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay

    @torch.no_grad()
    def step(self):
        b1, b2 = self.betas
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            t, m, v = self.state.get(i, (0, torch.zeros_like(p), torch.zeros_like(p)))
            t += 1
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            self.state[i] = (t, m, v)
            p.mul_(1 - self.lr * self.weight_decay)
            root = math.sqrt(1 - b2**t)  # lr·m̂/(√v̂ + eps) = (lr·root/(1 - b1^t))·m/(√v + eps·root)
            p.addcdiv_(m, v.sqrt().add_(self.eps * root), value=-self.lr * root / (1 - b1**t))
''',
        },
        fails=frozenset(),
    ),
}
