"""Static scan of answer code: which forbidden built-ins each top-level name can reach.

A test is charged for a forbidden reference only if it is in the *closure* of a name the test
used: the definition of that name plus every top-level definition it refers to, transitively.
So `cd = torch.cdist` at top level and `def pairwise_sq_dists(...): return cd(x, y)` is caught,
while a `print(torch.cdist(a, b))` sanity check at the bottom of a cell costs nothing (it is
not the student's implementation; the runtime trap still watches every call made while graded).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .assignments import INTEGRITY, Forbid
from .notebook import CodeCell, _blank_magics, defined_names


@dataclass(frozen=True)
class Finding:
    label: str  # e.g. "torch.cdist"
    cell: str
    line: int
    forbid: Forbid

    def describe(self) -> str:
        return f"{self.label} (cell {self.cell}, line {self.line})"


def _chain(node: ast.AST) -> str | None:
    """`torch.nn.functional.softmax` -> 'torch.nn.functional.softmax'; None if not a pure chain."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if parts:  # e.g. x.float().softmax: keep the attribute tail
        parts.append("?")
        return ".".join(reversed(parts))
    return None


def _matches(chain: str, pattern: str) -> bool:
    """'nn.Linear' matches 'nn.Linear', 'torch.nn.Linear', but not a student's own 'Linear';
    '.relu' matches only attribute access ('F.relu', 'x.relu'), never a bare name 'relu';
    '=eval' matches only the bare name ('eval(...)'), never 'model.eval()' or 're.compile'."""
    if pattern.startswith("="):
        return chain == pattern[1:]
    if pattern.startswith("."):
        return "." in chain and chain.endswith(pattern)
    return chain == pattern or chain.endswith("." + pattern)


def _scan_statement(stmt: ast.stmt, cell: str, forbids: Iterable[Forbid]) -> list[Finding]:
    """Forbidden references inside one top-level statement."""
    found: list[Finding] = []
    forbids = list(forbids)
    for node in ast.walk(stmt):
        chains: list[str] = []
        if isinstance(node, ast.Attribute):
            chain = _chain(node)
            if chain and not chain.startswith(("self.", "cls.")):
                chains.append(chain)
        elif isinstance(node, ast.Name):
            chains.append(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            module = getattr(node, "module", None) or ""
            for alias in node.names:
                full = f"{module}.{alias.name}" if module else alias.name
                chains += [full, alias.name]
        for chain in chains:
            for f in forbids:
                if any(_matches(chain, p) for p in f.patterns):
                    found.append(Finding(f.name, cell, getattr(node, "lineno", 0), f))
    return found


class StaticReport:
    """Per top-level name, the forbidden references in its closure."""

    def __init__(self, cells: list[CodeCell], forbids: Iterable[Forbid]):
        forbids = list(forbids) + list(INTEGRITY)
        self.defs: dict[str, list[tuple[ast.stmt, str]]] = {}
        self.findings: dict[int, list[Finding]] = {}
        self.refs: dict[int, set[str]] = {}
        self.syntax_errors: list[str] = []
        for cell in cells:
            if cell.kind != "answer":
                continue
            try:
                tree = ast.parse(_blank_magics(cell.source))
            except SyntaxError as exc:
                self.syntax_errors.append(f"cell {cell.id}: SyntaxError on line {exc.lineno}: {exc.msg}")
                continue
            for stmt in tree.body:
                key = id(stmt)
                self.findings[key] = _scan_statement(stmt, cell.id, forbids)
                self.refs[key] = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
                for name in defined_names(stmt):
                    self.defs.setdefault(name, []).append((stmt, cell.id))

    def reachable(self, name: str) -> Iterator[tuple[ast.stmt, str]]:
        """Each top-level statement (with its cell id) that `name` reaches: its definitions, then
        whatever they reference, transitively (helpers, aliases, imports), each statement once."""
        seen_names, seen_stmts, stack = set(), set(), [name]
        while stack:
            n = stack.pop()
            if n in seen_names:
                continue
            seen_names.add(n)
            for stmt, cell in self.defs.get(n, []):
                if id(stmt) in seen_stmts:
                    continue
                seen_stmts.add(id(stmt))
                yield stmt, cell
                stack += [r for r in self.refs.get(id(stmt), ()) if r in self.defs]

    def closure_findings(self, name: str) -> list[Finding]:
        return [f for stmt, _cell in self.reachable(name) for f in self.findings.get(id(stmt), [])]

    def loops_in(self, name: str) -> list[str]:
        """Python loops (for, while, comprehensions) in the definitions `name` reaches: 'cell:line'."""
        loop_types = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
        out = []
        for stmt, cell in self.reachable(name):
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out += [f"cell {cell}, line {node.lineno}" for node in ast.walk(stmt) if isinstance(node, loop_types)]
        return out

    def violations_for(self, used: Iterable[str]) -> list[Finding]:
        """Findings that count against a test that used these student names."""
        out: dict[tuple[str, str, int], Finding] = {}
        for name in sorted(set(used)):
            for f in self.closure_findings(name):
                if f.forbid.applies_to(name):
                    out[(f.label, f.cell, f.line)] = f
        return list(out.values())
