"""Where a course keeps things: one place that knows the layout (SPEC §1), and `CourseError`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class CourseError(Exception):
    """The course itself, or the command line, is not usable as given: the user must act."""


@dataclass(frozen=True)
class Course:
    """A course checkout (or a copy of one): paths by role, never built by hand elsewhere."""

    root: Path

    def suite(self, assignment: str) -> Path:
        return self.suites_dir / f"{assignment}.py"

    @property
    def suites_dir(self) -> Path:
        return self.root / "autograder" / "suites"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def releases_dir(self) -> Path:
        return self.root / "assignments"

    @property
    def submitted_dir(self) -> Path:
        return self.root / "submitted"

    def release(self, assignment: str) -> Path:
        """The released notebook: the template every submission is read against."""
        return self.releases_dir / assignment / f"{assignment}.ipynb"

    def solution(self, assignment: str) -> Path:
        return self.solutions_dir / assignment / f"{assignment}.ipynb"

    def submitted(self, student: str, assignment: str) -> Path:
        return self.submitted_dir / student / assignment / f"{assignment}.ipynb"

    def source_assignments(self) -> list[str]:
        return sorted(p.parent.name for p in self.solutions_dir.glob("*/*.ipynb"))

    def released_assignments(self) -> list[str]:
        return sorted(p.parent.name for p in self.releases_dir.glob("*/*.ipynb"))

    def check(self, assignment: str) -> None:
        """CourseError unless this assignment can be graded here (ValueError if unknown)."""
        from . import assignments

        assignments.get(assignment)
        if not self.suite(assignment).is_file():
            raise CourseError(f"no hidden suite for {assignment} at {self.suite(assignment)}")
        if not self.release(assignment).is_file():
            raise CourseError(f"no release of {assignment}: run `dlcourse release` first")


def is_course(path: Path) -> bool:
    return (path / "nbgrader_config.py").is_file() and (path / "autograder" / "suites").is_dir()


def find_course(start: Path | None = None) -> Path:
    """The course root: `$DLCOURSE_ROOT`, else the nearest folder above `start` (cwd) holding
    nbgrader_config.py and autograder/suites/, else the checkout this package was installed from."""
    env = os.environ.get("DLCOURSE_ROOT")
    candidates = [Path(env)] if env else []
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents, Path(__file__).resolve().parent.parent]
    for c in candidates:
        if is_course(c):
            return c
    raise CourseError("no course found: run inside the course folder (with nbgrader_config.py and "
                      "autograder/suites/), or set DLCOURSE_ROOT")
