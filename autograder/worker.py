"""The untrusted side of grading: runs a student's answer code and answers calls on it.

This file is *self-contained on purpose*: the grader starts it as `python -I -c <this source> FD`,
so the student's process imports nothing from `autograder` (no grader module to find or patch),
and it talks to the trusted grader only over the socket FD. Every value that crosses the socket
is a `torch.save` payload of plain data (tensors, numbers, strings, lists, tuples, dicts), which
the grader reads back with `torch.load(weights_only=True)`: no pickle of student objects ever
reaches the grader. Objects that are not plain data (modules, optimizers) stay here and travel
as handles `{"__ref__": id}`.

What it enforces from inside (defence in depth; the score is computed outside, in the grader):
- an audit hook (PEP 578, cannot be removed) that refuses subprocesses, forks, sockets, ctypes,
  signals to other processes, reading the course (hidden suites, solutions, other submissions)
  and writing anywhere but the process's own scratch directory;
- the forbidden-built-in trap: a TorchFunctionMode (sees torch functions, Tensor methods,
  `torch.ops.aten.*` and `torch._C._nn.*` whatever name they were reached by) and a
  TorchDispatchMode (sees the aten kernels underneath) on every call into student code, plus
  patched `__init__` of forbidden classes. A hit raises `ForbiddenCallError` and is recorded.

Start-up is paid once per batch, not per submission: started as `... -c <this source> zygote FD`,
the process imports torch, warms it up (the first TorchDispatchMode alone costs ~1 s), and then
only forks. Each fork is one fresh worker (one submission, or one restart after a crash), so no
state a submission leaves in its process (torch defaults, seeds, monkeypatches, files) can reach
the next one. The zygote never runs student code and holds no grader module. It reports each
worker's pid and exit status on that worker's *lifeline* socket, and kills the worker (its whole
process group) the moment the other end of the lifeline closes, i.e. when the grading session
that owns it ends for any reason, SIGKILL included. Workers die with the zygote, and the zygote
with the process that started it (PR_SET_PDEATHSIG).
"""

import builtins
import io
import linecache
import os
import struct
import sys
import traceback
import types
import weakref

import torch
import torch.nn as nn
import torch.nn.functional as F  # noqa: F401  (pre-imported so student imports are cheap)
from torch.multiprocessing.reductions import StorageWeakRef  # already imported by torch itself
from torch.optim.optimizer import register_optimizer_step_pre_hook
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

try:  # pre-import what answer cells commonly import, before the audit hook is in place
    import einops  # noqa: F401
    import numpy  # noqa: F401
except ImportError:  # pragma: no cover
    pass

MAX_MESSAGE = 400


class ForbiddenCallError(RuntimeError):
    """Raised when answer code calls a built-in that the assignment asks the student to write."""


# --------------------------------------------------------------------------- wire format
def _send(sock, obj):
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    sock.sendall(struct.pack("<Q", len(data)) + data)


def _recv(sock):
    head = _recv_exact(sock, 8)
    (n,) = struct.unpack("<Q", head)
    return torch.load(io.BytesIO(_recv_exact(sock, n)), weights_only=True)


def _recv_exact(sock, n):
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- values
_handles = {}


def _encode(value, depth=0):
    """Plain data travels by value; anything else stays here behind a handle."""
    if depth > 20:
        raise ValueError("value nested too deeply")
    if isinstance(value, torch.Tensor):
        cls = type(value)
        plain = value.detach().to("cpu").as_subclass(torch.Tensor).clone()
        return {"__tensor__": plain, "cls": f"{cls.__module__}.{cls.__qualname__}",
                "requires_grad": bool(value.requires_grad), "device": str(value.device)}
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, (torch.dtype, torch.device)):
        return {"__repr__": repr(value), "cls": type(value).__name__}
    if type(value) in (list, tuple):
        return type(value)(_encode(v, depth + 1) for v in value)
    if type(value) is dict and all(type(k) is str for k in value):
        return {"__dict__": {k: _encode(v, depth + 1) for k, v in value.items()}}
    hid = len(_handles) + 1
    _handles[hid] = value
    cls = type(value)
    return {"__ref__": hid, "cls": f"{cls.__module__}.{cls.__qualname__}",
            "module": isinstance(value, nn.Module), "callable": callable(value)}


def _decode(value, ns):
    if isinstance(value, dict):
        if "__ref__" in value:
            return _handles[value["__ref__"]]
        if "__name__" in value:
            return ns[value["__name__"]]
        if "__dict__" in value:
            return {k: _decode(v, ns) for k, v in value["__dict__"].items()}
        if "__tensor__" in value:
            t = value["__tensor__"].clone()
            return t.requires_grad_(True) if value.get("requires_grad") else t
        return {k: _decode(v, ns) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_decode(v, ns) for v in value)
    return value


