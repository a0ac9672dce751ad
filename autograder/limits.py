"""Every limit of grading in one place: what a submission may use, and the wall limits derived from it.

Student code is limited in *CPU seconds* (what it computes), never in raw wall time alone, so
a score does not depend on how loaded the grading machine is. Code that sleeps or blocks instead
of computing (it uses almost no CPU) is stopped once the same number of wall seconds has passed,
and behind everything stands a wall limit `WALL_FACTOR` times the CPU limit (`TOTAL_WALL_FACTOR`
for a whole submission, which keeps Gradescope's container timeout within reach).
"""

from __future__ import annotations

from dataclasses import dataclass

WALL_FACTOR = 4.0  # two busy processes on each core make a call ~3x slower: a wall limit stays generous
TOTAL_WALL_FACTOR = 2.0  # the whole submission's wall limit: most submissions use a small part of their budget
IDLE_SHARE = 0.05  # a worker using less than this share of one CPU is sleeping or blocked, not slowed by load:
#                    it gets its CPU limit in wall seconds, no more
START_SECONDS = 30.0  # a warm worker is forked in milliseconds; this is for a machine under heavy load
FATAL_SECONDS = 120.0  # listing the suite with every test failed (trusted code, no student process)
GRACE_SECONDS = 60.0  # the trusted session's own work on top of the student's budget


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission's student process (SPEC §4)."""

    call_seconds: float = 20.0  # CPU seconds for one call into student code
    exec_seconds: float = 60.0  # CPU seconds for running one answer cell
    total_seconds: float = 300.0  # CPU seconds for all of the submission's calls and cells together
    memory_bytes: int = 4 << 30  # address space of the worker
    output_bytes: int = 64 << 10  # stdout/stderr kept (the rest is counted, then dropped)
    file_bytes: int = 64 << 20  # largest file the worker may write (scratch only)
    threads: int = 1

    @property
    def call_wall(self) -> float:
        return self.call_seconds * WALL_FACTOR

    @property
    def exec_wall(self) -> float:
        return self.exec_seconds * WALL_FACTOR

    @property
    def total_wall(self) -> float:
        return self.total_seconds * TOTAL_WALL_FACTOR

    @property
    def process_cpu_seconds(self) -> int:
        """RLIMIT_CPU of one worker process: the kernel's backstop behind the grader's own counting."""
        return int(self.total_seconds + self.exec_seconds) + 10

    @property
    def test_seconds(self) -> int:
        """pytest-timeout of one hidden test (trusted side): a test makes a few calls."""
        return int(3 * self.call_wall)

    @property
    def session_seconds(self) -> float:
        """Wall limit of a whole grading session; past it the session is killed and the
        submission is scored by a fallback run that names the reason."""
        return self.total_wall + GRACE_SECONDS
