"""The `dlcourse` command: release, grade, check, demo, train-gpt, gradescope, report (SPEC §5).

Every command works on a course folder (found from the current directory, `--course`, or
`$DLCOURSE_ROOT`) and prints one-line errors, never a traceback, for input a user can get wrong.
Imports are lazy: printing an error or the help costs no torch, pytest or nbgrader import.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.course import Course, CourseError, find_course, is_course


def _course(args: argparse.Namespace) -> Path:
    if args.course is not None:  # named explicitly: that folder or nothing
        if not is_course(args.course):
            raise CourseError(f"--course {args.course}: not a course folder (no nbgrader_config.py and "
                              "autograder/suites/ there)")
        return args.course.resolve()
    return find_course()


def cmd_release(args: argparse.Namespace) -> int:
    from .release import check_release, release

    course = _course(args)
    if args.check:
        stale = check_release(course, args.assignments or None)
        if stale:
            for line in stale:
                print(f"stale: {line}")
            print("assignments/ is out of date with solutions/: run `dlcourse release`")
            return 1
        print("assignments/ is in sync with solutions/")
        return 0
    for a in release(course, args.assignments or None):
        print(f"released {a} -> assignments/{a}/ (and registered in nbgrader's gradebook)")
    return 0


def _existing(paths: list[str]) -> list[Path]:
    """Notebook paths as given; a path that does not exist is a usage error, never a 0 in the gradebook."""
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CourseError(f"no such file: {missing[0]}{more}; nothing was graded")
    dirs = [p for p in paths if Path(p).is_dir()]
    if dirs:
        raise CourseError(f"{dirs[0]} is a folder: pass the notebooks, e.g. {dirs[0]}/*/*.ipynb")
    return [Path(p) for p in paths]


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.grade import grade_batch, plan, write_csv

    course = _course(args)
    Course(course).check(args.assignment)
    notebooks = _existing(args.notebooks)
    json_out = Path(args.json) if args.json else None
    if json_out is not None and len(notebooks) > 1 and json_out.suffix == ".json":
        raise CourseError("--json must name a folder when grading several notebooks (one JSON per notebook)")
    jobs = plan(args.assignment, notebooks, json_out)
    rows = grade_batch(course, args.assignment, jobs, n_jobs=args.jobs, force=args.force)
    width = max(len(j.student) for j, _, _ in rows)
    for job, res, reused in rows:
        note = " (already graded; --force to regrade)" if reused else ""
        print(f"{job.student:<{width}}  {res.summary()}{note}")
        if args.verbose:
            for t in res.tests:
                mark = "ok  " if t.passed else "FAIL"
                reason = "" if t.passed else f"\n          {t.message}"
                print(f"    {mark} {t.points:g}/{t.max_points:g}  {t.name}{reason}")
            for p in res.problems:
                print(f"    note: {p}")
    if args.csv:
        write_csv(Path(args.csv), rows)
        print(f"wrote {args.csv}")
    if json_out is None and len(rows) == 1 and args.print_json:
        import json

        print(json.dumps(rows[0][1].to_gradescope_dict(), indent=1))
    return 0


def identify_assignment(course: Path, path: Path) -> str:
    """Which assignment a notebook is: by its nbgrader cell ids (a download named `a01_tensors (1).ipynb`
    is still a01), else by its file or folder name."""
    from autograder.notebook import NotebookProblem, Template, grade_ids, read_notebook

    c = Course(course)
    try:
        ids = grade_ids(read_notebook(path))
    except NotebookProblem as exc:
        raise CourseError(str(exc)) from None
    best, overlap = None, 0
    for a in c.released_assignments():
        try:
            shared = len(ids & Template.load(c.release(a), a).grade_ids)
        except NotebookProblem:
            continue
        if shared > overlap:
            best, overlap = a, shared
    if best:
        return best
    for part in [path.stem, *reversed(path.resolve().parts)]:
        if part[:1] == "a" and part[1:3].isdigit() and part in c.released_assignments():
            return part
    raise CourseError(f"cannot tell which assignment {path.name} is (it has none of the assignments' cells): "
                      "pass it with --assignment")


def cmd_check(args: argparse.Namespace) -> int:
    from autograder.pool import GradingPool

    course = _course(args)
    (nb_path,) = _existing([args.notebook])
    if args.assignment:
        assignment = args.assignment
        from autograder.notebook import NotebookProblem, read_notebook

        try:
            read_notebook(nb_path)
        except NotebookProblem as exc:
            raise CourseError(str(exc)) from None
    else:
        assignment = identify_assignment(course, nb_path)
    Course(course).check(assignment)
    with GradingPool(jobs=1) as pool:
        result = pool.grade(course, assignment, nb_path, visible_only=True)
    for p in result.problems:
        print(f"note: {p}")
    for t in result.tests:
        print(f"{'PASS' if t.passed else 'FAIL'}  {t.name}: {t.title}" + ("" if t.passed else f"\n      {t.message}"))
    passed = len(result.tests) - len(result.failed)
    print(f"{passed}/{len(result.tests)} public tests pass; {result.hidden_not_run} hidden tests run when graded")
    return 0 if passed == len(result.tests) and not result.fatal else 1


def cmd_demo(args: argparse.Namespace) -> int:
    try:
        from .demo import run_demo
    except ImportError as exc:
        if "autograder.samples" not in str(exc):
            raise
        raise CourseError("the demo's sample submissions live in the course checkout, not in the installed "
                          "package: clone the course and `pip install -e .` there") from None
    from .demo import DEFAULT_ASSIGNMENTS

    todo = args.assignments or (None if args.all else DEFAULT_ASSIGNMENTS)
    return run_demo(_course(args), keep=args.keep, assignments=todo, wrong=None if args.all_samples else 1)


def cmd_train_gpt(args: argparse.Namespace) -> int:
    from .train_gpt import run

    if args.resume and not args.out.is_file():
        raise CourseError(f"--resume: no checkpoint at {args.out}")
    if args.data is not None and not args.data.is_file():
        raise CourseError(f"--data {args.data}: no such file")
    run(args, _course(args))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .train_args import add_arguments

    p = argparse.ArgumentParser(prog="dlcourse", description="dlcourse: lectures, assignments and autograding")
    p.add_argument("--course", type=Path, help="course folder (default: found from the current directory)")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("release", help="regenerate assignments/ from solutions/ (nbgrader generate_assignment)")
    r.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    r.add_argument("--check", action="store_true", help="fail if assignments/ is out of date")
    r.set_defaults(func=cmd_release)

    g = sub.add_parser("grade", help="grade notebooks with the hidden suite")
    g.add_argument("assignment")
    g.add_argument("notebooks", nargs="+")
    g.add_argument("--json", help="results.json path (one notebook) or folder (several)")
    g.add_argument("--csv", help="write per-test points per student as CSV (LMS gradebook import)")
    g.add_argument("--jobs", type=int, default=2, help="notebooks graded in parallel (default 2)")
    g.add_argument("--force", action="store_true", help="regrade notebooks already graded in --json")
    g.add_argument("-v", "--verbose", action="store_true", help="show every test")
    g.add_argument("--print-json", action="store_true", help="print the results.json of a single notebook")
    g.set_defaults(func=cmd_grade)

    c = sub.add_parser("check", help="run the public tests on your notebook, as the grader will")
    c.add_argument("notebook")
    c.add_argument("--assignment", help="assignment id (default: read from the notebook)")
    c.set_defaults(func=cmd_check)

    d = sub.add_parser("demo", help="the instructor pipeline on bundled sample submissions")
    d.add_argument("assignments", nargs="*", help="assignment ids (default: a few; --all for every one)")
    d.add_argument("--all", action="store_true", help="every assignment")
    d.add_argument("--keep", type=Path, help="keep the demo course in this folder")
    d.add_argument("--all-samples", action="store_true", help="every bundled wrong submission, not just the first")
    d.set_defaults(func=cmd_demo)

    t = sub.add_parser("train-gpt", help="train the reference GPT (solutions/a09_gpt) on the bundled corpus")
    add_arguments(t)
    t.set_defaults(func=cmd_train_gpt)

    from . import book, gradescope, lab, report

    gradescope.add_parser(sub)
    report.add_parser(sub)
    book.add_parser(sub)
    lab.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CourseError, ValueError, FileNotFoundError) as exc:
        print(f"dlcourse {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
