"""`dlcourse gradescope ASSIGNMENT -o OUT.zip`: Gradescope's autograder zip (SPEC §4), and the
code that runs inside it.

The zip is an *instructor* artefact: it holds the hidden suite of one assignment, so that
Gradescope grades with the same runner as `dlcourse grade` (same sandbox, same points, same
reasons). It holds nothing else that is hidden: no solutions, no samples, no other suite.

    setup.sh          Gradescope runs it once, as root, on its Ubuntu image: a Python >= 3.11 venv
                      with the CPU torch wheel and the grader's dependencies (pinned to this machine's)
    run_autograder    grades $AUTOGRADER_ROOT/submission/*.ipynb and ALWAYS writes
                      $AUTOGRADER_ROOT/results/results.json, whatever was (not) submitted
    course/           a minimal course root: pyproject.toml, nbgrader_config.py, autograder/ (one
                      suite, no samples), dlcourse/, assignments/<a>/<a>.ipynb (the release)

Running `python -m dlcourse.gradescope` (what run_autograder does) needs only the standard library:
the grader itself runs in a child process, so a broken torch or a crashed grader still ends with a
results.json that says why, instead of Gradescope's bare "autograder failed".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

# The packages the grader imports (never jupyterlab/nbgrader: Gradescope runs no kernel).
GRADING_DEPS = ("pytest", "pytest-timeout", "nbformat", "einops", "numpy", "tqdm")
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"  # the CPU wheel: no multi-GB CUDA download
# nbgrader's markers, spelled in two parts so that this very file (which is bundled) never contains them
_MARKERS = tuple(f"{word} {what}" for what in ("SOLUTION", "HIDDEN TESTS") for word in ("BEGIN", "END"))
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same course gives the same zip


# ----------------------------------------------------------------------------------- building
def requirements(course: Path, assignment: str, pin: bool = True) -> list[str]:
    """pip requirement strings for the grading image, torch first.

    Pinned to the versions installed here (the ones this course's tests ran with), so Gradescope
    gives the points `dlcourse grade` gives; `pin=False` uses pyproject.toml's ranges instead.
    """
    import importlib.metadata as md
    import tomllib

    deps = tomllib.loads((course / "pyproject.toml").read_text())["project"]["dependencies"]
    ranges = {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower(): d for d in deps}
    names = ["torch", *GRADING_DEPS]
    from autograder.course import Course

    suite = Course(course).suite(assignment).read_text()
    if "dlcourse.data" in suite:  # its datasets (digits) come from scikit-learn
        names.append("scikit-learn")
    out = []
    for name in names:
        version = None
        if pin:
            try:
                version = md.version(name).split("+")[0]  # 2.13.0+cpu -> 2.13.0
            except md.PackageNotFoundError:
                pass
        if version and re.fullmatch(r"\d+(\.\d+)*", version):
            out.append(f"{name}=={version}")
        else:
            out.append(ranges.get(name, name))
    return out


def bundle_files(course: Path, assignment: str) -> dict[str, Path]:
    """Zip name -> file on disk: the minimal course tree that grades `assignment` and no other."""
    files: dict[str, Path] = {}
    for name in ("pyproject.toml", "nbgrader_config.py"):
        files[f"course/{name}"] = course / name
    for package in ("autograder", "dlcourse"):
        for path in sorted((course / package).rglob("*.py")):
            rel = path.relative_to(course)
            if "__pycache__" in rel.parts or rel.parts[1:2] in (("samples",), ("suites",)):
                continue
            files[f"course/{rel.as_posix()}"] = path
    from autograder.course import Course

    c = Course(course)
    files[f"course/{c.suite(assignment).relative_to(course).as_posix()}"] = c.suite(assignment)
    files[f"course/{c.release(assignment).relative_to(course).as_posix()}"] = c.release(assignment)
    return files


def outer_timeout(assignment: str) -> int:
    """Seconds run_autograder waits for the grader: its own hard limit, its fallback run, start-up."""
    from autograder import assignments
    from autograder.limits import FATAL_SECONDS, START_SECONDS

    return int(assignments.get(assignment).limits.session_seconds + FATAL_SECONDS + START_SECONDS + 60)


def setup_sh(assignment: str, reqs: list[str]) -> str:
    """The image build script: works on Ubuntu 22.04 (Python 3.10 only: adds 3.11) and 24.04 (PEP 668)."""
    torch, rest = reqs[0], reqs[1:]
    return f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, on its Ubuntu image, to build the image that grades
# {assignment}: a Python >= 3.11 virtual environment with the CPU build of torch and the grader's
# dependencies (a venv, because Ubuntu 24.04's system pip refuses to install: PEP 668).
set -euxo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
export DEBIAN_FRONTEND=noninteractive
py_ok() {{ command -v "$1" >/dev/null && "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; }}
PY=""
for c in python3 python3.13 python3.12 python3.11; do
  if py_ok "$c"; then PY="$c"; break; fi
done
if [ -z "$PY" ]; then
  apt-get update
  apt-get install -y --no-install-recommends python3 python3-venv ca-certificates
  if py_ok python3; then PY=python3; else
    apt-get install -y --no-install-recommends python3.11 python3.11-venv  # Ubuntu 22.04 ships 3.10
    PY=python3.11
  fi
fi
if ! "$PY" -m venv "$ROOT/venv"; then  # Debian's Python needs pythonX.Y-venv for ensurepip
  apt-get update
  VER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  apt-get install -y --no-install-recommends "python$VER-venv"
  rm -rf "$ROOT/venv"
  "$PY" -m venv "$ROOT/venv"
fi
VPY="$ROOT/venv/bin/python"
"$VPY" -m pip install --no-cache-dir --upgrade pip
"$VPY" -m pip install --no-cache-dir {shlex.quote(torch)} --index-url {TORCH_INDEX}
"$VPY" -m pip install --no-cache-dir {" ".join(shlex.quote(r) for r in rest)}
"$VPY" -c 'import torch, pytest, pytest_timeout, nbformat, einops, tqdm; print("torch", torch.__version__)'
"""


def run_autograder_sh(assignment: str, timeout: int) -> str:
    """The entry point: a thin bash shell around `python -m dlcourse.gradescope`, so that even a
    Python that cannot start leaves a results.json that says so (Gradescope shows nothing otherwise)."""
    # if Python cannot even start, bash writes this (RC becomes the exit status): never no results.json
    fallback = json.dumps(failure_result(assignment, "the autograder could not start (exit RC); this is not "
                                                     "your fault, please tell your instructor"))
    assert "'" not in fallback
    fallback = fallback.replace("RC", "'\"$rc\"'")
    return f"""#!/usr/bin/env bash
# Gradescope's entry point: grade $AUTOGRADER_ROOT/submission/*.ipynb ({assignment}) with the course's
# own runner and always leave $AUTOGRADER_ROOT/results/results.json behind, even if Python is broken.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
COURSE="$ROOT/source/course"
RESULTS="$ROOT/results/results.json"
PY="$ROOT/venv/bin/python"
[ -x "$PY" ] || PY="$(command -v python3 || echo python3)"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
cd "$COURSE" || echo "run_autograder: no course at $COURSE"
PYTHONPATH="$COURSE" DLCOURSE_ROOT="$COURSE" "$PY" -m dlcourse.gradescope \\
  --root "$ROOT" --assignment {assignment} --timeout {timeout}
rc=$?
if [ ! -s "$RESULTS" ]; then
  printf '%s\\n' '{fallback}' > "$RESULTS"
fi
exit 0
"""


def build_zip(course: Path, assignment: str, out: Path, *, pin: bool = True) -> list[str]:
    """Write Gradescope's autograder zip for `assignment`; returns the names it holds.

    Refuses (CourseError) when the assignment has no suite or release, or when any bundled file
    carries a solution marker: the zip must never leak answers, even from a stale release.
    """
    from autograder.course import Course, CourseError

    Course(course).check(assignment)
    files = bundle_files(course, assignment)
    for name, path in files.items():
        text = path.read_text(encoding="utf-8", errors="replace")
        markers = _MARKERS if name.endswith(".ipynb") else _MARKERS[:2]  # code may name the hidden-test marker
        if any(marker in text for marker in markers):
            raise CourseError(f"{path} contains a solution or hidden-test marker: run `dlcourse release "
                              f"{assignment}` first")
    timeout = outer_timeout(assignment)
    scripts = {"setup.sh": setup_sh(assignment, requirements(course, assignment, pin)),
               "run_autograder": run_autograder_sh(assignment, timeout)}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in scripts.items():
            _add(zf, name, text.encode(), executable=True)
        for name, path in files.items():
            _add(zf, name, path.read_bytes(), executable=False)
    tmp.replace(out)
    return [*scripts, *files]


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.create_system = 3  # Unix, so unzip honours the mode bits below
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


# ---------------------------------------------------------------------- inside Gradescope's image
def choose_notebook(submission: Path, assignment: str) -> tuple[Path | None, str]:
    """The notebook to grade, and a note for the student (empty when nothing needs saying).

    The one named `<assignment>.ipynb` (the shallowest if a zip nested it), else the only notebook,
    else none, with a reason that says what to submit.
    """
    want = f"{assignment}.ipynb"
    found = sorted(
        (p for p in submission.rglob("*.ipynb") if p.is_file()
         and not any(part.startswith(".") or part == "__MACOSX" for part in p.relative_to(submission).parts)),
        key=lambda p: (len(p.relative_to(submission).parts), str(p)),
    )
    rel = [str(p.relative_to(submission)) for p in found]
    named = [p for p in found if p.name == want]
    if named:
        depth = [len(p.relative_to(submission).parts) for p in named]
        if depth.count(depth[0]) > 1:
            return None, f"several notebooks are named {want} ({', '.join(rel[:10])}): submit exactly one"
        others = [r for p, r in zip(found, rel) if p != named[0]]
        return named[0], (f"graded {named[0].relative_to(submission)}; not graded: {', '.join(others[:10])}"
                          if others else "")
    if len(found) == 1:
        return found[0], f"graded {rel[0]} (expected a notebook named {want})"
    if not found:
        try:
            names = sorted(str(p.relative_to(submission)) for p in submission.rglob("*") if p.is_file())
        except OSError:
            names = []
        got = f" (received: {', '.join(names[:10])})" if names else ""
        return None, f"no notebook (.ipynb) was submitted{got}: upload {want}"
    return None, (f"{len(found)} notebooks were submitted ({', '.join(rel[:10])}) and none is named {want}: "
                  f"submit only {want}")


def failure_result(assignment: str, reason: str, seconds: float = 0.0) -> dict:
    """A results.json worth 0 that says why nothing was graded (same wording as `dlcourse grade`)."""
    return {
        "score": 0.0,
        "execution_time": round(seconds, 3),
        "output": f"Could not grade this notebook: {reason}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
        "extra_data": {"assignment": assignment, "fatal": reason},
    }


def grade_submission(root: Path, assignment: str, timeout: float) -> dict:
    """Grade what Gradescope put in `root`/submission; always writes and returns a results.json.

    The grader is `python -m dlcourse.cli grade` on the bundled course (`root`/source/course) in a
    child process of its own session, killed as a group if it outlives `timeout`.
    """
    started = time.monotonic()
    results = root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.unlink(missing_ok=True)
    course = root / "source" / "course"
    notebook, note = choose_notebook(root / "submission", assignment)
    if notebook is None:
        result = failure_result(assignment, note, time.monotonic() - started)
    else:
        result = _run_grader(course, assignment, notebook.resolve(), results, timeout, started)
        if note:
            result["output"] = f"Note: {note}\n{result.get('output', '')}"
    result.setdefault("stdout_visibility", "hidden")  # the log below is for instructors only
    results.write_text(json.dumps(result, indent=1))
    _log(f"results.json: {result['score']:g} points; {(result['output'].splitlines() or [''])[0]}")
    return result


def _log(text: str) -> None:
    """The instructor's log (Gradescope's autograder output): a closed stdout must not cost a grade."""
    try:
        print(text, flush=True)
    except (OSError, ValueError):
        pass


def _run_grader(course: Path, assignment: str, notebook: Path, results: Path, timeout: float,
                started: float) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DLCOURSE_ROOT", "PYTHONHOME")}
    env.update(PYTHONPATH=str(course), DLCOURSE_ROOT=str(course))
    cmd = [sys.executable, "-m", "dlcourse.cli", "--course", str(course), "grade", assignment, str(notebook),
           "--json", str(results), "--force", "-v"]
    _log("$ " + " ".join(shlex.quote(c) for c in cmd))
    proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", start_new_session=True)
    try:
        log, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        log, _ = proc.communicate()
        _log(log)
        return failure_result(assignment, f"grading did not finish within {timeout:.0f} s",
                              time.monotonic() - started)
    _log(log)
    try:
        result = json.loads(results.read_text())
        if not isinstance(result.get("tests"), list) or "score" not in result:
            raise ValueError("not a results.json")
        return result
    except (OSError, ValueError, AttributeError):
        lines = [ln for ln in log.strip().splitlines() if ln.strip()]
        # the CLI's own one-line errors are written for people; anything else (a traceback) stays in the log
        why = lines[-1][:300] if lines and lines[-1].startswith("dlcourse ") else f"exit status {proc.returncode}"
        return failure_result(assignment, f"the grader failed ({why}); this is not your fault, please tell "
                                          "your instructor", time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="run inside Gradescope's image by run_autograder")
    p.add_argument("--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder")))
    p.add_argument("--assignment", required=True)
    p.add_argument("--timeout", type=float, required=True)
    a = p.parse_args(argv)
    try:
        grade_submission(a.root, a.assignment, a.timeout)
    except Exception as exc:  # noqa: BLE001 - whatever happens, Gradescope gets a results.json
        out = a.root / "results" / "results.json"
        try:
            json.loads(out.read_text())["tests"]  # already written: keep the grade
        except (OSError, ValueError, KeyError, TypeError):
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(failure_result(a.assignment, f"the autograder failed ({type(exc).__name__}); "
                                                     "this is not your fault, please tell your instructor")))
        raise
    return 0


