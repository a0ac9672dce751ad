"""`dlcourse demo`: the whole instructor pipeline on the bundled sample submissions.

release → submissions → `nbgrader autograde` → `nbgrader generate_feedback` → `nbgrader export`,
and `dlcourse grade` on the same notebooks; prints one table where both must agree. It works in
a scratch copy of the course, so it never writes into the checkout (unless `--keep DIR`).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder.course import Course
from autograder.grade import grade_batch, plan
from autograder.samples import all_submissions

from .release import nbgrader_env, release, source_assignments

# The default demo: the whole pipeline on two quick assignments (`--all` for every one).
DEFAULT_ASSIGNMENTS = ["a01_tensors", "a06_attention"]


def _nbgrader(course: Path, *args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=ERROR"], cwd=course,
                          capture_output=True, text=True, env=nbgrader_env())
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-10:])
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{tail}")


def make_course_copy(course: Path, dest: Path) -> None:
    """What a course needs: config, sources, suites (the package itself is imported as installed)."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(course / "nbgrader_config.py", dest)
    shutil.copytree(Course(course).solutions_dir, Course(dest).solutions_dir)
    shutil.copytree(Course(course).suites_dir, Course(dest).suites_dir,
                    ignore=shutil.ignore_patterns("__pycache__"))


def place_submissions(course: Path, assignment: str, wrong: int | None = 1) -> list[str]:
    """reference, blank and `wrong` partly-wrong samples (all with None) as submitted notebooks."""
    students = []
    for student, nb in all_submissions(course, assignment, wrong).items():
        path = Course(course).submitted(student, assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
        students.append(student)
    return students


def nbgrader_scores(course: Path) -> dict[tuple[str, str], float]:
    out = course / "grades.csv"
    _nbgrader(course, "export", "--to", str(out))
    with open(out) as fh:
        return {(r["assignment"], r["student_id"]): float(r["raw_score"]) for r in csv.DictReader(fh)}


def feedback_leaks(course: Path, assignment: str) -> list[str]:
    """Feedback files that show hidden test source (they must show names and messages only)."""
    suite = Course(course).suite(assignment).read_text()
    probes = [ln.strip() for ln in suite.splitlines() if ln.startswith("def test_")]
    probes += ["BEGIN HIDDEN TESTS", "autograder/suites"]
    leaks = []
    for f in (course / "feedback").rglob("*.html"):
        text = f.read_text(errors="ignore")
        leaks += [f"{f.relative_to(course)}: {p}" for p in probes if p in text]
    return leaks


def run_demo(course: Path, keep: Path | None = None, assignments: list[str] | None = None,
             wrong: int | None = 1) -> int:
    started = time.monotonic()
    tmp = None
    if keep is not None:
        if keep.exists() and any(keep.iterdir()):
            raise ValueError(f"--keep {keep}: folder exists and is not empty")
        demo = keep
    else:
        tmp = tempfile.TemporaryDirectory(prefix="dlcourse-demo-")
        demo = Path(tmp.name) / "course"
    try:
        make_course_copy(course, demo)
        todo = assignments or source_assignments(demo)
        print(f"demo course: {demo}")
        print(f"1. release: nbgrader generate_assignment {' '.join(todo)}")
        release(demo, todo)
        rows = []
        for a in todo:
            students = place_submissions(demo, a, wrong)
            print(f"2. {a}: {len(students)} submissions ({', '.join(students)})")
            print(f"3. {a}: nbgrader autograde")
            _nbgrader(demo, "autograde", a, "--force")
            print(f"4. {a}: nbgrader generate_feedback")
            _nbgrader(demo, "generate_feedback", a, "--force")
            leaks = feedback_leaks(demo, a)
            print(f"   feedback shows hidden test source: {'YES: ' + '; '.join(leaks[:3]) if leaks else 'no'}")
            print(f"5. {a}: dlcourse grade (hidden suite, sandboxed)")
            nbs = [Course(demo).submitted(s, a) for s in students]
            graded = grade_batch(demo, a, plan(a, nbs, demo / "grades" / a), n_jobs=2, force=True, progress=False)
            ours = {job.student: res for job, res, _ in graded}
            rows.append((a, students, ours, bool(leaks)))
        print("6. nbgrader export -> grades.csv")
        theirs = nbgrader_scores(demo)
        ok = _print_table(rows, theirs)
        print(f"\ndemo finished in {time.monotonic() - started:.0f} s: " +
              ("nbgrader and dlcourse grade agree on every submission" if ok else "DISAGREEMENT (see above)"))
        return 0 if ok else 1
    finally:
        if tmp is not None:
            tmp.cleanup()


def _print_table(rows, theirs) -> bool:
    print(f"\n{'assignment':<14} {'student':<22} {'nbgrader':>9} {'dlcourse':>9} {'max':>5}  agree  reason")
    ok = True
    for a, students, ours, leaked in rows:
        for s in students:
            res = ours[s]
            nbg = theirs.get((a, s))
            agree = nbg is not None and abs(nbg - res.score) < 1e-9 and not leaked
            ok &= agree
            reason = res.summary().split("  ", 1)[-1]
            print(f"{a:<14} {s:<22} {nbg if nbg is not None else float('nan'):>9g} {res.score:>9g} "
                  f"{res.max_score:>5g}  {'yes' if agree else 'NO':<5}  {reason[:70]}")
    return ok
