"""Submissions per minute, side by side on the same notebooks: stock nbgrader, nbgrader with the
course's glue, and `dlcourse grade --jobs N` (SPEC §6: the last ≥ 5× the first).

Prints numbers, asserts nothing (speed goals live here, not in tests). Usage:
    python bench/grading.py [ASSIGNMENT ...] [--jobs 2] [--copies 2]

Stock nbgrader (`DLCOURSE_STOCK_NBGRADER=1`: no glue) only executes each notebook in a kernel, the
floor of any grader that runs notebooks; with the glue it also runs the hidden suite. The
notebooks are each assignment's bundled samples (reference, blank, wrong and correct variants),
`--copies` times over. Also prints `dlcourse check` of the reference notebook, cold, and the
machine's load average, since every number here depends on it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.course import Course, find_course
from autograder.grade import grade_batch, plan
from autograder.samples import all_submissions, patched_notebook, samples_for
from dlcourse.demo import make_course_copy
from dlcourse.release import nbgrader_env, release


def place(course: Path, assignment: str, copies: int) -> list[Path]:
    nbs = dict(all_submissions(course, assignment, None))
    nbs.update({f"correct_{k}": patched_notebook(course, assignment, s)
                for k, s in samples_for(assignment, "CORRECT").items()})
    paths = []
    for c in range(copies):
        for name, nb in nbs.items():
            path = Course(course).submitted(f"{name}_{c}", assignment)
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(path))
            paths.append(path)
    return paths


def autograde(course: Path, assignment: str, stock: bool) -> float:
    env = nbgrader_env()
    if stock:
        env["DLCOURSE_STOCK_NBGRADER"] = "1"
    shutil.rmtree(course / "autograded", ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--force", "--log-level=ERROR"],
                   cwd=course, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("assignments", nargs="*", default=["a01_tensors", "a06_attention"])
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--copies", type=int, default=1)
    a = p.parse_args()
    course = find_course()
    print(f"machine: {os.cpu_count()} cores, load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'assignment':<16} {'nbs':>4} {'stock nbgrader':>15} {'nbgrader+glue':>14} "
          f"{'dlcourse grade':>15} {'speed-up vs stock':>18}   (seconds per submission)")
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "course"
        make_course_copy(course, demo)
        release(demo, a.assignments)
        for assignment in a.assignments:
            nbs = place(demo, assignment, a.copies)
            stock = autograde(demo, assignment, stock=True) / len(nbs)
            glue = autograde(demo, assignment, stock=False) / len(nbs)
            t0 = time.perf_counter()
            grade_batch(demo, assignment, plan(assignment, nbs, None), n_jobs=a.jobs, force=True, progress=False)
            ours = (time.perf_counter() - t0) / len(nbs)
            print(f"{assignment:<16} {len(nbs):>4} {stock:>15.2f} {glue:>14.2f} {ours:>15.2f} {stock / ours:>17.1f}x")
        ref = Course(demo).submitted("reference_0", a.assignments[0])
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "dlcourse.cli", "check", str(ref)], cwd=demo, capture_output=True)
        print(f"dlcourse check {a.assignments[0]} (reference, cold start): {time.perf_counter() - t0:.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
