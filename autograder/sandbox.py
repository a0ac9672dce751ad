"""The process side of the sandbox: one submission's answer code in a limited worker, and calls to it.

The worker comes from the zygote (`zygote.py`): a fresh process per submission (and per restart
after a crash). Its stdout/stderr are drained and capped here. Student code is limited in CPU
seconds (read from /proc), with wall limits behind (see limits.py), so load on the machine never
changes a score.

`remote.py` turns these calls into what hidden tests see (`student.fn(...)`).
"""

from __future__ import annotations

import atexit
import io
import os
import shutil
import struct
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch

from .assignments import Forbid
from .limits import IDLE_SHARE, START_SECONDS, WALL_FACTOR, Limits
from .zygote import Worker, Zygote, shared_zygote

_SLICE = 0.25  # seconds between two looks at a busy worker's CPU time
_scratch_root: str | None = None


def scratch_root() -> str:
    """One private folder for every worker's scratch folder of this grader and its forks: a worker may
    write and read its own, and may not read the others' (two students graded side by side)."""
    global _scratch_root
    if _scratch_root is None or not os.path.isdir(_scratch_root):
        _scratch_root = tempfile.mkdtemp(prefix="dlcourse-scratch-")
        owner, root = os.getpid(), _scratch_root
        atexit.register(lambda: os.getpid() == owner and shutil.rmtree(root, ignore_errors=True))
    return _scratch_root


class StudentError(AssertionError):
    """A test failed because of the student's code; `str()` is the reason shown to the student."""


@dataclass
class Violation:
    """A forbidden built-in reached at run time, and the student name whose call reached it."""

    label: str
    origin: str


class _OutputDrain(threading.Thread):
    """Reads the worker's stdout/stderr so a flood can never block it or fill memory."""

    def __init__(self, stream: io.RawIOBase, cap: int):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept = bytearray()
        self.total = 0

    def run(self) -> None:
        while True:
            try:
                chunk = self.stream.read(1 << 16)
            except (OSError, ValueError):
                return
            if not chunk:
                return
            self.total += len(chunk)
            room = self.cap - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]


