"""Grade one notebook: the trusted process that runs the hidden suite against one sandbox.

`grade.py` starts one of these per submission (`python -m autograder.session ...`) so that
pytest's state never leaks between students and `--jobs N` is plain process parallelism.
The result is written as JSON to a path in a private directory that only the grader knows;
the student's code runs in yet another process (the sandbox) and never sees it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

import pytest

from . import assignments
from .notebook import NotebookProblem, Template, extract, read_notebook
from .plugin import GradingPlugin
from .remote import Sandbox
from .static import StaticReport


def suite_path(course: Path, assignment: str) -> Path:
    return course / "autograder" / "suites" / f"{assignment}.py"


def template_path(course: Path, assignment: str) -> Path:
    return course / "assignments" / assignment / f"{assignment}.ipynb"


def run(course: Path, assignment: str, notebook: Path | None, nb_json: str | None = None,
        visible_only: bool = False, fatal_reason: str | None = None) -> dict:
    """Grade one notebook (a path, or its JSON text); return the result dict (see grade.py)."""
    started = time.monotonic()
    spec = assignments.get(assignment)
    template = Template.load(template_path(course, assignment), assignment)
    fatal, problems, static, cells, missing = None, [], None, [], {}
    try:
        if fatal_reason is not None:
            raise NotebookProblem(fatal_reason)
        if nb_json is not None:
            tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"nb-{os.getpid()}.ipynb"
            tmp.write_text(nb_json)
            try:
                nb = read_notebook(tmp)
            finally:
                tmp.unlink(missing_ok=True)
        else:
            nb = read_notebook(notebook)
        ex = extract(nb, template)
        cells, problems = ex.cells, ex.problems
        for name, cid in template.defines.items():
            if cid in ex.missing_cells:
                missing[name] = f" (answer cell `{cid}` is missing or no longer a code cell)"
        static = StaticReport(cells, spec.forbidden)
        problems += static.syntax_errors
    except NotebookProblem as exc:
        fatal = str(exc)

    denied = [str(course.resolve())]
    allowed = [str((course / "dlcourse").resolve()), str((course / "assignments").resolve())]
    forbidden = [f.wire() for f in spec.forbidden]

    def make_sandbox() -> Sandbox:
        box = Sandbox([c.__dict__ for c in cells], forbidden, spec.limits, denied=denied, allowed=allowed)
        box.start()
        return box

    plugin = GradingPlugin(make_sandbox, static, fatal=fatal, missing_reason=missing, cell_of=template.defines,
                           visible_only=visible_only)
    args = [str(suite_path(course, assignment)), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
            "-o", f"timeout={int(spec.limits.call_seconds * 6)}", "-o", "timeout_method=signal",
            "-W", "ignore", "--rootdir", str(course / "autograder" / "suites")]
    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        code = pytest.main(args, plugins=[plugin])
    sandbox = plugin.sandbox
    if sandbox is not None:
        errors = sandbox.exec_report.get("errors", [])
        problems += [f"cell {e['cell']}: {e['type']}: {e['msg']}{e['where']}" for e in errors]
        if getattr(sandbox, "top_level_hits", None):
            problems.append("note: top-level code (outside your functions) called "
                            + ", ".join(sandbox.top_level_hits) + "; not counted, but do not use it in answers")
        output = sandbox.student_output()
        sandbox.close()
    else:
        output = ""
    if code not in (0, 1) and not plugin.results:
        raise RuntimeError(f"hidden suite for {assignment} did not run (pytest exit {code}):\n{log.getvalue()[-2000:]}")
    return {
        "assignment": assignment,
        "fatal": fatal,
        "problems": problems,
        "tests": [r.as_dict() for r in plugin.results],
        "hidden_not_run": plugin.skipped_hidden,
        "student_output": output,
        "seconds": round(time.monotonic() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--course", required=True, type=Path)
    p.add_argument("--assignment", required=True)
    p.add_argument("--notebook", type=Path)
    p.add_argument("--stdin", action="store_true", help="read the notebook JSON from stdin")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--visible-only", action="store_true")
    p.add_argument("--fatal", help="fail every test with this reason (the notebook could not be graded)")
    a = p.parse_args(argv)
    nb_json = sys.stdin.read() if a.stdin else None
    result = run(a.course, a.assignment, a.notebook, nb_json, a.visible_only, a.fatal)
    a.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
