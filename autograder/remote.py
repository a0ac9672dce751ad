"""The trusted side of the sandbox: starts `worker.py`, sends it calls, reads plain values back.

Hidden tests never import a submission. They get a `Submission` (the `student` fixture) and
write `student.pairwise_sq_dists(x, y)`; the call runs in a separate, resource-limited process
and only its *value* comes back, read with `torch.load(weights_only=True)` and copied into a
fresh tensor. Objects that are not plain data (a student's `nn.Module`) stay in the worker and
come back as `Remote` handles whose methods and attributes are again remote calls.

Failures surface as `StudentError` (a one-line, student-readable reason): an exception in the
student's code, a time-out, a crash or `os._exit`, a forbidden call. The worker is restarted
transparently after a crash, so one bad test never takes the rest of the suite with it.
"""

from __future__ import annotations

import io
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

WORKER_SOURCE = (Path(__file__).with_name("worker.py")).read_text()


class StudentError(AssertionError):
    """A test failed because of the student's code; `str()` is the reason shown to the student."""


@dataclass
class Limits:
    """Resource limits of the student's process (SPEC §4)."""

    call_seconds: float = 20.0  # one call into student code
    exec_seconds: float = 60.0  # running the notebook's answer cells
    total_seconds: float = 300.0  # everything one submission may take
    memory_bytes: int = 4 << 30  # address space of the worker
    output_bytes: int = 64 << 10  # stdout/stderr kept (the rest is counted, then dropped)
    file_bytes: int = 64 << 20  # largest file the worker may write (scratch only)
    threads: int = 1


@dataclass
class Violation:
    """A forbidden built-in reached from a test's calls (runtime) or answer code (static)."""

    label: str
    origin: str  # the student name whose call hit it


class _OutputDrain(threading.Thread):
    """Reads the worker's stdout/stderr so a flood can never block it or fill memory."""

    def __init__(self, stream, cap: int):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept = bytearray()
        self.total = 0

    def run(self) -> None:
        while True:
            chunk = self.stream.read1(1 << 16) if hasattr(self.stream, "read1") else self.stream.read(1 << 16)
            if not chunk:
                return
            self.total += len(chunk)
            room = self.cap - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]


class NameRef:
    """A student's top-level name passed as an argument (e.g. a class, to a probe)."""

    def __init__(self, name: str):
        self.name = name


def _encode(value: Any, depth: int = 0) -> Any:
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


