"""When, where and under what load a benchmark ran: one line for the head of every table in benchmarks/results/.

Timings on a shared machine are inflated several-fold and unevenly; the load average at the start and end of a
script says how much to trust its absolute seconds (the ratios within one table are measured in the same run).
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GB RAM"
    except OSError:
        pass
    return "RAM unknown"


def _load() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        # the tables a run rewrites (benchmarks/results/) do not count as uncommitted changes of the code measured
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)benchmarks/results"], capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + (" (uncommitted changes)" if dirty else "") if out.returncode == 0 else "n/a"
    except (OSError, subprocess.SubprocessError):
        return "n/a"


class RunStamp:
    """Create at the start of a benchmark; :meth:`line` at the end gives date, machine, load (start and end)."""

    def __init__(self) -> None:
        self.started = datetime.now(UTC)
        self.load_start = _load()
        self.commit = _commit()  # before the run rewrites the tracked tables

    def line(self) -> str:
        import numpy as np

        ended = datetime.now(UTC)
        return (f"Run {self.started:%Y-%m-%d %H:%M}-{ended:%H:%M} UTC at commit {self.commit} on {_cpu_model()}, "
                f"{os.cpu_count()} logical CPUs, {_memory_gb()}; load average (1/5/15 min) {self.load_start} at the "
                f"start, {_load()} at the end; Python {sys.version.split()[0]}, numpy {np.__version__}; BLAS "
                f"limited to one thread.")