# --------------------------------------------------------------------------- the sandbox
class Sandbox:
    """One submission's answer code, living in a worker process (restarted after a crash)."""

    def __init__(self, cells: list[dict], forbids: Iterable[Forbid], limits: Limits | None = None,
                 denied: Iterable[str] = (), allowed: Iterable[str] = (), zygote: Zygote | None = None):
        self.cells = cells
        self.forbids = {f.name: f for f in forbids}
        self.limits = limits or Limits()
        self.denied, self.allowed = list(denied), list(allowed)
        self.zygote = zygote
        self.started = time.monotonic()
        self.cpu_spent = 0.0  # CPU seconds of workers that are gone
        self.worker: Worker | None = None
        self.exec_report: dict = {}
        self.top_level_hits: list[str] = []
        self.restarts = 0
        self.output = bytearray()
        self.output_total = 0
        self.hits: list[Violation] = []
        self.timed_out: set[str] = set()  # names that hung once are not waited for again
        self.bad_cells: dict[str, str] = {}  # cells that hung or killed the worker: skipped

    # ------------------------------------------------------------------ process
    def start(self) -> None:
        """Start a worker and run the answer cells (again, after a crash)."""
        self.close()
        lim = self.limits
        self.scratch = tempfile.mkdtemp(prefix="nb-", dir=scratch_root())
        spec = {"scratch": self.scratch, "memory_bytes": lim.memory_bytes, "file_bytes": lim.file_bytes,
                "cpu_seconds": lim.process_cpu_seconds,
                "env": {"PATH": "/usr/bin:/bin", "HOME": self.scratch, "MPLCONFIGDIR": self.scratch,
                        "MPLBACKEND": "Agg", "LANG": "C.UTF-8", "OMP_NUM_THREADS": str(lim.threads),
                        "OMP_WAIT_POLICY": "PASSIVE", "PYTHONDONTWRITEBYTECODE": "1"}}
        zygote = self.zygote or shared_zygote()
        try:
            self.worker = zygote.spawn(spec)
        except OSError:  # the zygote is gone (e.g. its owner ended): start our own
            self.zygote = Zygote()
            self.worker = self.zygote.spawn(spec)
        self.drain = _OutputDrain(self.worker.out, lim.output_bytes)
        self.drain.start()
        self._request({"forbidden": [f.wire() for f in self.forbids.values()],
                       "denied": [*self.denied, scratch_root()], "allowed": [*self.allowed, self.scratch],
                       "threads": lim.threads},
                      cpu=START_SECONDS, what="starting the grader's worker")
        errors, defined, hits = [], set(), []
        for cell in self.cells:
            if cell["id"] in self.bad_cells:
                continue
            try:
                reply = self._request({"op": "exec", "cells": [cell]}, cpu=lim.exec_seconds,
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
        """Kill the worker and everything it started; keep what it printed."""
        w = self.worker
        if w is None:
            return
        self.cpu_spent += w.cpu_seconds()
        w.kill()
        self.drain.join(timeout=5)
        w.out.close()
        self.output_total += self.drain.total
        room = self.limits.output_bytes - len(self.output)
        if room > 0:
            self.output += self.drain.kept[:room]
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.worker = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cpu_used(self) -> float:
        return self.cpu_spent + (self.worker.cpu_seconds() if self.worker else 0.0)

    # ------------------------------------------------------------------ messages
    def _request(self, msg: dict, cpu: float, what: str) -> dict:
        """Send one message; wait for the reply while the worker has CPU seconds (and wall time) left."""
        lim = self.limits
        left_cpu = lim.total_seconds - self.cpu_used()
        left_wall = lim.total_wall - (time.monotonic() - self.started)
        if left_cpu <= 0 or left_wall <= 0:
            raise StudentError(f"not run: the submission used up its {lim.total_seconds:.0f} s time budget")
        cpu = min(cpu, left_cpu)
        wall = min(cpu * WALL_FACTOR, left_wall)
        buf = io.BytesIO()
        torch.save(msg, buf)
        data = buf.getvalue()
        w = self.worker
        cpu0, t0 = w.cpu_seconds(), time.monotonic()
        try:
            w.sock.settimeout(wall)
            w.sock.sendall(struct.pack("<Q", len(data)) + data)
            head = self._recv_exact(8, cpu0, t0, cpu, wall)
            (n,) = struct.unpack("<Q", head)
            if n > 1 << 30:
                raise StudentError(f"{what}: the reply was larger than 1 GiB")
            payload = self._recv_exact(n, cpu0, t0, cpu, wall)
        except TimeoutError:
            spent = w.cpu_seconds() - cpu0
            self._crashed()
            if spent >= cpu:
                raise StudentError(f"{what}: timed out after {cpu:.0f} s of CPU time "
                                   "(an infinite loop, or far too slow)") from None
            waited = time.monotonic() - t0
            if spent < IDLE_SHARE * waited:
                raise StudentError(f"{what}: timed out: no answer after {waited:.0f} s while using almost no CPU "
                                   "(is it waiting or sleeping?)") from None
            raise StudentError(f"{what}: timed out: no answer within {waited:.0f} s "
                               f"({spent:.0f} s of CPU time)") from None
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

    def _recv_exact(self, n: int, cpu0: float, t0: float, cpu: float, wall: float) -> bytes:
        """n bytes from the worker; TimeoutError once it has used `cpu` CPU seconds, or slept through
        `cpu` wall seconds, or after `wall` seconds in any case (limits.py)."""
        w = self.worker
        chunks, got = [], 0
        while got < n:
            w.sock.settimeout(_SLICE)
            try:
                chunk = w.sock.recv(min(n - got, 1 << 20))
            except TimeoutError:
                used, elapsed = w.cpu_seconds() - cpu0, time.monotonic() - t0
                if used >= cpu or elapsed >= wall or (elapsed >= cpu and used < IDLE_SHARE * elapsed):
                    raise
                continue
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _crashed(self) -> str:
        """Describe why the worker died, then forget it; the next call starts a fresh one."""
        w = self.worker
        code = "killed"
        if w is not None:
            rc = w.exit_status(0.5)
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
        if self.worker is None:
            self.start()

    def send(self, msg: dict, origin: str, what: str) -> Any:
        """One call into student code on behalf of `origin`; returns the reply's wire value."""
        if origin in self.timed_out:
            raise StudentError(f"{what}: not run again, {origin} timed out in an earlier test")
        self.ensure()
        try:
            reply = self._request(msg, cpu=self.limits.call_seconds, what=what)
        except StudentError as exc:
            if "timed out" in str(exc):
                self.timed_out.add(origin)
            raise
        hits = [h for h in reply.get("hits", []) if h not in self.forbids or self.forbids[h].applies_to(origin)]
        self.hits += [Violation(label, origin) for label in hits]
        if hits:
            raise StudentError(f"{what}: called {', '.join(hits)}, which this assignment forbids (write it yourself)")
        if not reply.get("ok"):
            err = reply.get("error", {})
            detail = f": {err['msg']}" if err.get("msg") else ""
            raise StudentError(f"{what} raised {err.get('type', 'an error')}{detail}{err.get('where', '')}")
        return reply.get("value")

    def student_output(self) -> str:
        """What the student's code printed (capped), for the instructor's log."""
        live = self.worker is not None
        total = self.output_total + (self.drain.total if live else 0)
        kept = bytes(self.output) + (bytes(self.drain.kept) if live else b"")
        text = kept[: self.limits.output_bytes].decode(errors="replace")
        if total > len(kept):
            text += f"\n[... {total - len(kept)} more bytes of output dropped]"
        return text
