"""nbgrader, for real: `nbgrader autograde` gives the same points as `dlcourse grade`, even for
notebooks that would fool or break plain nbgrader; feedback never shows hidden test source."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import nbgrader, set_cell, write_nb

from autograder.grade import grade_notebook
from autograder.samples import reference_notebook
from dlcourse.demo import feedback_leaks, make_course_copy
from dlcourse.release import release

A = "a01_tensors"

TRICKS = {
    # os._exit kills the kernel: plain nbgrader leaves the whole notebook ungraded
    "kills_kernel": ("fit_ridge", "import os\nos._exit(0)\n"),
    # stderr in a grade cell scores 0 in plain nbgrader, even when the answer is right
    "writes_stderr": ("gaussian_features", "import sys\n\ndef gaussian_features(x, centers, sigma):\n"
                      "    print('debug', file=sys.stderr)\n"
                      "    return torch.exp(-((x[:, None] - centers[None, :]) ** 2) / (2 * sigma**2))\n"),
    # patching torch in the kernel makes plain nbgrader's visible asserts pass on a wrong answer
    "patches_asserts": ("pairwise_sq_dists", "torch.allclose = lambda *a, **k: True\n\n"
                        "def pairwise_sq_dists(x, y):\n    return torch.zeros(x.shape[0], y.shape[0])\n"),
}


@pytest.fixture(scope="module")
def graded_course(course, tmp_path_factory) -> Path:
    demo = tmp_path_factory.mktemp("nbg") / "course"
    make_course_copy(course, demo)
    release(demo, [A])
    for student, (cell, src) in TRICKS.items():
        write_nb(set_cell(reference_notebook(demo, A), cell, src), demo / "submitted" / student / A / f"{A}.ipynb")
    nb = reference_notebook(demo, A)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_patchify"]
    write_nb(nb, demo / "submitted" / "deletes_test_cell" / A / f"{A}.ipynb")
    nbgrader(demo, "autograde", A, "--force")
    nbgrader(demo, "generate_feedback", A, "--force")
    nbgrader(demo, "export", "--to", str(demo / "grades.csv"))
    return demo


def test_autograde_equals_dlcourse_grade_on_tricky_notebooks(graded_course):
    with open(graded_course / "grades.csv") as fh:
        nbg = {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(fh)}
    assert set(nbg) == set(TRICKS) | {"deletes_test_cell"}
    for student, score in nbg.items():
        ours = grade_notebook(graded_course, A, graded_course / "submitted" / student / A / f"{A}.ipynb")
        assert score == ours.score, (student, score, ours.score)
    assert nbg["writes_stderr"] == nbg["deletes_test_cell"] == 18  # right answers keep their points
    assert 0 < nbg["patches_asserts"] < 18  # the wrong pairwise_sq_dists is caught outside the kernel
    assert nbg["kills_kernel"] == 18 - 4  # the cell that ran os._exit is skipped; fit_ridge's 4 points lost


def test_feedback_has_names_and_messages_but_no_hidden_source(graded_course):
    assert feedback_leaks(graded_course, A) == []
    html = (graded_course / "feedback" / "patches_asserts" / A / f"{A}.html").read_text()
    assert "test_pairwise_values" in html and "wrong values" in html
    assert "def test_" not in html and "ref_sq_dists" not in html


def test_grade_cells_show_per_test_lines_and_points(graded_course):
    import nbformat

    nb = nbformat.read(str(graded_course / "autograded" / "patches_asserts" / A / f"{A}.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_pairwise_sq_dists")
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert re.search(r"FAIL test_pairwise_values \(0/2\)", text)
    result = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert result and float(result[0].data["text/plain"]) == 0.0


@pytest.mark.timeout(3600)  # every assignment through nbgrader and the sandbox: minutes on 2 cores
def test_demo_runs_and_agrees(course):
    proc = subprocess.run([sys.executable, "-m", "dlcourse.cli", "demo"], cwd=course, capture_output=True, text=True)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    rows = [ln.split() for ln in proc.stdout.splitlines() if re.match(r"a\d\d_", ln)]
    assert rows, proc.stdout
    by = {(r[0], r[1]): r for r in rows}
    for a in {r[0] for r in rows}:
        ref, blank = by[(a, "reference")], by[(a, "blank")]
        assert ref[2] == ref[3] == ref[4], ref  # nbgrader = dlcourse = max
        assert blank[2] == blank[3] == "0", blank
    for r in rows:
        assert r[5] == "yes", r
        if r[1] not in ("reference", "blank"):
            assert 0 < float(r[3]) < float(r[4]), r
    assert "feedback shows hidden test source: YES" not in proc.stdout


def test_autograding_an_untouched_notebook_prints_no_warning(course, tmp_path):
    """Warnings people learn to ignore hide the real ones: a blank and a reference submission,
    autograded at nbgrader's default log level, produce none (no checksum, SQLAlchemy or kernel noise)."""
    demo = tmp_path / "course"
    make_course_copy(course, demo)
    release(demo, [A])
    from autograder.samples import blank_notebook

    write_nb(blank_notebook(demo, A), demo / "submitted" / "blank" / A / f"{A}.ipynb")
    write_nb(reference_notebook(demo, A), demo / "submitted" / "ref" / A / f"{A}.ipynb")
    proc = nbgrader(demo, "autograde", A, quiet=False)
    noise = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "WARN" in ln.upper()]
    assert noise == [], noise