class Sandbox:
    """One worker process holding one submission's answer code."""

    def __init__(self, cells: list[dict], forbidden: list[dict], limits: Limits | None = None,
                 denied: list[str] = (), allowed: list[str] = ()):
        self.cells = cells
        self.forbidden = forbidden
        self.scopes = {f["name"]: tuple(f.get("scope", ())) for f in forbidden}
        self.limits = limits or Limits()
        self.denied, self.allowed = list(denied), list(allowed)
        self.deadline = time.monotonic() + self.limits.total_seconds
        self.proc: subprocess.Popen | None = None
        self.exec_report: dict = {}
        self.restarts = 0
        self.output = bytearray()
        self.output_total = 0
        self.hits: list[Violation] = []
        self.timed_out: set[str] = set()  # names that hung once are not waited for again
        self.bad_cells: dict[str, str] = {}  # cells that hung or killed the worker: skipped

    # ------------------------------------------------------------------ process
    def _preexec(self) -> None:
        os.setsid()  # own process group: a kill takes its children too
        lim = self.limits
        resource.setrlimit(resource.RLIMIT_AS, (lim.memory_bytes, lim.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (lim.file_bytes, lim.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        cpu = int(lim.total_seconds * 2) + 10
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))

    def start(self) -> None:
        """Start the worker and run the answer cells (again, after a crash)."""
        self.close()
        self.scratch = tempfile.mkdtemp(prefix="nb-")
        parent_sock, child_sock = socket.socketpair()
        env = {"PATH": "/usr/bin:/bin", "HOME": self.scratch, "MPLCONFIGDIR": self.scratch,
               "MPLBACKEND": "Agg", "LANG": "C.UTF-8", "OMP_NUM_THREADS": str(self.limits.threads),
               "OMP_WAIT_POLICY": "PASSIVE",
               "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", WORKER_SOURCE, str(child_sock.fileno())],
            pass_fds=(child_sock.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, cwd=self.scratch, env=env, preexec_fn=self._preexec,
        )
        child_sock.close()
        self.sock = parent_sock
        self.drain = _OutputDrain(self.proc.stdout, self.limits.output_bytes)
        self.drain.start()
        self._request({"forbidden": self.forbidden, "denied": self.denied, "allowed": self.allowed,
                       "threads": self.limits.threads}, timeout=60.0, what="starting the grader's worker")
        errors, defined, hits = [], set(), []
        for cell in self.cells:
            if cell["id"] in self.bad_cells:
                continue
            try:
                reply = self._request({"op": "exec", "cells": [cell]}, timeout=self.limits.exec_seconds,
                                      what=f"running cell {cell['id']}")
            except StudentError as exc:  # the cell hung or ended the process: skip it from now on
                self.bad_cells[cell["id"]] = str(exc)
                self.restarts -= 1  # _crashed() counted it; a skipped cell is not a lost object
                return self.start()
            errors += reply.get("errors", [])
            defined |= set(reply.get("defined", []))
            hits += reply.get("hits", [])
        errors += [{"cell": cid, "type": "skipped", "msg": why, "where": ""} for cid, why in self.bad_cells.items()]
        self.exec_report = {"errors": errors, "defined": defined}
        self.top_level_hits = hits

    def close(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, 9)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            self.drain.join(timeout=5)
            self.output_total += self.drain.total
            room = self.limits.output_bytes - len(self.output)
            if room > 0:
                self.output += self.drain.kept[:room]
            self.sock.close()
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.proc = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ messages
    def _request(self, msg: dict, timeout: float, what: str) -> dict:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise StudentError(f"not run: the submission used up its {self.limits.total_seconds:.0f} s time budget")
        timeout = min(timeout, remaining)
        buf = io.BytesIO()
        torch.save(msg, buf)
        data = buf.getvalue()
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(struct.pack("<Q", len(data)) + data)
            head = self._recv_exact(8, timeout)
            (n,) = struct.unpack("<Q", head)
            if n > 1 << 30:
                raise StudentError(f"{what}: the reply was larger than 1 GiB")
            payload = self._recv_exact(n, timeout)
        except TimeoutError:
            self._crashed()
            raise StudentError(f"{what}: timed out after {timeout:.0f} s (an infinite loop, or far too slow)") from None
        except (EOFError, ConnectionError, OSError):
            code = self._crashed()
            raise StudentError(f"{what}: the process running your code ended ({code})") from None
        try:
            reply = torch.load(io.BytesIO(payload), weights_only=True)
        except Exception:  # noqa: BLE001 - anything that is not plain data is refused
            self._crashed()
            raise StudentError(f"{what}: returned something the grader cannot read as plain data") from None
        if not isinstance(reply, dict):
            raise StudentError(f"{what}: malformed reply")
        return reply

    def _recv_exact(self, n: int, timeout: float) -> bytes:
        chunks, got, end = [], 0, time.monotonic() + timeout
        while got < n:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            chunk = self.sock.recv(min(n - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _crashed(self) -> str:
        """Describe why the worker died, then forget it; the next call starts a fresh one."""
        proc = self.proc
        code = "killed"
        if proc is not None:
            try:
                proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
            rc = proc.returncode
            if rc is None:
                code = "stopped by the grader"
            elif rc < 0:
                sig = -rc
                code = {9: "killed: out of memory or time", 11: "segmentation fault", 24: "CPU time limit",
                        25: "file size limit"}.get(sig, f"signal {sig}")
            else:
                code = f"exit status {rc}: did your code call sys.exit() or os._exit()?"
        self.close()
        self.restarts += 1
        return code

    def ensure(self) -> None:
        if self.proc is None:
            self.start()

    def send(self, msg: dict, origin: str, what: str) -> Any:
        """One call into student code; returns the decoded value or raises StudentError."""
        if origin in self.timed_out:
            raise StudentError(f"{what}: not run again, {origin} timed out in an earlier test")
        self.ensure()
        try:
            reply = self._request(msg, timeout=self.limits.call_seconds, what=what)
        except StudentError as exc:
            if "timed out" in str(exc):
                self.timed_out.add(origin)
            raise
        hits = [h for h in reply.get("hits", []) if not self.scopes.get(h) or origin in self.scopes[h]]
        self.hits += [Violation(label, origin) for label in hits]
        if hits:
            labels = ", ".join(hits)
            raise StudentError(f"{what}: called {labels}, which this assignment forbids (write it yourself)")
        if not reply.get("ok"):
            err = reply.get("error", {})
            msg = f": {err['msg']}" if err.get("msg") else ""
            raise StudentError(f"{what} raised {err.get('type', 'an error')}{msg}{err.get('where', '')}")
        return self._decode(reply.get("value"), origin)

    def _decode(self, value: Any, origin: str) -> Any:
        if isinstance(value, dict):
            if "__tensor__" in value:
                return RemoteTensor(value["__tensor__"], value.get("cls", ""), value.get("requires_grad", False),
                                    value.get("device", "cpu"))
            if "__ref__" in value:
                return Remote(self, value["__ref__"], value.get("cls", "object"), origin,
                              is_module=bool(value.get("module")))
            if "__dict__" in value:
                return {k: self._decode(v, origin) for k, v in value["__dict__"].items()}
            if "__repr__" in value:
                return value["__repr__"]
            return {k: self._decode(v, origin) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._decode(v, origin) for v in value)
        return value

    def student_output(self) -> str:
        """What the student's code printed (capped), for the instructor's log."""
        total = self.output_total + (self.drain.total if self.proc is not None else 0)
        kept = bytes(self.output) + (bytes(self.drain.kept) if self.proc is not None else b"")
        text = kept[: self.limits.output_bytes].decode(errors="replace")
        if total > len(kept):
            text += f"\n[... {total - len(kept)} more bytes of output dropped]"
        return text


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
        value = self._box.send({"op": "call", "target": {"__ref__": self._hid}, "method": method,
                                "args": _encode(args), "kwargs": _encode(kwargs)}, self._origin, what)
        return unwrap(value, what)

    def attr(self, name: str) -> Any:
        """An attribute's value (tensors come back as plain copies; Parameters allowed)."""
        self._check_alive()
        value = self._box.send({"op": "getattr", "target": {"__ref__": self._hid}, "name": name},
                               self._origin, f"{self._origin}.{name}")
        return unwrap(value, f"{self._origin}.{name}", strict=False)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _BoundMethod(self, name)

    def probe(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self._check_alive()
        return self._box.probe(name, self, *args, origin=self._origin, **kwargs)

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


def _probe(box: Sandbox, name: str, *args: Any, origin: str, **kwargs: Any) -> Any:
    """Run one of worker.py's probe_* helpers on student objects; tensors come back plain."""
    what = f"{origin} ({name.replace('_', ' ')})"
    value = box.send({"op": "probe", "name": name, "args": _encode(args), "kwargs": _encode(kwargs)}, origin, what)
    return unwrap(value, what, strict=False)


Sandbox.probe = _probe  # type: ignore[attr-defined]


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
        return self.box.probe(probe, *args, origin=origin, **kwargs)

    def require(self, name: str) -> None:
        self.used.add(name)
        if not self.defines(name):
            reason = self.missing_reason.get(name, "")
            cell = self.cell_of.get(name)
            if not reason and cell in self.box.bad_cells:
                reason = f" (cell `{cell}` was skipped: {self.box.bad_cells[cell]})"
            raise StudentError(f"your notebook does not define `{name}`{reason}")


class _NamedCallable:
    def __init__(self, sub: Submission, name: str):
        self.sub, self.name = sub, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.sub.require(self.name)
        what = f"{self.name}(...)"
        value = self.sub.box.send({"op": "call", "target": {"__name__": self.name}, "args": _encode(args),
                                   "kwargs": _encode(kwargs)}, self.name, what)
        return unwrap(value, what)

    def raw(self, *args: Any, **kwargs: Any) -> Any:
        """Like calling, but keeps RemoteTensor wrappers so a test can inspect type/grad flags."""
        self.sub.require(self.name)
        return self.sub.box.send({"op": "call", "target": {"__name__": self.name}, "args": _encode(args),
                                  "kwargs": _encode(kwargs)}, self.name, f"{self.name}(...)")
