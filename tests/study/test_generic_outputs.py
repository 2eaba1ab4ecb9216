"""A study on a panel that is not the CBEC one prints nothing about the CBEC paper.

The generic analyses carry no paper-specific notes: Broadband China as the concurrent policy and the COVID years as
the dropped periods are settings of the CBEC study file (src/pilotdid/studies/cbec/study.toml), not defaults.
The panel here is SYNTHETIC: 40 "US states", 2010-2022 (so 2020-2021 are in it), staggered adoption.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

import pilotdid as pdid

#: words only the CBEC paper's notes use (English and Chinese)
CBEC_WORDS = re.compile(r"broadband|covid|宽带|疫情|pandemic", re.IGNORECASE)


def _state_panel() -> pd.DataFrame:
    rng = np.random.default_rng(2016)
    states = [f"S{i:02d}" for i in range(40)]
    adoption = dict(zip(states, rng.choice([0, 2014, 2016, 2018, 2020], size=len(states))))
    rows = []
    for s in states:
        level = rng.normal()
        for year in range(2010, 2023):
            g = adoption[s]
            treated = g > 0 and year >= g
            x1, x2 = rng.normal(), rng.normal()
            rows.append({"state": s, "year": year, "adopt_year": g, "x1": x1, "x2": x2,
                         "y": level + 0.1 * (year - 2010) + 0.3 * treated + 0.2 * x1 + rng.normal(scale=0.5)})
    return pd.DataFrame(rows)


def test_no_cbec_notes_on_a_us_state_panel(tmp_path):
    _state_panel().to_csv(tmp_path / "states.csv", index=False)
    study = {"study": {"name": "us_states", "seed": 3},
             "data": {"panel": "states.csv", "unit": "state", "time": "year"},
             "treatment": {"first_treat": "adopt_year"},
             "model": {"outcome": "y", "controls": ["x1", "x2"], "fixed_effects": ["state", "year"],
                       "cluster": "state", "vcov": "reghdfe"},
             "analyses": {"baseline": {}, "event_study": {}, "placebo": {"draws": 19}, "robustness": {},
                          "pretrends": {}, "wild_bootstrap": {"reps": 99}}}
    res = pdid.run_study(study, base_dir=tmp_path)
    out = res.write(tmp_path / "out")
    texts = {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8", errors="replace")
             for p in out.rglob("*") if p.is_file() and p.suffix in {".json", ".md", ".csv", ".html", ".tex", ".txt"}}
    assert "results.json" in texts and any(name.startswith("tables/") for name in texts)
    hits = {name: sorted(set(m.group(0).lower() for m in CBEC_WORDS.finditer(text))) for name, text in texts.items()}
    assert not {name: words for name, words in hits.items() if words}
    # generic file names (no paper's numbering), every one declared for [study] outputs
    from pilotdid.study.options import output_names

    stems = {p.name.split(".")[0] for folder in ("tables", "figures") for p in (out / folder).iterdir()}
    assert not [s for s in stems if re.match(r"(table|figure)\d", s)]
    assert {"event_study", "event_study_coefficients", "placebo", "placebo_summary", "robustness"} <= stems
    assert stems <= set(output_names()), stems - set(output_names())
    # the periods check runs only when asked for, under a generic key
    cols = {r["column"] for r in res.to_dict()["estimates"] if r.get("table") == "robustness"}
    assert "no_covid" not in cols and "drop_periods" not in cols and "concurrent_policy" not in cols
    again = pdid.run_study({**study, "analyses": {"robustness": {"drop_periods": [2020, 2021]}}}, base_dir=tmp_path)
    cols = {r["column"] for r in again.to_dict()["estimates"] if r.get("table") == "robustness"}
    assert "drop_periods" in cols
