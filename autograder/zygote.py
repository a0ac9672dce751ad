"""Fresh worker processes in milliseconds: the grader's side of `worker.py`'s zygote.

The zygote (`python -I -c <worker.py> zygote FD`, torch imported and warmed up once) forks one
worker per request. The grader holds three ends of each worker: the socket its calls travel on,
a pipe with its stdout/stderr, and a *lifeline* socket to the zygote, which reports the worker's
pid and exit status and kills the worker's process group as soon as the grader's end closes,
whatever ended the grader. This module imports no torch, so a server can start the zygote first
and import torch while the zygote does.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from .limits import START_SECONDS

WORKER_SOURCE = (Path(__file__).with_name("worker.py")).read_text()
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Zygote:
    """A warm process that forks workers on request (see worker.py)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE",
               "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1", "HOME": tempfile.gettempdir()}
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", WORKER_SOURCE, "zygote", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=env, cwd=tempfile.gettempdir(), start_new_session=True,
        )
        theirs.close()
        self.ctrl = ours
        self.owner = os.getpid()

    def alive(self) -> bool:
        if os.getpid() == self.owner:
            return self.proc.poll() is None
        try:  # in a forked session: not our child to poll, but we can ask the kernel
            os.kill(self.proc.pid, 0)
            return True
        except OSError:
            return False

    def spawn(self, spec: dict) -> Worker:
        """A fresh worker: returns once the zygote has forked it (its pid is known)."""
        mine, worker_end = socket.socketpair()
        out_r, out_w = os.pipe()
        line_ours, line_zygote = socket.socketpair()
        try:
            socket.send_fds(self.ctrl, [json.dumps(spec).encode()],
                            [worker_end.fileno(), out_w, line_zygote.fileno()])
        finally:
            worker_end.close()
            os.close(out_w)
            line_zygote.close()
        worker = Worker(mine, out_r, line_ours)
        worker.read_pid(START_SECONDS)
        return worker

    def close(self) -> None:
        if os.getpid() != self.owner:
            return
        self.ctrl.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


_shared: Zygote | None = None


def shared_zygote() -> Zygote:
    """This process's zygote (forked sessions inherit their parent's), started on first use."""
    global _shared
    if _shared is None or not _shared.alive():
        _shared = Zygote()
        atexit.register(_shared.close)
    return _shared


class Worker:
    """The grader's three ends of one worker process."""

    def __init__(self, sock: socket.socket, out_fd: int, lifeline: socket.socket):
        self.sock, self.lifeline = sock, lifeline
        self.out = os.fdopen(out_fd, "rb", buffering=0)
        self.pid = 0
        self.status: int | None = None
        self._buf = b""

    def _lines(self, timeout: float) -> Iterable[dict]:
        end = time.monotonic() + timeout
        while True:
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                yield json.loads(line)
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                self.lifeline.settimeout(left)
                chunk = self.lifeline.recv(4096)
            except (TimeoutError, OSError):
                return
            if not chunk:
                return
            self._buf += chunk

    def read_pid(self, timeout: float) -> None:
        for msg in self._lines(timeout):
            if "pid" in msg:
                self.pid = int(msg["pid"])
                return
        raise RuntimeError("the grader's worker process could not be started")

    def exit_status(self, timeout: float) -> int | None:
        """Like Popen.returncode (negative: killed by that signal); None if still running."""
        if self.status is None:
            for msg in self._lines(timeout):
                if "exit" in msg:
                    self.status = int(msg["exit"])
                    break
        return self.status

    def cpu_seconds(self) -> float:
        """User + system CPU time of the worker so far (0 once it is gone)."""
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / _TICK
        except (OSError, IndexError, ValueError):
            return 0.0

    def kill(self) -> None:
        """SIGKILL the worker's process group and let go of it (the zygote reaps it; the end of its
        output pipe, which the sandbox waits for, says it is gone)."""
        if self.pid and self.status is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass
        for s in (self.sock, self.lifeline):
            s.close()


