"""The `dlcourse` command: release, grade, check, demo, train-gpt (SPEC §5).

Every command works on a course folder (found from the current directory, `--course`, or
`$DLCOURSE_ROOT`) and prints one-line errors, never a traceback, for input a user can get wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from autograder.grade import CourseError, check_assignment, find_course


def _course(args: argparse.Namespace) -> Path:
    return find_course(args.course) if args.course else find_course()


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
        print(f"released {a} -> assignments/{a}/")
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from autograder.grade import grade_batch, plan, write_csv

    course = _course(args)
    check_assignment(course, args.assignment)
    notebooks = [Path(p) for p in args.notebooks]
    json_out = Path(args.json) if args.json else None
    if json_out is not None and len(notebooks) > 1 and json_out.suffix == ".json":
        raise CourseError("--json must name a folder when grading several notebooks (one JSON per notebook)")
    jobs = plan(args.assignment, notebooks, json_out)
    rows = grade_batch(course, args.assignment, jobs, n_jobs=args.jobs, force=args.force)
    width = max(len(j.student) for j, _, _ in rows)
    for job, gs, reused in rows:
        note = " (already graded; --force to regrade)" if reused else ""
        print(f"{job.student:<{width}}  {gs['extra_data'].get('summary', gs['score'])}{note}")
        if args.verbose:
            for t in gs["tests"]:
                mark = "ok  " if t["status"] == "passed" else "FAIL"
                print(f"    {mark} {t['score']:g}/{t['max_score']:g}  {t['name']}" +
                      ("" if t["status"] == "passed" else f"\n          {t['output']}"))
            for p in gs["extra_data"].get("problems", []):
                print(f"    note: {p}")
    if args.csv:
        write_csv(Path(args.csv), rows)
        print(f"wrote {args.csv}")
    if json_out is None and len(rows) == 1 and args.print_json:
        print(json.dumps(rows[0][1], indent=1))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from autograder.grade import grade_notebook
    from autograder.notebook import NotebookProblem, read_notebook

    course = _course(args)
    nb_path = Path(args.notebook)
    assignment = args.assignment or _guess_assignment(nb_path)
    check_assignment(course, assignment)
    try:
        read_notebook(nb_path)
    except NotebookProblem as exc:
        raise CourseError(str(exc)) from None
    result = grade_notebook(course, assignment, nb_path, visible_only=True)
    for p in result.get("problems", []):
        print(f"note: {p}")
    passed = 0
    for t in result["tests"]:
        ok = t["status"] == "passed"
        passed += ok
        print(f"{'PASS' if ok else 'FAIL'}  {t['name']}: {t['title']}" + ("" if ok else f"\n      {t['message']}"))
    print(f"{passed}/{len(result['tests'])} public tests pass; {result['hidden_not_run']} hidden tests run when graded")
    return 0


def _guess_assignment(path: Path) -> str:
    for part in [path.stem, *reversed(path.resolve().parts)]:
        if part[:1] == "a" and part[1:3].isdigit():
            return part
    raise CourseError(f"cannot tell the assignment of {path}: pass it with --assignment")


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(_course(args), keep=args.keep, assignments=args.assignments or None,
                    wrong=None if args.all_samples else 1)


def cmd_train_gpt(args: argparse.Namespace) -> int:
    from .train_gpt import run

    if args.resume and not args.out.is_file():
        raise CourseError(f"--resume: no checkpoint at {args.out}")
    if args.data is not None and not args.data.is_file():
        raise CourseError(f"--data {args.data}: no such file")
    run(args, _course(args))
    return 0


def build_parser() -> argparse.ArgumentParser:
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
    g.add_argument("--jobs", type=int, default=1, help="notebooks graded in parallel")
    g.add_argument("--force", action="store_true", help="regrade notebooks already graded in --json")
    g.add_argument("-v", "--verbose", action="store_true", help="show every test")
    g.add_argument("--print-json", action="store_true", help="print the results.json of a single notebook")
    g.set_defaults(func=cmd_grade)

    c = sub.add_parser("check", help="run the public tests on your notebook, as the grader will")
    c.add_argument("notebook")
    c.add_argument("--assignment", help="assignment id (default: from the file name)")
    c.set_defaults(func=cmd_check)

    d = sub.add_parser("demo", help="the instructor pipeline on bundled sample submissions")
    d.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    d.add_argument("--keep", type=Path, help="keep the demo course in this folder")
    d.add_argument("--all-samples", action="store_true", help="every bundled wrong submission, not just the first")
    d.set_defaults(func=cmd_demo)

    from .train_gpt import add_arguments

    t = sub.add_parser("train-gpt", help="train the reference GPT (solutions/a09_gpt) on the bundled corpus")
    add_arguments(t)
    t.set_defaults(func=cmd_train_gpt)

    from . import gradescope, report

    gradescope.add_parser(sub)
    report.add_parser(sub)
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
