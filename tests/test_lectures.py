"""The lecture notebooks: LBDL's section order, figures, reading lists, clean storage, and a full execution.

The execution test runs every lecture top to bottom in a fresh kernel, exactly as a student would, so a
lecture that breaks on a new torch or matplotlib release fails here rather than in front of a class.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURES = ROOT / "lectures"
NOTEBOOKS = sorted(LECTURES.glob("[0-9]*.ipynb"))

# The section titles of LBDL chapters 1-5, in the book's order (3.8 is the course's own addition).
LBDL_SECTIONS = [
    "1.1 Learning from data",
    "1.2 Basis function regression",
    "1.3 Under and overfitting",
    "1.4 Categories of models",
    "2.1 GPUs, TPUs, and batches",
    "2.2 Tensors",
    "3.1 Losses",
    "3.2 Autoregressive models",
    "3.3 Gradient descent",
    "3.4 Backpropagation",
    "3.5 The value of depth",
    "3.6 Training protocols",
    "3.7 The benefits of scale",
    "3.8 Large-scale parallel training",
    "4.1 The notion of layer",
    "4.2 Linear layers",
    "4.3 Activation functions",
    "4.4 Pooling",
    "4.5 Dropout",
    "4.6 Normalizing layers",
    "4.7 Skip connections",
    "4.8 Attention layers",
    "4.9 Token embedding",
    "4.10 Positional encoding",
    "5.1 Multi-Layer Perceptrons",
    "5.2 Convolutional networks",
    "5.3 Attention models",
]

# Which assignments each lecture must point students to (SPEC section 2's LBDL column).
ASSIGNMENTS = {
    "01_machine_learning": ["a01_tensors"],
    "02_efficient_computation": ["a01_tensors"],
    "03_training": ["a02_training"],
    "04a_model_components": ["a03_linear", "a04_pooling_dropout", "a05_normalization"],
    "04b_attention_embeddings": ["a06_attention", "a07_embeddings"],
    "05_architectures": ["a08_mlp_cnn", "a09_gpt"],
}

SECTION = re.compile(r"^##\s+(\d+)\.(\d+)\s+(.+?)\s*$", re.MULTILINE)
# A cell "produces a figure" if it shows one with plt.show() or draws through a dlcourse.plots helper.
FIGURE_CALL = re.compile(r"plt\.show\(\)|plots\.(show_images|heatmap|plot_curves|draw_blocks)\(")


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def _markdown(nb: nbformat.NotebookNode) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_lectures_for_chapters_1_to_5_exist() -> None:
    assert set(ASSIGNMENTS) <= {p.stem for p in NOTEBOOKS}, f"missing lectures in {LECTURES}"


def test_lbdl_sections_are_headings_in_book_order() -> None:
    """Each section of chapters 1-5 is a '## N.M Title' heading, in order, across notebooks sorted by name."""
    found = []
    for path in NOTEBOOKS:
        for chapter, section, title in SECTION.findall(_markdown(_read(path))):
            if 1 <= int(chapter) <= 5:
                found.append(f"{chapter}.{section} {title}")
                # a section lives in its chapter's notebook: 4.8 in 04b_..., not in 05_...
                assert int(path.stem[:2]) == int(chapter), f"section {chapter}.{section} is in {path.name}"
    assert found == LBDL_SECTIONS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_lecture_has_figures_reading_and_practice(path: Path) -> None:
    nb = _read(path)
    figure_cells = [c for c in nb.cells if c.cell_type == "code" and FIGURE_CALL.search(c.source)]
    assert len(figure_cells) >= 3, f"{path.name}: only {len(figure_cells)} figure-producing cells"
    markdown = _markdown(nb)
    assert re.search(r"^##\s+Further reading\s*$", markdown, re.MULTILINE), (
        f"{path.name}: no 'Further reading'"
    )
    for assignment in ASSIGNMENTS.get(path.stem, []):
        assert f"assignments/{assignment}/{assignment}.ipynb" in markdown, (
            f"{path.name}: no pointer to {assignment}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_lecture_is_stored_without_outputs(path: Path) -> None:
    """Committed notebooks carry no outputs: diffs stay readable and nothing stale is shown to students."""
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: cell {i} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_lecture_executes(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the lecture top to bottom in a fresh python3 kernel, from lectures/, with no network needed."""
    from nbclient import NotebookClient

    # The kernel inherits this environment: make `dlcourse` importable without an install, and let figures
    # go to the inline backend (an inherited MPLBACKEND=Agg would silently swallow them).
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    # The lectures train many tiny models. On a shared 2-core runner, two OpenMP threads per tiny matrix
    # product spin against each other and the other jobs and run several times slower than one thread.
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))

    nb = _read(path)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(LECTURES)}}
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    elapsed = time.perf_counter() - start

    images = sum(
        "image/png" in out.get("data", {}) for c in nb.cells if c.cell_type == "code" for out in c.outputs
    )
    print(f"{path.name}: executed in {elapsed:.1f} s, {images} figures")
    assert images >= 3, f"{path.name}: only {images} figures were displayed"
