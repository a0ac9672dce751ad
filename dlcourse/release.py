"""`dlcourse release`: assignments/ is generated from solutions/ by nbgrader, never by hand."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.grade import CourseError


def source_assignments(course: Path) -> list[str]:
    return sorted(p.parent.name for p in (course / "solutions").glob("*/*.ipynb"))


def _generate(course: Path, assignment: str) -> None:
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force", "--log-level=ERROR"]
    proc = subprocess.run(cmd, cwd=course, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise CourseError(f"nbgrader generate_assignment {assignment} failed:\n{tail}")


def release(course: Path, only: list[str] | None = None) -> list[str]:
    """Regenerate assignments/<a>/ for each (or the given) solutions/<a>/."""
    known = source_assignments(course)
    todo = only or known
    for a in todo:
        if a not in known:
            raise CourseError(f"no source notebook solutions/{a}/{a}.ipynb (known: {', '.join(known)})")
        _generate(course, a)
    return todo


def check_release(course: Path, only: list[str] | None = None) -> list[str]:
    """Differences between assignments/ and a fresh release, generated in a scratch copy."""
    with tempfile.TemporaryDirectory(prefix="release-check-") as tmp:
        scratch = Path(tmp)
        shutil.copy(course / "nbgrader_config.py", scratch)
        shutil.copytree(course / "solutions", scratch / "solutions")
        todo = release(scratch, only)
        stale = []
        for a in todo:
            fresh, current = scratch / "assignments" / a, course / "assignments" / a
            if not current.is_dir():
                stale.append(f"assignments/{a}/ is missing")
                continue
            cmp = filecmp.dircmp(fresh, current)
            stale += [f"assignments/{a}/{n} differs" for n in cmp.diff_files]
            stale += [f"assignments/{a}/{n} is missing" for n in cmp.left_only]
            stale += [f"assignments/{a}/{n} should not be there" for n in cmp.right_only]
        if not only:
            extra = {p.name for p in (course / "assignments").iterdir() if p.is_dir()} - set(todo)
            stale += [f"assignments/{a}/ has no source in solutions/" for a in sorted(extra)]
        return stale
