"""Tiny helpers to author nbgrader source notebooks from Python (used once per notebook).

The committed `solutions/*/*.ipynb` are the source of truth; these helpers only save typing
the nbgrader metadata by hand when a notebook is first written.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: float | None = None) -> dict:
    m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        m["points"] = points
    return {"nbgrader": m}


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(textwrap.dedent(text).strip())


def code(src: str) -> nbformat.NotebookNode:
    """A plain demo cell: runs in the notebook, never in the grader."""
    return new_code_cell(textwrap.dedent(src).strip())


def setup(grade_id: str, src: str) -> nbformat.NotebookNode:
    """A locked cell the answers need (imports); the grader runs the released version of it."""
    c = new_code_cell(textwrap.dedent(src).strip())
    c.metadata.update(_meta(grade_id, locked=True))
    c.metadata["editable"] = False
    c.metadata["deletable"] = False
    return c


def answer(grade_id: str, src: str) -> nbformat.NotebookNode:
    c = new_code_cell(textwrap.dedent(src).strip())
    c.metadata.update(_meta(grade_id, solution=True))
    return c


def tests(grade_id: str, points: float, src: str) -> nbformat.NotebookNode:
    """A grade cell: visible asserts for the student; its points come from the hidden suite, which
    lives in autograder/suites/ (no hidden-test block in the cell: nbgrader would then see every
    released grade cell's checksum differ from the gradebook's and warn on every submission)."""
    c = new_code_cell(textwrap.dedent(src).strip())
    c.metadata.update(_meta(grade_id, grade=True, locked=True, points=points))
    c.metadata["editable"] = False
    c.metadata["deletable"] = False
    return c


def write(path: str | Path, cells: list) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