# --------------------------------------------------------------------------- the trap
class _Trap:
    """Forbidden callables, resolved to objects and aten op names, checked on every call."""

    def __init__(self, specs):
        self.objects = {}  # id(obj) -> label
        self.aten = {}  # aten op name -> label
        self.classes = []
        self.hits = []
        self.active = False
        self.quiet = {spec["name"] for spec in specs if not spec.get("raise", True)}
        wrap = {}  # id(function) -> (function, label): plain Python functions to replace by checking wrappers
        for spec in specs:
            label = spec["name"]
            obj = _resolve(label)
            if isinstance(obj, type):
                self._patch_class(obj, label)
            elif obj is not None:
                self.objects[id(obj)] = label
                self._keep = getattr(self, "_keep", []) + [obj]  # keep ids valid
                if spec.get("python") and isinstance(obj, types.FunctionType):
                    wrap[id(obj)] = (obj, label)
            for op in spec.get("aten", ()):
                self.aten[op] = label
        if wrap:
            self._wrap_functions(wrap)

    def _wrap_functions(self, wrap):
        """Plain Python functions that no TorchFunctionMode sees (`torch.nn.utils.clip_grad_norm_` calls
        none itself): replace each, in every torch module that holds it, by a wrapper that checks before
        calling it. Answer code takes its references after this (even `from ... import`), so every alias
        reaches a wrapper; the wrapper has no `__wrapped__` leading back to the original."""
        wrappers = {}
        for key, (fn, label) in wrap.items():
            wrappers[key] = self._checking(fn, label)
        for name, module in list(sys.modules.items()):
            if module is None or not (name == "torch" or name.startswith("torch.")):
                continue
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for attr, value in list(namespace.items()):
                w = wrappers.get(id(value))
                if w is not None and value is wrap[id(value)][0]:
                    namespace[attr] = w

    def _checking(self, fn, label):
        trap = self

        def wrapper(*args, **kwargs):
            trap.check_label(label)
            return fn(*args, **kwargs)

        for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
            setattr(wrapper, attr, getattr(fn, attr, None))
        return wrapper

    def _patch_class(self, cls, label):
        original = cls.__init__
        trap = self

        def __init__(self, *args, **kwargs):
            trap.check_label(label)
            original(self, *args, **kwargs)

        cls.__init__ = __init__
        self.classes.append(cls)

    def check_label(self, label):
        if self.active:
            self.hits.append(label)
            if label in self.quiet:  # scoped: the grader decides whether it counts for this call
                return
            raise ForbiddenCallError(f"{label} is forbidden in this assignment: write it yourself")

    def check_func(self, func):
        label = self.objects.get(id(func))
        if label is None and isinstance(func, (torch._ops.OpOverloadPacket, torch._ops.OpOverload)):
            name = func.__name__.split(".")[0]
            label = self.aten.get(name)
        if label is not None:
            self.check_label(label)

    def check_op(self, func):
        name = getattr(func, "__name__", "").split(".")[0]
        label = self.aten.get(name)
        if label is not None:
            self.check_label(label)


def _resolve(dotted):
    """'torch.optim.sgd.sgd' -> the object: import the longest module prefix, then getattr."""
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for p in parts[i:]:
                obj = getattr(obj, p)
            return obj
        except AttributeError:
            return None
    return None


class _FunctionTrap(TorchFunctionMode):
    def __init__(self, trap):
        super().__init__()
        self.trap = trap

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.trap.check_func(func)
        return func(*args, **(kwargs or {}))


class _DispatchTrap(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls):
        # torch would wrap __torch_dispatch__ in dynamo.disable, importing torch._dynamo (~1 s) on the
        # first call; nothing in the worker compiles, so there is nothing to skip.
        return False

    def __init__(self, trap):
        super().__init__()
        self.trap = trap

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.trap.check_op(func)
        return func(*args, **(kwargs or {}))


class _Guarded:
    """Context manager: trap on while student code runs."""

    def __init__(self, trap):
        self.trap = trap

    def __enter__(self):
        self.trap.active = True
        self.modes = [_FunctionTrap(self.trap), _DispatchTrap(self.trap)] if self.trap.objects or self.trap.aten else []
        for m in self.modes:
            m.__enter__()
        return self

    def __exit__(self, *exc):
        for m in reversed(self.modes):
            try:
                m.__exit__(None, None, None)
            except Exception:  # a student popped our mode: the hits recorded so far still count
                pass
        self.trap.active = False
        return False


# --------------------------------------------------------------------------- the audit hook
def _install_audit_hook(scratch, denied, allowed):
    scratch = os.path.realpath(scratch)
    denied = [os.path.realpath(d) for d in denied]
    allowed = [os.path.realpath(a) for a in allowed]
    blocked_events = {
        "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "os.kill",
        "os.killpg", "subprocess.Popen", "pty.spawn", "socket.connect", "socket.bind", "socket.__new__",
        "socket.getaddrinfo", "socket.sendto", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata",
        "ctypes.call_function", "ctypes.addressof", "ctypes.string_at", "ctypes.wstring_at", "os.setuid", "os.chroot",
    }
    write_events = {"os.remove", "os.rename", "os.rmdir", "os.truncate", "os.chmod", "os.chown",
                    "os.link", "os.symlink", "os.mkdir", "os.utime", "shutil.rmtree"}
    realpath, isabs, join, getcwd = os.path.realpath, os.path.isabs, os.path.join, os.getcwd

    def under(path, roots):
        return any(path == r or path.startswith(r + os.sep) for r in roots)

    def norm(path):
        if isinstance(path, int):
            return None
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        path = str(path)
        return realpath(path if isabs(path) else join(getcwd(), path))

    def hook(event, args):
        if event in blocked_events:
            raise PermissionError(f"{event} is not allowed while grading")
        if event == "open" and args:
            path = norm(args[0])
            if path is None:
                return
            mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            writing = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            if writing and not under(path, [scratch, "/dev/null"]):
                raise PermissionError(f"writing {path} is not allowed while grading")
            if under(path, denied) and not under(path, allowed):
                raise PermissionError(f"reading {path} is not allowed while grading")
        elif event in ("os.listdir", "os.scandir") and args:
            path = norm(args[0] if args[0] is not None else ".")
            if path and under(path, denied) and not under(path, allowed):
                raise PermissionError(f"listing {path} is not allowed while grading")
        elif event in write_events and args:
            path = norm(args[0])
            if path and not under(path, [scratch]):
                raise PermissionError(f"{event} on {path} is not allowed while grading")

    sys.addaudithook(hook)


