"""Indicator systems: the shipped ones load, bad files fail with one line naming file, indicator and key."""

from __future__ import annotations

import pytest

from pilotdid.errors import PilotdidInputError
from pilotdid.measures import builtin_systems, load_indicator_system

PANEL_VARIABLES = {
    "gdp", "gdp_per_capita", "population", "land_area", "tertiary_share", "industrial_advancement", "deposits", "loans",
    "loan_deposit_ratio", "fiscal_revenue", "fiscal_expenditure", "fiscal_self_sufficiency", "science_expenditure",
    "science_share", "urban_disposable_income", "exports", "exports_gdp", "fdi_usd", "fdi_yuan", "urbanisation_rate",
    "unemployment_rate", "tertiary_employment_share", "it_employment_share", "digital_finance_index",
    "green_invention_apps", "agg", "open_exports", "invest", "tec", "market", "registered_unemployed",
    "education_expenditure", "smoke_dust",
}


def test_builtins_listed():
    assert {"cbec_resilience", "cbec_resilience_proxy", "cbec_digital"} <= set(builtin_systems())


def test_paper_system_has_17_indicators_with_published_weights():
    system = load_indicator_system("cbec_resilience")
    assert len(system.indicators) == 17
    assert system.dimensions == ["resistance_recovery", "adaptation_adjustment", "innovation_transformation"]
    weights = [ind.published_weight for ind in system.indicators]
    assert all(w is not None for w in weights)
    assert sum(weights) == pytest.approx(1.0, abs=1e-6)  # published Table 1 values, rounded by the paper
    assert system.get("patents_granted").published_weight == 0.3210549
    assert system.get("household_savings").status == "unavailable"
    # every used indicator reads a column the real panel promises
    assert {ind.column for ind in system.used} <= PANEL_VARIABLES
    assert sum(ind.sign == "-" for ind in system.indicators) == 3


def test_proxy_variant_differs_only_by_two_labelled_proxies():
    base, proxy = load_indicator_system("cbec_resilience"), load_indicator_system("cbec_resilience_proxy")
    changed = {a.name for a, b in zip(base.indicators, proxy.indicators) if a != b}
    assert changed == {"household_savings", "patents_granted"}
    assert proxy.get("household_savings").column == "deposits"
    assert proxy.get("patents_granted").column == "green_invention_apps"
    assert all(ind.status == "proxy" and "PROXY" in ind.proxy_note for ind in (proxy.get("household_savings"), proxy.get("patents_granted")))


def test_digital_system():
    system = load_indicator_system("cbec_digital")
    assert [ind.column for ind in system.used] == ["digital_finance_index", "it_employment_share"]
    assert len(system.indicators) == 5


def test_load_from_file(system_path):
    system = load_indicator_system(system_path)
    assert system.unit == "city" and [i.name for i in system.used] == ["a", "b", "c"]
    assert system.get("b").sign == "-"


GOOD = 'unit = "city"\ntime = "year"\n'


@pytest.mark.parametrize(
    "body, expected",
    [
        ('time = "year"\n[[indicator]]\nname="a"\ndimension="d"\nsign="+"\n', "key 'unit'"),
        (GOOD, "no [[indicator]]"),
        (GOOD + '[[indicator]]\nname="a"\ndimension="d"\nsign="up"\n', "indicator 'a': key 'sign'"),
        (GOOD + '[[indicator]]\nname="a"\nsign="+"\n', "indicator 'a': key 'dimension'"),
        (GOOD + '[[indicator]]\nname="a"\ndimension="d"\nsign="+"\nweight=0.3\n', "indicator 'a': unknown key 'weight'"),
        (GOOD + '[[indicator]]\nname="a"\ndimension="d"\nsign="+"\nstatus="maybe"\n', "key 'status'"),
        (GOOD + '[[indicator]]\nname="a"\ndimension="d"\nsign="+"\nstatus="proxy"\n', "proxy_note"),
        (GOOD + '[[indicator]]\nname="a"\ndimension="d"\nsign="+"\npublished_weight=2\n', "published_weight"),
        (GOOD + '[[indicator]]\nname="a"\ndimension="d"\nsign="+"\n[[indicator]]\nname="a"\ndimension="d"\nsign="+"\n', "appears twice"),
        (GOOD + '[[indicator]]\nname="a"\ndimension="d"\nsign="+"\nstatus="unavailable"\n', "every indicator is unavailable"),
        (GOOD + 'colour = "red"\n[[indicator]]\nname="a"\ndimension="d"\nsign="+"\n', "unknown top-level key 'colour'"),
        ('unit = "city\n', "not valid TOML"),
    ],
)
def test_bad_systems_name_file_indicator_and_key(tmp_path, body, expected):
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(PilotdidInputError) as info:
        load_indicator_system(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_unknown_builtin_and_missing_file(tmp_path):
    with pytest.raises(PilotdidInputError, match="unknown indicator system 'nope'"):
        load_indicator_system("nope")
    with pytest.raises(PilotdidInputError, match="not found"):
        load_indicator_system(tmp_path / "missing.toml")


def test_unicode_minus_accepted(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(GOOD + '[[indicator]]\nname="a"\ndimension="d"\nsign="\u2212"\n', encoding="utf-8")
    assert load_indicator_system(path).get("a").sign == "-"
