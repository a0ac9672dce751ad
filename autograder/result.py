"""One grading result, one shape: produced by the session, read unchanged by every consumer.

`GradingResult` is what grading a notebook yields (as otter-grader's `GradingResults`). Its
edges: `to_gradescope_dict()` (Gradescope's results.json, which is also what `--json` stores and
what `dlcourse report` reads back through `from_gradescope_dict()`), `csv_row()` (an LMS
gradebook), `cell_points()` (nbgrader's grade cells) and `summary()` (one line for a person).
`to_dict()`/`from_dict()` carry it between processes unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

_FATAL = "Could not grade this notebook: "  # the first line of a results.json's output when nothing was graded


def _number(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ValueError(f"{what} is not a number")
    return float(x)


@dataclass
class TestResult:
    """One hidden test's outcome. `name` is the test's id (e.g. `test_patchify_values`)."""

    __test__ = False  # not a pytest test class

    name: str
    title: str
    cell: str
    max_points: float
    visibility: str
    points: float = 0.0
    status: str = "failed"
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def line(self) -> str:
        """`PASS name (2/2): title`, and for a failure the reason on a second line."""
        text = f"{'PASS' if self.passed else 'FAIL'} {self.name} ({self.points:g}/{self.max_points:g}): {self.title}"
        return text if self.passed else f"{text}\n     -> {self.message}"


@dataclass
class GradingResult:
    """Everything known about one graded notebook."""

    assignment: str
    tests: list[TestResult] = field(default_factory=list)
    fatal: str | None = None  # why the notebook could not be graded at all
    problems: list[str] = field(default_factory=list)  # notes: deleted cells, syntax errors, ...
    student_output: str = ""
    hidden_not_run: int = 0  # hidden tests a public-only run (`dlcourse check`) left out
    seconds: float = 0.0
    notebook: str = "<notebook>"
    notebook_sha256: str = ""
    student: str = ""

    @property
    def score(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_points for t in self.tests)

    @property
    def failed(self) -> list[TestResult]:
        return [t for t in self.tests if not t.passed]

    def cell_points(self) -> dict[str, float]:
        """Points per nbgrader grade cell: what the nbgrader glue writes into each grade cell."""
        out: dict[str, float] = {}
        for t in self.tests:
            out[t.cell] = out.get(t.cell, 0.0) + t.points
        return out

    def summary(self) -> str:
        head = f"{self.score:g}/{self.max_score:g}"
        if self.fatal:
            return f"{head}  {self.fatal}"
        failed = self.failed
        if not failed:
            return f"{head}  all {len(self.tests)} tests pass"
        return f"{head}  {len(failed)} failed, e.g. {failed[0].name}: {failed[0].message}"

    # ------------------------------------------------------------------ edges
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradingResult:
        data = dict(data)
        data["tests"] = [TestResult(**t) for t in data.get("tests", [])]
        return cls(**data)

    def output_text(self) -> str:
        lines = [f"{_FATAL}{self.fatal}"] if self.fatal else []
        lines += [f"- {p}" for p in self.problems]
        lines.append(f"Score: {self.score:g} / {self.max_score:g}")
        return "\n".join(lines)

    def to_gradescope_dict(self) -> dict[str, Any]:
        """Gradescope's results.json (score, execution_time, output, tests[...]), plus extra_data."""
        return {
            "score": self.score,
            "execution_time": self.seconds,
            "output": self.output_text(),
            "visibility": "visible",
            "tests": [
                {
                    "name": f"{t.name}: {t.title}" if t.title != t.name else t.name,
                    "score": t.points,
                    "max_score": t.max_points,
                    "status": t.status,
                    "output": t.message or "passed",
                    "visibility": t.visibility,
                    "tags": [t.cell],
                    "extra_data": {"test": t.name, "title": t.title, "cell": t.cell},
                }
                for t in self.tests
            ],
            "extra_data": {
                "assignment": self.assignment,
                "notebook": self.notebook,
                "notebook_sha256": self.notebook_sha256,
                "student": self.student,
                "max_score": self.max_score,
                "fatal": self.fatal,
                "problems": list(self.problems),
                "summary": self.summary(),
                "hidden_not_run": self.hidden_not_run,
                "student_output_chars": len(self.student_output),
            },
        }

    @classmethod
    def from_gradescope_dict(cls, data: Any) -> GradingResult:
        """A stored results.json back into a result (resume, reports); also one written by an older
        grader or by hand. Raises ValueError, saying why, if it is not a results.json."""
        if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
            raise ValueError("no `tests` list (not a results.json)")
        extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
        output = data.get("output") if isinstance(data.get("output"), str) else ""
        tests = []
        for i, t in enumerate(data["tests"]):
            if not isinstance(t, dict):
                raise ValueError(f"tests[{i}] is not an object")
            te = t.get("extra_data") if isinstance(t.get("extra_data"), dict) else {}
            shown_id, _, shown_title = str(t.get("name", f"test {i + 1}")).partition(": ")
            name = str(te.get("test") or shown_id).strip()
            tags = t.get("tags") if isinstance(t.get("tags"), list) else []
            points = _number(t.get("score", 0), f"tests[{i}].score")
            max_points = _number(t.get("max_score", points), f"tests[{i}].max_score")
            status = t.get("status") if t.get("status") in ("passed", "failed") else (
                "passed" if points >= max_points else "failed")
            message = str(t.get("output") or "").strip()
            tests.append(TestResult(name=name, title=str(te.get("title") or shown_title.strip() or name),
                                    cell=str(te.get("cell") or (tags[0] if tags else "")), max_points=max_points,
                                    visibility=str(t.get("visibility", "visible")), points=points, status=status,
                                    message="" if status == "passed" else (message or "(no message)")))
        if "fatal" in extra:
            fatal = str(extra["fatal"]) if extra["fatal"] else None
        else:  # an older results.json: the reason is the output's first line
            first = output.splitlines()[0] if output else ""
            fatal = first[len(_FATAL):] if first.startswith(_FATAL) else None
        if not tests and not fatal:
            fatal = (output.splitlines() or ["no test ran"])[0]
        return cls(assignment=str(extra.get("assignment") or ""), tests=tests, fatal=fatal,
                   problems=[str(p) for p in extra.get("problems") or []],
                   seconds=_number(data.get("execution_time", 0.0), "execution_time"),
                   notebook=str(extra.get("notebook") or "<notebook>"),
                   notebook_sha256=str(extra.get("notebook_sha256") or ""), student=str(extra.get("student") or ""),
                   hidden_not_run=int(extra.get("hidden_not_run") or 0))

    def csv_row(self, columns: list[str]) -> list[Any]:
        """[student, total, points of each test in `columns`] for an LMS gradebook import."""
        pts = {t.name: t.points for t in self.tests}
        return [self.student, self.score, *[pts.get(c, 0) for c in columns]]
