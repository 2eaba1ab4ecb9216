"""Run every benchmark in this folder, each writing its table to benchmarks/results/ (make bench).

Each script compares pilotdid with its peer in the same run and reports the ratio. Each runs with its defaults;
run a script directly for its own options (e.g. `placebo_benchmark.py --big` for the 1,000,000-row panel).
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
        if subprocess.run([sys.executable, str(script)]).returncode != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    print(f"results in {HERE / 'results'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
