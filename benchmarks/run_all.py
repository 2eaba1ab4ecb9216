"""Run every benchmark in this folder, each writing its table to benchmarks/results/ (make bench).

Each script compares pilotdid with its peer in the same run and reports the ratio; see the scripts'
docstrings for options (e.g. --big for the 1,000,000-row panels).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("placebo_benchmark.py", "staggered_benchmark.py", "scale_benchmark.py")


def main() -> int:
    failed = []
    for name in SCRIPTS:
        script = HERE / name
        if not script.exists():
            continue
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(script), *sys.argv[1:]]).returncode != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    print(f"results in {HERE / 'results'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
