"""What a treatment map shows: every prefecture of the city table in one late year, with the policy's assignment.

The figure (:func:`pilotdid.report.figures.treatment_map.treatment_map`) only draws; this module loads the city
table and assigns the treatment, with the same batches, treatment-year rule and county rule as a study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pilotdid.errors import PilotdidInputError


@dataclass
class MapAssignment:
    """The policy, the prefectures current in ``year`` and the treatment assignment on them."""

    policy: Any  # pilotdid.registry.Policy
    cities: pd.DataFrame
    assignment: Any  # pilotdid.registry.TreatmentAssignment
    year: int


def map_assignment(policy: Any = "cbec", batches: Any = None, *, rule: str = "approval_year",
                   county_rule: str = "parent", allow_unverified: bool = False) -> MapAssignment:
    """Assign ``policy`` (a name or a Policy) to every prefecture current two years after its last approval."""
    from pilotdid.data.cities import load_city_table
    from pilotdid.registry import assign_treatment, load_policy

    if county_rule == "drop":
        raise PilotdidInputError(
            "county_rule = drop has no meaning on a map", where="county_rule", fix="use parent or ignore"
        )
    pol = load_policy(policy) if not hasattr(policy, "entries") else policy
    entries = pol.select(batches)
    last_year = int(entries["approval_year"].max()) + 2  # late enough for every rule's shift
    cities = load_city_table()
    cities = cities.loc[(cities["valid_from"] <= last_year) & (cities["valid_to"] >= last_year)] \
        if {"valid_from", "valid_to"} <= set(cities.columns) else cities
    panel = pd.DataFrame({"city_id": cities["city_id"], "year": last_year})
    assignment = assign_treatment(
        panel, "city_id", "year", pol, batches=batches, rule=rule, county_rule=county_rule,
        allow_unverified=allow_unverified, allow_unmatched=True,
    )
    return MapAssignment(policy=pol, cities=cities, assignment=assignment, year=last_year)
