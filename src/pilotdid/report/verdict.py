"""The verdict: what the replication found, computed from the numbers and worded by rules.

For each published headline number (``[verdict] headline`` in the study's published.toml, or by
default the treatment coefficient of the last published baseline column) the verdict puts ours
beside it and classifies it:

* **confirmed** — our estimate has the paper's sign, is significant at ``alpha`` and the paper's
  value lies inside our 95% CI;
* **sign only** — the paper's sign and significant at ``alpha``, but the paper's value lies outside
  our 95% CI;
* **not confirmed** — the opposite sign, or not significant at ``alpha``.

It then adds, for the first (primary) headline, the evidence a referee asks for: the joint pre-trend
test of the event study, every robustness check and one-choice-at-a-time specification that does not
agree (agree = the paper's sign and p < ``alpha``), and the share of the specification curve that
agrees. Nothing is hard-coded: the same rules run for any study with a published.toml, and every
sentence is built from the numbers with the wording in :data:`VERDICT_TEXT` (one dict per language).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pilotdid.report.labels import resolve_label
from pilotdid.report.numbers import fmt_fixed, published_text

ALPHA = 0.05
STATUSES = ("confirmed", "sign_only", "not_confirmed")

#: Wording of the verdict, one dict per language (the message catalogue can take these over).
VERDICT_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Verdict",
        "heading": "{title}: {status}",
        "lang": "en",
        "item_sep": "; ",
        "choice": "{dimension}: {value}",
        "status.confirmed": "confirmed",
        "status.sign_only": "sign only",
        "status.not_confirmed": "not confirmed",
        "headline": "{label}: paper {paper}, ours {ours} (95% CI [{lo}, {hi}], p = {p}) — {status}.",
        "why.confirmed": "Same sign, significant at {alpha}%, and the paper's value lies inside our 95% CI.",
        "why.sign_only": "Same sign and significant at {alpha}%, but the paper's value lies outside our 95% CI.",
        "why.not_significant": "Same sign, but not significant at {alpha}% (p = {p}).",
        "why.opposite": "Opposite sign to the paper's.",
        "why.missing": "No counterpart in this run.",
        "pretrend.fail": "Pre-trends: the {q} leads are jointly significant ({test} = {stat}, p = {p}); parallel trends are in doubt.",
        "pretrend.pass": "Pre-trends: the {q} leads are jointly insignificant ({test} = {stat}, p = {p}).",
        "overturn.none": "None of the {n} robustness checks overturns it (all have the paper's sign and p < {alpha_dec}).",
        "overturn.some": "{k} of {n} robustness checks do not agree (wrong sign or p ≥ {alpha_dec}): {list}.",
        "overturn.some_null": "{k} of {n} robustness checks do not agree (p < {alpha_dec}, where the paper's estimate is not significant): {list}.",
        "overturn.none_null": "None of the {n} robustness checks is significant at {alpha_dec}, as the paper's estimate is not.",
        "curve_null": "Specification curve: {share}% of {n} specifications are, like the paper's estimate, not significant at {alpha_dec}.",
        "why.null_confirmed": "Not significant at {alpha}%, as the paper's estimate is not, and the paper's value lies inside our 95% CI.",
        "why.null_sign_only": "Not significant at {alpha}%, as the paper's estimate is not, but the paper's value lies outside our 95% CI.",
        "why.significant_vs_null": "Significant at {alpha}% (p = {p}), where the paper's estimate is not.",
        "overturn.item": "{label} {coef} (p = {p})",
        "curve": "Specification curve: {share}% of {n} specifications have the paper's sign and p < {alpha_dec}.",
        "honest": "HonestDiD: the effect survives violations of parallel trends up to M̄ = {m} times the largest pre-period violation.",
        "robust.all": "Heterogeneity-robust estimators: all {n} overall effects have the paper's sign and p < {alpha_dec}.",
        "robust.some": "Heterogeneity-robust estimators: {k} of {n} overall effects do not agree (wrong sign or p ≥ {alpha_dec}): {list}.",
        "twfe_weights": "TWFE weights (de Chaisemartin–D'Haultfœuille): {neg} of {cells} treated cells carry negative weights (sum {sum}); the TWFE coefficient is compatible with an average effect of zero if the effects vary with a standard deviation of {sigma} or more.",
        "dcdh_placebo": "did_multiplegt_dyn placebos are jointly significant (p = {p}): outcomes of treated and not-yet-treated units diverged before treatment.",
        "pretrend_power": "Pre-trend power: a linear pre-trend the pre-test would miss {miss}% of the time would by itself produce {bias} of the {obs} average post-period estimate.",
        "overall": "Overall: {status}.",
        "label": "{table} ({column}), {term}",
        "cli.main": "ours {ours} [{lo}, {hi}] vs paper {paper}",
        "cli.pretrend": "pre-trend p {p}",
        "cli.checks": "{k}/{n} checks disagree",
        "cli.curve": "{share}% of {n} specifications agree",
    },
    "zh": {
        "title": "结论",
        "heading": "{title}：{status}",
        "lang": "zh",
        "item_sep": "；",
        "choice": "{dimension}：{value}",
        "status.confirmed": "得到证实",
        "status.sign_only": "仅方向一致",
        "status.not_confirmed": "未得到证实",
        "headline": "{label}：原文 {paper}，本文 {ours}（95%置信区间 [{lo}, {hi}]，p = {p}）——{status}。",
        "why.confirmed": "符号相同，在{alpha}%水平上显著，且原文数值落在本文95%置信区间内。",
        "why.sign_only": "符号相同且在{alpha}%水平上显著，但原文数值落在本文95%置信区间之外。",
        "why.not_significant": "符号相同，但在{alpha}%水平上不显著（p = {p}）。",
        "why.opposite": "符号与原文相反。",
        "why.missing": "本次运行没有对应的估计。",
        "pretrend.fail": "平行趋势：{q}个处理前系数联合显著（{test} = {stat}，p = {p}），平行趋势假设存疑。",
        "pretrend.pass": "平行趋势：{q}个处理前系数联合不显著（{test} = {stat}，p = {p}）。",
        "overturn.none": "{n}项稳健性检验均未推翻该结论（均与原文同号且 p < {alpha_dec}）。",
        "overturn.some": "{n}项稳健性检验中有{k}项与原文不一致（符号相反或 p ≥ {alpha_dec}）：{list}。",
        "overturn.some_null": "{n}项稳健性检验中有{k}项与原文不一致（p < {alpha_dec}，而原文估计不显著）：{list}。",
        "overturn.none_null": "{n}项稳健性检验均不显著（p ≥ {alpha_dec}），与原文估计不显著一致。",
        "curve_null": "设定曲线：{n}个设定中{share}%与原文一样在{alpha_dec}水平上不显著。",
        "why.null_confirmed": "在{alpha}%水平上不显著，与原文一致，且原文数值落在本文95%置信区间内。",
        "why.null_sign_only": "在{alpha}%水平上不显著，与原文一致，但原文数值落在本文95%置信区间之外。",
        "why.significant_vs_null": "在{alpha}%水平上显著（p = {p}），而原文估计不显著。",
        "overturn.item": "{label} {coef}（p = {p}）",
        "curve": "设定曲线：{n}个设定中{share}%与原文同号且 p < {alpha_dec}。",
        "honest": "HonestDiD：平行趋势偏离不超过最大处理前偏离的 M̄ = {m} 倍时，效应仍然成立。",
        "robust.all": "异质性稳健估计量：{n}个总体效应均与原文同号且 p < {alpha_dec}。",
        "robust.some": "异质性稳健估计量：{n}个总体效应中有{k}个与原文不一致（符号相反或 p ≥ {alpha_dec}）：{list}。",
        "twfe_weights": "双向固定效应权重（de Chaisemartin–D'Haultfœuille）：{cells}个处理单元-年份中{neg}个权重为负（合计 {sum}）；若效应的标准差不小于 {sigma}，双向固定效应系数与零平均效应相容。",
        "dcdh_placebo": "did_multiplegt_dyn 安慰剂效应联合显著（p = {p}）：处理组与尚未处理组在处理前已出现分化。",
        "pretrend_power": "前趋势检验功效：一条有{miss}%概率未被检验发现的线性前趋势，本身即可产生平均处理后估计值 {obs} 中的 {bias}。",
        "overall": "总体结论：{status}。",
        "label": "{table}第({column})列，{term}",
        "cli.main": "本文 {ours} [{lo}, {hi}]，原文 {paper}",
        "cli.pretrend": "平行趋势检验 p {p}",
        "cli.checks": "{n}项检验中{k}项不一致",
        "cli.curve": "{n}个设定中{share}%一致",
    },
}

#: How published table keys are named in the verdict.
TABLE_NAMES = {
    "en": {"baseline": "Baseline", "robustness": "Robustness", "mechanism": "Mechanism", "heterogeneity": "Heterogeneity"},
    "zh": {"baseline": "基准回归", "robustness": "稳健性检验", "mechanism": "机制分析", "heterogeneity": "异质性分析"},
}


def _text(lang: str) -> dict[str, str]:
    return VERDICT_TEXT.get(lang, VERDICT_TEXT["en"])


def paper_significant(pub: Mapping[str, Any], alpha: float = ALPHA) -> bool:
    """Whether the paper's own estimate is significant at ``alpha``: from its printed p, else |t| against the normal
    critical value, else its stars (one per 10/5/1% level); a headline printed without any of them counts as
    significant (what a headline usually is)."""
    from scipy import stats

    if pub.get("p") is not None:
        return float(pub["p"]) < alpha
    if pub.get("t") is not None:
        return abs(float(pub["t"])) >= stats.norm.ppf(1 - alpha / 2)
    if pub.get("se") is not None and float(pub["se"]) > 0:
        return abs(float(pub["coef"]) / float(pub["se"])) >= stats.norm.ppf(1 - alpha / 2)
    if pub.get("stars") is not None:
        return len(str(pub["stars"]).strip()) >= {0.10: 1, 0.05: 2, 0.01: 3}.get(round(alpha, 2), 2)
    return True


def classify(coef: float | None, p: float | None, ci_low: float | None, ci_high: float | None,
             published: float, alpha: float = ALPHA, *, significant: bool = True) -> tuple[str, str]:
    """(status, reason key) of one estimate against one published value, by the module's rules.

    ``significant``: whether the paper's own estimate is significant. When it is not, the replication confirms it
    by being insignificant too with the paper's value inside our CI, and contradicts it by being significant.
    """
    if coef is None or p is None:
        return "not_confirmed", "why.missing"
    inside = ci_low is not None and ci_high is not None and ci_low <= published <= ci_high
    if not significant:
        if p < alpha:
            return "not_confirmed", "why.significant_vs_null"
        if inside:
            return "confirmed", "why.null_confirmed"
        return ("sign_only", "why.null_sign_only") if (coef > 0) == (published > 0) else ("not_confirmed", "why.opposite")
    if (coef > 0) != (published > 0) or coef == 0:
        return "not_confirmed", "why.opposite"
    if not p < alpha:
        return "not_confirmed", "why.not_significant"
    inside = ci_low is not None and ci_high is not None and ci_low <= published <= ci_high
    return ("confirmed", "why.confirmed") if inside else ("sign_only", "why.sign_only")


def agrees(coef: float | None, p: float | None, sign: float, alpha: float = ALPHA, *, significant: bool = True) -> bool:
    """An estimate agrees with a significant paper estimate when it has its sign and p < alpha; with an
    insignificant one, when it is not significant either."""
    if coef is None or p is None:
        return False
    if not significant:
        return p >= alpha
    return coef != 0 and (coef > 0) == (sign > 0) and p < alpha


def headline_keys(published: Mapping[str, Any], treatment: str) -> list[dict[str, str]]:
    """The headline numbers: ``[verdict] headline`` of published.toml, else the treatment coefficient of
    the last published baseline column."""
    declared = (published.get("verdict") or {}).get("headline")
    if declared:
        return [{"table": str(h.get("table", "baseline")), "column": str(h["column"]),
                 "term": str(h.get("term", treatment))} for h in declared]
    rows = [r for r in published.get("baseline", []) or [] if str(r.get("term")) == treatment and r.get("coef") is not None]
    if not rows:
        return []
    return [{"table": "baseline", "column": str(rows[-1].get("column")), "term": treatment}]


def _digits_like(value: float | None, published: Any) -> int:
    """Decimals for our number: one more than the paper printed (at least 3), so the two can be compared."""
    text = published_text(published)
    decimals = len(text.split(".")[1]) if "." in text else 0
    return max(3, decimals + 1)


def _our_row(estimates: Sequence[Mapping[str, Any]], table: str, column: str, term: str) -> Mapping[str, Any] | None:
    for row in estimates:
        if str(row.get("table")) == table and str(row.get("column")) == column and str(row.get("term")) == term:
            return row
    return None


def _checks(doc: Mapping[str, Any], treatment: str, study_labels, lang: str) -> list[dict[str, Any]]:
    """Every robustness column and one-choice-at-a-time specification, with its treatment estimate."""
    out: list[dict[str, Any]] = []
    treatment_terms = {treatment, f"L.{treatment}"}
    seen: set[str] = set()
    for row in doc.get("estimates") or []:
        if row.get("table") != "robustness" or str(row.get("term")) not in treatment_terms:
            continue
        key = str(row.get("column"))
        if key in seen or row.get("coef") is None:  # a check that could not be run is not evidence
            continue
        seen.add(key)
        out.append({"check": key, "label": resolve_label(key, lang, study_labels), "coef": row.get("coef"),
                    "p": row.get("p"), "source": "robustness"})
    curve = doc.get("multiverse") or {}
    specs = curve.get("specifications") or []
    grid = curve.get("grid") or {}
    study = next((s for s in specs if s.get("study_spec")), None)
    if study is not None:
        varied = [d for d, values in grid.items() if len(values) > 1]
        for spec in specs:
            differing = [d for d in varied if str(spec.get(d)) != str(study.get(d))]
            if len(differing) != 1:
                continue
            dim = differing[0]
            value = spec.get(dim)
            if spec.get("coef") is None or any(
                    abs(c["coef"] - spec["coef"]) <= 1e-10 and abs(c["p"] - spec["p"]) <= 1e-8 for c in out):
                continue  # the same regression as a robustness column is one check, not two
            label = _text(lang)["choice"].format(dimension=resolve_label(dim, lang, study_labels),
                                                 value=resolve_label(value, lang, study_labels))
            out.append({"check": f"{dim}={value}", "label": label, "coef": spec.get("coef"), "p": spec.get("p"),
                        "source": "specification_curve"})
    return out


def build_verdict(doc: Mapping[str, Any], published: Mapping[str, Any] | None, *, treatment: str,
                  column_maps: Mapping[str, Mapping[str, str]] | None = None, lang: str = "en",
                  study_labels: Mapping[str, Any] | None = None, alpha: float = ALPHA) -> dict[str, Any] | None:
    """The verdict of a results document (results.json content) against a study's published numbers.

    ``column_maps``: {table: {our column: published column}} where the two number columns differently.
    Returns None when nothing published is a headline (a study without published.toml has no verdict).
    """
    if not published:
        return None
    keys = headline_keys(published, treatment)
    if not keys:
        return None
    tx = _text(lang)
    estimates = doc.get("estimates") or []
    alpha_pct = fmt_fixed(alpha * 100, 0)
    alpha_dec = f"{alpha:g}"

    headlines: list[dict[str, Any]] = []
    for key in keys:
        table, pcol, term = key["table"], key["column"], key["term"]
        pub = next((r for r in published.get(table, []) or []
                    if str(r.get("column")) == pcol and str(r.get("term")) == term), None)
        if pub is None or pub.get("coef") is None:
            continue
        inverse = {str(theirs): str(mine) for mine, theirs in ((column_maps or {}).get(table) or {}).items()}
        ocol = inverse.get(pcol, pcol)
        mine = _our_row(estimates, table, ocol, term)
        coef = mine and mine.get("coef")
        p = mine and mine.get("p")
        lo, hi = (mine and mine.get("ci_low")), (mine and mine.get("ci_high"))
        significant = paper_significant(pub, alpha)
        status, why = classify(coef, p, lo, hi, float(pub["coef"]), alpha, significant=significant)
        digits = _digits_like(coef, pub["coef"])
        label = tx["label"].format(table=TABLE_NAMES.get(lang, TABLE_NAMES["en"]).get(table, table), column=pcol,
                                   term=resolve_label(term, lang, study_labels))
        status_text = tx[f"status.{status}"]
        if mine is None:
            sentence = f"{label}: {tx['why.missing']}"
        else:
            sentence = tx["headline"].format(
                label=label, paper=published_text(pub["coef"]), ours=fmt_fixed(coef, digits), lo=fmt_fixed(lo, digits),
                hi=fmt_fixed(hi, digits), p=fmt_fixed(p, 3), status=status_text,
            ) + " " + tx[why].format(alpha=alpha_pct, p=fmt_fixed(p, 3))
        headlines.append({
            "table": table, "published_column": pcol, "our_column": ocol if mine is not None else None, "term": term,
            "published_coef": float(pub["coef"]), "published_text": published_text(pub["coef"]),
            "coef": coef, "se": mine and mine.get("se"), "p": p, "ci_low": lo, "ci_high": hi,
            "paper_in_ci": None if lo is None or hi is None else bool(lo <= float(pub["coef"]) <= hi),
            "same_sign": None if coef is None else bool((coef > 0) == (float(pub["coef"]) > 0)),
            "significant": None if p is None else bool(p < alpha),
            "paper_significant": significant, "status": status, "sentence": sentence,
        })
    if not headlines:
        return None

    primary = headlines[0]
    sign = primary["published_coef"]
    null = not primary["paper_significant"]  # the paper reports no significant effect: agreement = insignificance
    sentences = [h["sentence"] for h in headlines]

    pretrend = None
    pt = doc.get("event_study_pretrend")
    if pt and pt.get("p_F") is not None:
        q, df = pt.get("q"), pt.get("df_denominator")
        test = f"F({q}, {df})" if df is not None else "F"
        passes = bool(pt["p_F"] >= alpha)
        pretrend = {"test": test, "statistic": pt.get("F"), "p": pt["p_F"], "leads": q, "passes": passes}
        sentences.append(tx["pretrend.pass" if passes else "pretrend.fail"].format(
            q=q, test=test, stat=fmt_fixed(pt.get("F"), 2), p=fmt_fixed(pt["p_F"], 3)))

    checks = _checks(doc, treatment, study_labels, lang)
    for check in checks:
        check["agrees"] = agrees(check["coef"], check["p"], sign, alpha, significant=not null)
    overturning = [c for c in checks if not c["agrees"]]
    if checks:
        if overturning:
            items = tx["item_sep"].join(tx["overturn.item"].format(label=c["label"], coef=fmt_fixed(c["coef"], 4),
                                                          p=fmt_fixed(c["p"], 3)) for c in overturning)
            sentences.append(tx["overturn.some_null" if null else "overturn.some"].format(
                k=len(overturning), n=len(checks), list=items, alpha_dec=alpha_dec))
        else:
            sentences.append(tx["overturn.none_null" if null else "overturn.none"].format(n=len(checks), alpha_dec=alpha_dec))

    curve = None
    specs = (doc.get("multiverse") or {}).get("specifications") or []
    if specs:
        agreeing = sum(agrees(s.get("coef"), s.get("p"), sign, alpha, significant=not null) for s in specs)
        curve = {"n_specs": len(specs), "agreeing": int(agreeing), "share_agreeing": agreeing / len(specs)}
        sentences.append(tx["curve_null" if null else "curve"].format(share=fmt_fixed(100 * agreeing / len(specs), 0), n=len(specs),
                                            alpha_dec=alpha_dec))

    honest = doc.get("honest") or {}
    if honest.get("breakdown") is not None:
        sentences.append(tx["honest"].format(m=fmt_fixed(honest["breakdown"], 2)))
    if not null:  # the robust estimators' agreement is worded for a significant headline
        sentences += _robust_sentences(doc, sign, alpha, tx)

    overall = primary["status"]
    sentences.append(tx["overall"].format(status=tx[f"status.{overall}"]))
    return {
        "status": overall,
        "status_text": tx[f"status.{overall}"],
        "heading": tx["heading"].format(title=tx["title"], status=tx[f"status.{overall}"]),
        "alpha": alpha,
        "rules": {
            "confirmed": "paper's sign, p < alpha, paper's value inside our 95% CI",
            "sign_only": "paper's sign, p < alpha, paper's value outside our 95% CI",
            "not_confirmed": "opposite sign or p >= alpha",
            "paper_not_significant": "when the paper's own estimate is not significant: confirmed = ours not "
                                     "significant either and the paper's value inside our 95% CI; sign only = not "
                                     "significant, same sign, paper outside the CI; not confirmed = ours significant",
            "agrees": "a check or specification agrees when it has the paper's sign and p < alpha",
        },
        "headlines": headlines,
        "pretrend": pretrend,
        "checks": len(checks),
        "overturning": [{k: c[k] for k in ("check", "label", "coef", "p", "source")} for c in overturning],
        "specification_curve": curve,
        "honest_breakdown": honest.get("breakdown"),
        "title": tx["title"],
        "sentences": sentences,
        "cli": _cli_line(primary, overall, tx, pretrend, overturning, checks, curve),
    }


def _robust_sentences(doc: Mapping[str, Any], sign: float, alpha: float, tx: Mapping[str, str]) -> list[str]:
    """The heterogeneity-robust estimators' agreement with the headline, and the diagnostics that change the
    reading (negative TWFE weights, significant did_multiplegt_dyn placebos, a pre-test without power)."""
    from scipy import stats

    out = []
    robust = [a for a in doc.get("aggregates") or []
              if a.get("estimator") not in ("twfe", None) and a.get("att") is not None and a.get("se")
              and (a.get("type") in ("simple", "static", "average_total_effect")
                   or str(a.get("type", "")).startswith("cohorts"))]
    if robust:
        rows = []
        for a in robust:
            p = float(2 * stats.norm.sf(abs(a["att"] / a["se"])))
            rows.append((a, p, agrees(a["att"], p, sign, alpha)))
        bad = [(a, p) for a, p, ok in rows if not ok]
        if bad:
            items = tx["item_sep"].join(
                tx["overturn.item"].format(label=resolve_label(a["estimator"], tx["lang"]), coef=fmt_fixed(a["att"], 4),
                                           p=fmt_fixed(p, 3)) for a, p in bad)
            out.append(tx["robust.some"].format(k=len(bad), n=len(rows), list=items, alpha_dec=f"{alpha:g}"))
        else:
            out.append(tx["robust.all"].format(n=len(rows), alpha_dec=f"{alpha:g}"))
    weights = doc.get("twowayfeweights") or {}
    if weights.get("n_negative"):
        out.append(tx["twfe_weights"].format(neg=weights["n_negative"], cells=weights.get("treated_cells"),
                                             sum=fmt_fixed(weights.get("sum_negative"), 3),
                                             sigma=fmt_fixed(weights.get("sigma_fe"), 4)))
    placebo_p = (doc.get("dcdh") or {}).get("p_joint_placebo")
    if placebo_p is not None and placebo_p < alpha:
        out.append(tx["dcdh_placebo"].format(p=fmt_fixed(placebo_p, 3)))
    power = doc.get("pretrends") or {}
    after, observed = power.get("mean_after_pretest_post"), power.get("observed_post_mean")
    if after is not None and observed and after / observed >= 0.5:  # an undetectable trend explains half or more
        miss = round(100 * (1 - float(power.get("power", 0.8))))
        out.append(tx["pretrend_power"].format(miss=miss, bias=fmt_fixed(after, 4), obs=fmt_fixed(observed, 4)))
    return out


def _cli_line(primary, overall, tx, pretrend, overturning, checks, curve) -> str:
    """One line for the terminal: ours against the paper's headline, the status and the evidence counts."""
    digits = _digits_like(primary["coef"], primary["published_text"])
    main = tx["cli.main"].format(ours=fmt_fixed(primary["coef"], digits), lo=fmt_fixed(primary["ci_low"], digits),
                                 hi=fmt_fixed(primary["ci_high"], digits), paper=primary["published_text"])
    parts = [f"{tx['title']}: {tx['status.' + overall]} — {main}"]
    if pretrend:
        parts.append(tx["cli.pretrend"].format(p=fmt_fixed(pretrend["p"], 3)))
    if checks:
        parts.append(tx["cli.checks"].format(k=len(overturning), n=len(checks)))
    if curve:
        parts.append(tx["cli.curve"].format(share=fmt_fixed(100 * curve["share_agreeing"], 0), n=curve["n_specs"]))
    return "; ".join(parts)
