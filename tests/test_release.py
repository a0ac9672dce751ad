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
