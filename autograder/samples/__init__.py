"""Bundled sample submissions: the reference, the blank release, and plausible wrong answers.

A wrong submission is the reference with some answer cells replaced (`Sample.patches`), so the
samples never drift from the solution notebooks. `Sample.fails` names tests that must fail on
it: the project's tests check that each one does (a suite is judged by the bugs it rejects).
A module may also list `CORRECT` samples: right answers in another style than the reference's,
which must keep full marks (a suite must not grade the reference's style instead of the task).
"""

from __future__ import annotations

import copy
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.course import Course


@dataclass(frozen=True)
class Sample:
    """patches: answer grade_id -> new source, or a function of the reference source (an edit)."""

    patches: dict[str, str | Callable[[str], str]]
    fails: frozenset[str]
    why: str = ""
    forbidden_call: str = ""  # a forbidden built-in this sample calls; some failure must name it


def edit(*pairs: tuple[str, str]) -> Callable[[str], str]:
    """A patch that edits the reference source (old -> new, each must occur), so a wrong sample
    states only its bug and never drifts from the solution notebook."""

    def apply(src: str) -> str:
        for old, new in pairs:
            if old not in src:
                raise ValueError(f"sample edit: {old!r} not in the reference")
            src = src.replace(old, new)
        return src

    return apply


def samples_for(assignment: str, kind: str = "SAMPLES") -> dict[str, Sample]:
    """The bundled wrong samples of an assignment, or with kind="CORRECT" its correct variants."""
    try:
        mod = importlib.import_module(f"autograder.samples.{assignment}")
    except ModuleNotFoundError:
        return {}
    return getattr(mod, kind, {})


_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|\Z)", re.M)


def reference_notebook(course: Path, assignment: str) -> nbformat.NotebookNode:
    """The release notebook with every answer cell filled in from the solution notebook."""
    release = nbformat.read(str(Course(course).release(assignment)), as_version=4)
    source = nbformat.read(str(Course(course).solution(assignment)), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: _MARKERS.sub("", c.source)
               for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


def blank_notebook(course: Path, assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(str(Course(course).release(assignment)), as_version=4)


def patched_notebook(course: Path, assignment: str, sample: Sample) -> nbformat.NotebookNode:
    nb = reference_notebook(course, assignment)
    found = set()
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sample.patches:
            patch = sample.patches[gid]
            new = patch(cell.source) if callable(patch) else patch
            if new == cell.source:
                raise ValueError(f"sample edit of {assignment}:{gid} changed nothing (reference changed?)")
            cell.source = new.strip() + "\n"
            found.add(gid)
    missing = set(sample.patches) - found
    if missing:
        raise KeyError(f"sample patches unknown cells {sorted(missing)} of {assignment}")
    return nb


def all_submissions(course: Path, assignment: str, wrong: int | None = None) -> dict[str, nbformat.NotebookNode]:
    """student name -> notebook: reference, blank, then the bundled wrong submissions (the first
    `wrong` of them, or all)."""
    out = {"reference": reference_notebook(course, assignment), "blank": blank_notebook(course, assignment)}
    for name, sample in list(samples_for(assignment).items())[:wrong]:
        out[name] = patched_notebook(course, assignment, sample)
    return out
