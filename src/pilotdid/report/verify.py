"""``pilotdid verify``: the re-run lives next to the runner (:mod:`pilotdid.study.verify`); this binds the writer."""

from __future__ import annotations

from pathlib import Path

from pilotdid.report.output import write_output
from pilotdid.study.verify import VerifyReport
from pilotdid.study.verify import verify_output as _verify_output

__all__ = ["VerifyReport", "verify_output"]


def verify_output(folder: Path) -> VerifyReport:
    """Re-run an output folder from its manifest and compare every file (see :mod:`pilotdid.study.verify`)."""
    return _verify_output(folder, write_output=write_output)
