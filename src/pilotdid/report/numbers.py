"""How numbers print: fixed decimals without a negative zero, published values with their own decimals."""

from __future__ import annotations

import math
from typing import Any


class PublishedNumber(float):
    """A float read from a published-numbers file that remembers how it was printed.

    ``tomllib.loads(text, parse_float=PublishedNumber)`` keeps ``-0.230`` as ``-0.230`` (a plain
    float would print -0.23): a paper's trailing zeros are part of what it reports.
    """

    text: str

    def __new__(cls, text: str) -> PublishedNumber:
        obj = super().__new__(cls, text)
        obj.text = str(text).replace("_", "")
        return obj

    def __reduce__(self):  # pickles (worker processes) keep the printed form
        return (PublishedNumber, (self.text,))

    def __deepcopy__(self, memo):
        return self


def fmt_fixed(x: Any, digits: int) -> str:
    """``x`` with ``digits`` decimals; '' for None/NaN; never '-0.000' (a value that rounds to zero is 0.000)."""
    if x is None:
        return ""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(value):
        return ""
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text


def published_text(x: Any) -> str:
    """A published number as printed in its source: its own decimals (trailing zeros kept), no rounding."""
    if x is None:
        return ""
    if isinstance(x, PublishedNumber):
        return x.text
    if isinstance(x, str):
        return x
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    try:
        import numpy as np

        if isinstance(x, np.integer):
            return str(int(x))
    except ImportError:  # pragma: no cover
        pass
    return repr(float(x))


def published_decimals(x: Any) -> int | None:
    """How many decimals a published number was printed with (None when unknown)."""
    if isinstance(x, PublishedNumber):
        text = x.text.lower().split("e")[0]
        return len(text.split(".")[1]) if "." in text else 0
    return None