# --------------------------------------------------------------------------- probes
def _params_and_buffers(module):
    return ({k: v for k, v in module.named_parameters()}, {k: v for k, v in module.named_buffers()})


def probe_module_state(obj):
    """Names, values and the train flag of a module's parameters and buffers."""
    if not isinstance(obj, nn.Module):
        return {"is_module": False, "cls": type(obj).__name__}
    params, buffers = _params_and_buffers(obj)
    return {"is_module": True, "cls": type(obj).__name__, "training": bool(obj.training),
            "params": params, "buffers": buffers,
            "param_types": {k: type(v).__name__ for k, v in params.items()},
            "buffers_requiring_grad": sorted(k for k, v in buffers.items() if v.requires_grad)}


def probe_load_state(obj, values):
    """Copy reference values into the student's parameters/buffers, by name, shape-checked."""
    if not isinstance(obj, nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got {type(obj).__name__}")
    params, buffers = _params_and_buffers(obj)
    everything = {**params, **buffers}
    for name, value in values.items():
        if name not in everything:
            raise KeyError(f"no parameter or buffer named {name!r} (found {sorted(everything)})")
        target = everything[name]
        if tuple(target.shape) != tuple(value.shape):
            raise ValueError(f"{name} has shape {tuple(target.shape)}, expected {tuple(value.shape)}")
        with torch.no_grad():
            target.copy_(value)
    return True


def probe_forward_backward(fn, args, kwargs, grad_out, method=None):
    """Call fn (or fn.method) on args, backprop grad_out, return output and all gradients."""
    target = getattr(fn, method) if method else fn
    if isinstance(fn, nn.Module):
        fn.zero_grad(set_to_none=True)
    out = target(*args, **kwargs)
    grads = {}
    if grad_out is not None and isinstance(out, torch.Tensor) and out.requires_grad:
        out.backward(grad_out.to(out.dtype) if isinstance(grad_out, torch.Tensor) else grad_out)
    for i, a in enumerate(args):
        if isinstance(a, torch.Tensor) and a.requires_grad:
            grads[f"arg{i}"] = a.grad
    for k, a in kwargs.items():
        if isinstance(a, torch.Tensor) and a.requires_grad:
            grads[k] = a.grad
    pgrads = {}
    if isinstance(fn, nn.Module):
        pgrads = {k: p.grad for k, p in fn.named_parameters()}
    cls = type(out)
    return {"out": out, "out_cls": f"{cls.__module__}.{cls.__qualname__}", "grads": grads, "param_grads": pgrads}


def probe_optimizer_trajectory(cls, inits, grads_seq, kwargs, as_generator=False, zero_grad_at=()):
    """Run an optimizer class on fresh parameters with given gradients; return params per step."""
    params = [nn.Parameter(t.clone()) for t in inits]
    opt = cls((p for p in params) if as_generator else params, **kwargs)
    history, after_zero = [], []
    for step, grads in enumerate(grads_seq):
        for p, g in zip(params, grads):
            p.grad = None if g is None else g.clone()
        opt.step()
        history.append([p.detach().clone() for p in params])
        if step in zero_grad_at:
            opt.zero_grad()
            after_zero.append([None if p.grad is None else p.grad.clone() for p in params])
    return {"history": history, "after_zero": after_zero}


def probe_train_mode(obj, mode):
    obj.train(mode)
    return bool(obj.training)


def probe_count(obj):
    """Number of parameters of a module (trainable ones)."""
    return int(sum(p.numel() for p in obj.parameters() if p.requires_grad))


def probe_fit(model, x, y, epochs, lr, batch_size=64, seed=0, weight_decay=0.0):
    """The suite's own trainer (AdamW + cross-entropy), so a model is judged apart from the
    student's training loop. Returns the mean training loss of each epoch."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    losses = []
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = perm[i:i + batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        losses.append(total / len(x))
    return losses


@torch.no_grad()
def probe_accuracy(model, x, y, batch_size=512):
    """The suite's own evaluation: eval mode, no gradient, argmax accuracy in [0, 1]."""
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        correct += int((model(x[i:i + batch_size]).argmax(-1) == y[i:i + batch_size]).sum())
    return correct / len(x)


def probe_make_loader(x, y, batch_size, shuffle=True, seed=0):
    """A torch DataLoader over (x, y), built where the student's code can iterate it."""
    from torch.utils.data import DataLoader, TensorDataset

    gen = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, generator=gen)


class _Spy(nn.Module):
    """A small classifier that records, at every forward, the train flag, whether autograd is on,
    and the gradient norm already present (non-zero in training means a missing zero_grad)."""

    def __init__(self, in_features, num_classes, hidden=64, seed=0, dropout=0.0):
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, num_classes))
        self.log = []

    def forward(self, x):
        stale = sum(float(p.grad.abs().sum()) for p in self.parameters() if p.grad is not None)
        self.log.append({"training": bool(self.training), "grad_enabled": bool(torch.is_grad_enabled()),
                         "stale_grad": stale, "batch": int(x.shape[0])})
        return self.net(x)


def probe_make_spy(in_features, num_classes, hidden=64, seed=0, dropout=0.0):
    return _Spy(in_features, num_classes, hidden, seed, dropout)


def probe_spy_log(spy):
    return list(spy.log)


