"""Feedback HTML whose math renders offline: MathJax 3 is inlined into each file.

nbgrader's feedback template loads MathJax 2 from a CDN (nbconvert's `mathjax()` macro, called
without `mathjax_url`), so a student who opens feedback offline sees raw `$...$`. Feedback files
travel alone (`nbgrader release_feedback` copies only the *.html files; an LMS upload takes one
file), so nothing beside the file can be relied on: the MathJax that the page runs is inside it.

MathJax comes from the `django-static-mathjax` wheel (MathJax 3.2, Apache-2.0, no dependencies:
Django is only its intended user). `tex-svg-full.js` is the build that needs nothing else: SVG
output draws glyphs from paths in the script (CHTML would fetch web fonts), and "full" has every
TeX extension preloaded (the old `TeX-AMS_CHTML-full` config; plain builds autoload extensions
over the network). `ui/safe.js` follows it, as the old `Safe` config did.

The hook is the exporter (`c.GenerateFeedback.exporter_class`), not a template path: the
formgrader's "generate feedback" resets `HTMLExporter.template_name` and its server resets the
template dirs, but both keep the exporter class. Its Jinja loader answers `mathjax.html.j2`, the
macro that nbconvert's templates and nbgrader's feedback template import, before the files do.
"""

from __future__ import annotations

import functools
import importlib.resources
import re

from jinja2 import DictLoader
from markupsafe import Markup
from nbconvert.exporters import HTMLExporter
from traitlets import default

# MathJax 3's form of nbconvert's MathJax 2 settings. `ready` waits, so that ui/safe (a second
# script) hooks in before MathJax makes its handler; the last script then starts MathJax.
MACRO = r"""{%- macro mathjax(url=None) -%}
<!-- MathJax 3 (Apache-2.0), inlined so that math renders offline -->
<script>
window.MathJax = {
  tex: {
    inlineMath: [["$", "$"], ["\\(", "\\)"]],
    displayMath: [["$$", "$$"], ["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "ams",
    useLabelIds: true
  },
  svg: {fontCache: "global"},
  startup: {ready: function () {}}
};
</script>
<script>
{{ "tex-svg-full.js" | mathjax_js }}
</script>
<script>
{{ "ui/safe.js" | mathjax_js }}
</script>
<script>MathJax.startup.defaultReady();</script>
{%- endmacro %}
"""


@functools.cache
def mathjax_js(build: str) -> Markup:
    """One MathJax component from the installed package, safe to put between <script> tags."""
    path = importlib.resources.files("mathjax").joinpath("static", "mathjax", "es5", *build.split("/"))
    text = path.read_text(encoding="utf-8")
    # The only thing that can end a script element early; `<\/` means `</` in JS strings and regexes.
    return Markup(re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE))


class OfflineMathHTMLExporter(HTMLExporter):
    """nbconvert's HTMLExporter, with MathJax inlined instead of loaded from a CDN."""

    @default("extra_loaders")
    def _extra_loaders_default(self):
        return [DictLoader({"mathjax.html.j2": MACRO})]

    def default_filters(self):
        yield from super().default_filters()
        yield ("mathjax_js", mathjax_js)
