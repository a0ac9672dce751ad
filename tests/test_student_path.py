"""A first-time student's path, in a real browser: `dlcourse lab` on a fresh copy of an assignment, open it, fill
an answer cell (first wrong, then right), run it and its visible test, save, press nbgrader's Validate and read
the result; then `dlcourse check` on the saved notebook from a terminal. Screenshots of each step are kept in
_build/artefacts/ (CI prints where).

The browser is Debian's chromium with pip's playwright (see tests/test_site.py: skipped where either is missing,
a failure under DLCOURSE_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.samples import reference_notebook
from tests.test_site import ARTEFACTS, CHROMIUM, _browser_or_skip

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "a01_tensors"
TOKEN = "dlcourse-test"
WRONG = '''def pairwise_sq_dists(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances: x [N, D], y [M, D] -> [N, M]."""
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1).sqrt()  # a distance, not its square
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answer(grade_id: str) -> str:
    nb = reference_notebook(ROOT, ASSIGNMENT)
    return next(c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.fixture()
def lab(tmp_path: Path):
    """`dlcourse lab` serving a fresh copy of the student release, as a student who just downloaded it."""
    _browser_or_skip()
    work = tmp_path / "student"
    (work / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "assignments" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", work / ASSIGNMENT)
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_DATA_DIR=str(tmp_path / "data"))
    env.pop("MPLBACKEND", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dlcourse.cli", "lab", str(work), "--no-browser", f"--port={port}",
         f"--ServerApp.token={TOKEN}", "--LabApp.expose_app_in_browser=True"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("JupyterLab did not start:\n" + (proc.stdout.read() if proc.stdout else ""))
            time.sleep(0.5)
    try:
        yield url, work
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_student_path_in_jupyterlab_then_dlcourse_check(lab) -> None:
    from playwright.sync_api import sync_playwright

    url, work = lab
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    notebook = work / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    # the instructor's server extension is off: no formgrader behind the student's JupyterLab
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{url}/formgrader?token={TOKEN}", timeout=10)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/lab/tree/{ASSIGNMENT}/{ASSIGNMENT}.ipynb?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        page.screenshot(path=str(ARTEFACTS / "student-1-first-screen.png"))

        # what a student sees: the Validate button, and none of the instructor's tools
        assert page.locator(".jp-Toolbar-item", has_text="Validate").count() == 1
        commands = page.evaluate("""() => ['nbgrader:open-formgrader', 'nbgrader:open-create-assignment',
                                           'nbgrader:open-course-list', 'nbgrader:open-assignment-list']
                                          .map(c => window.jupyterapp.commands.hasCommand(c))""")
        assert commands == [False, False, False, True], commands
        assert page.locator("text=Would you like to get notified").count() == 0  # no news popup

        cells = page.locator(".jp-Notebook .jp-Cell")
        ids = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets"
                            ".map(w => (w.model.getMetadata('nbgrader') || {}).grade_id || null)")
        setup, answer, test = (ids.index(g) for g in ("setup", "pairwise_sq_dists", "test_pairwise_sq_dists"))

        def fill(i: int, source: str) -> None:
            page.evaluate("([i, s]) => window.jupyterapp.shell.currentWidget.content.widgets[i].model"
                          ".sharedModel.setSource(s)", [i, source])

        def run(i: int) -> None:
            cells.nth(i).click()
            page.keyboard.press("Escape")  # command mode: Shift+Enter runs the selected cell
            page.keyboard.press("Shift+Enter")
            page.wait_for_function(
                "i => { const c = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];"
                " const p = c.querySelector('.jp-InputPrompt'); return p && /\\[\\d+\\]/.test(p.textContent); }",
                arg=i)

        # a wrong answer first: the visible test says what was expected
        run(setup)
        fill(answer, WRONG)
        run(answer)
        run(test)
        error = cells.nth(test).locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        error.wait_for()
        cells.nth(test).scroll_into_view_if_needed()
        page.screenshot(path=str(ARTEFACTS / "student-2-wrong-answer.png"))
        assert "AssertionError" in error.inner_text()

        # the right answer: the visible test passes silently
        fill(answer, _answer("pairwise_sq_dists"))
        run(answer)
        run(test)
        outputs = cells.nth(test).locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        assert outputs.count() == 0, outputs.all_inner_texts()
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")

        # nbgrader's Validate: the other answers are still blank, so it reports them
        page.locator(".jp-Toolbar-item", has_text="Validate").click()
        dialog = page.locator(".jp-Dialog-content")
        dialog.wait_for(timeout=180_000)
        page.wait_for_function("() => !document.querySelector('.jp-Dialog-content').innerText.includes('Validating')",
                               timeout=180_000)
        page.screenshot(path=str(ARTEFACTS / "student-3-validate.png"))
        verdict = dialog.inner_text()
        browser.close()
    assert "NotImplementedError" in verdict or "failed" in verdict.lower(), verdict[:2000]

    # then, in a terminal: `dlcourse check` on the saved notebook
    proc = subprocess.run([sys.executable, "-m", "dlcourse.cli", "check", str(notebook)], cwd=work,
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    (ARTEFACTS / "student-4-check.txt").write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(ln.startswith("PASS") and "pairwise" in ln for ln in lines), proc.stdout
    assert any(ln.startswith("FAIL") and "patchify" in ln for ln in lines), proc.stdout
    assert "public tests pass" in lines[-1] and "hidden tests run when graded" in lines[-1], proc.stdout
