"""A warm grading process: torch, pytest and the grader imported once, one fork per submission.

`GradingPool` (the client, imported by the CLI, the batch grader and the nbgrader glue, and light:
it imports neither torch nor pytest) starts `python -m autograder.pool`, the *server*, and sends it
one JSON line per submission. The server forks a fresh trusted session per submission (pytest
and the hidden suite, `session.run`), which asks the shared zygote for a fresh worker, so nothing
a submission does to either process reaches the next one, and start-up is paid once per batch.

Nothing outlives its grading: a session past its wall limit is killed with its process group,
its worker dies with it (the lifeline, see sandbox.py), and the submission is scored by a
fallback run that lists every test as failed with the reason. The server dies with its client,
sessions with the server, workers with their session (PR_SET_PDEATHSIG and lifelines).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .course import CourseError
from .result import GradingResult


def _die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux only; elsewhere EOF on stdin still ends it)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


# ----------------------------------------------------------------------------- the client
class GradingPool:
    """Grade notebooks in a warm server process, `jobs` at a time."""

    def __init__(self, jobs: int = 1):
        self.jobs = max(1, int(jobs))
        self._log = tempfile.TemporaryFile()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent),
                                             *filter(None, [env.get("PYTHONPATH")])])
        self.proc = subprocess.Popen([sys.executable, "-m", "autograder.pool", "--jobs", str(self.jobs)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env,
                                     cwd=tempfile.gettempdir())
        self._next = 0
        self._done: dict[int, dict] = {}

    def submit(self, course: Path, assignment: str, notebook: Path | None = None, *, nb_json: str | None = None,
               visible_only: bool = False, student: str = "") -> int:
        """Queue one notebook (a path, or its JSON text); returns its id for `results()`/`wait()`."""
        self._next += 1
        req = {"id": self._next, "course": str(Path(course).resolve()), "assignment": assignment,
               "notebook": str(Path(notebook).resolve()) if notebook is not None else None, "nb_json": nb_json,
               "visible_only": visible_only, "student": student,
               "name": str(notebook) if notebook is not None else "<notebook>"}
        try:
            self.proc.stdin.write(json.dumps(req).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise CourseError(f"the grading process died: {self._tail()}") from None
        return self._next

    def _read_one(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise CourseError(f"the grading process died: {self._tail()}")
        return json.loads(line)

    def _tail(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1][:300] if lines else f"exit status {self.proc.poll()}"

    def _result(self, msg: dict) -> GradingResult:
        if "error" in msg:
            raise CourseError(msg["error"])
        return GradingResult.from_dict(msg["result"])

    def wait(self, job_id: int) -> GradingResult:
        while job_id not in self._done:
            msg = self._read_one()
            self._done[msg["id"]] = msg
        return self._result(self._done.pop(job_id))

    def results(self, ids: list[int]) -> Iterator[tuple[int, GradingResult]]:
        """(id, result) for each id, in the order they finish."""
        todo = set(ids)
        while todo:
            ready = [i for i in todo if i in self._done]
            if not ready:
                msg = self._read_one()
                self._done[msg["id"]] = msg
                continue
            for i in ready:
                todo.discard(i)
                yield i, self._result(self._done.pop(i))

    def grade(self, course: Path, assignment: str, notebook: Path | None = None, **kw: Any) -> GradingResult:
        return self.wait(self.submit(course, assignment, notebook, **kw))

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> GradingPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_default: GradingPool | None = None


def default_pool() -> GradingPool:
    """One warm pool per process for one-at-a-time grading (tests, the nbgrader glue)."""
    global _default
    if _default is None or _default.proc.poll() is not None:
        import atexit

        _default = GradingPool(jobs=1)
        atexit.register(_default.close)
    return _default


# ----------------------------------------------------------------------------- the server
@dataclass
class _Job:
    req: dict
    pid: int = 0
    fd: int = -1
    buf: bytearray = field(default_factory=bytearray)
    deadline: float = 0.0
    fatal: str | None = None  # set for the fallback run
    timed_out: bool = False


def _warm_up() -> None:
    """Import what every session needs before the first fork."""
    import einops  # noqa: F401 - suites and answers import it
    import pytest  # noqa: F401
    import pytest_timeout  # noqa: F401
    import torch
    import torch.nn.functional  # noqa: F401

    from . import session, testing  # noqa: F401

    torch.set_num_threads(1)  # the trusted side computes small references; no OpenMP pool before fork


def _session_child(job: _Job, w: int, zygote: Any) -> None:
    """In the fork: grade one notebook, write the result JSON to `w`, exit."""
    os.setsid()
    _die_with_parent()
    try:
        from . import session

        req = job.req
        nb = Path(req["notebook"]) if req.get("notebook") else None
        res = session.run(Path(req["course"]), req["assignment"], nb, req.get("nb_json"),
                          visible_only=req.get("visible_only", False), fatal_reason=job.fatal, zygote=zygote)
        msg: dict = {"result": res.to_dict()}
    except BaseException as exc:  # noqa: BLE001 - reported as "the grader failed", then a fallback run
        text = str(exc).strip().splitlines()
        msg = {"error": f"{type(exc).__name__}: {text[-1] if text else ''}"[:400]}
    data = json.dumps(msg).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(w, view):]
    os._exit(0)


def _notebook_facts(req: dict) -> tuple[str, str]:
    import hashlib

    if req.get("nb_json") is not None:
        raw = req["nb_json"].encode()
    else:
        try:
            raw = Path(req["notebook"]).read_bytes()
        except OSError:
            raw = b""
    return hashlib.sha256(raw).hexdigest(), req.get("name") or "<notebook>"


def serve(jobs: int) -> None:
    """Read requests (JSON lines) on stdin, write results (JSON lines) on stdout."""
    import selectors
    import signal
    from collections import deque

    from . import assignments
    from .limits import FATAL_SECONDS
    from .zygote import shared_zygote

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # nothing but the protocol may write the protocol stream
    _die_with_parent()
    zygote = shared_zygote()  # first: it imports torch while we do
    _warm_up()
    from .sandbox import scratch_root

    scratch_root()  # made before any fork, so every session's workers share (and are fenced in) one root
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ, None)
    queue: deque[_Job] = deque()
    running: dict[int, _Job] = {}
    inbuf = bytearray()
    eof = False

    def start(job: _Job) -> None:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            _session_child(job, w, zygote)
        os.close(w)
        job.pid, job.fd, job.buf = pid, r, bytearray()
        limits = assignments.get(job.req["assignment"]).limits if job.req["assignment"] in assignments.ASSIGNMENTS \
            else None
        job.deadline = time.monotonic() + (FATAL_SECONDS if job.fatal or limits is None else limits.session_seconds)
        running[pid] = job
        sel.register(r, selectors.EVENT_READ, job)

    def reply(msg: dict) -> None:
        out.write(json.dumps(msg).encode() + b"\n")
        out.flush()

    def finish(job: _Job) -> None:
        sel.unregister(job.fd)
        os.close(job.fd)
        del running[job.pid]
        try:
            os.killpg(job.pid, signal.SIGKILL)  # anything it left behind
        except OSError:
            pass
        os.waitpid(job.pid, 0)
        try:
            msg = json.loads(job.buf) if job.buf else {"error": "the grading process ended without a result"}
        except ValueError:
            msg = {"error": "the grading process wrote a malformed result"}
        if job.timed_out:
            limits = assignments.get(job.req["assignment"]).limits
            msg = {"error": f"grading did not finish within {limits.session_seconds:.0f} s"}
        if "result" in msg:
            res = GradingResult.from_dict(msg["result"])
            res.notebook_sha256, res.notebook = _notebook_facts(job.req)
            res.student = job.req.get("student", "")
            reply({"id": job.req["id"], "result": res.to_dict()})
        elif job.fatal is None:  # score it anyway: every test failed, with the reason
            queue.appendleft(_Job(job.req, fatal=msg["error"] if job.timed_out else
                                  f"the grader failed on this notebook ({msg['error']})"))
        else:
            reply({"id": job.req["id"], "error": f"the hidden suite of {job.req['assignment']} itself failed: "
                                                 f"{msg['error']}"})

    while not (eof and not queue and not running):
        while queue and len(running) < jobs:
            start(queue.popleft())
        now = time.monotonic()
        timeout = min([j.deadline - now for j in running.values()], default=None)
        for key, _ in sel.select(None if timeout is None else max(0.0, timeout)):
            if key.data is None:
                chunk = os.read(0, 1 << 20)
                if not chunk:
                    eof = True
                    sel.unregister(0)
                    continue
                inbuf += chunk
                while b"\n" in inbuf:
                    line, _, rest = inbuf.partition(b"\n")
                    inbuf = bytearray(rest)
                    if line.strip():
                        queue.append(_Job(json.loads(line)))
            else:
                job = key.data
                chunk = os.read(job.fd, 1 << 20)
                if chunk:
                    job.buf += chunk
                else:
                    finish(job)
        now = time.monotonic()
        for job in [j for j in running.values() if j.deadline <= now]:
            job.timed_out = True
            finish(job)


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--jobs", type=int, default=1)
    a = p.parse_args(argv)
    try:
        serve(a.jobs)
    except BrokenPipeError:  # the client went away: so do we (and, through the lifelines, every worker)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
