"""Wrong submissions for a02_training (each a plausible student answer)."""

from . import Sample

SAMPLES = {
    "partly_wrong": Sample(
        why="cross-entropy without max subtraction; gradients missing the 1/N",
        patches={
            "cross_entropy": '''
def cross_entropy(logits, targets):
    p = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
    return -p[torch.arange(len(targets)), targets].log().mean()
''',
            "mlp_backward": '''
def mlp_backward(x, targets, w1, b1, w2, b2):
    a = x @ w1.T + b1
    h = a.clamp(min=0)
    z = h @ w2.T + b2
    p = (z - z.max(dim=1, keepdim=True).values).exp()
    p = p / p.sum(dim=1, keepdim=True)
    dz = p.clone()
    dz[torch.arange(x.shape[0]), targets] -= 1  # forgot the 1/N of the mean
    dh = dz @ w2
    da = dh * (a > 0).to(dh.dtype)
    return {"w1": da.T @ x, "b1": da.sum(0), "w2": dz.T @ h, "b2": dz.sum(0)}
''',
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
            "optimizers": '''
class SGD:
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.params = list(params)
        self.lr, self.momentum, self.weight_decay = lr, momentum, weight_decay
        self.buffers = [None] * len(self.params)

    @torch.no_grad()
    def step(self):
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            g = p.grad + self.weight_decay * p
            if self.momentum:
                self.buffers[i] = g.clone() if self.buffers[i] is None else self.momentum * self.buffers[i] + g
                g = self.buffers[i]
            p.sub_(self.lr * g)

    def zero_grad(self):
        for p in self.params:
            p.grad = None


class AdamW:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        self.params = list(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.state = [{"t": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)} for p in self.params]

    @torch.no_grad()
    def step(self):
        b1, b2 = self.betas
        for p, s in zip(self.params, self.state):
            if p.grad is None:
                continue
            s["t"] += 1
            g = p.grad + self.weight_decay * p  # Adam's L2, not decoupled
            s["m"] = b1 * s["m"] + (1 - b1) * g
            s["v"] = b2 * s["v"] + (1 - b2) * g * g
            m_hat = s["m"] / (1 - b1 ** s["t"])
            v_hat = s["v"] / (1 - b2 ** s["t"])
            p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))

    def zero_grad(self):
        for p in self.params:
            p.grad = None
''',
        },
        fails=frozenset({"test_ce_values", "test_mlp_grads_values", "test_adamw_weight_decay", "test_adamw_defaults"}),
    ),
}