def probe_lm_fit(model, idx, targets, steps, lr):
    """The suite's own language-model loop on one fixed batch (can the model overfit it?).
    `model(idx, targets)` must return (logits, loss). Returns the loss of every step."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    losses = []
    for _ in range(steps):
        _, loss = model(idx, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss))
    return losses


def _number_or_tensor(value):
    """A returned number as the grader reads it: tensors and Python numbers as they are, a numpy scalar
    (which would stay here behind a handle) as its Python number."""
    if isinstance(value, torch.Tensor) or type(value) in (int, float, bool):
        return value
    if isinstance(value, (int, float)):  # e.g. numpy.float64, a float subclass
        return float(value)
    item = getattr(value, "item", None)
    return item() if callable(item) and type(value).__module__ == "numpy" else value


def _tree_leaves(value, path):
    """(path, leaf) for every leaf of nested tuples/lists: "0", "1.0", ... (a bare value is path "")."""
    if type(value) in (tuple, list):
        for i, v in enumerate(value):
            yield from _tree_leaves(v, f"{path}.{i}" if path else str(i))
    else:
        yield path, value


def _tree_structure(value):
    """What came back, for a message: "tuple(Tensor, tuple(Tensor, Tensor))"; leaves by class name."""
    if type(value) in (tuple, list):
        return f"{type(value).__name__}({', '.join(_tree_structure(v) for v in value)})"
    return type(value).__name__


def probe_forward_backward_tree(fn, args, kwargs, grad_outs, method=None):
    """probe_forward_backward for nested outputs and arguments: an RNN returns `(h, c)` or `(output, (h_n, c_n))`
    and takes `hx = (h, c)`. `grad_outs` maps an output leaf's path ("0", "1.0", "1.1") to the gradient
    backpropagated into it (a leaf of another shape is left out: the grader reports the shape). Returns the output,
    its structure and leaf classes, the gradient of every argument tensor that requires grad by path ("arg0",
    "arg1.0", or the keyword: "hx.1"), and the parameters' gradients."""
    target = getattr(fn, method) if method else fn
    if isinstance(fn, nn.Module):
        fn.zero_grad(set_to_none=True)
    out = target(*args, **kwargs)
    leaves = dict(_tree_leaves(out, ""))
    tensors, grads_in = [], []
    for path, g in (grad_outs or {}).items():
        leaf = leaves.get(path)
        if isinstance(leaf, torch.Tensor) and leaf.requires_grad and tuple(leaf.shape) == tuple(g.shape):
            tensors.append(leaf)
            grads_in.append(g.to(leaf.dtype))
    if tensors:
        torch.autograd.backward(tensors, grads_in)
    grads = {}
    inputs = [(f"arg{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
    for name, value in inputs:
        for path, leaf in _tree_leaves(value, name):
            if isinstance(leaf, torch.Tensor) and leaf.requires_grad:
                grads[path] = leaf.grad
    pgrads = {k: p.grad for k, p in fn.named_parameters()} if isinstance(fn, nn.Module) else {}
    classes = {p: f"{type(v).__module__}.{type(v).__qualname__}" for p, v in leaves.items()}
    return {"out": out, "structure": _tree_structure(out), "leaf_cls": classes, "grads": grads,
            "param_grads": pgrads}


def probe_calls(fn, calls):
    """fn(*args, **kwargs) for each (args, kwargs) in calls, in one round trip: the results, or for a call
    that raised, {"raised": type name}."""
    out = []
    for args, kwargs in calls:
        try:
            out.append(_number_or_tensor(fn(*args, **kwargs)))
        except Exception as exc:  # noqa: BLE001 - the grader decides which errors were expected
            out.append({"raised": type(exc).__name__, "msg": str(exc)[:200]})
    return out


def probe_clip(fn, values, grads, max_norm, mode="list"):
    """Call a gradient-clipping function on fresh parameters (values) carrying the given gradients (None =
    no gradient), passed as one tensor ("single"), a list, a tuple or a generator; return what it returned,
    the gradients and the values afterwards."""
    params = [nn.Parameter(v.clone()) for v in values]
    for p, g in zip(params, grads):
        p.grad = None if g is None else g.clone()
    if mode == "single":
        arg = params[0]
    elif mode == "generator":
        arg = (p for p in params)
    elif mode == "tuple":
        arg = tuple(params)
    else:
        arg = list(params)
    norm = _number_or_tensor(fn(arg, max_norm))
    return {"norm": norm, "grads": [None if p.grad is None else p.grad.detach().clone() for p in params],
            "values": [p.detach().clone() for p in params]}


class _LMSpy(nn.Module):
    """A tiny language model with the GPT interface (`config.context_length`, `forward(idx, targets=None)
    -> (logits, loss)`): logits = tanh(wte[idx] + wpe[:T]) @ head.T, which the grader recomputes. It logs
    every forward (mode, autograd, inputs, targets, the weights it used) and every torch.optim step over
    its parameters (the rate of their param group and the gradients the step sees), in order."""

    def __init__(self, config, seed=0, scale=0.5):
        super().__init__()
        torch.manual_seed(seed)
        self.config = config
        v, t, d = int(config.vocab_size), int(config.context_length), int(config.d_model)
        self.wte = nn.Parameter(torch.randn(v, d) * scale)
        self.wpe = nn.Parameter(torch.randn(t, d) * scale)
        self.head = nn.Parameter(torch.randn(v, d) * scale)
        self.log = []
        me = weakref.ref(self)

        def before_step(optimizer, args, kwargs):
            spy = me()
            if spy is None:
                return
            mine = {id(p): name for name, p in spy.named_parameters()}
            lrs = [float(g["lr"]) for g in optimizer.param_groups if any(id(p) in mine for p in g["params"])]
            if lrs:
                spy.log.append({"kind": "step", "lr": lrs,
                                "grads": {n: None if p.grad is None else p.grad.detach().clone()
                                          for n, p in spy.named_parameters()}})

        self._hook = register_optimizer_step_pre_hook(before_step)

    def forward(self, idx, targets=None):
        t = idx.shape[1]
        logits = torch.tanh(self.wte[idx] + self.wpe[:t]) @ self.head.T  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        self.log.append({"kind": "forward", "training": bool(self.training),
                         "grad_enabled": bool(torch.is_grad_enabled()), "idx": idx.detach().cpu().clone(),
                         "targets": None if targets is None else targets.detach().cpu().clone(),
                         "weights": {n: p.detach().cpu().clone() for n, p in self.named_parameters()},
                         "loss": None if loss is None else float(loss.detach())})
        return logits, loss


def probe_make_lm_spy(config, seed=0):
    return _LMSpy(config, seed)


class _StorageRecorder(TorchDispatchMode):
    """Sees every aten op (the forbidden-call trap underneath still sees them too) and records each output
    whose storage is *new*: not the storage of any of the op's tensor inputs, so a view, an `expand` or an
    in-place op of a small tensor counts nothing. An input whose storage neither came from an op seen here
    nor is `known` (the probe's own arguments) was brought in from outside the call (a global built in
    advance, `torch.from_numpy` of an array): it is measured the same way. Keeps only weak references: it
    never holds memory alive."""

    @classmethod
    def _should_skip_dynamo(cls):
        return False  # as _DispatchTrap: nothing compiles here, and torch._dynamo costs a second to import

    def __init__(self, known=()):
        super().__init__()
        self.largest = {"elements": 0, "op": "", "shape": [], "brought_in": False}
        self.storages = []  # (weak ref to a new storage, its data_ptr, its size in elements)
        self.known = set(known)  # data_ptrs of storages already accounted for
        self.made = set()  # data_ptrs of the new storages (not those brought in)

    @staticmethod
    def _storage(t):
        try:
            return t.untyped_storage()
        except (RuntimeError, NotImplementedError):  # sparse and other storage-less tensors
            return None

    def _measure(self, t, st, func, brought_in):
        n = st.nbytes() // max(1, t.element_size())
        if n > self.largest["elements"]:
            self.largest = {"elements": int(n), "op": str(getattr(func, "__name__", func)),
                            "shape": [int(s) for s in t.shape], "brought_in": brought_in}
        self.known.add(st.data_ptr())
        return int(n)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = set()
        for t in tree_flatten((args, kwargs))[0]:
            st = self._storage(t) if isinstance(t, torch.Tensor) else None
            if st is None:
                continue
            inputs.add(st.data_ptr())
            if st.data_ptr() not in self.known and st.nbytes():
                self._measure(t, st, func, True)
        for t in tree_flatten(out)[0]:
            st = self._storage(t) if isinstance(t, torch.Tensor) else None
            if st is None or st.nbytes() == 0 or st.data_ptr() in inputs:
                continue
            self.storages.append((StorageWeakRef(st), st.data_ptr(), self._measure(t, st, func, False)))
            self.made.add(st.data_ptr())
        return out

    def alive(self, exclude=()):
        """Elements of the recorded storages still alive (each storage once), except those in `exclude`."""
        seen, total = set(exclude), 0
        for ref, ptr, n in self.storages:
            if ptr not in seen and not ref.expired():
                seen.add(ptr)
                total += n
        return total


class _LeavesTorch(TorchFunctionMode):
    """Records conversions of tensors to numpy arrays or Python lists: memory no storage recorder can see."""

    NAMES = ("numpy", "__array__", "tolist")

    def __init__(self):
        super().__init__()
        self.seen = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in self.NAMES and args and isinstance(args[0], torch.Tensor) and args[0].numel() > 1:
            self.seen.append(f"Tensor.{name}() of a tensor of shape {list(args[0].shape)}")
        return func(*args, **(kwargs or {}))


def probe_largest_allocation(fn, args, kwargs, grad_out):
    """Memory as the student's code really allocates it: fn(*args, **kwargs) runs under a _StorageRecorder,
    then the output is backpropagated (grad_out) under a second one. Returns the output, the gradients of the
    tensor arguments that require grad, the largest new storage of each phase (elements, op, shape, whether it
    was brought in), the elements of new storage the forward leaves alive (what it saved for backward,
    however: ctx, autograd, a global), the autograd graph's node types (is a custom autograd.Function's
    backward among them?) and any conversion of a tensor to numpy or a list (memory outside torch)."""
    import gc

    tensors = [t for t in tree_flatten((args, kwargs, grad_out))[0] if isinstance(t, torch.Tensor)]
    given = {st.data_ptr() for st in map(_StorageRecorder._storage, tensors) if st is not None}
    forward, leaves = _StorageRecorder(known=given), _LeavesTorch()
    with leaves, forward:
        out = fn(*args, **kwargs)
    cls = type(out)
    result = {"out_cls": f"{cls.__module__}.{cls.__qualname__}", "out": out, "grads": {},
              "forward_largest": forward.largest, "backward_largest": None, "retained": 0,
              "grad_fn": None, "graph": [], "custom_function": False, "left_torch": leaves.seen}
    if not isinstance(out, torch.Tensor):
        return result
    gc.collect()  # temporaries caught in reference cycles are not memory the forward keeps
    st = _StorageRecorder._storage(out)
    result["retained"] = forward.alive(exclude=() if st is None else (st.data_ptr(),))
    node, nodes, seen = out.grad_fn, [], set()
    stack = [node] if node is not None else []
    while stack and len(nodes) < 5000:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack += [nxt for nxt, _ in getattr(node, "next_functions", ())]
    result["grad_fn"] = None if out.grad_fn is None else type(out.grad_fn).__name__
    result["graph"] = sorted({type(n).__name__ for n in nodes})
    result["custom_function"] = any(isinstance(n, torch.autograd.function.BackwardCFunction) for n in nodes)
    if grad_out is not None and out.requires_grad:
        grad_out = grad_out.to(out.dtype) if isinstance(grad_out, torch.Tensor) else grad_out
        handed = _StorageRecorder._storage(grad_out) if isinstance(grad_out, torch.Tensor) else None
        # what the forward made and the gradient handed in are not "brought in" (a global the forward read is)
        backward = _StorageRecorder(known=given | forward.made | ({handed.data_ptr()} if handed is not None else set()))
        with leaves, backward:
            out.backward(grad_out)
        result["backward_largest"] = backward.largest
    result["grads"] = {f"arg{i}": a.grad for i, a in enumerate(args)
                       if isinstance(a, torch.Tensor) and a.requires_grad}
    return result


PROBES = {name[len("probe_"):]: fn for name, fn in dict(globals()).items() if name.startswith("probe_")}


# --------------------------------------------------------------------------- RASP programs (a12_rasp)
# Python functions cannot travel from the grader to this process, so a12's suite names them: the tables
# below are the functions and predicates its RASP programs may use (the suite holds the same tables, and
# its own interpreter). Predicates take (key, query), as RASP's Select does.
_RASP_UNARY = {
    "id": lambda x: x, "add1": lambda x: x + 1, "neg": lambda x: -x, "double": lambda x: 2 * x,
    "half": lambda x: x / 2, "square": lambda x: x * x, "mod3": lambda x: x % 3,
    "is_pos": lambda x: 1 if x > 0 else 0, "const2": lambda x: 2, "clip": lambda x: max(-3, min(3, x)),
}
_RASP_BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "max": max, "min": min,
    "first": lambda a, b: a, "second": lambda a, b: b, "same": lambda a, b: 1 if a == b else 0,
    "lin": lambda a, b: 2 * a - b + 1,
}
_RASP_PREDICATES = {
    "true": lambda k, q: True, "false": lambda k, q: False, "eq": lambda k, q: k == q, "neq": lambda k, q: k != q,
    "lt": lambda k, q: k < q, "leq": lambda k, q: k <= q, "gt": lambda k, q: k > q, "geq": lambda k, q: k >= q,
    "key_even": lambda k, q: k % 2 == 0, "query_even": lambda k, q: q % 2 == 0,
    "key_below_query_minus1": lambda k, q: k < q - 1, "sum_odd": lambda k, q: (k + q) % 2 == 1,
    "key_above_twice_query": lambda k, q: k > 2 * q,
}


def _rasp_where(exc):
    """' (in cell X, line N: code)' for the deepest frame of the student's own code, or ''."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.startswith("<cell "):
            return f" (in {frame.filename[1:-1]}, line {frame.lineno}: {(frame.line or '').strip()[:80]})"
    return ""


def _rasp_number(v):
    """A value as plain data: (number, kind) with kind 'bool', 'int' or 'float'; TypeError for anything else."""
    import numbers

    if type(v) in (bool, int, float):
        return v, type(v).__name__
    if isinstance(v, torch.Tensor):
        raise TypeError("a torch.Tensor (return plain Python numbers: .item() or .tolist())")
    if type(v).__module__ == "numpy" and callable(getattr(v, "item", None)):
        return _rasp_number(v.item())
    if isinstance(v, numbers.Integral):
        return int(v), "int"
    if isinstance(v, numbers.Real):
        return float(v), "float"
    raise TypeError(f"a {type(v).__name__}, not a number")


def _rasp_plain(out, n, selector):
    """What .eval returned, checked and copied: {"value": ..., "kinds": ...} or {"bad": why}."""
    if type(out) is not list:
        return {"bad": f"returned a {type(out).__name__}; .eval must return a Python list"}
    if len(out) != n:
        return {"bad": f"returned a list of length {len(out)} for an input of length {n}"}
    values, kinds = [], []
    for i, v in enumerate(out):
        if selector:
            if type(v) is not list or len(v) != n:
                what = f"a list of length {len(v)}" if type(v) is list else f"a {type(v).__name__}"
                return {"bad": f"row {i} of the selector matrix is {what}; expected a list of {n} bools"}
            row = []
            for j, e in enumerate(v):
                try:
                    e, _ = _rasp_number(e)
                except TypeError as exc:
                    return {"bad": f"entry [{i}][{j}] of the selector matrix is {exc}"}
                if e not in (0, 1):
                    return {"bad": f"entry [{i}][{j}] of the selector matrix is {e!r}; expected True or False"}
                row.append(bool(e))
            values.append(row)
        else:
            try:
                v, kind = _rasp_number(v)
            except TypeError as exc:
                return {"bad": f"element {i} is {exc}"}
            values.append(v)
            kinds.append(kind)
    return {"value": values, "kinds": kinds}


def _rasp_traced(fn):
    """Run fn() and return the lines of the student's cells it executed (sys.settrace)."""
    lines = set()

    def local(frame, event, arg):
        if event == "line":
            lines.add((frame.f_code.co_filename, frame.f_lineno))
        return local

    def tracer(frame, event, arg):
        if not frame.f_code.co_filename.startswith("<cell "):
            return None
        lines.add((frame.f_code.co_filename, frame.f_code.co_firstlineno, frame.f_code.co_name))
        return local

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(old)
    return lines


def _rasp_error(exc):
    msg = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"{type(exc).__name__}{': ' + msg if msg else ''}{_rasp_where(exc)}"


def _rasp_build(names, node, built):
    kind, args = node[0], node[1:]
    if kind in ("tokens", "indices"):
        obj = names[kind]
    elif kind == "Map":
        obj = names["Map"](_RASP_UNARY[args[0]], built[args[1]])
    elif kind == "SequenceMap":
        obj = names["SequenceMap"](_RASP_BINARY[args[0]], built[args[1]], built[args[2]])
    elif kind == "Select":
        obj = names["Select"](built[args[0]], built[args[1]], _RASP_PREDICATES[args[2]])
    elif kind in ("Aggregate", "SelectorWidth"):
        obj = names[kind](*(built[a] for a in args))
    elif kind == "make":
        obj = names[args[0]](*args[1])
    else:
        raise ValueError(f"unknown RASP node {kind!r}")
    if not callable(getattr(obj, "eval", None)):
        raise TypeError(f"it returned a {type(obj).__name__}, which has no .eval(xs) method")
    return obj


def _rasp_structure(names, obj):
    """Is obj of a class a primitive returns, and does its .eval run code that only selecting primitives run?"""
    witnesses = [["tokens"], ["indices"], ["Map", "id", 0], ["SequenceMap", "first", 0, 1], ["Select", 1, 1, "eq"],
                 ["Aggregate", 4, 0], ["SelectorWidth", 4]]
    built = []
    for node in witnesses:
        built.append(_rasp_build(names, node, built))
    generic, selecting = built[:4], built[5:]
    allowed = {type(o) for o in generic + selecting}
    witness = [3, 1, 2, 1]
    common = _rasp_traced(lambda: [o.eval(list(witness)) for o in generic])
    special = _rasp_traced(lambda: [o.eval(list(witness)) for o in selecting]) - common
    lines = _rasp_traced(lambda: obj.eval([4, -1, 4, 0, 2, 7, 4]))
    cls = type(obj)
    return {"cls": f"{cls.__module__}.{cls.__qualname__}".replace("__main__.", ""), "primitive": cls in allowed,
            "selects": bool(lines & special) if special else None}


def probe_rasp_eval(names, nodes, outputs, inputs, structure=()):
    """Build RASP programs from the student's primitives and evaluate them.

    names: public name -> the student's object (tokens, indices, Map, SequenceMap, Select, Aggregate,
    SelectorWidth, make_*). nodes: a list whose entries refer to earlier entries by index, so one s-op can be
    used in several places: ["tokens"], ["indices"], ["Map", f, i], ["SequenceMap", f, i, j],
    ["Select", keys, queries, predicate], ["Aggregate", selector, sop], ["SelectorWidth", selector],
    ["make", "make_reverse", [args]]; f and predicate name entries of the tables above.
    Returns {"build_error": node index, "error": one line} if building raised; else {"results": one list per node in
    `outputs`, one entry per input: {"value", "kinds"}, {"bad": why} or {"error": one line}; "structure": per node in
    `structure`, its class, whether that is a class a primitive returns, and whether its .eval runs code that
    Aggregate/SelectorWidth/Select run and Map does not (None when no such code can be told apart)}."""
    built = []
    for i, node in enumerate(nodes):
        try:
            built.append(_rasp_build(names, node, built))
        except Exception as exc:  # noqa: BLE001 - reported as the student's error, naming the node
            return {"build_error": i, "error": _rasp_error(exc)}
    info = {}
    for i in structure:
        try:
            info[str(i)] = _rasp_structure(names, built[i])
        except Exception as exc:  # noqa: BLE001
            return {"build_error": -1, "error": _rasp_error(exc)}
    results = []
    for i in outputs:
        obj, selector = built[i], nodes[i][0] == "Select"
        row = []
        for xs in inputs:
            try:
                out = obj.eval(list(xs))
            except Exception as exc:  # noqa: BLE001 - the grader reports it, per input
                row.append({"error": _rasp_error(exc)})
                continue
            row.append(_rasp_plain(out, len(xs), selector))
        results.append(row)
    return {"results": results, "structure": info}


PROBES["rasp_eval"] = probe_rasp_eval


# --------------------------------------------------------------------------- main loop
def _describe(exc, ns_files):
    """One line: the error and the student's line that raised it."""
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename in ns_files:
            where = f" (in {ns_files[frame.filename]}, line {frame.lineno}: {(frame.line or '').strip()[:80]})"
            break
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return {"type": type(exc).__name__, "msg": msg[:MAX_MESSAGE], "where": where[: MAX_MESSAGE // 2]}


def _strip_magics(source):
    """Notebook-only syntax (%magic, !shell) is not Python: blank it, keep line numbers."""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())


def main(fd):
    import socket

    sock = socket.socket(fileno=fd)
    init = _recv(sock)
    torch.manual_seed(0)
    torch.set_num_threads(max(1, int(init.get("threads", 1))))
    trap = _Trap(init.get("forbidden", []))
    _install_audit_hook(os.getcwd(), init.get("denied", []), init.get("allowed", []))
    # The student's namespace *is* __main__ (as in Jupyter), so `import __main__` reaches their own
    # names, not this worker's.
    main_module = types.ModuleType("__main__")
    main_module.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main_module
    ns = main_module.__dict__
    ns_files = {}
    guard = _Guarded(trap)
    _send(sock, {"ok": True, "pid": os.getpid()})

    while True:
        try:
            msg = _recv(sock)
        except EOFError:
            return
        op = msg.get("op")
        trap.hits = []
        reply = {"ok": True}
        try:
            if op == "exec":
                errors = []
                for cell in msg["cells"]:
                    filename = f"<cell {cell['id']}>"
                    ns_files[filename] = f"cell {cell['id']}"
                    source = _strip_magics(cell["source"])
                    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                    try:
                        code = compile(source, filename, "exec")
                        with guard:
                            exec(code, ns)
                    except BaseException as exc:  # noqa: BLE001 - a student cell may raise anything
                        errors.append({"cell": cell["id"], **_describe(exc, ns_files)})
                reply["errors"] = errors
                reply["defined"] = sorted(k for k in ns if not k.startswith("__"))
            elif op == "call":
                target = _decode(msg["target"], ns)
                if msg.get("method"):
                    target = getattr(target, msg["method"])
                args = _decode(msg.get("args", ()), ns)
                kwargs = _decode(msg.get("kwargs", {}), ns)
                with guard:
                    value = target(*args, **kwargs)
                reply["value"] = _encode(value)
            elif op == "getattr":
                target = _decode(msg["target"], ns)
                with guard:
                    value = getattr(target, msg["name"])
                reply["value"] = _encode(value)
            elif op == "probe":
                fn = PROBES[msg["name"]]
                args = _decode(msg.get("args", ()), ns)
                kwargs = _decode(msg.get("kwargs", {}), ns)
                with guard:
                    value = fn(*args, **kwargs)
                reply["value"] = _encode(value)
            else:
                reply = {"ok": False, "error": {"type": "ProtocolError", "msg": f"unknown op {op!r}", "where": ""}}
        except BaseException as exc:  # noqa: BLE001 - student code may raise SystemExit & co
            reply = {"ok": False, "error": _describe(exc, ns_files)}
        reply["hits"] = sorted(set(trap.hits))
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            _send(sock, reply)
        except Exception as exc:  # noqa: BLE001 - e.g. a value torch.save cannot write
            _send(sock, {"ok": False, "error": _describe(exc, ns_files), "hits": sorted(set(trap.hits))})


# --------------------------------------------------------------------------- the zygote
def _die_with_parent():
    """SIGKILL this process when its parent dies (Linux); elsewhere the lifeline still holds."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def _warm_up():
    """Pay torch's one-time costs before forking, so every worker starts warm."""
    torch.set_num_threads(1)  # no OpenMP pool exists before fork (a pool does not survive one)
    x = torch.randn(8, 8, requires_grad=True)
    trap = _Trap([])
    trap.objects[id(None)] = "warm-up"  # make _Guarded enter both modes
    with _Guarded(trap):
        y = (x @ x).softmax(-1).sum()
        y.backward()
    buf = io.BytesIO()
    torch.save({"t": torch.ones(2), "l": [1, "a"]}, buf)
    torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    nn.Linear(2, 2)(torch.ones(1, 2))


def _worker_child(zygote_pid, fds, spec):
    """In the fork: become a fresh, limited worker process, then serve one submission."""
    import resource

    sock_fd, out_fd = fds[0], fds[1]
    os.setsid()  # own process group: killpg takes everything it started
    _die_with_parent()
    if os.getppid() != zygote_pid:  # the zygote died before prctl took effect
        os._exit(1)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.closerange(3, sock_fd)
    os.closerange(sock_fd + 1, 1 << 16)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    for lim, value in (("RLIMIT_AS", spec["memory_bytes"]), ("RLIMIT_FSIZE", spec["file_bytes"]),
                       ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, lim), (value, value))
    cpu = int(spec["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    os.chdir(spec["scratch"])
    os.environ.clear()
    os.environ.update(spec["env"])
    try:
        main(sock_fd)
    except BaseException:  # noqa: BLE001 - the grader sees the closed socket and says so
        pass
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def zygote(ctrl_fd):
    """Fork one worker per spawn request; report pids and exit statuses; kill orphans."""
    import json
    import selectors
    import signal
    import socket

    _die_with_parent()
    _warm_up()
    ctrl = socket.socket(fileno=ctrl_fd)
    sel = selectors.DefaultSelector()
    sel.register(ctrl, selectors.EVENT_READ)
    lifelines = {}  # pid -> the zygote's end of that worker's lifeline
    me = os.getpid()

    def report(pid, status):
        line = lifelines.pop(pid, None)
        if line is None:
            return
        if line.fileno() in sel.get_map():
            sel.unregister(line)
        try:
            line.sendall(json.dumps({"exit": status}).encode() + b"\n")
        except OSError:
            pass
        line.close()

    while True:
        for key, _ in sel.select(timeout=0.05):
            if key.fileobj is ctrl:
                try:
                    msg, fds, _flags, _addr = socket.recv_fds(ctrl, 1 << 16, 4)
                except OSError:
                    msg, fds = b"", []
                if not msg:  # every owner is gone: so are their workers
                    for pid in list(lifelines):
                        try:
                            os.killpg(pid, signal.SIGKILL)
                        except OSError:
                            pass
                    os._exit(0)
                if len(fds) != 3:
                    for fd in fds:
                        os.close(fd)
                    continue
                spec = json.loads(msg)
                pid = os.fork()
                if pid == 0:
                    _worker_child(me, fds, spec)
                os.close(fds[0])
                os.close(fds[1])
                line = socket.socket(fileno=fds[2])
                lifelines[pid] = line
                try:
                    line.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                except OSError:
                    pass
                sel.register(line, selectors.EVENT_READ, pid)
            else:  # the owner's end of a lifeline closed (or spoke): the worker must go
                try:
                    data = key.fileobj.recv(64)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)  # reported (and closed) when reaped
                    try:
                        os.killpg(key.data, signal.SIGKILL)
                    except OSError:
                        pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            report(pid, os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    if sys.argv[1] == "zygote":
        zygote(int(sys.argv[2]))
    else:
        main(int(sys.argv[1]))
