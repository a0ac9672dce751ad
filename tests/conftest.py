"""Shared fixtures: the course root, and a scratch copy of the course for tests that write."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def course() -> Path:
    return ROOT


def write_nb(nb: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def set_cell(nb: nbformat.NotebookNode, grade_id: str, source: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise KeyError(grade_id)


def nbgrader(course: Path, *args: str, quiet: bool = True) -> subprocess.CompletedProcess:
    """Run `nbgrader ARGS` in a course folder as an instructor would (alembic found without an activated
    venv); fails the test with nbgrader's own output if it fails."""
    from dlcourse.release import nbgrader_env

    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args, *(["--log-level=ERROR"] if quiet else [])],
                          cwd=course, capture_output=True, text=True, env=nbgrader_env())
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    return proc
