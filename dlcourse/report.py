"""`dlcourse report GRADES [-o report.html]`: what an instructor reads at a glance after a batch.

Reads every results.json under GRADES (what `dlcourse grade --json` or Gradescope wrote), and
writes ONE self-contained HTML file: score histogram, per-test pass rates (worst first), the most
common failure messages, the notebooks that could not be graded and why. Figures are inline PNGs
and there is no external CSS, JS or font, so the file can be mailed or archived as is. Everything
that comes from a results.json (names, messages, reasons) is student-derived and HTML-escaped.

Each file is read by `GradingResult.from_gradescope_dict`, the grader's own reader, which also
understands results.json files written by older graders (reasons recovered from `output`, `name`
and `tags`).
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import json
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from autograder.result import GradingResult, TestResult


@dataclass
class Result:
    """One results.json: a student's notebook and its tests."""

    path: Path
    student: str
    notebook: str
    assignment: str
    score: float
    max_score: float | None
    fatal: str | None
    tests: list[TestResult] = field(default_factory=list)


@dataclass
class TestStats:
    assignment: str
    test: str
    title: str
    cell: str
    passed: int
    total: int
    max_score: float
    mean_score: float

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass
class Summary:
    """The numbers both the HTML and the stdout text are made of."""

    folder: Path
    results: list[Result]
    skipped: list[tuple[Path, str]]
    tests: list[TestStats]  # worst pass rate first
    failures: list[tuple[int, str, str, str]]  # (count, assignment, test, message), commonest first
    mean: float
    median: float
    max: float
    min: float
    max_score: float | None  # shared by every result, else None (the histogram is then in %)

    @property
    def ungradable(self) -> list[Result]:
        return [r for r in self.results if r.fatal]

    @property
    def assignments(self) -> list[str]:
        return sorted({r.assignment for r in self.results})


# -------------------------------------------------------------------------------- reading
def parse_result(data: object, path: Path, folder: Path) -> Result:
    """One results.json dict -> Result; ValueError (with why) if it is not a results.json."""
    res = GradingResult.from_gradescope_dict(data)
    score = float(data["score"]) if isinstance(data.get("score"), int | float) else res.score  # what Gradescope shows
    extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
    max_score = extra.get("max_score")
    if not isinstance(max_score, int | float) or isinstance(max_score, bool):
        max_score = res.max_score if res.tests else None
    rel = path.relative_to(folder)
    student = res.student or (rel.parent.as_posix() if path.stem == "results" and rel.parent.parts
                              else rel.with_suffix("").as_posix())
    notebook = "" if res.notebook == "<notebook>" else res.notebook
    return Result(rel, student, notebook, res.assignment, score, None if max_score is None else float(max_score),
                  res.fatal, res.tests)


def load_results(folder: Path) -> tuple[list[Result], list[tuple[Path, str]]]:
    """Every results.json under `folder` (recursively), and the JSON files skipped with why."""
    results, skipped = [], []
    for path in sorted(folder.rglob("*.json")):
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            skipped.append((path.relative_to(folder), f"not valid JSON ({type(exc).__name__})"))
            continue
        try:
            results.append(parse_result(data, path, folder))
        except ValueError as exc:
            skipped.append((path.relative_to(folder), str(exc)))
    return results, skipped


def summarize(folder: Path, results: list[Result], skipped: list[tuple[Path, str]]) -> Summary:
    """Score statistics over every result (an ungradable notebook counts at its score, usually 0);
    per-test pass rates and failure messages over the graded ones only (a fatal reason would
    otherwise fill every row)."""
    scores = [r.score for r in results]
    per: dict[tuple[str, str], list[TestResult]] = defaultdict(list)
    failures: Counter[tuple[str, str, str]] = Counter()
    for r in results:
        if r.fatal:
            continue
        for t in r.tests:
            per[(r.assignment, t.name)].append(t)
            if not t.passed:
                failures[(r.assignment, t.name, " ".join(t.message.split())[:500])] += 1
    tests = [TestStats(a, name, ts[0].title, ts[0].cell, sum(t.passed for t in ts), len(ts),
                       max(t.max_points for t in ts), statistics.fmean(t.points for t in ts))
             for (a, name), ts in per.items()]
    tests.sort(key=lambda s: (s.rate, s.assignment, s.test))
    maxes = {r.max_score for r in results}
    return Summary(
        folder=folder, results=results, skipped=skipped, tests=tests,
        failures=[(n, a, t, m) for (a, t, m), n in sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))],
        mean=statistics.fmean(scores), median=statistics.median(scores), max=max(scores), min=min(scores),
        max_score=maxes.pop() if len(maxes) == 1 else None,
    )


# -------------------------------------------------------------------------------- figures
def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _label(text: str) -> str:
    return text.replace("$", r"\$")  # matplotlib would read $...$ as mathtext


