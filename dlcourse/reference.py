"""Load an assignment's reference solution as a module: one implementation, not a copy.

`dlcourse train-gpt` trains *the* GPT of `solutions/a09_gpt/a09_gpt.ipynb`: the setup and answer
cells (solution markers stripped) are executed into a fresh module, so the course never keeps a
second GPT that could drift from the one students are graded against.
"""

from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

from autograder.course import Course  # stdlib only: training still needs nothing but torch

# A notebook is JSON: read it without nbformat, so training needs only torch (a GPU image may lack Jupyter).
_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|\Z)", re.M)


def solution_source(course: Path, assignment: str) -> str:
    """The setup + answer cells of the solution notebook, markers removed, in notebook order."""
    path = Course(course).solution(assignment)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: `dlcourse train-gpt` needs the course checkout")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    parts = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and (meta.get("solution") or (meta.get("locked") and not meta.get("grade"))):
            source = cell["source"]
            parts.append(_MARKERS.sub("", source if isinstance(source, str) else "".join(source)))
    return "\n\n".join(parts) + "\n"


def load_solution(course: Path, assignment: str) -> types.ModuleType:
    name = f"dlcourse_reference_{assignment}"
    if name in sys.modules:
        return sys.modules[name]
    module = types.ModuleType(name)
    module.__file__ = str(Course(course).solution(assignment))
    sys.modules[name] = module  # dataclasses and pickling look classes up by module name
    exec(compile(solution_source(course, assignment), f"<solutions/{assignment}>", "exec"), module.__dict__)
    return module
