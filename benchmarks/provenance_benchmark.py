"""What the manifest's code fingerprint and numerical versions cost beside a 500-row study.

Runs the SYNTHETIC 500-row study of benchmarks/small_study.py once in this process (baseline, event study, a
1,000-draw placebo, CS; written to a temporary folder), then times :func:`pilotdid.provenance.code_fingerprint`
and :func:`pilotdid.provenance.numerical_versions` -- the first call (as in a fresh ``pilotdid run``, which makes one
of each) and the median of further calls. One BLAS thread; timings on a shared machine are inflated.

Usage::

    python benchmarks/provenance_benchmark.py [--reps 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    args = parser.parse_args()
    from small_study import write_study

    from pilotdid.provenance import code_files, code_fingerprint, numerical_versions
    from pilotdid.report.output import write_output
    from pilotdid.study.runner import run_study
    from pilotdid.study.spec import load_study

    first_fingerprint = _timed(code_fingerprint)  # before the study: nothing of the source in the page cache yet
    with tempfile.TemporaryDirectory(prefix="pilotdid_provenance_") as tmp:
        study = write_study(Path(tmp))
        start = time.perf_counter()
        write_output(run_study(load_study(study)), Path(tmp) / "out", write_report=False)
        study_seconds = time.perf_counter() - start
    first_versions = _timed(numerical_versions)
    fingerprints = [_timed(code_fingerprint) for _ in range(args.reps)]
    versions = [_timed(numerical_versions) for _ in range(args.reps)]
    files = code_files()
    size = sum(p.stat().st_size for p in files) / 1e6
    both = first_fingerprint + first_versions
    print(f"500-row SYNTHETIC study (run + write, no report): {study_seconds:.2f} s")
    print(f"code_fingerprint over {len(files)} files ({size:.1f} MB): first {first_fingerprint * 1e3:.1f} ms, "
          f"median {statistics.median(fingerprints) * 1e3:.1f} ms")
    print(f"numerical_versions: first {first_versions * 1e3:.1f} ms, median {statistics.median(versions) * 1e3:.1f} ms")
    print(f"both, first calls: {both * 1e3:.1f} ms = {100 * both / study_seconds:.2f}% of the study")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
