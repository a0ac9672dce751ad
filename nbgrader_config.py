"""nbgrader configuration for the course (SPEC §1). Paths are relative to this file's folder."""

import os
import warnings

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

# nbgrader 0.9 with SQLAlchemy 2 warns on every submission about objects "not in session" (harmless,
# nbgrader's own autoflush); warnings people learn to ignore hide the real ones.
warnings.filterwarnings("ignore", message=r"Object of type <\w+> not in session")

_here = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.root = _here
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_here, "gradebook.db")
# Only the notebook is released: nothing that sits beside a source notebook may leak.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.py", "*.json", "*.txt"]
c.Exchange.root = os.path.join(_here, ".exchange")  # never the default system path
c.Exchange.path_includes_course = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 120  # seconds per cell in `nbgrader autograde`
# The kernels nbgrader starts inherit this process's environment: one OpenMP thread, as the grader's workers use
# (the assignments train tiny models; on a busy machine several threads per tiny product spin against each other).
os.environ.setdefault("OMP_NUM_THREADS", "1")
c.Execute.interrupt_on_timeout = True
# ipykernel logs a warning about TCP without encryption at every kernel start (the kernel is local
# and short-lived); its own errors still show.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
c.OverwriteCells.add_missing_cells = True  # a deleted test cell comes back, and is scored

# Points come from the hidden suite, run outside the kernel (autograder/nbgrader_glue.py), so
# `nbgrader autograde` and `dlcourse grade` give the same points for the same notebook.
# DLCOURSE_STOCK_NBGRADER=1 switches the glue off (bench/grading.py measures plain nbgrader with it).
if os.environ.get("DLCOURSE_STOCK_NBGRADER") != "1":
    try:
        from autograder.nbgrader_glue import configure

        configure(c, _here)
    except ImportError as exc:  # the course package is not importable: plain nbgrader, and say so
        import sys

        print(f"nbgrader_config.py: the course's grader is not importable ({exc}); nbgrader scores grade cells "
              "in the student's kernel (plain nbgrader). `pip install -e .` in the course fixes it.", file=sys.stderr)
