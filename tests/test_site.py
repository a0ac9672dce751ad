"""The course site (`dlcourse book`): what it holds, its cache, and every page in a real browser.

The browser is Debian's chromium driven by pip's playwright (never `playwright install`, which downloads).
Where either is missing the browser tests skip, unless DLCOURSE_REQUIRE_BROWSER=1 (CI sets it): then they fail.
This file runs after tests/test_lectures.py, which stores each lecture it executes in the book's cache, so the
build here executes nothing that test already ran.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

from dlcourse import book

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("DLCOURSE_CHROMIUM", "/usr/bin/chromium"))
ARTEFACTS = ROOT / "_build" / "artefacts"


def _browser_or_skip() -> None:
    missing = [what for what, ok in (("chromium at " + str(CHROMIUM), CHROMIUM.exists()),
                                     ("playwright", importlib.util.find_spec("playwright") is not None)) if not ok]
    if missing:
        msg = f"no {' and no '.join(missing)} (apt-get install -y chromium; pip install playwright)"
        if os.environ.get("DLCOURSE_REQUIRE_BROWSER"):
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def site() -> book.BuildResult:
    return book.build(ROOT, quiet=True)


def _pages(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*.html") if "_static" not in p.parts and "_sources" not in p.parts)


def test_readme_guides_become_pages_and_a_missing_section_is_an_error() -> None:
    pages = book.guide_pages((ROOT / "README.md").read_text())
    assert list(pages) == [page for page, _, _ in book.GUIDES]
    assert pages["students"].startswith("# For students\n") and "dlcourse check" in pages["students"]
    with pytest.raises(book.BookError, match="no section .What is where"):
        book.guide_pages("# x\n\n## Quick start\n\nonly this\n")


def test_site_holds_every_lecture_assignment_and_guide_and_no_solution(site: book.BuildResult) -> None:
    out = site.out
    for nb in sorted((ROOT / "lectures").glob("[0-9]*.ipynb")):
        html = (out / "lectures" / f"{nb.stem}.html").read_text()
        assert "<img" in html, f"{nb.stem}: executed lecture shows no figure"
        assert (out / "_sources" / "lectures" / nb.name).is_file(), f"{nb.stem}: no notebook to download"
    index = (out / "index.html").read_text()
    stems = [nb.stem for nb in sorted((ROOT / "lectures").glob("[0-9]*.ipynb"))]
    positions = [index.find(f'href="lectures/{s}.html"') for s in stems]
    assert -1 not in positions and positions == sorted(positions), "navigation is not in LBDL (file) order"
    suite_lines = [ln.strip() for s in (ROOT / "autograder" / "suites").glob("a*.py")
                   for ln in s.read_text().splitlines() if ln.startswith("def test_")]
    for release in sorted((ROOT / "assignments").glob("a*/a*.ipynb")):
        page = out / "assignments" / release.parent.name / f"{release.stem}.html"
        html = page.read_text()
        assert "YOUR CODE HERE" in html, f"{page.name}: not the student release"
        assert not [ln for ln in suite_lines if ln in html], f"{page.name} shows hidden test code"
    for name, _, _ in book.GUIDES:
        assert (out / "guides" / f"{name}.html").is_file()


def test_a_rebuild_executes_only_the_edited_notebook(tmp_path: Path) -> None:
    """A tiny course: the second build after editing one lecture runs only that lecture."""
    course = tmp_path / "course"
    shutil.copytree(ROOT / "book", course / "book")
    (course / "README.md").write_text("# t\n\nintro\n\n" + "".join(
        f"## {h}\n\ntext of {h}\n\n" for _, _, heads in book.GUIDES for h in heads))
    for stem, src in (("01_one", "print('one')"), ("02_two", "print('two')")):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {stem}"),
                                             nbformat.v4.new_code_cell(src)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        (course / "lectures").mkdir(exist_ok=True)
        nbformat.write(nb, str(course / "lectures" / f"{stem}.ipynb"))
    (course / "assignments").mkdir()

    def run() -> str:
        proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-c", str(course / "book"),
                               str(book.prepare_source(course)), str(course / book.OUT)],
                              cwd=course, env=book.build_env(course), capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc.stdout + proc.stderr

    first = run()
    assert first.count("Executing notebook") == 2, first[-2000:]
    assert "WARNING | Kernel is running over TCP" not in first  # the kernels' start-up noise is silenced
    nb = nbformat.read(str(course / "lectures" / "02_two.ipynb"), as_version=4)
    nb.cells[1].source = "print('two, edited')"
    nbformat.write(nb, str(course / "lectures" / "02_two.ipynb"))
    second = run()
    executed = re.findall(r"(\S+\.ipynb): Executing notebook", second)
    assert [Path(p).name for p in executed] == ["02_two.ipynb"], second[-2000:]
    assert "two, edited" in (course / book.OUT / "lectures" / "02_two.html").read_text()


PAGE_CHECKS = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const imgs = [...document.images];
  const undecoded = [];
  for (const img of imgs) {
    try { await img.decode(); } catch (e) {}
    if (!(img.complete && img.naturalWidth > 0)) undecoded.push(img.getAttribute('src'));
  }
  const maths = [...document.querySelectorAll('.math')];
  return {
    images: imgs.length, undecoded,
    maths: maths.length,
    untypeset: maths.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60)),
    errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent.slice(0, 60)),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  };
}"""


