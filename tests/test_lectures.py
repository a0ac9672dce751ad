"""The lecture notebooks: LBDL's section order, figures, exercises, reading lists, references, clean storage, and a
full execution.

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

from dlcourse.book import store_executed

ROOT = Path(__file__).resolve().parents[1]
LECTURES = ROOT / "lectures"
NOTEBOOKS = sorted(LECTURES.glob("[0-9]*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))

# One lecture per LBDL chapter (chapter 4 in two parts), and "The missing bits" as lecture 09 (SPEC section 3).
REQUIRED_LECTURES = [
    "01_machine_learning",
    "02_efficient_computation",
    "03_training",
    "04a_model_components",
    "04b_attention_embeddings",
    "05_architectures",
    "06_prediction",
    "07_synthesis",
    "08_compute_schism",
    "09_missing_bits",
]

# The reading list's own topics, after 09 (SPEC section 3, "Extra lectures").
EXTRA_LECTURES = [
    "10_attention_explained",
    "11_rasp",
    "12_efficient_attention",
    "13_transformer_taxonomy",
    "14_scaling",
]

# The section titles of LBDL chapters 1-8, in the book's order (3.8 is the course's own addition).
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
    "6.1 Image denoising",
    "6.2 Image classification",
    "6.3 Object detection",
    "6.4 Semantic segmentation",
    "6.5 Speech recognition",
    "6.6 Text-image representations",
    "6.7 Reinforcement learning",
    "7.1 Text generation",
    "7.2 Image generation",
    "8.1 Prompt engineering",
    "8.2 Quantization",
    "8.3 Adapters",
    "8.4 Model merging",
]
LBDL_CHAPTERS = range(1, 9)

# "The missing bits" has no numbered sections: lecture 09's own headings, in this order.
MISSING_BITS = [
    "Recurrent neural networks",
    "Autoencoder",
    "Generative adversarial networks",
    "Graph neural networks",
    "Self-supervised training",
]

# Which assignments each lecture must point students to (SPEC section 2's LBDL column).
ASSIGNMENTS = {
    "01_machine_learning": ["a01_tensors"],
    "02_efficient_computation": ["a01_tensors"],
    "03_training": ["a02_training"],
    "04a_model_components": ["a03_linear", "a04_pooling_dropout", "a05_normalization"],
    "04b_attention_embeddings": ["a06_attention", "a07_embeddings"],
    "05_architectures": ["a08_mlp_cnn", "a09_gpt"],
    "07_synthesis": ["a09_gpt"],
    "09_missing_bits": ["a10_lstm"],
    "10_attention_explained": ["a06_attention", "a09_gpt"],
    "11_rasp": ["a12_rasp"],
    "12_efficient_attention": ["a11_flash_attention"],
}

SECTION = re.compile(r"^##\s+(\d+)\.(\d+)\s+(.+?)\s*$", re.MULTILINE)
HEADING = re.compile(r"^##\s+(.+?)\s*$", re.MULTILINE)  # level-2 headings only: "### ..." does not match
ANY_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)
NUMBERED_ITEM = re.compile(r"^(\d+)\.\s+\S", re.MULTILINE)  # a top-level item of a markdown numbered list
# A name that looks like a lecture ("06_prediction", "04b_attention") or an assignment ("a09_gpt"): the same pattern as
# the repository's before-stop hook, so a reference the hook would flag fails here first.
REFERENCE = re.compile(r"\b((?:\d\d[a-z]?_[a-z0-9_]+)|(?:a\d\d_[a-z0-9_]+))\b")
MIN_SECTION_WORDS = 60  # at least a real paragraph between a '## N.M' heading and its first subsection
# A cell "produces a figure" if it shows one with plt.show() or draws through a dlcourse.plots helper.
FIGURE_CALL = re.compile(r"plt\.show\(\)|plots\.(show_images|heatmap|plot_curves|draw_blocks)\(")


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def _markdown(nb: nbformat.NotebookNode) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _section(markdown: str, title: str) -> str | None:
    """The text under the level-2 heading `title`, up to the next level-2 heading; None if there is no such heading."""
    match = re.search(rf"^##\s+{re.escape(title)}\s*$", markdown, re.MULTILINE)
    if match is None:
        return None
    following = HEADING.search(markdown, match.end())
    return markdown[match.end() : following.start() if following else len(markdown)]


def test_lectures_for_chapters_1_to_9_and_the_reading_list_exist() -> None:
    assert set(ASSIGNMENTS) <= set(REQUIRED_LECTURES + EXTRA_LECTURES)
    missing = [stem for stem in REQUIRED_LECTURES + EXTRA_LECTURES if not (LECTURES / f"{stem}.ipynb").exists()]
    assert not missing, f"missing lectures in {LECTURES}: {missing}"


def test_lbdl_sections_are_headings_in_book_order() -> None:
    """Each section of chapters 1-8 is a '## N.M Title' heading, in order, across notebooks sorted by name."""
    chapters = {int(p.stem[:2]) for p in NOTEBOOKS}
    missing = [chapter for chapter in LBDL_CHAPTERS if chapter not in chapters]
    assert not missing, f"missing lectures for LBDL chapters {missing}"
    found = []
    for path in NOTEBOOKS:
        for chapter, section, title in SECTION.findall(_markdown(_read(path))):
            if int(chapter) in LBDL_CHAPTERS:
                found.append(f"{chapter}.{section} {title}")
                # a section lives in its chapter's notebook: 4.8 in 04b_..., not in 05_...
                assert int(path.stem[:2]) == int(chapter), f"section {chapter}.{section} is in {path.name}"
    assert found == LBDL_SECTIONS


def test_missing_bits_headings_in_order() -> None:
    """Lecture 09 covers LBDL's unnumbered "The missing bits", one '## Title' heading per topic in the book's order."""
    path = LECTURES / "09_missing_bits.ipynb"
    assert path.exists(), f"missing lecture {path.name}"
    headings = HEADING.findall(_markdown(_read(path)))
    found = [h for h in headings if h in MISSING_BITS]
    assert found == MISSING_BITS, f"{path.name}: headings {headings}"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if int(p.stem[:2]) > 9],
                         ids=[p.stem for p in NOTEBOOKS if int(p.stem[:2]) > 9])
