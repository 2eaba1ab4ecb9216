"""Cross-check scripts: ``replicate.do`` (Stata: reghdfe, csdid, psmatch2) and ``replicate.R`` (R: fixest, did).

Both are generated from the study as run — its real column names, its standard-error preset, event window and base
period, Callaway–Sant'Anna options, PSM neighbours — and read ``analysis_panel.csv``, the exact analysis sample
pilotdid estimated on (written beside them: the study's columns, the treatment dummy under the study's treatment name
and ``first_treat``, 0 = never treated in the window). A Stata or R user reruns the baseline, the event study and CS
in their own tool and compares with results.json. Nothing here runs Stata or R.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

PANEL_FILE = "analysis_panel.csv"
DO_FILE = "replicate.do"
R_FILE = "replicate.R"
FILES = (PANEL_FILE, DO_FILE, R_FILE)
#: pilotdid's Callaway–Sant'Anna estimation methods, as csdid's method() and R did's est_method
_CSDID_METHOD = {"dr": "dripw", "ipw": "stdipw", "reg": "reg"}


def _design(run) -> dict:
    ctx = run.context
    model = ctx.model
    analyses = run.spec.analyses
    event = analyses.get("event_study", {})
    staggered = analyses.get("staggered", {})
    robustness = analyses.get("robustness", {})
    treat = ctx.treatment_name
    first_treat = "first_treat" if "first_treat" not in ctx.panel.columns or "first_treat" == treat else "first_treat_g"
    fixed_effects = list(model.fixed_effects) or [ctx.unit, ctx.time]
    return {
        "name": run.spec.name, "unit": ctx.unit, "time": ctx.time, "outcome": model.outcome,
        "controls": list(model.controls), "fixed_effects": fixed_effects, "cluster": model.cluster or ctx.unit,
        "vcov": model.vcov, "treat": treat, "first_treat": first_treat,
        "window": tuple(event.get("window", (-4, 4))), "base": int(event.get("base", -1)),
        "cs_control": staggered.get("control_group", "never_treated"), "cs_method": staggered.get("est_method", "dr"),
        "cs_base": staggered.get("base_period", "universal"), "cs_draws": int(staggered.get("draws", 999)),
        "cs_covariates": staggered.get("covariates", "controls") == "controls",
        "cs_window": tuple(staggered.get("window", event.get("window", (-4, 4)))),
        "psm_k": int(robustness.get("psm_k", 3)), "seed": int(ctx.seed),
        "has_event_study": "event_study" in analyses, "has_cs": "cs" in staggered.get("estimators", ["cs"]),
        "event_study_table": ctx.output_name("event_study_coefficients"),
        "has_psm": "robustness" in analyses,
        # [model] weights: analytic weights in every command (Stata [aweight=], csdid [iweight=], fixest weights =,
        # R did weightsname), so the scripts check the weighted numbers pilotdid reports
        "weights": model.weights,
    }


def analysis_panel(run, design: dict) -> pd.DataFrame:
    """The estimation sample with the columns both scripts use, treatment and first-treatment year named."""
    from pilotdid.study.context import FIRST_TREAT, TREAT

    panel = run.context.panel
    columns = list(dict.fromkeys([design["unit"], design["time"], design["outcome"], *design["controls"],
                                  *design["fixed_effects"], design["cluster"]]
                                 + ([design["weights"]] if design.get("weights") else [])))
    columns = [c for c in columns if c in panel.columns and c != design["treat"]]
    frame = panel[columns].copy()
    frame[design["treat"]] = panel[TREAT].astype(int).to_numpy()
    frame[design["first_treat"]] = panel[FIRST_TREAT].astype(int).to_numpy()
    return frame


def _stata_preset(d: dict, regressors: str) -> str:
    """The study's SE preset as the Stata command it mirrors, with the study's names (and analytic weights)."""
    y, fe, cl = d["outcome"], d["fixed_effects"], d["cluster"]
    if d.get("weights"):
        regressors = f"{regressors} [aweight = {d['weights']}]"
    dummies = " ".join(f"i.{f}" for f in fe)
    if d["vcov"] == "lsdv":
        return f"regress {y} {regressors} {dummies}, vce(cluster {cl})"
    if d["vcov"] == "areg":
        rest = " ".join(f"i.{f}" for f in fe[1:])
        return f"areg {y} {regressors} {rest}, absorb({fe[0]}) vce(cluster {cl})"
    if d["vcov"] == "xtreg_fe":
        rest = " ".join(f"i.{f}" for f in fe[1:])
        return f"xtreg {y} {regressors} {rest}, fe vce(cluster {cl})"
    return f"reghdfe {y} {regressors}, absorb({' '.join(fe)}) vce(cluster {cl})"  # reghdfe; fixest's Stata twin


def _event_dummies(lo: int, hi: int, base: int) -> list[tuple[int, str]]:
    return [(k, f"ev_m{-k}" if k < 0 else f"ev_p{k}") for k in range(lo, hi + 1) if k != base]


def stata_script(d: dict, version: str) -> str:
    controls = " ".join(d["controls"])
    weights = d.get("weights")
    lo, hi = d["window"]
    ids = " ".join(dict.fromkeys([d["unit"], d["cluster"], *d["fixed_effects"]]))
    lines = [
        f"* {DO_FILE}: cross-check of pilotdid {version} study '{d['name']}' in Stata (generated; edit freely).",
        f"* Reads {PANEL_FILE}, the exact analysis sample pilotdid used; compare with results.json.",
        "* Needs once: ssc install reghdfe, ssc install ftools, ssc install csdid, ssc install drdid, ssc install psmatch2",
        "version 16",
        "clear all",
        "set more off",
        f'import delimited using "{PANEL_FILE}", clear case(preserve) encoding("utf-8") varnames(1)',
        "* string identifiers become numeric codes (xtset, reghdfe and csdid need numbers)",
        f"foreach v in {ids} {{",
        "    capture confirm string variable `v'",
        "    if !_rc {",
        "        encode `v', generate(`v'_code)",
        "        drop `v'",
        "        rename `v'_code `v'",
        "    }",
        "}",
        f"xtset {d['unit']} {d['time']}",
        "",
        f"* 1. Baseline DID, standard-error preset '{d['vcov']}' (pilotdid table 'baseline')",
        _stata_preset(d, d["treat"]),
    ]
    if controls:
        lines.append(_stata_preset(d, f"{d['treat']} {controls}"))
    if d["has_event_study"]:
        dummies = _event_dummies(lo, hi, d["base"])
        lines += ["", f"* 2. Event study: relative periods {lo}..{hi}, both ends binned, base period {d['base']} omitted;",
                  f"*    never-treated units are 0 in every dummy (pilotdid table '{d['event_study_table']}')",
                  f"generate rel_time = {d['time']} - {d['first_treat']} if {d['first_treat']} > 0"]
        for k, name in dummies:
            cond = f"rel_time <= {k}" if k == lo else f"rel_time >= {k}" if k == hi else f"rel_time == {k}"
            lines.append(f"generate byte {name} = ({cond}) & !missing(rel_time)")
        lines.append(_stata_preset(d, " ".join(n for _, n in dummies) + (f" {controls}" if controls else "")))
    if d["has_cs"]:
        options = [f"ivar({d['unit']})", f"time({d['time']})", f"gvar({d['first_treat']})",
                   f"method({_CSDID_METHOD.get(d['cs_method'], 'dripw')})"]
        if d["cs_control"] == "not_yet_treated":
            options.append("notyet")
        if d["cs_base"] == "universal":
            options.append("long2")
        if d["cs_draws"] > 0:
            options.append(f"wboot reps({d['cs_draws']}) rseed({d['seed']})")
        cs_lo, cs_hi = d["cs_window"]
        lines += ["", f"* 3. Callaway-Sant'Anna: control group {d['cs_control']}, base period {d['cs_base']}, "
                  f"method {d['cs_method']} (pilotdid table 'staggered' and results.json aggregates)",
                  f"csdid {d['outcome']} {controls if d['cs_covariates'] else ''}"
                  f"{f' [iweight = {weights}]' if weights else ''}, {' '.join(options)}".replace("  ", " "),
                  "estat simple",
                  f"estat event, window({cs_lo} {cs_hi})"]
    if d["has_psm"] and controls and not weights:  # a weighted study does not run the PSM-DID
        lines += ["", f"* 4. PSM-DID: logit score on the controls, {d['psm_k']} nearest neighbours with replacement,",
                  "*    common support; the DID on matched rows with the matching weights (pilotdid table 'robustness')",
                  f"psmatch2 {d['treat']} {controls}, logit neighbor({d['psm_k']}) common",
                  _stata_preset(d, f"{d['treat']} {controls}").replace(", ", " [aweight = _weight] if !missing(_weight), ", 1)]
    return "\n".join(lines) + "\n"


def _r(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z][A-Za-z0-9._]*", name) else f"`{name}`"


def _r_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def r_script(d: dict, version: str) -> str:
    y, treat, cl = _r(d["outcome"]), _r(d["treat"]), _r(d["cluster"])
    controls = " + ".join(_r(c) for c in d["controls"])
    fe = " + ".join(_r(f) for f in d["fixed_effects"])
    ssc = {"lsdv": 'ssc(fixef.K = "full")', "areg": 'ssc(fixef.K = "full")'}.get(d["vcov"], 'ssc(fixef.K = "nested")')
    lo, hi = d["window"]
    weights = f", weights = ~{_r(d['weights'])}" if d.get("weights") else ""
    lines = [
        f"# {R_FILE}: cross-check of pilotdid {version} study '{d['name']}' in R (generated; edit freely).",
        f"# Reads {PANEL_FILE}, the exact analysis sample pilotdid used; compare with results.json.",
        '# Needs once: install.packages(c("fixest", "did"))',
        "library(fixest)",
        "library(did)",
        f'panel <- read.csv({_r_string(PANEL_FILE)}, fileEncoding = "UTF-8", stringsAsFactors = FALSE, check.names = FALSE)',
        "",
        f"# 1. Baseline DID; small-sample convention of pilotdid's '{d['vcov']}' preset: {ssc}",
        f"baseline <- feols({y} ~ {treat}{' + ' + controls if controls else ''} | {fe}, data = panel, "
        f"cluster = ~{cl}, ssc = {ssc}{weights})",
        "summary(baseline)",
    ]
    if d["has_event_study"]:
        lines += [
            "",
            f"# 2. Event study: relative periods {lo}..{hi}, both ends binned, base period {d['base']};",
            "#    never-treated units sit in the reference group (-1000)",
            f"panel$rel_time <- ifelse(panel[[{_r_string(d['first_treat'])}]] > 0, "
            f"pmin(pmax(panel[[{_r_string(d['time'])}]] - panel[[{_r_string(d['first_treat'])}]], {lo}), {hi}), -1000)",
            f"event <- feols({y} ~ i(rel_time, ref = c({d['base']}, -1000)){' + ' + controls if controls else ''} | {fe}, "
            f"data = panel, cluster = ~{cl}, ssc = {ssc}{weights})",
            "summary(event)",
        ]
    if d["has_cs"]:
        xformla = f"~ {controls}" if d["cs_covariates"] and controls else "~ 1"
        control = "notyettreated" if d["cs_control"] == "not_yet_treated" else "nevertreated"
        cs_lo, cs_hi = d["cs_window"]
        lines += [
            "",
            f"# 3. Callaway-Sant'Anna (did::att_gt): control group {d['cs_control']}, base period {d['cs_base']}, "
            f"est_method {d['cs_method']}",
            f"panel$unit_code <- as.integer(factor(panel[[{_r_string(d['unit'])}]]))",
            f"set.seed({d['seed']})",
            f"cs <- att_gt(yname = {_r_string(d['outcome'])}, tname = {_r_string(d['time'])}, idname = \"unit_code\", "
            f"gname = {_r_string(d['first_treat'])}, xformla = {xformla}, data = panel, control_group = \"{control}\", "
            f"base_period = \"{d['cs_base']}\", est_method = \"{d['cs_method']}\", "
            f"bstrap = {'TRUE' if d['cs_draws'] > 0 else 'FALSE'}, biters = {max(d['cs_draws'], 1)}, "
            f"clustervars = \"unit_code\"{', weightsname = ' + _r_string(d['weights']) if d.get('weights') else ''})",
            'summary(aggte(cs, type = "simple", na.rm = TRUE))',
            f'summary(aggte(cs, type = "dynamic", min_e = {cs_lo}, max_e = {cs_hi}, na.rm = TRUE))',
        ]
    return "\n".join(lines) + "\n"


def write_crosscheck(run, folder: Path) -> list[Path]:
    """Write analysis_panel.csv, replicate.do and replicate.R into ``folder`` (deterministic bytes)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg_version = version("pilotdid")
    except PackageNotFoundError:  # a source checkout without an install
        pkg_version = "(source)"
    design = _design(run)
    panel_path = folder / PANEL_FILE
    analysis_panel(run, design).to_csv(panel_path, index=False, lineterminator="\n")
    do_path, r_path = folder / DO_FILE, folder / R_FILE
    do_path.write_text(stata_script(design, pkg_version), encoding="utf-8")
    r_path.write_text(r_script(design, pkg_version), encoding="utf-8")
    return [panel_path, do_path, r_path]
