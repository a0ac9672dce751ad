"""`dlcourse lab [PATH]`: JupyterLab as a student should see it.

Installing the course installs nbgrader, and with it the instructor's JupyterLab extensions: the "Create
Assignment" side panel, the formgrader and the course list. A student needs only the Validate button (and the
assignment list, to fetch and submit through an exchange). nbgrader documents turning the others off per user
with `jupyter labextension disable`; this command does the same for one JupyterLab session without touching
the user's own Jupyter configuration: it puts a small config folder first on JUPYTER_CONFIG_PATH, which
disables those plugins and the formgrader's server extension, and the "Would you like to get news?" popup.
Kernels get one OpenMP thread unless OMP_NUM_THREADS says otherwise (see `student_env`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# nbgrader 0.9's instructor plugins (the student keeps validate-assignment and assignment-list)
INSTRUCTOR_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                      "@jupyter/nbgrader:course-list")
QUIET_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)  # the news popup on first start
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")


def student_config_dir(root: Path | None = None) -> Path:
    """A Jupyter config folder that turns the instructor's extensions off (written fresh each time)."""
    root = root or Path(tempfile.gettempdir()) / f"dlcourse-student-jupyter-{os.getuid()}"
    (root / "labconfig").mkdir(parents=True, exist_ok=True)
    page = {"disabledExtensions": {p: True for p in (*INSTRUCTOR_PLUGINS, *QUIET_PLUGINS)}}
    (root / "labconfig" / "page_config.json").write_text(json.dumps(page, indent=1) + "\n")
    server = {"ServerApp": {"jpserver_extensions": {e: False for e in INSTRUCTOR_SERVER_EXTENSIONS}}}
    (root / "jupyter_server_config.json").write_text(json.dumps(server, indent=1) + "\n")
    return root


def student_env(config: Path) -> dict[str, str]:
    """The server's environment, which every kernel inherits. One OpenMP thread unless OMP_NUM_THREADS is set:
    the course trains many tiny models, and on a busy machine several threads per tiny matrix product spin
    against each other (lecture 04b took 188 s with torch's default threads under load, 30 s with one)."""
    env = dict(os.environ)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(config), env.get("JUPYTER_CONFIG_PATH")]))
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def lab_command(path: Path, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={path}", *extra]
    if os.geteuid() == 0 and "--allow-root" not in extra:
        cmd.append("--allow-root")  # containers often run as root; Jupyter refuses it without this flag
    return cmd


def cmd_lab(args: argparse.Namespace) -> int:
    path = Path(args.path).resolve()
    if not path.is_dir():
        print(f"dlcourse lab: error: {args.path} is not a folder", file=sys.stderr)
        return 2
    env = student_env(student_config_dir())
    print(f"JupyterLab for students in {path} (no instructor extensions, OMP_NUM_THREADS={env['OMP_NUM_THREADS']}); "
          "stop it with Ctrl+C twice", flush=True)
    return subprocess.call(lab_command(path, args.jupyter_args), env=env)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `lab` on the `dlcourse` command line."""
    p = subparsers.add_parser("lab", help="JupyterLab for students: the Validate button, no instructor extensions")
    p.add_argument("path", nargs="?", default=".", help="folder to open (default: the current folder)")
    p.add_argument("jupyter_args", nargs=argparse.REMAINDER, help="passed to jupyter lab (e.g. --port 8890)")
    p.set_defaults(func=cmd_lab)
