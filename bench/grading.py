"""Seconds per submission: `dlcourse grade` vs `nbgrader autograde` on the same notebooks.

Prints numbers, asserts nothing (speed goals live here, not in tests). Usage:
    python bench/grading.py [ASSIGNMENT ...] [--jobs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.grade import find_course, grade_batch, plan
from dlcourse.demo import make_course_copy, place_submissions
from dlcourse.release import release, source_assignments


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("assignments", nargs="*")
    p.add_argument("--jobs", type=int, default=1)
    a = p.parse_args()
    course = find_course()
    todo = a.assignments or source_assignments(course)
    print(f"{'assignment':<22} {'notebooks':>9} {'dlcourse grade s/nb':>20} {'nbgrader autograde s/nb':>24}")
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "course"
        make_course_copy(course, demo)
        release(demo, todo)
        for assignment in todo:
            students = place_submissions(demo, assignment, wrong=None)
            nbs = [demo / "submitted" / s / assignment / f"{assignment}.ipynb" for s in students]
            t0 = time.perf_counter()
            grade_batch(demo, assignment, plan(assignment, nbs, None), n_jobs=a.jobs, force=True, progress=False)
            ours = (time.perf_counter() - t0) / len(nbs)
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "nbgrader", "autograde", assignment, "--force",
                            "--log-level=ERROR"], cwd=demo, check=True, capture_output=True)
            theirs = (time.perf_counter() - t0) / len(nbs)
            print(f"{assignment:<22} {len(nbs):>9} {ours:>20.2f} {theirs:>24.2f}")
    print("(nbgrader autograde runs the kernel and then the same sandboxed suite, so it is the sum of both)")


if __name__ == "__main__":
    main()
