"""Grade submissions: one trusted session process per notebook, results as Gradescope JSON.

Every notebook ends with a score and a reason, whatever happens: a session that crashes or
outlives its hard limit is replaced by a "fatal" run of the same suite, where every test fails
fast with that reason, so the tests and their points are still listed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from . import assignments
from .session import suite_path, template_path


class CourseError(Exception):
    """The course itself is not usable (no suite, no release): the instructor must act."""


def find_course(start: Path | None = None) -> Path:
    """The course root: `$DLCOURSE_ROOT`, else the nearest folder above `start` (cwd) holding
    nbgrader_config.py and autograder/suites/, else the checkout this package was installed from."""
    env = os.environ.get("DLCOURSE_ROOT")
    candidates = [Path(env)] if env else []
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents, Path(__file__).resolve().parent.parent]
    for c in candidates:
        if (c / "nbgrader_config.py").is_file() and (c / "autograder" / "suites").is_dir():
            return c
    raise CourseError("no course found: run inside the course folder (with nbgrader_config.py and "
                      "autograder/suites/), or set DLCOURSE_ROOT")


def check_assignment(course: Path, assignment: str) -> None:
    assignments.get(assignment)  # ValueError with the known ids
    if not suite_path(course, assignment).is_file():
        raise CourseError(f"no hidden suite for {assignment} at {suite_path(course, assignment)}")
    if not template_path(course, assignment).is_file():
        raise CourseError(f"no release of {assignment}: run `dlcourse release` first")


def _session(course: Path, assignment: str, *, notebook: Path | None = None, nb_json: str | None = None,
             visible_only: bool = False, timeout: float, fatal: str | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        os.chmod(tmp, 0o700)
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "autograder.session", "--course", str(course.resolve()),
               "--assignment", assignment, "--out", str(out)]
        if fatal is not None:
            cmd += ["--fatal", fatal]
        else:
            cmd += ["--stdin"] if nb_json is not None else ["--notebook", str(Path(notebook).resolve())]
        if visible_only:
            cmd.append("--visible-only")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_", "GH_", "OPENAI", "HF_"))}
        try:
            proc = subprocess.run(cmd, input=nb_json, text=True, capture_output=True, timeout=timeout,
                                  env=env, cwd=tmp)
        except subprocess.TimeoutExpired:
            return {"error": f"grading did not finish within {timeout:.0f} s"}
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
            return {"error": f"the grader failed on this notebook ({tail[0][:200]})"}
        return json.loads(out.read_text())


def grade_notebook(course: Path, assignment: str, notebook: Path | None = None, *, nb_json: str | None = None,
                   visible_only: bool = False) -> dict:
    """Run the hidden suite on one notebook; always returns a result with every test listed."""
    spec = assignments.get(assignment)
    hard = spec.limits.total_seconds + 120
    result = _session(course, assignment, notebook=notebook, nb_json=nb_json, visible_only=visible_only,
                      timeout=hard)
    if "error" in result:
        reason = result["error"]
        fallback = _fatal_result(course, assignment, reason, visible_only)
        fallback["problems"].insert(0, reason)
        result = fallback
    data = nb_json.encode() if nb_json is not None else _read_bytes(notebook)
    result["notebook_sha256"] = hashlib.sha256(data).hexdigest()
    result["notebook"] = str(notebook) if notebook else "<notebook>"
    result["score"] = sum(t["points"] for t in result["tests"])
    result["max_score"] = sum(t["max_points"] for t in result["tests"])
    return result


def _fatal_result(course: Path, assignment: str, reason: str, visible_only: bool) -> dict:
    """All tests of the suite, each failed with `reason` (the suite is trusted; this cannot hang)."""
    res = _session(course, assignment, fatal=reason, visible_only=visible_only, timeout=300)
    if "error" in res:
        raise CourseError(f"the hidden suite of {assignment} itself failed: {res['error']}")
    res["problems"] = []
    return res


def _read_bytes(path: Path | None) -> bytes:
    try:
        return Path(path).read_bytes() if path else b""
    except OSError:
        return b""


# ------------------------------------------------------------------------- reports
def to_gradescope(result: dict) -> dict:
    """Gradescope's results.json (score, execution_time, output, tests[...]), plus extra_data."""
    lines = []
    if result.get("fatal"):
        lines.append(f"Could not grade this notebook: {result['fatal']}")
    lines += [f"- {p}" for p in result.get("problems", [])]
    lines.append(f"Score: {result['score']:g} / {result['max_score']:g}")
    return {
        "score": result["score"],
        "execution_time": result.get("seconds", 0.0),
        "output": "\n".join(lines),
        "visibility": "visible",
        "tests": [
            {
                "name": f"{t['name']}: {t['title']}" if t["title"] != t["name"] else t["name"],
                "score": t["points"],
                "max_score": t["max_points"],
                "status": t["status"],
                "output": t["message"] or "passed",
                "visibility": t["visibility"],
                "tags": [t["cell"]],
            }
            for t in result["tests"]
        ],
        "extra_data": {
            "assignment": result["assignment"],
            "notebook": result.get("notebook"),
            "notebook_sha256": result.get("notebook_sha256"),
            "max_score": result["max_score"],
            "student_output_chars": len(result.get("student_output", "")),
        },
    }


