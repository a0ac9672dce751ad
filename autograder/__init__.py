"""dlcourse's autograder: notebook extraction, an isolated runner, hidden suites, reports.

Pipeline (each stage one module):
  notebook.py   read a submission (plain JSON), pick out answer + setup cells by nbgrader grade_id
  static.py     scan the answer code (AST) for forbidden built-ins, per top-level name
  worker.py     the untrusted process: runs the answer code, answers calls, traps built-ins;
                started once as the warm zygote that forks every worker
  zygote.py     the grader's side of the zygote: fresh workers, their lifelines and pids
  sandbox.py    one submission's worker: cells, calls, CPU-second limits, output capture
  remote.py     what hidden tests see: `student.fn(...)` → a call in the worker → a plain value
  plugin.py     pytest plugin: the `student` fixture, points, per-test reasons
  session.py    one submission's grading run (pytest + the hidden suite, in a fork of the pool)
  pool.py       the warm grading server (one fork per submission) and its light client
  result.py     GradingResult: the one result type and its Gradescope/CSV/nbgrader forms
  grade.py      batches, resume, CSV
  nbgrader_glue.py, feedback.py  nbgrader preprocessors (same points) and offline-math feedback
  course.py, limits.py, assignments.py  course paths, every limit, the public facts per assignment
  suites/       hidden pytest suites, one per assignment (never released, never in a wheel)
"""
