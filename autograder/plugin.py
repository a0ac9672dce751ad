"""pytest plugin for hidden suites: the `student` fixture, points, and one-line reasons.

Suites stay ordinary pytest files (`def test_x(student): ...`, `@points(2, cell="...")`). This
plugin gives them a `student` (a `remote.Submission`), turns each outcome into points, and
turns a pass into a fail when the test's calls reached a forbidden built-in (runtime trap) or
used a name whose code refers to one (static scan).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from .remote import StudentError, Submission
from .result import TestResult
from .sandbox import Sandbox
from .static import StaticReport


@dataclass(eq=False)
class GradingPlugin:
    """Registered with `pytest.main(plugins=[...])` by `session.py`, once per submission."""

    sandbox: Sandbox | None  # started before pytest (its own limits, not a test's timeout); None if fatal
    static: StaticReport | None
    fatal: str | None = None
    missing_reason: dict[str, str] = field(default_factory=dict)
    cell_of: dict[str, str] = field(default_factory=dict)
    visible_only: bool = False
    results: list[TestResult] = field(default_factory=list)
    skipped_hidden: int = 0
    start_error: str = ""
    _sub: Submission | None = None
    _hits_at: int = 0

    # ---------------------------------------------------------------- fixture
    @pytest.fixture(scope="session")
    def student(self) -> Submission:
        if self.fatal:
            raise StudentError(self.fatal)
        if self.sandbox is None:
            raise StudentError(self.start_error or "the grader's worker did not start")
        self._sub = Submission(self.sandbox, missing_reason=self.missing_reason, static=self.static,
                               cell_of=self.cell_of)
        return self._sub

    # ---------------------------------------------------------------- collection
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "grading(points, cell, visibility): hidden-test metadata")

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep = []
        for item in items:
            mark = item.get_closest_marker("grading")
            if mark is None:
                raise pytest.UsageError(f"{item.nodeid} has no @points(...) marker")
            if self.visible_only and mark.kwargs.get("visibility") != "visible":
                self.skipped_hidden += 1
                continue
            keep.append(item)
        items[:] = keep

    # ---------------------------------------------------------------- running
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if self._sub is not None:
            self._sub.used.clear()
        self._hits_at = len(self.sandbox.hits) if self.sandbox else 0

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        rep = outcome.get_result()
        if rep.skipped:  # environment-dependent (e.g. no GPU): not the student's fault, never a loss
            self._record(item, True, f"skipped: {rep.longrepr[-1] if isinstance(rep.longrepr, tuple) else ''}")
            return
        if rep.when == "call" or (rep.when == "setup" and rep.failed):
            message = _reason(call.excinfo) if rep.failed else ""
            if rep.passed:
                message = self._violations()
                if message:
                    rep.outcome = "failed"
                    rep.longrepr = message
            self._record(item, rep.passed, message)

    def _violations(self) -> str:
        if self._sub is None:
            return ""
        used = set(self._sub.used)
        runtime = sorted({h.label for h in self.sandbox.hits[self._hits_at:] if h.origin in used})
        static = self.static.violations_for(used) if self.static else []
        if runtime:
            return f"your code called {', '.join(runtime)}, which this assignment forbids"
        if static:
            return "your code uses " + "; ".join(f.describe() for f in static) + ", which this assignment forbids"
        return ""

    def _record(self, item: pytest.Item, passed: bool, message: str) -> None:
        mark = item.get_closest_marker("grading")
        doc = (getattr(item, "function", None).__doc__ or "").strip().splitlines()
        r = TestResult(name=item.name, title=doc[0] if doc else item.name, cell=mark.kwargs["cell"],
                       max_points=float(mark.kwargs["points"]),
                       visibility=mark.kwargs.get("visibility", "after_due_date"))
        r.status = "passed" if passed else "failed"
        r.points = r.max_points if passed else 0.0
        r.message = message
        self.results.append(r)


def _reason(excinfo: pytest.ExceptionInfo | None) -> str:
    """The first line a student can act on; never a traceback."""
    if excinfo is None:
        return "failed"
    exc = excinfo.value
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, StudentError):
        return first[:500]
    if isinstance(exc, AssertionError):
        return (first or "a check failed")[:500]
    if type(exc).__name__ == "Failed" and "Timeout" in text:
        return "the test timed out"
    return f"could not check your answer ({type(exc).__name__}: {first[:200]})"
