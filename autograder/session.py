"""Grade one notebook: run the hidden suite (pytest, trusted) against one sandbox (untrusted).

`pool.py` calls `run()` in a fresh fork per submission, so pytest's state never leaks between
students and `--jobs N` is plain process parallelism. The student's code runs in yet another
process (the sandbox's worker) and never sees the result, which is returned to the pool.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import time
from pathlib import Path

import pytest

from . import assignments
from .course import Course
from .notebook import NotebookProblem, Template, extract, parse_notebook, read_notebook
from .plugin import GradingPlugin
from .result import GradingResult
from .sandbox import Sandbox, StudentError
from .static import StaticReport
from .zygote import Zygote


def pytest_args(course: Course, assignment: str) -> list[str]:
    """pytest's command line for a hidden suite: no cache, no plugins but timeouts, no warnings."""
    limits = assignments.get(assignment).limits
    return [str(course.suite(assignment)), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
            "-p", "no:unraisableexception", "-p", "pytest_timeout",
            "-o", f"timeout={limits.test_seconds}", "-o", "timeout_method=signal",
            "-W", "ignore", "--rootdir", str(course.suites_dir)]


def run(root: Path, assignment: str, notebook: Path | None = None, nb_json: str | None = None,
        visible_only: bool = False, fatal_reason: str | None = None, zygote: Zygote | None = None) -> GradingResult:
    """Grade one notebook (a path, or its JSON text). `fatal_reason`: list the suite's tests, each
    failed with this reason (the notebook could not be graded)."""
    started = time.monotonic()
    course = Course(Path(root).resolve())
    spec = assignments.get(assignment)
    template = Template.load(course.release(assignment), assignment)
    result = GradingResult(assignment=assignment, notebook=str(notebook) if notebook else "<notebook>")
    static, cells, missing = None, [], {}
    raw = b""
    try:
        if fatal_reason is not None:
            raise NotebookProblem(fatal_reason)
        if nb_json is not None:
            raw = nb_json.encode()
            nb = parse_notebook(raw)
        else:
            with contextlib.suppress(OSError):
                raw = Path(notebook).read_bytes()
            nb = read_notebook(notebook)
        ex = extract(nb, template)
        cells, result.problems = ex.cells, ex.problems
        for name, cid in template.defines.items():
            if cid in ex.missing_cells:
                missing[name] = f" (answer cell `{cid}` is missing or no longer a code cell)"
        static = StaticReport(cells, spec.forbidden)
        result.problems += static.syntax_errors
    except NotebookProblem as exc:
        result.fatal = str(exc)
    result.notebook_sha256 = hashlib.sha256(raw).hexdigest()

    denied = [str(course.root)]
    allowed = [str(course.root / "dlcourse"), str(course.root / "assignments")]

    # The answer cells run before pytest, under the sandbox's own CPU limits per cell, so a slow or
    # hanging cell costs what it should and never a test's timeout.
    box, start_error = None, ""
    if result.fatal is None:
        box = Sandbox([c.__dict__ for c in cells], spec.forbidden, spec.limits, denied=denied, allowed=allowed,
                      zygote=zygote)
        try:
            box.start()
        except StudentError as exc:
            start_error = str(exc)
    plugin = GradingPlugin(box if not start_error else None, static, fatal=result.fatal, missing_reason=missing,
                           cell_of=template.defines, visible_only=visible_only, start_error=start_error)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only the plugins named in pytest_args
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            code = pytest.main(pytest_args(course, assignment), plugins=[plugin])
        if box is not None:
            errors = box.exec_report.get("errors", [])
            result.problems += [f"cell {e['cell']}: {e['type']}: {e['msg']}{e['where']}" for e in errors]
            if box.top_level_hits:
                result.problems.append("note: top-level code (outside your functions) called "
                                       + ", ".join(box.top_level_hits) + "; not counted, but do not use it in answers")
            result.student_output = box.student_output()
    finally:
        if box is not None:
            box.close()
    if code not in (0, 1) and not plugin.results:
        raise RuntimeError(f"hidden suite for {assignment} did not run (pytest exit {code}):\n{log.getvalue()[-2000:]}")
    result.tests = plugin.results
    result.hidden_not_run = plugin.skipped_hidden
    result.seconds = round(time.monotonic() - started, 3)
    return result
