"""`nbgrader generate_feedback` writes HTML that loads nothing from the network and typesets its
math offline: MathJax 3 is inside the file (autograder/feedback.py). The browser half runs where
playwright and /usr/bin/chromium are installed, and is skipped elsewhere."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import nbgrader, write_nb

from autograder.feedback import mathjax_js
from autograder.samples import reference_notebook
from dlcourse.demo import make_course_copy
from dlcourse.release import release

A = "a01_tensors"  # its markdown has inline math ($x \in \mathbb{R}^{N\times D}$, ...)
CHROMIUM = Path("/usr/bin/chromium")
MATH = re.compile(r"\$[^$\s][^$]*\$")


@pytest.fixture(scope="module")
def feedback(course, tmp_path_factory) -> Path:
    demo = tmp_path_factory.mktemp("fb") / "course"
    make_course_copy(course, demo)
    release(demo, [A])
    write_nb(reference_notebook(demo, A), demo / "submitted" / "alice" / A / f"{A}.ipynb")
    nbgrader(demo, "autograde", A, "--force")
    nbgrader(demo, "generate_feedback", A, "--force")
    return demo / "feedback" / "alice" / A / f"{A}.html"


class _Loads(HTMLParser):
    """What a page loads (src/href of the elements that fetch), and its inline scripts."""

    FETCH = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src", "embed": "src",
             "video": "src", "audio": "src", "object": "data", "input": "src"}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.FETCH.get(tag) in attrs:
            self.urls.append(attrs[self.FETCH[tag]] or "")
        self._in_script = tag == "script" and "src" not in attrs
        if self._in_script:
            self.inline.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline[-1] += data


def test_feedback_loads_nothing_from_the_network_and_carries_mathjax(feedback):
    page = _Loads()
    page.feed(feedback.read_text(encoding="utf-8"))
    remote = [u for u in page.urls if re.match(r"\s*(https?:)?//", u, re.IGNORECASE)]
    assert remote == []
    assert "cdnjs" not in feedback.read_text(encoding="utf-8")
    build = str(mathjax_js("tex-svg-full.js"))  # the whole build, not one cut short by a stray </script>
    assert any(build in s for s in page.inline), "no inlined MathJax build"


def _first_markdown_math_cell(course: Path) -> int:
    """Index, among the markdown cells of the release, of the first one with inline math."""
    nb = nbformat.read(str(course / "assignments" / A / f"{A}.ipynb"), as_version=4)
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    return next(i for i, src in enumerate(md) if MATH.search(re.sub(r"`[^`]*`", "", src)))


# Text of a markdown cell, less its typeset math and code: raw `$...$` left there was not typeset.
_UNTYPESET = """(i) => {
  const cell = document.querySelectorAll('.text_cell_render')[i].cloneNode(true);
  cell.querySelectorAll('mjx-container, code, pre').forEach((e) => e.remove());
  return cell.textContent;
}"""


def test_feedback_math_typesets_in_a_browser_offline(feedback, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    requests: list[str] = []
    errors: list[str] = []

    def route(r):
        requests.append(r.request.url)
        if r.request.url == feedback.as_uri():
            r.continue_()
        else:
            r.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.route("**/*", route)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(feedback.as_uri())
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
            page.evaluate("MathJax.startup.promise")  # resolves once the page is typeset
            version = page.evaluate("MathJax.version")
            safe = page.evaluate("!!MathJax.startup.document.safe")
            i = _first_markdown_math_cell(feedback.parents[3])
            typeset = page.locator(".text_cell_render").nth(i).locator("mjx-container").count()
            left = page.evaluate(_UNTYPESET, i)
            page.locator(".text_cell_render").nth(i).scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "feedback.png"))
        finally:
            browser.close()
    assert requests == [feedback.as_uri()]  # the file itself, nothing else
    assert errors == []
    assert version.startswith("3.") and safe  # MathJax 3 with ui/safe, as the old config had Safe
    assert typeset > 0
    assert not MATH.search(left), left