def cell_points(result: dict) -> dict[str, float]:
    """Points per nbgrader grade cell: what the nbgrader glue writes into each grade cell."""
    out: dict[str, float] = {}
    for t in result["tests"]:
        out[t["cell"]] = out.get(t["cell"], 0.0) + t["points"]
    return out


def summary_line(result: dict) -> str:
    failed = [t for t in result["tests"] if t["status"] != "passed"]
    head = f"{result['score']:g}/{result['max_score']:g}"
    if result.get("fatal"):
        return f"{head}  {result['fatal']}"
    if not failed:
        return f"{head}  all {len(result['tests'])} tests pass"
    return f"{head}  {len(failed)} failed, e.g. {failed[0]['name']}: {failed[0]['message']}"


@dataclass
class Job:
    student: str
    notebook: Path
    json_out: Path | None


def student_of(path: Path, assignment: str) -> str:
    """`submitted/<student>/<assignment>/<assignment>.ipynb` → student; otherwise the file's stem."""
    parts = path.resolve().parts
    if len(parts) >= 3 and parts[-2] == assignment and path.stem == assignment:
        return parts[-3]
    return path.stem


def plan(assignment: str, notebooks: Iterable[Path], json_out: Path | None) -> list[Job]:
    notebooks = list(notebooks)
    jobs = []
    names = [student_of(p, assignment) for p in notebooks]
    if len(set(names)) != len(names):  # two files called the same: fall back to distinct names
        names = [f"{n}-{i}" for i, n in enumerate(names)]
    for name, nb in zip(names, notebooks):
        if json_out is None:
            out = None
        elif len(notebooks) == 1 and json_out.suffix == ".json":
            out = json_out
        else:
            out = json_out / f"{name}.json"
        jobs.append(Job(name, nb, out))
    return jobs


def already_graded(job: Job) -> dict | None:
    """The stored result if this exact notebook was graded before (resumable batches)."""
    if job.json_out is None or not job.json_out.is_file():
        return None
    try:
        stored = json.loads(job.json_out.read_text())
        sha = stored["extra_data"]["notebook_sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return stored if sha == hashlib.sha256(_read_bytes(job.notebook)).hexdigest() else None


def grade_batch(course: Path, assignment: str, jobs: list[Job], *, n_jobs: int = 1, force: bool = False,
                progress: bool = True) -> list[tuple[Job, dict, bool]]:
    """Grade every job (in parallel with n_jobs); returns (job, gradescope_json, reused) per job."""
    from tqdm import tqdm

    def one(job: Job) -> tuple[Job, dict, bool]:
        if not force:
            stored = already_graded(job)
            if stored is not None:
                return job, stored, True
        result = grade_notebook(course, assignment, job.notebook)
        gs = to_gradescope(result)
        gs["extra_data"]["summary"] = summary_line(result)
        gs["extra_data"]["student"] = job.student
        gs["extra_data"]["problems"] = result.get("problems", [])
        if job.json_out is not None:
            job.json_out.parent.mkdir(parents=True, exist_ok=True)
            job.json_out.write_text(json.dumps(gs, indent=1))
        return job, gs, False

    bar = tqdm(total=len(jobs), desc=f"grading {assignment}", unit="nb", disable=not progress or len(jobs) < 2,
               file=sys.stderr)
    results = []
    with ThreadPoolExecutor(max_workers=max(1, n_jobs)) as pool:
        for res in pool.map(one, jobs):
            results.append(res)
            bar.update(1)
    bar.close()
    return results


def write_csv(path: Path, rows: list[tuple[Job, dict, bool]]) -> None:
    """One row per student, one column per test (points), plus the total: an LMS imports this."""
    if not rows:
        return
    tests = [t["name"].split(":")[0] for t in rows[0][1]["tests"]]
    max_total = rows[0][1]["extra_data"]["max_score"]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student", f"total (of {max_total:g})", *tests])
        for job, gs, _ in rows:
            pts = {t["name"].split(":")[0]: t["score"] for t in gs["tests"]}
            w.writerow([job.student, gs["score"], *[pts.get(t, 0) for t in tests]])
