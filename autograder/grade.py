"""Grade submissions: batches through the warm pool, resumable, stored as Gradescope JSON, CSV.

Every notebook ends with a score and a reason, whatever happens (see pool.py): a session that
crashes or outlives its limit is replaced by a fallback run of the same suite where every test
fails with that reason, so the tests and their points are still listed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .course import Course, CourseError, find_course  # noqa: F401 - re-exported for callers
from .pool import GradingPool, default_pool
from .result import GradingResult


def grade_notebook(course: Path, assignment: str, notebook: Path | None = None, *, nb_json: str | None = None,
                   visible_only: bool = False, pool: GradingPool | None = None) -> GradingResult:
    """Run the hidden suite on one notebook (a path, or its JSON text); every test is listed."""
    return (pool or default_pool()).grade(course, assignment, notebook, nb_json=nb_json, visible_only=visible_only)


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


def _sha256(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def already_graded(job: Job) -> GradingResult | None:
    """The stored result if this exact notebook was graded before (resumable batches)."""
    if job.json_out is None or not job.json_out.is_file():
        return None
    try:
        stored = GradingResult.from_gradescope_dict(json.loads(job.json_out.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return stored if stored.notebook_sha256 and stored.notebook_sha256 == _sha256(job.notebook) else None


def grade_batch(course: Path, assignment: str, jobs: list[Job], *, n_jobs: int = 1, force: bool = False,
                progress: bool = True) -> list[tuple[Job, GradingResult, bool]]:
    """Grade every job, `n_jobs` at a time; returns (job, result, reused) per job, in job order."""
    import tqdm

    Course(Path(course)).check(assignment)
    done: dict[int, tuple[GradingResult, bool]] = {}
    todo = []
    for i, job in enumerate(jobs):
        stored = None if force else already_graded(job)
        if stored is not None:
            done[i] = (stored, True)
        else:
            todo.append(i)
    bar = tqdm.tqdm(total=len(jobs), initial=len(done), desc=f"grading {assignment}", unit="nb",
                    disable=not progress or len(jobs) < 2, file=sys.stderr)
    if todo:
        with GradingPool(jobs=min(n_jobs, len(todo))) as pool:
            ids = {pool.submit(course, assignment, jobs[i].notebook, student=jobs[i].student): i for i in todo}
            for job_id, result in pool.results(list(ids)):
                i = ids[job_id]
                done[i] = (result, False)
                out = jobs[i].json_out
                if out is not None:
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_text(json.dumps(result.to_gradescope_dict(), indent=1))
                bar.update(1)
    bar.close()
    return [(job, *done[i]) for i, job in enumerate(jobs)]


def write_csv(path: Path, rows: list[tuple[Job, GradingResult, bool]]) -> None:
    """One row per student, one column per test (points), plus the total: an LMS imports this."""
    if not rows:
        return
    columns: list[str] = []
    for _, res, _ in rows:
        columns += [t.name for t in res.tests if t.name not in columns]
    max_total = max(res.max_score for _, res, _ in rows)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["student", f"total (of {max_total:g})", *columns])
        for job, res, _ in rows:
            row = res.csv_row(columns)
            row[0] = job.student
            w.writerow(row)
