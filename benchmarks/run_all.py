"""Run every benchmark in this folder, each writing its table to benchmarks/results/ (make bench).

Each script compares pilotdid with its peers in the same run and reports the ratio; a peer that is not installed
or fails makes the run fail (exit 1), it is never left out silently. Each runs with its defaults (2.5k and 56k
rows); run a script directly for its own options, e.g. `estimators_benchmark.py --sizes firm` for 1,000,000 rows.
The peers come from the `bench` extra (`make bench` installs it into .venv-bench).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("estimators_benchmark.py", "placebo_benchmark.py", "staggered_benchmark.py", "scale_benchmark.py",
           "toolkit_benchmark.py")


def main() -> int:
    failed = []
    for name in SCRIPTS:
        script = HERE / name
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(script)]).returncode != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    print(f"results in {HERE / 'results'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
