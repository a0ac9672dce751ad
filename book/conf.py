"""Sphinx configuration of the course site (`dlcourse book`).

Sphinx + myst-nb + sphinx-book-theme: the classic course stack, and it works offline (the theme, its
fonts and icons ship in the wheels; jupyter-book 2 / mystmd fetch their theme at build time). The
source folder is assembled by `dlcourse/book.py` (`_build/book-src/`): generated index and guide pages,
and links to `lectures/` and `assignments/` (the student release: no solution or hidden test is ever
reachable from it).
"""

import os
from pathlib import Path

project = "dlcourse"
author = "the dlcourse authors"
copyright = "the dlcourse authors, MIT licence"
html_title = "dlcourse: deep learning, from tensors to a transformer"

extensions = ["myst_nb"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
root_doc = "index"
exclude_patterns = ["**/.ipynb_checkpoints", "**/__pycache__"]
# myst.xref_missing: a lecture's link to an assignment (`../assignments/a09_gpt/a09_gpt.ipynb`) is resolved
# through the real path of the symlinked lectures/ folder, outside the source folder, and warned about, yet
# rendered as the right relative link; tests/test_site.py checks every link and anchor of every page instead.
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header", "myst.xref_missing"]

# Lectures run once and are cached by their code (jupyter-cache): a rebuild after one edit re-runs only that
# notebook. The assignments are the student release, shown as released (their answer cells are blank).
nb_execution_mode = "cache"
nb_execution_cache_path = os.environ.get("DLCOURSE_BOOK_CACHE", str(Path("../.jupyter_cache").resolve()))
nb_execution_excludepatterns = ["assignments/*/*.ipynb"]
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True  # a training cell's progress lines as one block, not one box per print

# Math by a local MathJax 3 (SVG output, every TeX extension, no fonts to fetch) from the django-static-mathjax
# wheel, copied into _static by dlcourse/book.py: nothing is loaded from a CDN.
mathjax_path = "mathjax/tex-svg-full.js"

html_theme = "sphinx_book_theme"
html_static_path = ["_static", *filter(None, [os.environ.get("DLCOURSE_BOOK_STATIC")])]
html_css_files = ["dlcourse.css"]
html_theme_options = {
    "use_download_button": True,  # "download .ipynb" on every notebook page
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_last_updated_fmt = None
html_copy_source = True  # the download button serves the page's source notebook from _sources/
html_show_sourcelink = False
html_context = {"default_mode": "light"}  # an explicit mode: the theme logs an error when it finds none
# The search page shows each hit's title and section; a summary would be fetched from the page, which browsers
# refuse from file:// (CORS), so the search box works from a folder opened with no server.
html_show_search_summary = False
# Progress bars are for someone waiting on a running cell; a page shows the finished run. tqdm writes its bars
# to stderr, which the site leaves out (the lectures print their results to stdout); a bar drawn as an ipywidget
# (tqdm.auto) would make myst-nb load the widget manager from a CDN, so no widget JavaScript is loaded either.
nb_output_stderr = "remove"
nb_ipywidgets_js = {}
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None),
                              ("html", "application/vnd.jupyter.widget-state+json", None)]
