"""`dlcourse book`: the whole course as a static site in `_build/book/`, built offline.

Pipeline: assemble a Sphinx source folder (`_build/book-src/`: a generated index and one page per README
guide, and links to `lectures/` and `assignments/`) → `python -m sphinx` with `book/conf.py` (myst-nb executes
each lecture in its own folder, as a student would, and caches it by its code in `_build/.jupyter_cache/`) →
check that no hidden material reached the site. Only the student release of each assignment is linked in:
solutions, suites and samples live in folders the site never sees.

Why Sphinx + myst-nb + sphinx-book-theme: a maintained course stack whose theme, fonts and icons ship in
its wheels (jupyter-book 2 / mystmd fetch their theme at build time and fail offline), with cached
notebook execution (jupyter-cache), a "download .ipynb" button, and a search page that works from file://.
"""

from __future__ import annotations

import argparse
import importlib.resources
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SRC, OUT, CACHE, STATIC = "_build/book-src", "_build/book", "_build/.jupyter_cache", "_build/book-static"
IPYTHON = "_build/book-ipython"  # the lectures' kernels' IPython folder (their config: below)

# README level-2 sections that become guide pages: (page, title, the sections it holds, in order).
GUIDES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("quick-start", "Quick start", ("Quick start", "What is where (folders → pipeline stages)")),
    ("read", "Read the course", ("Read the course", "For self-learners")),
    ("students", "For students", ("For students",)),
    ("instructors", "For instructors", ("For instructors", "Assignments")),
    ("grading", "How grading works", ("How grading works (and why it can be trusted)",)),
    ("training", "Training the GPT", ("Training the GPT",)),
    ("development", "Tests, CI and benchmarks", ("Tests and CI", "Benchmarks")),
)

# What must never appear in a notebook page (lecture or assignment): nbgrader's solution and hidden-test markers.
# (The guides may name them: they are the README, which describes the markers.)
# Spelled in two parts, as in gradescope.py: this file ships in the Gradescope zip, which must never contain them.
HIDDEN_MARKERS = tuple(f"{word} {what}" for what in ("SOLUTION", "HIDDEN TESTS") for word in ("BEGIN", "END"))


class BookError(RuntimeError):
    """The site could not be built: says which step and why."""


@dataclass(frozen=True)
class BuildResult:
    out: Path
    seconds: float
    pages: int


def readme_sections(text: str) -> tuple[str, dict[str, str]]:
    """The README's introduction (before its first `## `) and its level-2 sections by heading."""
    parts = re.split(r"^## +(.+?)\s*$", text, flags=re.M)
    intro = re.sub(r"^# .*\n", "", parts[0], count=1).strip()
    return intro, {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


def guide_pages(readme: str) -> dict[str, str]:
    """page name -> markdown, one per GUIDES entry; a README section renamed or gone is an error, so the site
    never silently loses a guide."""
    _, sections = readme_sections(readme)
    pages = {}
    for page, title, heads in GUIDES:
        missing = [h for h in heads if h not in sections]
        if missing:
            raise BookError(f"README.md has no section {missing[0]!r} (needed by the site's {page!r} page)")
        body = [f"# {title}"]
        for h in heads:
            body.append(sections[h] if h == title else f"## {h}\n\n{sections[h]}")
        pages[page] = "\n\n".join(body) + "\n"
    return pages


def _toctree(caption: str, entries: list[str]) -> str:
    return "```{toctree}\n:caption: " + caption + "\n:maxdepth: 1\n\n" + "\n".join(entries) + "\n```\n"


def index_page(course: Path, readme: str) -> str:
    """The home page: the README's introduction, how to read, and the navigation in LBDL order."""
    intro, _ = readme_sections(readme)
    lectures = sorted(p.stem for p in (course / "lectures").glob("[0-9]*.ipynb"))
    book = [f"lectures/{s}" for s in lectures if int(s[:2]) <= 9]
    extra = [f"lectures/{s}" for s in lectures if int(s[:2]) > 9]
    assignments = sorted(f"assignments/{p.parent.name}/{p.stem}"
                         for p in (course / "assignments").glob("a*/a*.ipynb") if p.stem == p.parent.name)
    return "\n".join([
        "# dlcourse", "", intro, "",
        "Read the lectures in order: 01–09 follow the chapters of François Fleuret's *The Little Book of Deep "
        "Learning*, 10 onwards the course's reading list (attention explained, RASP, efficient attention, a "
        "transformer taxonomy, scaling). Every page is an executed notebook: use the download button (top "
        "right) for the `.ipynb`, and run it with `jupyter lab` after `pip install -e .` in a clone. The "
        "assignments are shown as students receive them, with their answer cells blank.", "",
        _toctree("Guides", [f"guides/{page}" for page, _, _ in GUIDES]),
        _toctree("Lectures (LBDL order)", ["lectures/README", *book]),
        _toctree("The reading list's topics", extra) if extra else "",
        _toctree("Assignments (student release)", assignments),
    ])


def _write_if_changed(path: Path, text: str) -> None:
    """Sphinx rebuilds what changed by mtime: rewrite a generated page only when its text did."""
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _copy_images(course: Path, markdown: str, folder: Path) -> str:
    """The README's images (`![alt](book/site.png)`, relative to the course) copied beside the guide pages."""

    def copy(m: re.Match) -> str:
        source = course / m.group(2)
        if m.group(2).startswith(("http:", "https:", "/")) or not source.is_file():
            return m.group(0)
        dest = folder / "_images" / source.name
        if not dest.exists() or dest.read_bytes() != source.read_bytes():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)
        return f"![{m.group(1)}](_images/{source.name})"

    return re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", copy, markdown)


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    link.symlink_to(target.resolve(), target_is_directory=True)


