"""The release: in sync with solutions/, and no hidden material in any release or wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat

HIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "autograder/suites")


def test_assignments_in_sync_with_solutions(course):
    proc = subprocess.run([sys.executable, "-m", "dlcourse.cli", "release", "--check"], cwd=course,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_solution_has_a_release_suite_and_spec(course):
    from autograder.assignments import ASSIGNMENTS

    sources = {p.parent.name for p in (course / "solutions").glob("*/*.ipynb")}
    releases = {p.parent.name for p in (course / "assignments").glob("*/*.ipynb")}
    suites = {p.stem for p in (course / "autograder" / "suites").glob("a*.py")}
    assert sources == releases == suites <= set(ASSIGNMENTS)


def _suite_lines(course: Path) -> list[str]:
    lines = []
    for suite in (course / "autograder" / "suites").glob("a*.py"):
        lines += [ln.strip() for ln in suite.read_text().splitlines() if ln.startswith(("def test_", "def ref_"))]
    return lines


def test_releases_hold_no_solutions_or_hidden_tests(course):
    probes = _suite_lines(course)
    for nb_path in (course / "assignments").glob("*/*"):
        text = nb_path.read_text()
        for marker in (*HIDDEN_MARKERS, *probes):
            assert marker not in text, f"{nb_path}: {marker}"
        nb = nbformat.read(str(nb_path), as_version=4)
        assert not any(c.get("outputs") or c.get("execution_count") for c in nb.cells if c.cell_type == "code")
    assert [p.name for p in (course / "assignments").glob("*/*")] == [
        p.name for p in (course / "assignments").glob("*/*.ipynb")], "only notebooks are released"


def test_wheel_holds_no_hidden_suites(course, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path)], cwd=course, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("dlcourse-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("autograder/") for n in names) and any(n.startswith("dlcourse/") for n in names)
    assert not [n for n in names if "suites" in n or "samples" in n or n.endswith(".ipynb")], names
    blob = b"".join(zipfile.ZipFile(wheel).read(n) for n in names)
    for line in _suite_lines(course):
        assert line.encode() not in blob, line


def test_release_check_ignores_jupyter_checkpoints_and_needs_no_activated_venv(course, tmp_path):
    """Opening a released notebook in Jupyter leaves .ipynb_checkpoints/; nbgrader shells out to
    `alembic`, which sits next to the venv's python even when the venv is not activated."""
    import os
    import shutil

    copy = tmp_path / "course"
    copy.mkdir()
    shutil.copy(course / "nbgrader_config.py", copy)
    for d in ("solutions", "assignments", "autograder/suites"):
        shutil.copytree(course / d, copy / d)
    ckpt = copy / "assignments" / "a01_tensors" / ".ipynb_checkpoints"
    ckpt.mkdir()
    (ckpt / "a01_tensors-checkpoint.ipynb").write_text("{}")
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = "/usr/bin:/bin"  # nothing of this Python's bin/ on PATH
    proc = subprocess.run([sys.executable, "-m", "dlcourse.cli", "--course", str(copy), "release", "--check",
                           "a01_tensors", "a06_attention"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "in sync" in proc.stdout and "Traceback" not in proc.stderr


def test_demo_from_a_non_editable_install_says_so_in_one_line(course, tmp_path):
    """The wheel leaves the sample submissions out: the demo says what to do instead of a traceback."""
    code = ("import sys, importlib.abc\n"
            "class NoSamples(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.startswith('autograder.samples'):\n"
            "            raise ModuleNotFoundError(f\"No module named '{name}'\", name=name)\n"
            "sys.meta_path.insert(0, NoSamples())\n"
            "from dlcourse.cli import main\n"
            "sys.exit(main(['demo']))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=course, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install -e" in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_every_assignment_opens_with_how_to_work(course):
    """The first screen tells a first-time student what to run first, what a test's verdict looks like, and
    how to check before submitting (tools/how_to_work.py adds the paragraph)."""
    for nb_path in sorted((course / "assignments").glob("a*/a*.ipynb")):
        title = nbformat.read(str(nb_path), as_version=4).cells[0].source
        assert "**How to work.**" in title and "Validate" in title and "dlcourse check" in title, nb_path.name
