"""The list-of-tables options (heterogeneity splits, mechanism mediators) share one check each for the list and
for an entry's keys; the messages name the option, the entry and the fix as they did before the merge."""

from __future__ import annotations

import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.estimation.heterogeneity import GroupSplit
from pilotdid.estimation.mediation import MediatorSpec
from pilotdid.study.analyses._common import table_list


def test_entry_must_be_a_table_with_known_keys():
    with pytest.raises(PilotdidInputError, match=r"^W: a split must be a table, got 'x' -- fix: e\.g\. \{name"):
        GroupSplit.from_options("x", "W")
    with pytest.raises(PilotdidInputError, match=r"^W: unknown key 'colum' -- fix: use only: at, column, labels"):
        GroupSplit.from_options({"name": "s", "colum": "c"}, "W")
    with pytest.raises(PilotdidInputError, match=r"^W: a mediator must be a table, got 3 -- fix: e\.g\. \{name = \"Dig\""):
        MediatorSpec.from_options(3, "W")
    with pytest.raises(PilotdidInputError, match=r"unknown key 'pcaa' -- fix: use only: column, label, name, note, pca,"):
        MediatorSpec.from_options({"name": "m", "pcaa": 1}, "W")


def test_option_must_be_a_non_empty_list():
    with pytest.raises(PilotdidInputError, match=r"^\[a\] splits: no splits given -- fix: add splits = \[\]"):
        table_list({}, "splits", "[a]", add="splits = []", example="splits = [{}]")
    with pytest.raises(PilotdidInputError, match=r"splits must be a non-empty list of tables, got \[\] -- fix: e\.g\."):
        table_list({"splits": []}, "splits", "[a]", add="splits = []", example="splits = [{}]")
    assert table_list({"splits": [{"a": 1}]}, "splits", "[a]", add="", example="") == [{"a": 1}]
