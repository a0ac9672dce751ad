"""What hidden tests see: the student's names as a `Submission`, called in the sandbox.

Hidden tests never import a submission. They get a `Submission` (the `student` fixture) and
write `student.pairwise_sq_dists(x, y)`; the call runs in the worker (`sandbox.py`) and only
its *value* comes back, read with `torch.load(weights_only=True)` and copied into a fresh
tensor. Objects that are not plain data (a student's `nn.Module`) stay in the worker and come
back as `Remote` handles whose methods and attributes are again remote calls.

Failures surface as `StudentError` (a one-line, student-readable reason): an exception in the
student's code, a time-out, a crash or `os._exit`, a forbidden call. The worker is restarted
transparently after a crash, so one bad test never takes the rest of the suite with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from .sandbox import Sandbox, StudentError

__all__ = ["NameRef", "Remote", "RemoteTensor", "StudentError", "Submission", "unwrap"]


class NameRef:
    """A student's top-level name passed as an argument (e.g. a class, to a probe)."""

    def __init__(self, name: str):
        self.name = name


def _encode(value: Any, depth: int = 0) -> Any:
    """A test's argument in wire form: plain data by value, student objects by handle."""
    if depth > 20:
        raise ValueError("argument nested too deeply")
    if isinstance(value, NameRef):
        return {"__name__": value.name}
    if isinstance(value, Remote):
        return {"__ref__": value._hid}
    if isinstance(value, torch.Tensor):
        return {"__tensor__": value.detach().clone(), "requires_grad": bool(value.requires_grad)}
    if isinstance(value, dict):
        return {"__dict__": {k: _encode(v, depth + 1) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return type(value)(_encode(v, depth + 1) for v in value)
    if value is None or isinstance(value, (bool, int, float, str, torch.dtype, torch.Size)):
        return value
    raise TypeError(f"cannot send {type(value).__name__} to student code")


def _decode(box: Sandbox, value: Any, origin: str) -> Any:
    """A reply's wire value: tensors as RemoteTensor (what the student returned), handles as Remote."""
    if isinstance(value, dict):
        if "__tensor__" in value:
            return RemoteTensor(value["__tensor__"], value.get("cls", ""), value.get("requires_grad", False),
                                value.get("device", "cpu"))
        if "__ref__" in value:
            return Remote(box, value["__ref__"], value.get("cls", "object"), origin,
                          is_module=bool(value.get("module")))
        if "__dict__" in value:
            return {k: _decode(box, v, origin) for k, v in value["__dict__"].items()}
        if "__repr__" in value:
            return value["__repr__"]
        return {k: _decode(box, v, origin) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_decode(box, v, origin) for v in value)
    return value


def _call(box: Sandbox, msg: dict, origin: str, what: str) -> Any:
    return _decode(box, box.send(msg, origin, what), origin)


def _probe(box: Sandbox, name: str, args: tuple, kwargs: dict, origin: str) -> Any:
    """Run one of worker.py's probe_* helpers on student objects; tensors come back plain."""
    what = f"{origin} ({name.replace('_', ' ')})"
    value = _call(box, {"op": "probe", "name": name, "args": _encode(args), "kwargs": _encode(kwargs)}, origin, what)
    return unwrap(value, what, strict=False)


@dataclass
class RemoteTensor:
    """A tensor as the worker reported it: the value plus what the student actually returned."""

    value: torch.Tensor
    cls: str
    requires_grad: bool
    device: str

    @property
    def is_plain(self) -> bool:
        return self.cls == "torch.Tensor"


def unwrap(value: Any, what: str, *, strict: bool = True) -> Any:
    """Turn RemoteTensors into fresh plain tensors; refuse tensor subclasses when strict."""
    if isinstance(value, RemoteTensor):
        if strict and not value.is_plain:
            raise StudentError(f"{what} returned a {value.cls}; expected exactly a torch.Tensor")
        return value.value.clone()
    if isinstance(value, list):
        return [unwrap(v, what, strict=strict) for v in value]
    if isinstance(value, tuple):
        return tuple(unwrap(v, what, strict=strict) for v in value)
    if isinstance(value, dict):
        return {k: unwrap(v, what, strict=strict) for k, v in value.items()}
    return value


class Remote:
    """A handle to an object living in the worker (a student's module, optimizer, tokenizer…)."""

    def __init__(self, box: Sandbox, hid: int, cls: str, origin: str, is_module: bool = False):
        self._box, self._hid, self._cls, self._origin, self._is_module = box, hid, cls, origin, is_module
        self._gen = box.restarts

    def _check_alive(self) -> None:
        if self._gen != self._box.restarts:
            raise StudentError(f"{self._origin}: the object was lost when the process running your code ended")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.call_method(None, *args, **kwargs)

    def call_method(self, method: str | None, *args: Any, **kwargs: Any) -> Any:
        self._check_alive()
        what = f"{self._origin}.{method}(...)" if method else f"{self._origin}(...)"
        value = _call(self._box, {"op": "call", "target": {"__ref__": self._hid}, "method": method,
                                  "args": _encode(args), "kwargs": _encode(kwargs)}, self._origin, what)
        return unwrap(value, what)

    def attr(self, name: str) -> Any:
        """An attribute's value (tensors come back as plain copies; Parameters allowed)."""
        self._check_alive()
        what = f"{self._origin}.{name}"
        value = _call(self._box, {"op": "getattr", "target": {"__ref__": self._hid}, "name": name}, self._origin, what)
        return unwrap(value, what, strict=False)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _BoundMethod(self, name)

    def probe(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self._check_alive()
        return _probe(self._box, name, (self, *args), kwargs, self._origin)

    @property
    def cls(self) -> str:
        return self._cls

    @property
    def is_module(self) -> bool:
        return self._is_module

    def __repr__(self) -> str:
        return f"<remote {self._cls} from {self._origin}>"


class _BoundMethod:
    def __init__(self, obj: Remote, name: str):
        self.obj, self.name = obj, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.obj.call_method(self.name, *args, **kwargs)


@dataclass
class Submission:
    """What a hidden test sees: the student's top-level names, called in the sandbox.

    `student.NAME(...)` calls a function or constructs a class remotely; every name touched is
    recorded in `used`, so a test is charged only for forbidden calls made by what it exercised.
    """

    box: Sandbox
    missing_reason: dict[str, str] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    static: Any = None  # static.StaticReport of the answer code (loops, forbidden references)
    cell_of: dict[str, str] = field(default_factory=dict)  # public name -> answer cell defining it

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)

    def get(self, name: str) -> _NamedCallable:
        self.used.add(name)
        return _NamedCallable(self, name)

    def defines(self, name: str) -> bool:
        self.box.ensure()
        return name in self.box.exec_report.get("defined", set())

    def ref(self, name: str) -> NameRef:
        """`name` itself (not a call), to pass to a probe; must be defined."""
        self.require(name)
        return NameRef(name)

    def probe(self, probe: str, *args: Any, origin: str, **kwargs: Any) -> Any:
        """Run worker probe `probe` on student objects; `origin` is the name it exercises."""
        self.used.add(origin)
        return _probe(self.box, probe, args, kwargs, origin)

    def require(self, name: str) -> None:
        self.used.add(name)
        if not self.defines(name):
            reason = self.missing_reason.get(name, "")
            cell = self.cell_of.get(name)
            errors = [e for e in self.box.exec_report.get("errors", []) if e["cell"] == cell and e["type"] != "skipped"]
            if not reason and errors:
                e = errors[0]
                reason = f": cell `{cell}` stopped with {e['type']}: {e['msg']}{e['where']}"
            if not reason and cell in self.box.bad_cells:
                reason = f" (cell `{cell}` was skipped: {self.box.bad_cells[cell]})"
            raise StudentError(f"your notebook does not define `{name}`{reason}")


class _NamedCallable:
    def __init__(self, sub: Submission, name: str):
        self.sub, self.name = sub, name

    def _send(self, args: tuple, kwargs: dict) -> Any:
        self.sub.require(self.name)
        return _call(self.sub.box, {"op": "call", "target": {"__name__": self.name}, "args": _encode(args),
                                    "kwargs": _encode(kwargs)}, self.name, f"{self.name}(...)")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return unwrap(self._send(args, kwargs), f"{self.name}(...)")

    def raw(self, *args: Any, **kwargs: Any) -> Any:
        """Like calling, but keeps RemoteTensor wrappers so a test can inspect type/grad flags."""
        return self._send(args, kwargs)
