"""`dlcourse report`: one self-contained HTML file and a stdout summary whose numbers are right,
from results.json files in today's format and the refactored one (extra_data.fatal, per-test
extra_data), with malformed files skipped and student-derived text escaped."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

XSS = "<script>alert('pwned')</script>"


def dlcourse(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dlcourse.cli", *args], cwd=cwd, capture_output=True, text=True)


def results_json(student: str, outcomes: dict[str, str | None], *, new_format: bool = False,
                 fatal: str | None = None) -> dict:
    """outcomes: test id -> None (passed) or its failure message; test_c is worth 2 points."""
    tests = []
    for name, msg in outcomes.items():
        pts = 2.0 if name == "test_c" else 1.0
        t = {"name": f"{name}: checks {name[-1]}", "score": 0.0 if msg else pts, "max_score": pts,
             "status": "failed" if msg else "passed", "output": msg or "passed", "visibility": "visible",
             "tags": [f"cell_{name[-1]}"]}
        if new_format:
            t["extra_data"] = {"test": name, "cell": f"cell_{name[-1]}"}
        tests.append(t)
    score = sum(t["score"] for t in tests)
    lines = [f"Could not grade this notebook: {fatal}"] if fatal and not new_format else []
    extra = {"assignment": "a01_tensors", "notebook": f"submitted/{student}/a01_tensors.ipynb",
             "notebook_sha256": "0" * 64, "max_score": 4.0, "student": student, "summary": "", "problems": []}
    if new_format:
        extra["fatal"] = fatal
    return {"score": score, "execution_time": 1.0, "output": "\n".join([*lines, f"Score: {score:g} / 4"]),
            "visibility": "visible", "tests": tests, "extra_data": extra}


def test_report_html_and_summary(tmp_path):
    grades = tmp_path / "grades"
    (grades / "erin").mkdir(parents=True)
    ok = {"test_a": None, "test_b": None, "test_c": None}
    files = {
        "alice.json": results_json("alice", ok),
        "bob.json": results_json("bob", {"test_a": None, "test_b": "expected 3, got 4", "test_c": "wrong shape"},
                                 new_format=True),
        "carol.json": results_json("carol", {"test_a": None, "test_b": "expected 3, got 4", "test_c": None}),
        "dave.json": results_json("dave", dict.fromkeys(ok, "not valid notebook JSON"),
                                  fatal="not valid notebook JSON (line 1)"),
        "erin/results.json": results_json("erin", dict.fromkeys(ok, "x"), new_format=True,
                                          fatal=f"the notebook is another assignment's {XSS}"),
        "mallory.json": results_json(f"mallory {XSS}", {"test_a": f"your code printed {XSS}", "test_b": None,
                                                        "test_c": None}),
    }
    for name, data in files.items():
        (grades / name).write_text(json.dumps(data))
    (grades / "broken.json").write_text('{"score": 1, "tests": [')
    (grades / "config.json").write_text('{"not": "a results.json"}')
    (grades / "notes.txt").write_text("ignored")

    proc = dlcourse("report", str(grades), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    # scores 4, 1, 3, 0, 0, 3: mean 11/6, median 2, max 4; graded: alice, bob, carol, mallory
    assert "6 notebooks graded (2 could not be graded); 2 JSON files skipped" in out
    assert "mean 1.83, median 2, max 4 of 4" in out
    assert "worst tests by pass rate: test_b 50% (2/4), test_a 75% (3/4), test_c 75% (3/4)" in out
    assert "could not be graded: 2" in out
    assert "skipped broken.json: not valid JSON" in out and "skipped config.json: no `tests` list" in out

    page = (grades / "report.html").read_text()
    assert re.search(r'<img[^>]+src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', page)
    assert page.count("data:image/png;base64,") == 2  # histogram and pass rates
    assert not re.search(r"<(script|link)\b", page, re.I)
    assert "http://" not in page and "https://" not in page
    assert "not valid notebook JSON (line 1)" in page  # today's format: parsed from output
    assert "the notebook is another assignment&#x27;s &lt;script&gt;" in page  # extra_data.fatal, escaped
    assert "your code printed &lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    assert "mallory &lt;script&gt;" in page and XSS not in page
    # failure messages grouped by test + message with counts, commonest first; fatal ones not among them
    fail_table = page.split("Most common failure messages")[1].split("Could not be graded")[0]
    assert re.search(r'<td class="n">2</td><td><code>test_b</code></td><td class="msg">expected 3, got 4', fail_table)
    assert "not valid notebook JSON" not in fail_table
    # pass-rate table worst first
    rates = page.split("Pass rate per test")[1].split("Most common failure")[0]
    assert rates.index("<code>test_b</code>") < rates.index("<code>test_a</code>") < rates.index("<code>test_c</code>")



def test_report_output_option_and_errors(tmp_path, capsys):
    """In-process (each CLI process imports torch): -o, a missing folder, a folder without results."""
    from dlcourse.cli import main

    (tmp_path / "a.json").write_text(json.dumps(results_json("alice", {"test_a": None})))
    custom = tmp_path / "out" / "r.html"
    assert main(["report", str(tmp_path), "-o", str(custom)]) == 0
    assert custom.is_file() and f"wrote {custom}" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "junk.json").write_text("[1, 2]")
    for target, why in ((tmp_path / "missing", "no such folder"), (empty, "no results.json")):
        assert main(["report", str(target)]) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and why in err, err
