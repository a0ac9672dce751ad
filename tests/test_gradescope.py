"""`dlcourse gradescope`: the zip holds one suite and nothing else hidden, and its run_autograder,
run in a simulated /autograder tree, always leaves a results.json with a score and a reason.

The hanging submission costs a01's 10 s CPU limit of one call, so it runs in the background while
the other cases are graded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import set_cell, write_nb

from autograder.samples import patched_notebook, reference_notebook, samples_for
from dlcourse.gradescope import choose_notebook

A = "a01_tensors"


def dlcourse(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcourse.cli", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def bundle(course, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gs") / "a01.zip"
    proc = dlcourse("gradescope", A, "-o", str(out), cwd=course)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "timeout to at least" in proc.stdout
    return out


def autograder_tree(bundle: Path, root: Path, submission: dict[str, Path | str]) -> Path:
    """Gradescope's layout: the zip unpacked in root/source (modes kept), files in root/submission."""
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
        for info in zf.infolist():
            os.chmod(root / "source" / info.filename, info.external_attr >> 16 & 0o777)
    sub = root / "submission"
    sub.mkdir(parents=True)
    for name, content in submission.items():
        (sub / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copy(content, sub / name)
        else:
            (sub / name).write_text(content)
    return root


def start(root: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLCOURSE_ROOT")}
    env["AUTOGRADER_ROOT"] = str(root)
    env["TMPDIR"] = str(root / "tmp")  # the grader's scratch folders (and its workers' cwd) live here
    (root / "tmp").mkdir(exist_ok=True)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # python3 = this Python
    return subprocess.Popen(["bash", "run_autograder"], cwd=root / "source", env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen, root: Path) -> dict:
    log, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, log[-3000:]
    path = root / "results" / "results.json"
    assert path.is_file(), log[-3000:]
    return json.loads(path.read_text())


def kill_strays(under: Path) -> int:
    """Kill processes still running in a folder under `under` (by pid; Linux /proc only): a guard,
    since nothing may outlive its grading (a worker's scratch folder is under the tree's tmp)."""
    killed = 0
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if cwd.startswith(str(under) + os.sep) and int(proc.name) != os.getpid():
            os.kill(int(proc.name), signal.SIGKILL)
            killed += 1
    return killed


def test_zip_holds_one_suite_the_release_and_no_hidden_text(course, bundle):
    with zipfile.ZipFile(bundle) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        texts = {n: zf.read(n).decode("utf-8", "replace") for n in infos}
    names = set(infos)
    assert {"setup.sh", "run_autograder", "course/nbgrader_config.py", "course/pyproject.toml",
            f"course/autograder/suites/{A}.py", f"course/assignments/{A}/{A}.ipynb",
            "course/autograder/grade.py", "course/autograder/session.py", "course/dlcourse/cli.py"} <= names
    assert infos["run_autograder"].external_attr >> 16 & 0o111 == 0o111
    assert infos["setup.sh"].external_attr >> 16 & 0o111 == 0o111
    assert [n for n in names if n.startswith("course/autograder/suites/")] == [f"course/autograder/suites/{A}.py"]
    assert not [n for n in names if "solutions/" in n or "/samples/" in n or "__pycache__" in n]
    assert [n for n in names if n.endswith(".ipynb")] == [f"course/assignments/{A}/{A}.ipynb"]
    assert not [n for n, t in texts.items() if "BEGIN SOLUTION" in t]
    others = [ln.strip() for p in (course / "autograder" / "suites").glob("a*.py") if p.stem != A
              for ln in p.read_text().splitlines() if ln.startswith(("def test_", "def ref_"))]
    blob = "".join(texts.values())
    assert others and not [ln for ln in others if ln in blob]  # no other suite's tests, under any name
    setup = texts["setup.sh"]
    assert "download.pytorch.org/whl/cpu" in setup and "torch" in setup
    for dep in ("pytest", "pytest-timeout", "nbformat", "einops", "numpy", "tqdm"):
        assert dep in setup, dep
    assert "jupyterlab" not in setup and "nbgrader" not in setup and "scikit-learn" not in setup
    for script in ("setup.sh", "run_autograder"):
        assert texts[script].startswith("#!/usr/bin/env bash")
        check = subprocess.run(["bash", "-n"], input=texts[script], text=True, capture_output=True)
        assert check.returncode == 0, (script, check.stderr)


@pytest.fixture
def reaped(tmp_path):
    """tmp_path, and after the test no process left running in it."""
    yield tmp_path
    leaked = kill_strays(tmp_path)
    assert not leaked, f"the grader left {leaked} process(es) running after grading (killed now)"


def test_run_autograder_always_writes_a_results_json(course, bundle, reaped):
    tmp_path = reaped
    ref = write_nb(reference_notebook(course, A), tmp_path / "nb" / "ref.ipynb")
    name, sample = next(iter(samples_for(A).items()))
    wrong = write_nb(patched_notebook(course, A, sample), tmp_path / "nb" / f"{name}.ipynb")
    nb = reference_notebook(course, A)
    src = next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "patchify")
    looping = "\n\ndef patchify(images, patch_size):\n    while True:\n        pass\n"
    hang = write_nb(set_cell(nb, "patchify", src + looping), tmp_path / "nb" / "hang.ipynb")

    # the slow one first, in the background (it takes a call's 10 s CPU limit)
    roots = {"hang": autograder_tree(bundle, tmp_path / "hang", {f"{A}.ipynb": hang})}
    procs = {"hang": start(roots["hang"])}
    cases = {
        "reference": {f"{A}.ipynb": ref, "scratch.ipynb": wrong, "notes.txt": "hi"},  # picks the named one
        "wrong": {"my_work.ipynb": wrong},  # the only notebook, named otherwise
        "empty": {"readme.txt": "oops"},
        "ambiguous": {"x.ipynb": ref, "y.ipynb": wrong},
    }
    res = {}
    for case, files in cases.items():
        roots[case] = autograder_tree(bundle, tmp_path / case, files)
        res[case] = finish(start(roots[case]), roots[case])
    crash = autograder_tree(bundle, tmp_path / "crash", {f"{A}.ipynb": ref})
    (crash / "source" / "course" / "autograder" / "suites" / f"{A}.py").unlink()  # the grader cannot start
    res["crash"] = finish(start(crash), crash)
    broken = autograder_tree(bundle, tmp_path / "broken", {f"{A}.ipynb": ref})
    (broken / "venv" / "bin").mkdir(parents=True)  # setup.sh's venv, with a Python that cannot start
    (broken / "venv" / "bin" / "python").write_text("#!/bin/sh\nexit 3\n")
    (broken / "venv" / "bin" / "python").chmod(0o755)
    res["broken"] = finish(start(broken), broken)
    res["hang"] = finish(procs["hang"], roots["hang"])

    full = res["reference"]["extra_data"]["max_score"]
    assert res["reference"]["score"] == full > 0
    assert "scratch.ipynb" in res["reference"]["output"]  # says what it did not grade
    assert all(t["status"] == "passed" for t in res["reference"]["tests"])

    wrong_res = res["wrong"]
    assert 0 < wrong_res["score"] < full
    assert "my_work.ipynb" in wrong_res["output"] and f"{A}.ipynb" in wrong_res["output"]
    assert all(t["output"] and t["output"] != "passed" for t in wrong_res["tests"] if t["status"] == "failed")

    hung = res["hang"]
    assert 0 < hung["score"] < full  # only patchify's tests are lost
    lost = [t for t in hung["tests"] if t["status"] == "failed"]
    assert lost and all("patchify" in t["name"] and "timed out" in t["output"] for t in lost), lost

    for case, why in (("empty", "no notebook"), ("ambiguous", "none is named"), ("crash", "grader failed"),
                      ("broken", "could not start (exit 3)")):
        r = res[case]
        assert r["score"] == 0 and r["tests"] == [], case
        assert r["output"].startswith("Could not grade this notebook: ") and why in r["output"], (case, r["output"])
        assert r["extra_data"]["fatal"], case
    assert "readme.txt" in res["empty"]["output"]
    assert "no hidden suite" in res["crash"]["output"]
    for r in res.values():
        assert r["stdout_visibility"] == "hidden"  # the grader's log is for instructors


def test_choose_notebook_prefers_the_top_level_named_one(tmp_path):
    for rel in (f"sub/{A}.ipynb", f"{A}.ipynb", ".ipynb_checkpoints/x.ipynb", "__MACOSX/y.ipynb"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    nb, note = choose_notebook(tmp_path, A)
    assert nb == tmp_path / f"{A}.ipynb" and f"sub/{A}.ipynb" in note and "checkpoints" not in note


def test_unknown_assignment_and_missing_release_are_one_line_errors(course, tmp_path, capsys):
    from dlcourse.cli import main

    assert main(["--course", str(course), "gradescope", "a99_nope", "-o", str(tmp_path / "x.zip")]) == 2
    err = capsys.readouterr().err
    assert "unknown assignment" in err and len(err.strip().splitlines()) == 1
    fake = tmp_path / "course"
    (fake / "autograder" / "suites").mkdir(parents=True)
    (fake / "nbgrader_config.py").write_text("")
    (fake / "autograder" / "suites" / f"{A}.py").write_text("")
    assert main(["--course", str(fake), "gradescope", A, "-o", str(tmp_path / "x.zip")]) == 2
    err = capsys.readouterr().err
    assert "no release" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.zip").exists()
