"""nbgrader preprocessors: `nbgrader autograde` scores grade cells from the hidden suite.

nbgrader's own way, running test code inside the student's kernel, trusts that kernel: a cell
can monkeypatch the tests, print to stderr (scores 0), or `os._exit` (the whole notebook goes
ungraded). So here the kernel still runs (students get their outputs back in feedback), but
each grade cell's outputs are *replaced* by the hidden suite's verdict, computed outside the
kernel by the same runner as `dlcourse grade`: one stdout line per test, then the points as the
cell's result, which nbgrader reads as partial credit. Same notebook, same points.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient.exceptions import DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Unicode

from .grade import grade_notebook


class RobustExecute(Execute):
    """nbgrader's Execute, except that a dead kernel (os._exit, a segfault) ends execution
    instead of failing the whole notebook: the grade cells are scored outside the kernel anyway."""

    def preprocess(self, nb: NotebookNode, resources: dict, *args, **kwargs):
        try:
            return super().preprocess(nb, resources, *args, **kwargs)
        except DeadKernelError as exc:
            self.log.warning("kernel died while executing the notebook (%s); scoring from the hidden suite", exc)
            for cell in nb.cells:
                if cell.cell_type == "code" and not cell.get("outputs") and cell.get("execution_count") is None:
                    cell.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                           text="[not run: the kernel died earlier]\n")]
                    break
            return nb, resources


class HiddenSuiteScores(NbGraderPreprocessor):
    """Replace every grade cell's outputs by the hidden suite's result for that cell."""

    course_root = Unicode("", help="course root (folder of nbgrader_config.py)").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict):
        assignment = resources["nbgrader"]["assignment"]
        course = Path(self.course_root or os.getcwd())
        result = grade_notebook(course, assignment, nb_json=nbformat.writes(nb))
        points = result.cell_points()
        by_cell: dict[str, list] = {}
        for t in result.tests:
            by_cell.setdefault(t.cell, []).append(t)
        header = [f"Could not grade this notebook: {result.fatal}"] if result.fatal else []
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not (meta.get("grade") and cell.cell_type == "code"):
                continue
            tests = by_cell.get(meta.get("grade_id"), [])
            got = points.get(meta.get("grade_id"), 0.0)
            lines = header + [t.line() for t in tests] or ["(no hidden tests for this cell)"]
            cell.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
                nbformat.v4.new_output("execute_result", data={"text/plain": repr(float(got))}, execution_count=None),
            ]
        return nb, resources


def configure(c, course_root: str) -> None:
    """Install the preprocessors into an nbgrader config object (called by nbgrader_config.py)."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import (
        AssignLatePenalties,
        CheckCellMetadata,
        ClearHiddenTests,
        GetGrades,
        IgnorePattern,
        LimitOutput,
        SaveAutoGrades,
    )

    from .feedback import OfflineMathHTMLExporter

    c.HiddenSuiteScores.course_root = course_root
    c.Autograde.autograde_preprocessors = [
        RobustExecute, HiddenSuiteScores, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
        SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
    ]
    # Feedback shows test names and messages, never hidden test source.
    c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
    # Feedback travels alone and is read offline: its MathJax is inside the file (autograder/feedback.py).
    c.GenerateFeedback.exporter_class = OfflineMathHTMLExporter
