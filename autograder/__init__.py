"""dlcourse's autograder: notebook extraction, an isolated runner, hidden suites, reports.

Pipeline (each stage one module):
  notebook.py   read a submission, pick out answer + setup cells by nbgrader grade_id
  static.py     scan the answer code (AST) for forbidden built-ins, per top-level name
  worker.py     the untrusted process: runs the answer code, answers calls, traps built-ins
  remote.py     the trusted proxy: `student.fn(...)` → a call in the worker → a plain value
  plugin.py     pytest plugin: the `student` fixture, points, per-test reasons
  session.py    one submission's grading run (a trusted subprocess running pytest)
  grade.py      batch grading, Gradescope JSON, CSV, the tables `dlcourse grade` prints
  nbgrader_glue.py  nbgrader preprocessors so `nbgrader autograde` gives the same points
  suites/       hidden pytest suites, one per assignment (never released, never in a wheel)
"""
