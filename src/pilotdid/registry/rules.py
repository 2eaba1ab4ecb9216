"""Named conventions that turn an approval date into a first treated year, and sub-prefecture zones into panel units.

Treatment-year rules (``rule=``)
--------------------------------
``approval_year`` (default; the CBEC paper's rule)
    the unit is treated from the calendar year of the approval, whatever the month.
``next_year_if_after``
    approvals in a month *after* ``cutoff_month`` (default 7, i.e. August-December) count from the
    next year; an approval in the cut-off month itself stays in its year. CBEC batch 4 (signed
    2019-12-15) becomes 2020, batch 7 (2022-11-14) 2023; batch 3 (2018-07-24) stays 2018 with the
    default cut-off. Needs the approval month: lists without months are refused.
``lag``
    the approval year plus ``lag`` years (``lag`` >= 1).

``lag`` may also be added to the other two rules (``rule="next_year_if_after", lag=1``); the note
says so. Every assignment reports the rule it used.

County rule (``county_rule=``), for sub-prefecture zones
--------------------------------------------------------
A county-level city (义乌, 珲春, 绥芬河, 满洲里, 延吉, 同江, 阿拉山口), a district, a county or a new area
(雄安新区) is not a prefecture-level unit. On a prefecture panel:

``parent`` (default)
    the parent prefecture is treated from the zone's year (义乌 2018 -> 金华 from 2018, although
    金华 itself was designated only in 2022). Exposure is overstated for the rest of the prefecture.
``drop``
    the parent prefecture is removed from the sample (its treatment status is ambiguous).
``ignore``
    the zone is not coded; the parent is treated only by its own designation, if any.

The default is ``parent`` because a county-level zone's activity is reported in its prefecture's
statistics; every assignment lists each mapping so the choice is visible.
"""

from __future__ import annotations

import pandas as pd

from pilotdid.errors import PilotdidInputError

TREATMENT_YEAR_RULES = {
    "approval_year": "treated from the calendar year of approval (any month)",
    "next_year_if_after": "approvals after the cut-off month count from the next year",
    "lag": "treated from the approval year plus a lag of k years",
}
COUNTY_RULES = {
    "parent": "a sub-prefecture zone treats its parent prefecture from the zone's year",
    "drop": "the parent prefecture of a sub-prefecture zone is dropped from the sample",
    "ignore": "sub-prefecture zones are not coded; parents count only through their own designation",
}
DEFAULT_RULE = "approval_year"
DEFAULT_CUTOFF_MONTH = 7
DEFAULT_COUNTY_RULE = "parent"


def check_rule(rule: str, cutoff_month: int, lag: int) -> None:
    """Raise :class:`PilotdidInputError` for an unknown rule or an impossible cut-off / lag."""
    if rule not in TREATMENT_YEAR_RULES:
        raise PilotdidInputError(
            f"unknown treatment-year rule {rule!r}", where="rule", fix=f"choose one of {list(TREATMENT_YEAR_RULES)}"
        )
    if isinstance(cutoff_month, bool) or not isinstance(cutoff_month, int) or not 1 <= cutoff_month <= 12:
        raise PilotdidInputError(
            f"cutoff_month must be a month 1-12, got {cutoff_month!r}", where="cutoff_month",
            fix="e.g. cutoff_month = 7: approvals from August on count from the next year",
        )
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 0:
        raise PilotdidInputError(f"lag must be a whole number of years >= 0, got {lag!r}", where="lag", fix="e.g. lag = 1")
    if rule == "lag" and lag < 1:
        raise PilotdidInputError("rule 'lag' needs lag >= 1", where="lag", fix="set lag = 1 (or use rule approval_year)")


def check_county_rule(county_rule: str) -> None:
    if county_rule not in COUNTY_RULES:
        raise PilotdidInputError(
            f"unknown county rule {county_rule!r}", where="county_rule", fix=f"choose one of {list(COUNTY_RULES)}"
        )


def describe_rule(rule: str, cutoff_month: int = DEFAULT_CUTOFF_MONTH, lag: int = 0) -> str:
    """One sentence naming the rule and its parameters (printed in every assignment's notes)."""
    if rule == "approval_year":
        text = "treatment-year rule 'approval_year': treated from the calendar year of approval"
    elif rule == "next_year_if_after":
        text = (
            f"treatment-year rule 'next_year_if_after' (cut-off month {cutoff_month}): approvals in months "
            f"{cutoff_month + 1}-12 count from the next year" if cutoff_month < 12
            else "treatment-year rule 'next_year_if_after' (cut-off month 12): no approval moves to the next year"
        )
    else:
        text = f"treatment-year rule 'lag': treated from the approval year + {lag}"
    if lag and rule != "lag":
        text += f", plus a lag of {lag} year(s)"
    return text


def treatment_years(entries: pd.DataFrame, rule: str = DEFAULT_RULE, cutoff_month: int = DEFAULT_CUTOFF_MONTH, lag: int = 0) -> pd.Series:
    """First treated year of each entry (int Series aligned to ``entries``) under the rule.

    ``entries`` needs ``approval_year`` and, for ``next_year_if_after``, ``approval_month``; an entry
    without a month under that rule raises :class:`PilotdidInputError` naming it.
    """
    check_rule(rule, cutoff_month, lag)
    years = entries["approval_year"].astype(int)
    if rule == "next_year_if_after":
        months = entries["approval_month"]
        if months.isna().any():
            first = entries.loc[months.isna()].iloc[0]
            raise PilotdidInputError(
                f"rule next_year_if_after needs the approval month, but {first['entity_name']} "
                f"(batch {first['batch']}) has none ({int(months.isna().sum())} entries without a month)",
                where=f"{first.get('source_file', 'policy list')}, line {first.get('source_line', '?')}",
                fix="use rule approval_year or lag, or give approval_date as YYYY-MM",
            )
        years = years + (months.astype(int) > cutoff_month).astype(int)
    return (years + lag).astype(int)
