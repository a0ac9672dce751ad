"""The warm pool: fast because processes are reused from a warm start, never because state is.

Nothing a submission does to its process reaches the next submission; nothing outlives its
grading (the worker, its session, the server); and a score does not depend on machine load.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import set_cell, write_nb

from autograder.limits import Limits
from autograder.pool import GradingPool
from autograder.remote import StudentError, Submission
from autograder.samples import blank_notebook, reference_notebook
from autograder.sandbox import Sandbox
from autograder.zygote import Zygote

A = "a01_tensors"

POLLUTER = r'''
import os, torch
torch.set_default_dtype(torch.float64)
torch.manual_seed(123)
torch.Tensor.__add__ = lambda self, other: torch.zeros(())
torch.set_num_threads(7)
os.environ["SECRET"] = "left by the previous student"
with open("cache.txt", "w") as fh:
    fh.write("answers of the previous student")
import builtins
builtins.print = None
'''

PROBE = r'''
import os, torch
def state():
    return {"dtype": str(torch.get_default_dtype()), "add": (torch.ones(2) + torch.ones(2)).tolist(),
            "threads": torch.get_num_threads(), "env": os.environ.get("SECRET"), "files": sorted(os.listdir(".")),
            "rand": torch.rand(1).item(), "print": print is not None}
'''


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (from /proc), zombies excluded."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat[0] != "Z":
            children.setdefault(int(stat[1]), []).append(int(d.name))
    out, stack = set(), [pid]
    while stack:
        for c in children.get(stack.pop(), []):
            out.add(c)
            stack.append(c)
    return out


def alive(pids: set[int]) -> set[int]:
    out = set()
    for p in pids:
        try:
            if (Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]) != "Z":
                out.add(p)
        except OSError:
            pass
    return out


def wait_gone(pids: set[int], seconds: float = 10.0) -> set[int]:
    end = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < end:
        time.sleep(0.1)
    return alive(pids)


def box(source: str, zygote: Zygote, **limits) -> Sandbox:
    b = Sandbox([{"id": "c", "source": source, "kind": "answer"}], [], Limits(**limits), zygote=zygote)
    b.start()
    return b


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


def test_a_submission_that_changes_its_process_cannot_change_the_next_one(zygote):
    """torch defaults, seeds, monkeypatches, thread counts, env vars, files in its scratch folder, builtins."""
    first = box(PROBE, zygote)
    clean = Submission(first).state()
    first.close()
    dirty = box(POLLUTER + PROBE, zygote)
    polluted = Submission(dirty).state()
    dirty.close()
    assert polluted["dtype"] == "torch.float64" and polluted["files"] == ["cache.txt"]  # it did pollute itself
    after = box(PROBE, zygote)
    again = Submission(after).state()
    after.close()
    assert again == clean, (clean, again)
    assert again["dtype"] == "torch.float32" and again["add"] == [2.0, 2.0] and again["files"] == []
    assert again["env"] is None and again["threads"] == 1 and again["print"]


def test_students_graded_side_by_side_cannot_read_each_others_scratch_folder(zygote):
    reader = box("import os\ndef peek(path):\n    return open(path).read()\n"
                 "def ls(path):\n    return os.listdir(path)\n", zygote)
    writer = box("with open('answers.txt', 'w') as fh:\n    fh.write('42')\n"
                 "def mine():\n    return open('answers.txt').read()\n", zygote)
    try:
        assert Submission(writer).mine() == "42"  # its own folder: fine
        other = os.path.join(writer.scratch, "answers.txt")
        with pytest.raises(StudentError, match="not allowed"):
            Submission(reader).peek(other)
        with pytest.raises(StudentError, match="not allowed"):
            Submission(reader).ls(os.path.dirname(writer.scratch))
    finally:
        reader.close()
        writer.close()


def test_a_worker_that_ignores_sigterm_and_sleeps_is_scored_and_leaves_no_process(zygote):
    src = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(10_000)\n"
    before = descendants(zygote.proc.pid)
    b = box(src + "def f():\n    return 1\n", zygote, exec_seconds=2)
    pid = b.worker.pid
    assert "timed out" in b.bad_cells["c"] and "almost no CPU" in b.bad_cells["c"]
    with pytest.raises(StudentError, match="does not define `f`"):
        Submission(b).f()
    b.close()
    assert not wait_gone({pid}), "the worker outlived its grading"
    assert not wait_gone(descendants(zygote.proc.pid) - before)


def test_a_worker_dies_when_its_grading_session_does(zygote):
    """The lifeline: the session's end closing (any death, SIGKILL included) kills the worker."""
    b = box("import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n", zygote)
    pid = b.worker.pid
    b.worker.lifeline.close()  # what the kernel does when the session process dies
    assert not wait_gone({pid}, 5), "the worker outlived its session"
    b.close()


def test_killing_the_grader_takes_every_process_with_it(course, tmp_path):
    """The server, its sessions, the zygote and the workers all die with the process that started them."""
    hang = write_nb(set_cell(reference_notebook(course, A), "patchify",
                             "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                             "while True:\n    time.sleep(1)\n"), tmp_path / "hang.ipynb")
    pool = GradingPool(jobs=1)
    pool.submit(course, A, hang)
    end = time.monotonic() + 60
    tree: set[int] = set()
    while time.monotonic() < end and len(tree) < 3:  # zygote, session, worker
        time.sleep(0.2)
        tree = descendants(pool.proc.pid)
    assert len(tree) >= 3, tree
    os.kill(pool.proc.pid, signal.SIGKILL)
    pool.proc.wait()
    assert not wait_gone(tree), f"left behind: {alive(tree)}"


def test_the_next_student_in_a_batch_is_graded_as_if_alone(course, tmp_path):
    polluter = reference_notebook(course, A)
    for gid in ("pairwise_sq_dists",):
        cell = next(c for c in polluter.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
        cell.source = POLLUTER + "\n" + cell.source
    nbs = [write_nb(polluter, tmp_path / "p.ipynb"), write_nb(reference_notebook(course, A), tmp_path / "r.ipynb"),
           write_nb(blank_notebook(course, A), tmp_path / "b.ipynb")]
    with GradingPool(jobs=1) as pool:
        ids = [pool.submit(course, A, nb) for nb in nbs]
        res = [pool.wait(i) for i in ids]
    assert res[0].score < res[0].max_score  # its own damage costs it
    assert res[1].score == res[1].max_score, [t.message for t in res[1].failed]
    assert res[2].score == 0  # nothing of the previous students' answers is left to find


def test_a_score_does_not_depend_on_load(course, tmp_path):
    """Both cores busy with other processes: the reference still gets full marks."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2 * (os.cpu_count() or 1))]
    try:
        nb = write_nb(reference_notebook(course, A), tmp_path / "r.ipynb")
        with GradingPool(jobs=2) as pool:
            ids = [pool.submit(course, A, nb), pool.submit(course, "a06_attention",
                                                           write_nb(reference_notebook(course, "a06_attention"),
                                                                    tmp_path / "a06.ipynb"))]
            results = [pool.wait(i) for i in ids]
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    for r in results:
        assert r.score == r.max_score > 0, [t.message for t in r.failed]