# ---------------------------------------------------------------------------------------- CLI
def cmd_gradescope(args: argparse.Namespace) -> int:
    """`dlcourse gradescope ASSIGNMENT -o OUT.zip`."""
    from .cli import _course

    course = _course(args)
    out = Path(args.output) if args.output else Path(f"{args.assignment}-gradescope.zip")
    names = build_zip(course, args.assignment, out, pin=not args.no_pin)
    minutes = -(-outer_timeout(args.assignment) // 60)
    print(f"wrote {out} ({len(names)} files: setup.sh, run_autograder, the {args.assignment} suite and release)")
    print(f"Gradescope: upload it as the autograder (Ubuntu base image); set its timeout to at least {minutes} min.")
    print("It holds the hidden suite: an instructor artefact, never for students.")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `gradescope` on the `dlcourse` command line."""
    g = subparsers.add_parser("gradescope", help="build Gradescope's autograder zip for one assignment")
    g.add_argument("assignment")
    g.add_argument("-o", "--output", help="zip to write (default: ASSIGNMENT-gradescope.zip)")
    g.add_argument("--no-pin", action="store_true",
                   help="setup.sh installs pyproject.toml's version ranges, not this machine's versions")
    g.set_defaults(func=cmd_gradescope)


if __name__ == "__main__":
    sys.exit(main())
