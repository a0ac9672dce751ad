"""`dlcourse grade` end to end: reference = max, blank = 0, wrong samples strictly between,
and every bad input ends with a score and a reason while the rest of the batch is graded."""

from __future__ import annotations

import csv
import functools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from conftest import set_cell, write_nb

from autograder.course import Course
from autograder.grade import grade_notebook
from autograder.result import GradingResult
from autograder.samples import blank_notebook, patched_notebook, reference_notebook, samples_for

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb"))


def dlcourse(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcourse.cli", *args], cwd=cwd, capture_output=True, text=True)


def failed(result: GradingResult) -> set[str]:
    return {t.name for t in result.failed}


@functools.cache
def graded_blank(course: Path, assignment: str) -> GradingResult:
    """The blank release, graded once per session (two tests read it)."""
    with tempfile.TemporaryDirectory() as tmp:
        return grade_notebook(course, assignment, write_nb(blank_notebook(course, assignment), Path(tmp) / "b.ipynb"))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_scores_max_and_blank_scores_zero(course, tmp_path, assignment):
    ref = grade_notebook(course, assignment, write_nb(reference_notebook(course, assignment), tmp_path / "r.ipynb"))
    assert ref.score == ref.max_score > 0, failed(ref)
    blank = graded_blank(course, assignment)
    assert blank.score == 0
    assert all(t.message for t in blank.tests), "every lost point needs a reason"


@pytest.mark.parametrize("assignment, name", [(a, n) for a in ASSIGNMENTS for n in samples_for(a)])
def test_wrong_samples_score_strictly_between_and_fail_where_expected(course, tmp_path, assignment, name):
    sample = samples_for(assignment)[name]
    nb = write_nb(patched_notebook(course, assignment, sample), tmp_path / f"{name}.ipynb")
    res = grade_notebook(course, assignment, nb)
    assert 0 < res.score < res.max_score, (res.score, failed(res))
    assert sample.fails <= failed(res), f"expected to fail but passed: {sorted(sample.fails - failed(res))}"
    if sample.forbidden_call:
        messages = [t.message for t in res.failed]
        assert any(sample.forbidden_call in m and "forbid" in m for m in messages), messages


@pytest.mark.parametrize("assignment, name", [(a, n) for a in ASSIGNMENTS for n in samples_for(a, "CORRECT")])
def test_correct_samples_in_other_styles_keep_full_marks(course, tmp_path, assignment, name):
    nb = write_nb(patched_notebook(course, assignment, samples_for(assignment, "CORRECT")[name]),
                  tmp_path / f"{name}.ipynb")
    res = grade_notebook(course, assignment, nb)
    assert res.score == res.max_score > 0, {t.name: t.message[:300] for t in res.failed}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_assignment_bundles_wrong_samples_including_a_forbidden_call(assignment):
    samples = samples_for(assignment)
    assert len(samples) >= 2, "bundle at least two plausible wrong submissions"
    assert any(s.forbidden_call for s in samples.values()), "one sample must call a forbidden built-in"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_grade_cell_point_total_matches_the_suite(course, tmp_path, assignment):
    """Grade cells' points in the notebook = sum of the hidden tests mapped to them."""
    res = graded_blank(course, assignment)
    per_cell: dict[str, float] = {}
    for t in res.tests:
        per_cell[t.cell] = per_cell.get(t.cell, 0) + t.max_points
    nb = nbformat.read(str(course / "assignments" / assignment / f"{assignment}.ipynb"), as_version=4)
    cells = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
             for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    assert per_cell == cells
    assert {t.visibility for t in res.tests} <= {"visible", "after_due_date", "hidden"}
    assert any(t.visibility == "visible" for t in res.tests)


def _hostile(course: Path, tmp: Path) -> dict[str, Path]:
    """One notebook per bad input of the foundation issue, all for a01_tensors."""
    a = "a01_tensors"
    nbs: dict[str, Path] = {}
    good = (tmp / "good.ipynb")
    write_nb(reference_notebook(course, a), good)
    nbs["good"] = good
    text = good.read_text()
    (tmp / "truncated.ipynb").write_text(text[: len(text) // 2])
    nbs["truncated"] = tmp / "truncated.ipynb"
    (tmp / "empty.ipynb").write_text("")
    nbs["empty"] = tmp / "empty.ipynb"
    nbs["other_assignment"] = write_nb(reference_notebook(course, "a02_training"), tmp / "other.ipynb")
    nb = reference_notebook(course, a)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_patchify"]
    nbs["deleted_grade_cell"] = write_nb(nb, tmp / "deleted_grade.ipynb")
    nb = reference_notebook(course, a)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "patchify"]
    nbs["deleted_answer_cell"] = write_nb(nb, tmp / "deleted_answer.ipynb")
    nb = reference_notebook(course, a)
    for i, c in enumerate(nb.cells):
        if c.metadata.get("nbgrader", {}).get("grade_id") == "test_fit_ridge":
            nb.cells[i] = nbformat.v4.new_markdown_cell(c.source, metadata=c.metadata)
    nbs["retyped_grade_cell"] = write_nb(nb, tmp / "retyped.ipynb")
    nb = reference_notebook(course, a)
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == "fit_ridge":
            c.source = c.source.replace("def fit_ridge(", "def fit_ridge_regression(")
    nbs["renamed_function"] = write_nb(nb, tmp / "renamed.ipynb")
    hostile = {
        "hangs": "def pairwise_sq_dists(x, y):\n    while True:\n        pass\n",
        "exits": "import os\nos._exit(1)\n",
        "floods": "print('spam ' * 1_000_000)\ndef pairwise_sq_dists(x, y):\n    print('x' * 10**7)\n"
                  "    return ((x[:, None] - y[None]) ** 2).sum(-1)\n",
        "allocates": "def pairwise_sq_dists(x, y):\n    big = torch.ones(2**36)\n    return big\n",
        "crashes": "def pairwise_sq_dists(x, y):\n    import faulthandler\n    faulthandler._sigsegv()\n",
        "ctypes": "def pairwise_sq_dists(x, y):\n    import ctypes\n    return ctypes.string_at(0)\n",
    }
    for name, src in hostile.items():
        nbs[name] = write_nb(set_cell(reference_notebook(course, a), "pairwise_sq_dists", src), tmp / f"{name}.ipynb")
    return nbs


def test_bad_inputs_each_get_a_score_and_a_reason_and_the_batch_finishes(course, tmp_path):
    nbs = _hostile(course, tmp_path)
    out = tmp_path / "results"
    proc = dlcourse("grade", "a01_tensors", *map(str, nbs.values()), "--json", str(out), "--csv",
                    str(tmp_path / "grades.csv"), "--jobs", "2", cwd=course)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = {name: json.loads((out / f"{path.stem}.json").read_text()) for name, path in nbs.items()}
    full = res["good"]["extra_data"]["max_score"]
    assert res["good"]["score"] == full
    for name in ("truncated", "empty", "other_assignment"):
        assert res[name]["score"] == 0, name
        assert all(t["output"] != "passed" and t["output"] for t in res[name]["tests"]), name
    assert "not valid notebook JSON" in res["truncated"]["output"]
    assert "another assignment" in res["other_assignment"]["output"]
    # a deleted / retyped test cell: the hidden tests still run, full marks
    assert res["deleted_grade_cell"]["score"] == full
    assert res["retyped_grade_cell"]["score"] == full
    assert "deleted" in res["deleted_grade_cell"]["output"]
    # deleted answer cell or renamed function: only those tests fail, with the reason
    for name, fn in (("deleted_answer_cell", "patchify"), ("renamed_function", "fit_ridge")):
        lost = [t for t in res[name]["tests"] if t["status"] == "failed"]
        assert lost and all(fn in t["output"] for t in lost), (name, lost)
        assert 0 < res[name]["score"] < full
    assert "answer cell `patchify`" in " ".join(t["output"] for t in res["deleted_answer_cell"]["tests"])
    # hostile code: pairwise tests lose, the others still score
    expectations = {"hangs": "timed out", "exits": "does not define `pairwise_sq_dists`",
                    "allocates": "memory", "crashes": "segmentation fault",
                    "ctypes": "not allowed"}
    for name, reason in expectations.items():
        pair = [t for t in res[name]["tests"] if t["name"].startswith("test_pairwise")]
        assert all(t["status"] == "failed" for t in pair), name
        assert any(reason in t["output"] for t in pair), (name, [t["output"] for t in pair])
        assert 0 < res[name]["score"] < full, name
    assert res["floods"]["score"] == full
    assert res["floods"]["extra_data"]["student_output_chars"] < 200_000
    # CSV for an LMS: one row per notebook, per-test columns
    rows = list(csv.reader(open(tmp_path / "grades.csv")))
    assert len(rows) == 1 + len(nbs) and rows[0][0] == "student" and len(rows[0]) == 2 + len(res["good"]["tests"])


def test_gradescope_schema_and_resume_and_force(course, tmp_path):
    nb = write_nb(reference_notebook(course, "a01_tensors"), tmp_path / "alice.ipynb")
    out = tmp_path / "results.json"
    first = dlcourse("grade", "a01_tensors", str(nb), "--json", str(out), cwd=course)
    assert first.returncode == 0, first.stderr
    data = json.loads(out.read_text())
    assert {"score", "execution_time", "output", "tests"} <= set(data)
    for t in data["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(t)
        assert t["status"] in ("passed", "failed") and t["visibility"] in ("visible", "after_due_date", "hidden")
    again = dlcourse("grade", "a01_tensors", str(nb), "--json", str(out), cwd=course)
    assert "already graded" in again.stdout
    forced = dlcourse("grade", "a01_tensors", str(nb), "--json", str(out), "--force", cwd=course)
    assert "already graded" not in forced.stdout and forced.returncode == 0


def test_unknown_assignment_and_missing_file_are_clear_errors(course, tmp_path):
    proc = dlcourse("grade", "a99_nope", "x.ipynb", cwd=course)
    assert proc.returncode == 2 and "unknown assignment 'a99_nope'" in proc.stderr and "Traceback" not in proc.stderr
    # a path that does not exist (a glob typo) is a usage error, not a 0 in the gradebook
    good = write_nb(reference_notebook(course, "a01_tensors"), tmp_path / "good.ipynb")
    out = tmp_path / "out"
    proc = dlcourse("grade", "a01_tensors", str(good), str(tmp_path / "missing.ipynb"), "--json", str(out),
                    "--csv", str(tmp_path / "g.csv"), cwd=course)
    assert proc.returncode == 2 and "no such file" in proc.stderr and "missing.ipynb" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists() and not (tmp_path / "g.csv").exists()
    proc = dlcourse("grade", "a01_tensors", "/nonexistent/*.ipynb", cwd=course)
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_check_runs_public_tests_and_counts_hidden(course, tmp_path):
    nb = write_nb(reference_notebook(course, "a01_tensors"), tmp_path / "a01_tensors.ipynb")
    proc = dlcourse("check", str(nb), cwd=course)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("4/4 public tests pass;") and "hidden tests run when graded" in last
    # a browser download renamed the file: the assignment is read from the notebook's cells
    blank = write_nb(blank_notebook(course, "a01_tensors"), tmp_path / "blank" / "a01_tensors (1).ipynb")
    proc = dlcourse("check", str(blank), cwd=course)
    assert "0/4 public tests pass" in proc.stdout and "NotImplementedError" in proc.stdout
    assert proc.returncode == 1, "failing public tests must be visible to a script"
    # a syntax error is named as such, with its cell and line
    broken = set_cell(reference_notebook(course, "a01_tensors"), "patchify", "def patchify(images, p):\n    return (\n")
    proc = dlcourse("check", str(write_nb(broken, tmp_path / "broken.ipynb")), cwd=course)
    assert proc.returncode == 1 and "SyntaxError" in proc.stdout and "patchify" in proc.stdout, proc.stdout
    # not a notebook: says so, in one line
    (tmp_path / "notes.txt").write_text("hello")
    proc = dlcourse("check", str(tmp_path / "notes.txt"), cwd=course)
    assert proc.returncode == 2 and "not a Jupyter notebook" in proc.stderr and "Traceback" not in proc.stderr


def test_hidden_suites_exist_for_every_assignment(course):
    for a in ASSIGNMENTS:
        assert Course(course).suite(a).is_file()
