"""`dlcourse release`: assignments/ is generated from solutions/ by nbgrader, never by hand.

All assignments are generated in one nbgrader process (NbGraderAPI), which also registers each
one in the course's gradebook, so `nbgrader autograde` works right after a release. `--check`
does the same in a scratch copy and compares notebooks (Jupyter's `.ipynb_checkpoints` ignored).
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.course import Course, CourseError

_GENERATE = r"""
import json, os, sys
from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader
cfg = PyFileConfigLoader("nbgrader_config.py", path=os.getcwd()).load_config()
api = NbGraderAPI(CourseDirectory(config=cfg), config=cfg)
for a in sys.argv[1:]:
    r = api.generate_assignment(a, force=True, create=True)
    if not r["success"]:
        print(json.dumps({"assignment": a, "error": r.get("error") or r.get("log") or ""}))
        sys.exit(1)
"""


def nbgrader_env() -> dict[str, str]:
    """The environment for running nbgrader: it shells out to `alembic`, which lives next to this
    Python (a venv's bin/), whether or not the venv is activated."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def source_assignments(course: Path) -> list[str]:
    return Course(course).source_assignments()


def _generate(course: Path, todo: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", _GENERATE, *todo], cwd=course, capture_output=True, text=True,
                          env=nbgrader_env())
    if proc.returncode != 0:
        lines = (proc.stdout + proc.stderr).strip().splitlines()
        try:
            failed = json.loads(lines[-1])
            detail = [ln for ln in failed["error"].strip().splitlines() if ln.strip()]
            raise CourseError(f"nbgrader could not release {failed['assignment']}: "
                              f"{detail[-1] if detail else 'no reason given'}")
        except (ValueError, KeyError, IndexError):
            raise CourseError(f"nbgrader could not release {', '.join(todo)}: "
                              f"{lines[-1] if lines else 'no output'}") from None


def release(course: Path, only: list[str] | None = None) -> list[str]:
    """Regenerate assignments/<a>/ for each (or the given) solutions/<a>/."""
    known = source_assignments(course)
    todo = only or known
    for a in todo:
        if a not in known:
            raise CourseError(f"no source notebook solutions/{a}/{a}.ipynb (known: {', '.join(known)})")
    if todo:
        _generate(course, todo)
    return todo


_IGNORE = [".ipynb_checkpoints", "__pycache__", ".DS_Store"]


def check_release(course: Path, only: list[str] | None = None) -> list[str]:
    """Differences between assignments/ and a fresh release, generated in a scratch copy."""
    with tempfile.TemporaryDirectory(prefix="release-check-") as tmp:
        scratch = Path(tmp)
        shutil.copy(course / "nbgrader_config.py", scratch)
        shutil.copytree(Course(course).solutions_dir, Course(scratch).solutions_dir,
                        ignore=shutil.ignore_patterns(*_IGNORE))
        todo = release(scratch, only)
        stale = []
        for a in todo:
            fresh, current = Course(scratch).releases_dir / a, Course(course).releases_dir / a
            if not current.is_dir():
                stale.append(f"assignments/{a}/ is missing")
                continue
            cmp = filecmp.dircmp(fresh, current, ignore=_IGNORE)
            stale += [f"assignments/{a}/{n} differs" for n in cmp.diff_files]
            stale += [f"assignments/{a}/{n} is missing" for n in cmp.left_only]
            stale += [f"assignments/{a}/{n} should not be there" for n in cmp.right_only]
        if not only:
            extra = {p.name for p in Course(course).releases_dir.iterdir() if p.is_dir()} - set(todo)
            stale += [f"assignments/{a}/ has no source in solutions/" for a in sorted(extra)]
        return stale