def histogram_png(s: Summary) -> str:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.2))
    ax = fig.subplots()
    if s.max_score:
        top, unit = s.max_score, "points"
        graded = [r.score for r in s.results if not r.fatal]
        fatal = [r.score for r in s.ungradable]
    else:  # several assignments or maxima: percent of each one's maximum
        top, unit = 100.0, "% of max"

        def pct(r: Result) -> float:
            return 100.0 * r.score / r.max_score if r.max_score else 0.0

        graded = [pct(r) for r in s.results if not r.fatal]
        fatal = [pct(r) for r in s.ungradable]
    if s.max_score and top <= 40 and all(float(x).is_integer() for x in graded + fatal + [top]):
        bins = [k - 0.5 for k in range(int(top) + 2)]  # one bar per whole point
        ax.xaxis.get_major_locator().set_params(integer=True)
    else:
        bins = [top * i / 20 for i in range(21)]
    ax.hist([graded, fatal], bins=bins, stacked=True, rwidth=0.9, color=["#3b7dd8", "#d8553b"],
            label=["graded", "could not be graded"])
    ax.set_xlim(bins[0], bins[-1])
    ax.set_xlabel(f"score ({unit})")
    ax.set_ylabel("notebooks")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.axvline(s.mean if s.max_score else statistics.fmean(graded + fatal), color="k", ls="--", lw=1,
               label="mean")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Score distribution")
    return _png(fig)


def pass_rate_png(s: Summary) -> str:
    from matplotlib.figure import Figure

    n = len(s.tests)
    fig = Figure(figsize=(7, 0.28 * n + 1.0))
    ax = fig.subplots()
    several = len(s.assignments) > 1
    labels = [_label(f"{t.assignment}: {t.test}" if several else t.test) for t in s.tests]
    rates = [100 * t.rate for t in s.tests]
    colors = ["#d8553b" if r < 50 else "#e0a030" if r < 80 else "#3b9d5d" for r in rates]
    ax.barh(range(n), rates, color=colors)
    ax.set_yticks(range(n), labels, fontsize=8)
    ax.invert_yaxis()  # worst first, at the top
    ax.set_xlim(0, 100)
    ax.set_xlabel("notebooks passing (%)")
    ax.set_title("Pass rate per test (worst first)")
    for i, r in enumerate(rates):
        ax.text(min(r + 1, 92), i, f"{r:.0f}%", va="center", fontsize=7)
    return _png(fig)


