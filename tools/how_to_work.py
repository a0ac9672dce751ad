"""Add the same "How to work" paragraph to the title cell of every assignment's source notebook (idempotent).

A first-time student's questions on the first screen: what to run first, what a passing or failing test looks
like, and how to check before submitting. Run `dlcourse release` afterwards.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HOW = (
    "**How to work.** Run the cells in order from the top: the first code cell imports what every answer needs "
    "(a `NameError` for `torch` means it has not run yet). After each answer, run the test cell under it: a line "
    "saying the visible tests pass means they do; an `AssertionError` says what was checked, what was expected "
    "and what came back. **Validate** in the notebook's toolbar re-runs the whole notebook in a fresh kernel and "
    "shows the first cell that fails (an answer still blank shows `NotImplementedError`). Before you submit, run "
    "`dlcourse check <this notebook>` in a terminal: the public tests exactly as the grader runs them, in a few "
    "seconds."
)


def add(path: Path) -> bool:
    nb = json.loads(path.read_text())
    title = nb["cells"][0]
    src = "".join(title["source"])
    if "**How to work.**" in src:
        return False
    title["source"] = (src.rstrip() + "\n\n" + HOW).splitlines(keepends=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return True


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    for p in sorted(root.glob("solutions/a*/a*.ipynb")):
        print(("added: " if add(p) else "kept:  ") + str(p))