def test_extra_lectures_number_their_sections_after_themselves(path: Path) -> None:
    """Lecture 12's sections are '## 12.1 ...', '## 12.2 ...', in order: at least three of them."""
    numbers = [(int(c), int(s)) for c, s, _ in SECTION.findall(_markdown(_read(path)))]
    chapter = int(path.stem[:2])
    assert len(numbers) >= 3, f"{path.name}: {len(numbers)} numbered sections"
    assert numbers == [(chapter, i) for i in range(1, len(numbers) + 1)], f"{path.name}: sections {numbers}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_sections_have_prose_of_their_own(path: Path) -> None:
    """No '## N.M' heading with a line or two under it: real prose before the section's first subsection."""
    markdown = _markdown(_read(path))
    for match in SECTION.finditer(markdown):
        following = ANY_HEADING.search(markdown, match.end())
        prose = markdown[match.end() : following.start() if following else len(markdown)]  # across code cells
        words = len(re.findall(r"[A-Za-z]{2,}", prose))
        assert words >= MIN_SECTION_WORDS, f"{path.name}: '{match.group(0).strip()}' has {words} words of its own"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_lecture_ends_with_exercises(path: Path) -> None:
    """An '## Exercises' section with at least four items of a numbered list (1., 2., ...), before 'Further reading'."""
    markdown = _markdown(_read(path))
    exercises = _section(markdown, "Exercises")
    assert exercises is not None, f"{path.name}: no '## Exercises' section"
    numbers = [int(n) for n in NUMBERED_ITEM.findall(exercises)]
    assert len(numbers) >= 4, f"{path.name}: {len(numbers)} numbered exercises, at least 4 expected"
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: exercises numbered {numbers}"
    headings = HEADING.findall(markdown)
    assert "Further reading" in headings and headings.index("Exercises") < headings.index("Further reading"), (
        f"{path.name}: '## Exercises' must come before '## Further reading'"
    )


@pytest.mark.parametrize(
    "path", NOTEBOOKS + SOLUTIONS, ids=_ids(NOTEBOOKS) + [f"solutions/{p.parent.name}" for p in SOLUTIONS]
)
def test_markdown_refers_only_to_existing_lectures_and_assignments(path: Path) -> None:
    """A name like '06_prediction' or 'a10_lstm' in the text must begin an existing lecture's or assignment's name."""
    known = [p.stem for p in LECTURES.glob("*.ipynb")]
    known += [p.name for p in (ROOT / "assignments").iterdir() if p.is_dir()]
    names = set(REFERENCE.findall(_markdown(_read(path))))
    dangling = sorted(name for name in names if not any(k.startswith(name) for k in known))
    assert not dangling, f"{path.relative_to(ROOT)} refers to lectures or assignments that do not exist: {dangling}"


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
    # record_timing=False keeps each cell's metadata as stored, so the executed notebook has the source's cache key
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", record_timing=False, resources={"metadata": {"path": str(LECTURES)}}
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    elapsed = time.perf_counter() - start
    # the site (tests/test_site.py, `dlcourse book`) shows these outputs instead of running the lecture again
    store_executed(ROOT, path, nb, elapsed)

    images = sum(
        "image/png" in out.get("data", {}) for c in nb.cells if c.cell_type == "code" for out in c.outputs
    )
    print(f"{path.name}: executed in {elapsed:.1f} s, {images} figures")
    assert images >= 3, f"{path.name}: only {images} figures were displayed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_lecture_title_names_its_number(path: Path) -> None:
    """'# Lecture 4b — ...': the site's navigation and a reader's tab read the same way for every lecture."""
    first = _read(path).cells[0].source.splitlines()[0]
    number = path.stem.split("_")[0].lstrip("0")
    assert re.fullmatch(rf"# Lecture {number} — \S.*", first), f"{path.name}: title {first!r}"
