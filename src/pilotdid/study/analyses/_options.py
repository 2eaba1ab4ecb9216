"""Option checking shared by every analysis module."""

from __future__ import annotations

from typing import Any

from pilotdid.errors import PilotdidInputError


def check_options(options: dict[str, Any], allowed: tuple[str, ...] | list[str], analysis: str) -> None:
    """Refuse unknown option keys: a typo would otherwise be silently ignored.

    ``analysis`` is the analysis name (``"baseline"``) or the full location (``"[analyses.baseline]"``).
    """
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        where = analysis if analysis.startswith("[") else f"[analyses.{analysis}]"
        valid = [a for a in allowed if a != "seed"]
        raise PilotdidInputError(
            f"unknown option(s) {', '.join(unknown)}", where=where,
            fix=f"valid options: {', '.join(valid)}" if valid else "this analysis takes no options",
        )
