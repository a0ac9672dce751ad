"""Read a submitted notebook and pick out the code the grader runs, matched by nbgrader grade_id.

The released notebook is the template: it says which cells are answers (`solution: true`), which
are locked setup cells (`locked: true`, not a grade cell, e.g. the imports) and which are grade
cells with points. From a submission we take the student's source of each answer cell and the
*template's* source of each setup cell (a student's edit of a locked cell is not trusted, as in
nbgrader). Anything odd becomes a one-line problem, never an exception.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Notebook = dict[str, Any]  # a notebook as its JSON (nbformat 4): read without nbformat, which costs ~1 s to import


class NotebookProblem(Exception):
    """The notebook cannot be graded at all (unreadable, or not this assignment)."""


@dataclass
class CodeCell:
    id: str
    source: str
    kind: str  # "answer" or "setup"


@dataclass
class GradeCell:
    id: str
    points: float


@dataclass
class Template:
    """What the released notebook promises: answer/setup cells in order, grade cells, points."""

    assignment: str
    cells: list[CodeCell]
    grade_cells: list[GradeCell]
    defines: dict[str, str]  # public name -> id of the answer cell that defines it

    @classmethod
    def load(cls, path: Path, assignment: str) -> Template:
        nb = read_notebook(path)
        cells, grades, defines = [], [], {}
        for cell in nb["cells"]:
            meta = _nbgrader_meta(cell)
            gid = meta.get("grade_id")
            if not gid or cell.get("cell_type") != "code":
                continue
            if meta.get("grade"):
                grades.append(GradeCell(gid, float(meta.get("points", 0))))
            elif meta.get("solution"):
                cells.append(CodeCell(gid, cell_source(cell), "answer"))
                for name in top_level_names(cell_source(cell)):
                    defines.setdefault(name, gid)
            elif meta.get("locked"):
                cells.append(CodeCell(gid, cell_source(cell), "setup"))
        return cls(assignment, cells, grades, defines)

    @property
    def grade_ids(self) -> set[str]:
        return {c.id for c in self.cells if c.kind == "answer"} | {g.id for g in self.grade_cells}


@dataclass
class Extracted:
    cells: list[CodeCell]
    problems: list[str] = field(default_factory=list)
    missing_cells: set[str] = field(default_factory=set)


def read_notebook(path: Path | str) -> Notebook:
    """The notebook's JSON, with every failure turned into one readable sentence."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotebookProblem(f"cannot read {path.name}: {exc.strerror or exc}") from None
    return parse_notebook(raw, path.name)


def parse_notebook(raw: bytes | str, name: str = "the notebook") -> Notebook:
    if not raw.strip():
        raise NotebookProblem(f"{name} is empty")
    try:
        data = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        if not name.endswith(".ipynb") and name != "the notebook":
            raise NotebookProblem(f"{name} is not a Jupyter notebook (an .ipynb file): submit or check the "
                                  "notebook itself") from None
        raise NotebookProblem(f"{name} is not valid notebook JSON ({exc.__class__.__name__}: "
                              f"{str(exc)[:80]}); was it truncated or edited outside Jupyter?") from None
    if not isinstance(data, dict) or ("cells" not in data and "worksheets" not in data):
        raise NotebookProblem(f"{name} is JSON but not a Jupyter notebook (no cells)")
    version = data.get("nbformat", 4)
    if "cells" not in data or not isinstance(data["cells"], list) or (isinstance(version, int) and version < 4):
        raise NotebookProblem(f"{name} is in an old notebook format (nbformat {version}): "
                              "open it in Jupyter and save it again")
    if not all(isinstance(c, dict) for c in data["cells"]):
        raise NotebookProblem(f"{name} is not a valid notebook (a cell is not a JSON object)")
    return data


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(map(str, source)) if isinstance(source, list) else str(source)


def _nbgrader_meta(cell: dict) -> dict:
    meta = cell.get("metadata")
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_ids(nb: Notebook) -> set[str]:
    """The nbgrader cell ids in a notebook: what says which assignment it is, whatever its file name."""
    return {gid for c in nb.get("cells", []) if isinstance(gid := _nbgrader_meta(c).get("grade_id"), str)}


def extract(nb: Notebook, template: Template) -> Extracted:
    """The answer code (student's) and setup code (template's), in template order."""
    by_id: dict[str, dict] = {}
    for cell in nb.get("cells", []):
        gid = _nbgrader_meta(cell).get("grade_id")
        if isinstance(gid, str):
            by_id.setdefault(gid, cell)
    answers = [c for c in template.cells if c.kind == "answer"]
    if answers and not any(c.id in by_id for c in answers):
        raise NotNotebookOfAssignment(template.assignment)
    out = Extracted(cells=[])
    for tcell in template.cells:
        if tcell.kind == "setup":
            out.cells.append(tcell)
            continue
        cell = by_id.get(tcell.id)
        if cell is None:
            out.problems.append(f"answer cell `{tcell.id}` was deleted from the notebook")
            out.missing_cells.add(tcell.id)
            continue
        if cell.get("cell_type") != "code":
            out.problems.append(f"answer cell `{tcell.id}` was changed to a {cell.get('cell_type')} cell")
            out.missing_cells.add(tcell.id)
            continue
        out.cells.append(CodeCell(tcell.id, cell_source(cell), "answer"))
    for g in template.grade_cells:
        cell = by_id.get(g.id)
        if cell is None:
            out.problems.append(f"test cell `{g.id}` was deleted (its hidden tests still run)")
        elif cell.get("cell_type") != "code":
            kind = cell.get("cell_type")
            out.problems.append(f"test cell `{g.id}` was changed to {kind} (its hidden tests still run)")
    return out


class NotNotebookOfAssignment(NotebookProblem):
    def __init__(self, assignment: str):
        super().__init__(f"none of the answer cells of {assignment} are in this notebook: "
                         f"is it the notebook of another assignment, or were its cells copied without metadata?")


def top_level_names(source: str) -> list[str]:
    """Names a cell defines at top level (def, class, assignment, import); [] if it does not parse."""
    try:
        tree = ast.parse(_blank_magics(source))
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        names += defined_names(node)
    return names


def defined_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    elif isinstance(node, (ast.For, ast.With, ast.If, ast.Try, ast.While)):
        out = []
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                out += defined_names(child)
        for h in getattr(node, "handlers", []):
            for child in h.body:
                out += defined_names(child)
        if isinstance(node, ast.For):
            targets = [node.target]
        return out + [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _blank_magics(source: str) -> str:
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())
