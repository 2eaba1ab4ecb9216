"""One real-data replication per language, shared by the report tests (each run takes ~30 s)."""

from __future__ import annotations

import pytest

from pilotdid.cli import main


def _replicate(out, *extra: str):
    code = main(["replicate", "--out", str(out), "--draws", "49", "--quiet", *extra])
    assert code == 0
    return out


@pytest.fixture(scope="session")
def replication(tmp_path_factory):
    """`pilotdid replicate` (English) with 49 placebo draws."""
    return _replicate(tmp_path_factory.mktemp("rep") / "replication")


@pytest.fixture(scope="session")
def replication_zh(tmp_path_factory):
    """`pilotdid replicate --lang zh` with 49 placebo draws."""
    return _replicate(tmp_path_factory.mktemp("rep_zh") / "replication", "--lang", "zh")