# -------------------------------------------------------------------------------- HTML
def _fmt(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222;
padding:0 1em}h1{margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}.sub{color:#666}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;
min-width:7em}.card b{display:block;font-size:1.5em}table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border-bottom:1px solid #eee;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f6f6f6}td.n{text-align:right;white-space:nowrap;width:1%}.msg{font-family:ui-monospace,monospace;
white-space:pre-wrap;word-break:break-word}.bad{color:#b3301a}img{max-width:100%}
"""


def render_html(s: Summary) -> str:
    """The report as one HTML string: no external resources, student-derived text escaped."""
    e = html.escape
    several = len(s.assignments) > 1
    of = f" / {_fmt(s.max_score)}" if s.max_score else ""
    title = "dlcourse report: " + (", ".join(s.assignments) or "results")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="sub">{len(s.results)} results.json under <code>{e(str(s.folder))}</code>, '
        f"{e(time.strftime('%Y-%m-%d %H:%M'))}</p>",
        '<div class="cards">',
        *[f'<div class="card">{k}<b>{v}</b></div>' for k, v in (
            ("notebooks", str(len(s.results))), ("mean", _fmt(s.mean) + of), ("median", _fmt(s.median) + of),
            ("max", _fmt(s.max) + of), ("min", _fmt(s.min) + of),
            ("could not be graded", str(len(s.ungradable))))],
        "</div>",
        "<h2>Scores</h2>",
        f'<img alt="score histogram" src="data:image/png;base64,{histogram_png(s)}">',
        '<p class="sub">Mean, median and max count every notebook; one that could not be graded counts at its '
        "score (usually 0). Pass rates and failure messages below count only notebooks that were graded.</p>",
    ]
    graded = len(s.results) - len(s.ungradable)
    parts.append(f"<h2>Pass rate per test ({graded} graded notebooks)</h2>")
    if s.tests:
        parts.append(f'<img alt="pass rate per test" src="data:image/png;base64,{pass_rate_png(s)}">')
        parts.append("<table><tr>" + ("<th>assignment</th>" if several else "") +
                     "<th>test</th><th>what it checks</th><th>cell</th><th>passed</th><th>rate</th>"
                     "<th>mean points</th></tr>")
        for t in s.tests:
            parts.append("<tr>" + (f"<td>{e(t.assignment)}</td>" if several else "") +
                         f"<td><code>{e(t.test)}</code></td><td>{e(t.title)}</td><td>{e(t.cell)}</td>"
                         f'<td class="n">{t.passed}/{t.total}</td>'
                         f'<td class="n{" bad" if t.rate < 0.5 else ""}">{100 * t.rate:.0f}%</td>'
                         f'<td class="n">{_fmt(t.mean_score)} / {_fmt(t.max_score)}</td></tr>')
        parts.append("</table>")
    else:
        parts.append("<p>No notebook could be graded.</p>")
    parts.append("<h2>Most common failure messages</h2>")
    if s.failures:
        parts.append('<table><tr><th>notebooks</th>' + ("<th>assignment</th>" if several else "") +
                     "<th>test</th><th>message</th></tr>")
        for n, a, t, m in s.failures[:30]:
            parts.append(f'<tr><td class="n">{n}</td>' + (f"<td>{e(a)}</td>" if several else "") +
                         f'<td><code>{e(t)}</code></td><td class="msg">{e(m)}</td></tr>')
        parts.append("</table>")
        if len(s.failures) > 30:
            parts.append(f'<p class="sub">{len(s.failures) - 30} rarer (test, message) pairs not shown.</p>')
    else:
        parts.append("<p>No test failed in a graded notebook.</p>")
    parts.append(f"<h2>Could not be graded ({len(s.ungradable)})</h2>")
    if s.ungradable:
        parts.append("<table><tr><th>student</th><th>notebook</th><th>score</th><th>why</th></tr>")
        for r in sorted(s.ungradable, key=lambda r: r.student):
            parts.append(f"<tr><td>{e(r.student)}</td><td><code>{e(r.notebook or str(r.path))}</code></td>"
                         f'<td class="n">{_fmt(r.score)}</td><td class="msg">{e(r.fatal or "")}</td></tr>')
        parts.append("</table>")
    else:
        parts.append("<p>Every notebook was graded.</p>")
    if s.skipped:
        parts.append(f"<h2>Files skipped ({len(s.skipped)})</h2><table><tr><th>file</th><th>why</th></tr>")
        parts += [f"<tr><td><code>{e(str(p))}</code></td><td>{e(why)}</td></tr>" for p, why in s.skipped]
        parts.append("</table>")
    parts.append(f"<h2>Every notebook</h2><details><summary>{len(s.results)} notebooks, lowest score first"
                 "</summary><table><tr>" + ("<th>assignment</th>" if several else "") +
                 "<th>student</th><th>score</th><th>failed tests</th><th>file</th></tr>")
    for r in sorted(s.results, key=lambda r: (r.score, r.student)):
        failed = "could not be graded" if r.fatal else ", ".join(t.name for t in r.tests if not t.passed) or "-"
        mx = f" / {_fmt(r.max_score)}" if r.max_score is not None else ""
        parts.append("<tr>" + (f"<td>{e(r.assignment)}</td>" if several else "") +
                     f'<td>{e(r.student)}</td><td class="n">{_fmt(r.score)}{mx}</td><td>{e(failed)}</td>'
                     f"<td><code>{e(str(r.path))}</code></td></tr>")
    parts.append("</table></details></body></html>")
    return "\n".join(parts) + "\n"


def summary_text(s: Summary) -> str:
    """The short stdout version: counts, mean/median/max, worst 3 tests, ungradable count."""
    of = f" of {_fmt(s.max_score)}" if s.max_score else ""
    lines = [f"{len(s.results)} notebooks graded ({len(s.ungradable)} could not be graded)"
             + (f"; {len(s.skipped)} JSON file{'s' * (len(s.skipped) != 1)} skipped" if s.skipped else ""),
             f"score: mean {_fmt(s.mean)}, median {_fmt(s.median)}, max {_fmt(s.max)}{of}"]
    if s.tests:
        lines.append("worst tests by pass rate: " + ", ".join(
            f"{t.test} {100 * t.rate:.0f}% ({t.passed}/{t.total})" for t in s.tests[:3]))
    lines.append(f"could not be graded: {len(s.ungradable)}")
    for r in sorted(s.ungradable, key=lambda r: r.student)[:5]:
        lines.append(f"  {r.student}: {(r.fatal or '')[:160]}")
    for p, why in s.skipped[:5]:
        lines.append(f"skipped {p}: {why}")
    return "\n".join(lines)


def write_report(grades: Path, out: Path | None = None) -> tuple[Summary, Path]:
    """Read GRADES, write the HTML report (default GRADES/report.html); FileNotFoundError or
    ValueError (one line for the CLI) when there is nothing to report on."""
    if not grades.is_dir():
        raise FileNotFoundError(f"{grades}: no such folder")
    results, skipped = load_results(grades)
    if not results:
        note = f" ({len(skipped)} JSON files skipped: not results.json)" if skipped else ""
        raise ValueError(f"no results.json under {grades}{note}")
    s = summarize(grades, results, skipped)
    out = out or grades / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(s), encoding="utf-8")
    return s, out


# ---------------------------------------------------------------------------------------- CLI
def cmd_report(args: argparse.Namespace) -> int:
    """`dlcourse report GRADES [-o report.html]`."""
    s, out = write_report(Path(args.grades), Path(args.output) if args.output else None)
    print(summary_text(s))
    print(f"wrote {out}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `report` on the `dlcourse` command line."""
    r = subparsers.add_parser("report", help="summarise a folder of results.json as one HTML file")
    r.add_argument("grades", help="folder of results.json files (searched recursively)")
    r.add_argument("-o", "--output", help="HTML file to write (default: GRADES/report.html)")
    r.set_defaults(func=cmd_report)