def _ids(page: Path, cache: dict[Path, set[str]]) -> set[str]:
    if page not in cache:
        cache[page] = set(re.findall(r'\bid="([^"]+)"', page.read_text(errors="replace")))
    return cache[page]


def test_every_page_in_a_real_browser(site: book.BuildResult) -> None:
    """From file://: no console error, no network request, every image decoded, every formula typeset, every
    link to a file that exists (and to an anchor that exists); the search page finds a lecture."""
    _browser_or_skip()
    from playwright.sync_api import sync_playwright

    out = site.out
    pages = _pages(out)
    problems: list[str] = []
    ids: dict[Path, set[str]] = {}
    totals = {"pages": 0, "images": 0, "maths": 0}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        current = {"name": ""}
        page.on("console", lambda m: m.type == "error" and problems.append(f"{current['name']}: console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"{current['name']}: page error: {e}"))
        page.on("request", lambda r: r.url.startswith(("file:", "data:", "blob:", "about:"))
                or problems.append(f"{current['name']}: network request {r.url}"))
        for html in pages:
            current["name"] = str(html.relative_to(out))
            page.goto(html.as_uri())
            found = page.evaluate(PAGE_CHECKS)
            totals["pages"] += 1
            totals["images"] += found["images"]
            totals["maths"] += found["maths"]
            problems += [f"{current['name']}: image not decoded: {s}" for s in found["undecoded"]]
            problems += [f"{current['name']}: formula not typeset: {t!r}" for t in found["untypeset"]]
            problems += [f"{current['name']}: TeX error: {t!r}" for t in found["errors"]]
            for link in found["links"]:
                url = urlparse(link)
                if url.scheme in ("http", "https", "mailto"):
                    continue  # further reading points to the web; following it is the reader's choice
                if url.scheme != "file":
                    problems.append(f"{current['name']}: odd link {link}")
                    continue
                target = Path(unquote(url.path))
                if target.is_dir():
                    target = target / "index.html"
                if not target.is_file():
                    problems.append(f"{current['name']}: broken link {link}")
                elif url.fragment and target.suffix == ".html" and url.fragment not in _ids(target, ids):
                    problems.append(f"{current['name']}: link to a missing anchor {link}")
        # search works from the file system: a lecture's title word finds it
        current["name"] = "search.html"
        page.goto((out / "search.html").as_uri() + "?q=backpropagation")
        page.wait_for_selector("#search-results li, .search li", timeout=30_000)
        hits = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
        if not any("03_training" in h for h in hits):
            problems.append(f"search for 'backpropagation' did not find lecture 03: {hits[:5]}")
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.goto((out / "lectures" / "03_training.html").as_uri())
        page.evaluate("() => MathJax.startup.promise")
        page.screenshot(path=str(ARTEFACTS / "site-lecture.png"))
        page.goto((out / "index.html").as_uri())
        page.screenshot(path=str(ARTEFACTS / "site-index.png"))
        browser.close()
    print(f"browser: {json.dumps(totals)}; screenshots in {ARTEFACTS}")
    assert totals["images"] > 0 and totals["maths"] > 0
    assert not problems, "\n".join(problems[:40])
