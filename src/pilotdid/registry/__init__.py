"""Policy and city registries: who was treated when, on what evidence, and the city attributes for subgroups.

* :func:`list_policies`, :func:`load_policy`, :func:`load_policy_csv` - the policy lists
  (``cbec``, ``broadband``, ``lowcarbon`` and its variants, ``hsr``, or a user's CSV), each row with
  its verification status and sources (``lists/SOURCES.md``).
* :func:`assign_treatment`, :func:`policy_dummy` - a policy's treatment on a panel, with the
  treatment-year rule and county rule of :mod:`pilotdid.registry.rules` and a full account.
* :func:`pilotdid.registry.attributes.city_attributes` - province, region, resource-based, central
  city, size class, each with what it rests on.
"""

from pilotdid.registry.policies import (
    STATUS_FAMILIES,
    Policy,
    compare_lowcarbon_sample_list,
    list_policies,
    load_policy,
    load_policy_csv,
    parse_batches,
)
from pilotdid.registry.rules import (
    COUNTY_RULES,
    DEFAULT_COUNTY_RULE,
    DEFAULT_CUTOFF_MONTH,
    DEFAULT_RULE,
    TREATMENT_YEAR_RULES,
    treatment_years,
)
from pilotdid.registry.treatment import TreatmentAssignment, assign_treatment, policy_dummy

__all__ = [
    "COUNTY_RULES",
    "DEFAULT_COUNTY_RULE",
    "DEFAULT_CUTOFF_MONTH",
    "DEFAULT_RULE",
    "STATUS_FAMILIES",
    "TREATMENT_YEAR_RULES",
    "Policy",
    "TreatmentAssignment",
    "assign_treatment",
    "compare_lowcarbon_sample_list",
    "list_policies",
    "load_policy",
    "load_policy_csv",
    "parse_batches",
    "policy_dummy",
    "treatment_years",
]