def prepare_source(course: Path) -> Path:
    """Assemble `_build/book-src/`. Lectures and assignments are symlinks, so each lecture executes in
    `lectures/` itself (its `Path.cwd().parent` is the course) and is never copied."""
    src = course / SRC
    src.mkdir(parents=True, exist_ok=True)
    readme = (course / "README.md").read_text()
    _write_if_changed(src / "index.md", index_page(course, readme))
    pages = guide_pages(readme)
    for page, text in pages.items():
        _write_if_changed(src / "guides" / f"{page}.md", _copy_images(course, text, src / "guides"))
    for stale in (src / "guides").glob("*.md"):
        if stale.stem not in pages:
            stale.unlink()
    _link(src / "lectures", course / "lectures")
    _link(src / "assignments", course / "assignments")
    # MathJax 3 from the django-static-mathjax wheel: typeset math with nothing fetched from a CDN
    mathjax = importlib.resources.files("mathjax").joinpath("static", "mathjax", "es5", "tex-svg-full.js")
    dest = course / STATIC / "mathjax" / "tex-svg-full.js"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(mathjax.read_bytes())
    # ipykernel warns at every start that its local TCP socket is unencrypted: fifteen identical warnings in a
    # build's output hide the one that matters. The kernels log errors only (and run no personal startup files).
    _write_if_changed(course / IPYTHON / "profile_default" / "ipython_kernel_config.py",
                      'c.IPKernelApp.log_level = "ERROR"\n')
    return src


def check_no_hidden_material(out: Path) -> None:
    """Refuse a site that shows a solution or a hidden suite (a release built from an unstripped source)."""
    pages = [p for d in ("assignments", "lectures", "_sources/assignments", "_sources/lectures")
             for p in (out / d).rglob("*") if p.is_file() and p.suffix in {".html", ".ipynb", ".txt"}]
    for page in pages:
        if True:
            text = page.read_text(errors="replace")
            for marker in HIDDEN_MARKERS:
                if marker in text:
                    raise BookError(f"{page.relative_to(out)} contains {marker!r}: hidden material must never "
                                    "reach the site (is assignments/ a fresh `dlcourse release`?)")


def build_env(course: Path) -> dict[str, str]:
    """The Sphinx process's environment, which each lecture's kernel inherits: `dlcourse` importable from the
    checkout, figures to the inline backend, and one OpenMP thread (the lectures train many tiny models, where
    threads only spin against each other)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(course), env.get("PYTHONPATH")]))
    env.pop("MPLBACKEND", None)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["DLCOURSE_BOOK_CACHE"] = str(course / CACHE)
    env["DLCOURSE_BOOK_STATIC"] = str(course / STATIC)
    env["IPYTHONDIR"] = str(course / IPYTHON)
    return env


def build(course: Path, out: Path | None = None, *, clean: bool = False, quiet: bool = False) -> BuildResult:
    """Build the site; lectures whose code did not change since the last build are not executed again."""
    out = (out or course / OUT).resolve()
    if clean and out.exists():
        shutil.rmtree(out)
    start = time.perf_counter()
    src = prepare_source(course)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-c", str(course / "book"), str(src), str(out),
           "--doctree-dir", str(course / "_build" / "book-doctrees"), "--keep-going", *(["-q"] if quiet else [])]
    proc = subprocess.run(cmd, cwd=course, env=build_env(course))
    if proc.returncode != 0:
        raise BookError(f"sphinx failed (exit {proc.returncode}); its messages are above")
    check_no_hidden_material(out)
    pages = sum(1 for _ in out.rglob("*.html"))
    return BuildResult(out=out, seconds=time.perf_counter() - start, pages=pages)


def store_executed(course: Path, notebook: Path, executed: object, seconds: float) -> None:
    """Put a lecture executed elsewhere (tests/test_lectures.py, same environment as the book's) into the
    book's cache, keyed by its code, so that the next `dlcourse book` shows these outputs without running it
    again. `executed` must carry the source notebook's cell metadata unchanged (run it with
    record_timing=False), or its key would differ from the source's."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(course / CACHE))
    cache.cache_notebook_bundle(CacheBundleIn(executed, str(notebook), data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)


def cmd_book(args: argparse.Namespace) -> int:
    from autograder.course import find_course

    course = find_course()
    if not (course / "lectures").is_dir() or not (course / "book" / "conf.py").is_file():
        print("dlcourse book: needs the course checkout (lectures/ and book/conf.py); run it in a clone",
              file=sys.stderr)
        return 2
    try:
        result = build(course, Path(args.out) if args.out else None, clean=args.clean, quiet=args.quiet)
    except BookError as exc:
        print(f"dlcourse book: error: {exc}", file=sys.stderr)
        return 1
    print(f"built {result.pages} pages in {result.seconds:.0f} s: open {result.out / 'index.html'}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `book` on the `dlcourse` command line."""
    b = subparsers.add_parser("book", help="execute the lectures and build the course site into _build/book/")
    b.add_argument("--out", help="output folder (default: _build/book/ in the course)")
    b.add_argument("--clean", action="store_true", help="rebuild every page (executed lectures stay cached)")
    b.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    b.set_defaults(func=cmd_book)
