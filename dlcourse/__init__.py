"""dlcourse: helpers that the course notebooks import, and the `dlcourse` command line.

Submodules: `data` (bundled datasets, no download), `device` (pick cuda/mps/cpu),
`plots` (figures shared by lectures), `cli` (the `dlcourse` command).
"""

__version__ = "0.1.0"
