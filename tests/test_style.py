"""House rules: ruff-clean code, notebooks committed without outputs."""

import importlib.util
import json
import subprocess
import sys

import pytest


def test_ruff_clean(course):
    if importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=course, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_notebooks_have_no_outputs(course):
    notebooks = [*course.glob("solutions/*/*.ipynb"), *course.glob("assignments/*/*.ipynb"),
                 *course.glob("lectures/*.ipynb")]
    for nb in notebooks:
        cells = json.loads(nb.read_text())["cells"]
        dirty = [i for i, c in enumerate(cells)
                 if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
        assert not dirty, f"{nb}: cells {dirty} carry outputs"


def test_python_version():
    assert sys.version_info >= (3, 11)
