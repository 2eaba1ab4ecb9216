"""One label resolver for every table and figure a user sees.

A name (a panel column, a results.json field, an estimator or check key) is shown as, in order:

1. the study's own label (``[study] labels``: a string, or ``{en = …, zh = …}``);
2. pilotdid's built-in name for it in the chosen language (:data:`BUILTIN_LABELS`);
3. the built-in English name (a zh table never falls back to a raw field name when an English
   name exists);
4. the name itself.

The built-in names live in one dict per language so the message catalogue can take them over.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Built-in display names, one dict per language (field names of results.json, estimator keys,
#: robustness checks, specification-curve choices).
BUILTIN_LABELS: dict[str, dict[str, str]] = {
    "en": {
        # results fields
        "att": "ATT", "coef": "Coefficient", "se": "SE", "t": "t", "p": "p", "ci_low": "95% CI low",
        "ci_high": "95% CI high", "lb": "Lower bound", "ub": "Upper bound", "p_wcr": "p (wild cluster bootstrap)",
        "n_first_treated_here": "Units first treated here", "n_treated": "Treated units", "n_control": "Control units",
        "nobs": "N", "n_clusters": "Clusters", "weight": "Weight", "estimate": "Estimate", "type": "Comparison",
        "treated": "Treated cohort", "control": "Control cohort", "estimator": "Estimator", "method": "Method",
        "se_method": "SE method", "Mbar": "M̄", "event time": "Event time", "rel_time": "Event time",
        "cohort": "Cohort", "year": "Year", "did": "DID", "_cons": "Constant", "agg_type": "Aggregation",
        "did_difference": "DID difference", "city_id": "City", "city": "City", "province": "Province",
        "province_id": "Province",
        # estimators
        "twfe": "TWFE", "cs": "Callaway–Sant'Anna", "sa": "Sun–Abraham", "bjs": "Imputation (BJS)",
        "bacon": "Goodman-Bacon", "simple": "Simple", "group": "By cohort", "calendar": "By year", "dynamic": "Dynamic",
        "static": "Static", "dcdh": "de Chaisemartin–D'Haultfœuille", "etwfe": "Extended TWFE (Wooldridge)",
        "stacked": "Stacked DID", "sdid": "Synthetic DID", "cs treated units": "CS treated units",
        "average_total_effect": "Average total effect",
        # cross-sectional matching
        "ate": "ATE", "nearest": "Nearest neighbour", "radius": "Radius", "kernel": "Kernel", "se_robust": "SE (AI robust)",
        "se_homoskedastic": "SE (AI homoskedastic)", "se_estimated_score": "SE (AI 2016)", "n_treated_matched": "Treated matched",
        "n_controls_used": "Controls used",
        # robustness checks
        "psm_nearest": "PSM-DID nearest neighbour", "psm_radius": "PSM-DID radius", "psm_kernel": "PSM-DID kernel",
        "psm_nearest_unweighted": "PSM-DID nearest neighbour (unweighted)",
        "psm_radius_unweighted": "PSM-DID radius (unweighted)", "psm_kernel_unweighted": "PSM-DID kernel (unweighted)",
        "psm_nearest_weighted": "PSM-DID nearest neighbour (weighted by psmatch2's _weight)",
        "psm_radius_weighted": "PSM-DID radius (weighted by psmatch2's _weight)",
        "psm_kernel_weighted": "PSM-DID kernel (weighted by psmatch2's _weight)",
        "concurrent_policy": "Concurrent policy added", "lagged": "Lagged treatment", "winsorised": "Winsorised 1%",
        "winsorised_5": "Winsorised 5%", "no_capitals": "Without capitals and municipalities",
        # specification-curve choices
        "index_method": "Index weights", "pooling": "Pooling", "treatment_rule": "Treatment-year rule",
        "sample": "Sample", "winsorize": "Winsorised %", "vcov": "SE preset", "controls": "Controls",
        "entropy": "entropy", "critic": "CRITIC", "topsis": "entropy-TOPSIS", "equal": "equal weights",
        "by_year": "by year", "pooled": "pooled", "drop_capitals": "without capitals", "drop_2020": "without 2020",
        "full": "full sample",
        # treatment-assignment tables
        "batch": "Batch", "treat_year": "Treated from", "n_registry": "Registry entries",
        "n_prefecture_units": "Prefecture units", "n_in_panel": "In the panel", "n_always_treated": "Always treated",
        "cities": "Cities", "unit": "Unit", "city_name": "City name", "in_window": "In the window",
        "registry_entry": "Registry entry", "verification_status": "Verification", "reason": "Reason",
        "status": "Status", "n_entries": "Entries", "treated_by_batch": "Treated by batch",
        "treated_after_window": "Treated after the window", "not_found": "Registry entries not in the panel",
        "verification": "Verification",
        # other result fields that reach tables
        "treated_units": "Treated units", "control_units": "Control units", "pre_periods": "Pre-periods",
        "post_periods": "Post-periods", "value": "Value", "term": "Term", "clusters": "Clusters",
        "treated_clusters": "Treated clusters", "weights": "Bootstrap weights", "draws": "Draws", "level": "Level %",
        "variable": "Variable", "lower_pct": "Lower percentile", "upper_pct": "Upper percentile",
        "lower_cut": "Lower cut-off", "upper_cut": "Upper cut-off", "n_nonmissing": "Non-missing values",
        "n_low": "Raised to the lower cut-off", "n_high": "Lowered to the upper cut-off", "n_changed": "Values changed",
        "l": "Event time l", "normalised": "Normalised", "se (normalised)": "SE (normalised)", "switchers": "Switchers",
        "hypothesised trend": "Hypothesised trend", "expected if pre-test passes": "Expected if the pre-test passes",
        "bias": "Bias", "se_cohort_weights_resampled": "SE, resampled cohort weights",
        "se_cohort_weights_fixed": "SE, fixed cohort weights",
    },
    "zh": {
        "att": "平均处理效应", "coef": "系数", "se": "标准误", "t": "t值", "p": "p值", "ci_low": "95%置信区间下限",
        "ci_high": "95%置信区间上限", "lb": "下限", "ub": "上限", "p_wcr": "p值（野聚类自助法）",
        "n_first_treated_here": "当年首次处理城市数", "n_treated": "处理组单位数", "n_control": "控制组单位数",
        "nobs": "样本量", "n_clusters": "聚类数", "weight": "权重", "estimate": "估计值", "type": "比较类型",
        "treated": "处理组批次", "control": "控制组批次", "estimator": "估计方法", "method": "方法",
        "se_method": "标准误方法", "Mbar": "M̄", "event time": "相对时间", "rel_time": "相对时间",
        "cohort": "批次", "year": "年份", "did": "DID", "_cons": "常数项", "agg_type": "汇总方式",
        "did_difference": "DID差异", "city_id": "城市", "city": "城市", "province": "省份", "province_id": "省份",
        "twfe": "双向固定效应", "cs": "Callaway–Sant'Anna", "sa": "Sun–Abraham", "bjs": "插补估计（BJS）",
        "bacon": "Goodman-Bacon分解", "simple": "简单平均", "group": "按批次", "calendar": "按年份", "dynamic": "动态",
        "static": "静态", "dcdh": "de Chaisemartin–D'Haultfœuille", "etwfe": "扩展双向固定效应（Wooldridge）",
        "stacked": "堆叠DID", "sdid": "合成DID", "cs treated units": "CS处理单位数", "average_total_effect": "平均总效应",
        "ate": "总体平均处理效应", "nearest": "最近邻匹配", "radius": "半径匹配", "kernel": "核匹配", "se_robust": "标准误（AI稳健）",
        "se_homoskedastic": "标准误（AI同方差）", "se_estimated_score": "标准误（AI 2016）", "n_treated_matched": "匹配的处理组", "n_controls_used": "使用的控制组",
        "psm_nearest": "PSM-DID最近邻匹配", "psm_radius": "PSM-DID半径匹配", "psm_kernel": "PSM-DID核匹配",
        "psm_nearest_unweighted": "PSM-DID最近邻匹配（不加权）", "psm_radius_unweighted": "PSM-DID半径匹配（不加权）",
        "psm_kernel_unweighted": "PSM-DID核匹配（不加权）", "psm_nearest_weighted": "PSM-DID最近邻匹配（按匹配权重加权）",
        "psm_radius_weighted": "PSM-DID半径匹配（按匹配权重加权）", "psm_kernel_weighted": "PSM-DID核匹配（按匹配权重加权）", "concurrent_policy": "控制同期政策", "lagged": "处理变量滞后一期",
        "winsorised": "1%缩尾", "winsorised_5": "5%缩尾", "no_capitals": "剔除直辖市和省会城市",
        "index_method": "指数赋权方法", "pooling": "标准化方式", "treatment_rule": "处理年份规则", "sample": "样本",
        "winsorize": "缩尾比例%", "vcov": "标准误设定", "controls": "控制变量",
        "entropy": "熵值法", "critic": "CRITIC法", "topsis": "熵权TOPSIS", "equal": "等权重",
        "by_year": "逐年", "pooled": "混合", "drop_capitals": "剔除省会", "drop_2020": "剔除2020年", "full": "全样本",
        "batch": "批次", "treat_year": "处理起始年", "n_registry": "名单条目数", "n_prefecture_units": "地级单位数",
        "n_in_panel": "面板内单位数", "n_always_treated": "始终处理单位数", "cities": "城市", "unit": "单位",
        "city_name": "城市名称", "in_window": "是否在样本期内", "registry_entry": "名单条目",
        "verification_status": "核验状态", "reason": "原因", "status": "状态", "n_entries": "条目数",
        "treated_by_batch": "各批次处理城市", "treated_after_window": "样本期后才处理的城市",
        "not_found": "面板中找不到的名单条目", "verification": "核验情况",
        "treated_units": "处理单位数", "control_units": "控制单位数", "pre_periods": "处理前期数", "post_periods": "处理后期数",
        "value": "数值", "term": "变量", "clusters": "聚类数", "treated_clusters": "处理组聚类数", "weights": "自助法权重",
        "draws": "抽样次数", "level": "缩尾比例%", "variable": "变量", "lower_pct": "下分位点", "upper_pct": "上分位点",
        "lower_cut": "下截断值", "upper_cut": "上截断值", "n_nonmissing": "非缺失值个数", "n_low": "提高至下截断值个数",
        "n_high": "降低至上截断值个数", "n_changed": "改变值个数", "l": "相对时间 l", "normalised": "标准化",
        "se (normalised)": "标准误（标准化）", "switchers": "转换单位数", "hypothesised trend": "假设趋势",
        "expected if pre-test passes": "通过预检验时的期望值", "bias": "偏差",
        "se_cohort_weights_resampled": "标准误（重抽样批次权重）", "se_cohort_weights_fixed": "标准误（固定批次权重）",
    },
}


def resolve_label(name: Any, lang: str = "en", study_labels: Mapping[str, Any] | None = None) -> str:
    """How ``name`` is shown: study label -> built-in name in ``lang`` -> built-in English -> the name."""
    key = str(name)
    if study_labels and key in study_labels:
        value = study_labels[key]
        if isinstance(value, Mapping):
            chosen = value.get(lang) or value.get("en")
            if chosen:
                return str(chosen)
        elif value is not None and str(value):
            return str(value)
    for language in (lang, "en"):
        table = BUILTIN_LABELS.get(language, {})
        if key in table:
            return table[key]
    return key


def relabel_columns(frame, lang: str = "en", study_labels: Mapping[str, Any] | None = None):
    """A copy of ``frame`` whose column names are resolved labels (for tables built from result rows)."""
    return frame.rename(columns={c: resolve_label(c, lang, study_labels) for c in frame.columns})


def humanise_table(table, lang: str = "en", study_labels: Mapping[str, Any] | None = None):
    """The same table with no raw field name a reader sees: every header through the resolver, and row labels
    (first column) that are panel columns named in the study's labels (``agg`` -> ``Agg``, as in Table 4).

    Cells other than row labels are data and stay as they are.
    """
    from dataclasses import replace

    body = table.body.copy()
    raw_headers = [str(c) for c in body.columns]
    body.columns = [resolve_label(c, lang, study_labels) if str(c).strip() else c for c in body.columns]
    if study_labels and len(body.columns):
        # row-label columns: the first, and any column that lists variables or terms
        for pos, raw in enumerate(raw_headers):
            if pos == 0 or raw.lower() in ("variable", "term", "变量"):
                values = body.iloc[:, pos]
                body.iloc[:, pos] = [resolve_label(v, lang, study_labels) if isinstance(v, str) and v in study_labels
                                     else v for v in values]
    if list(body.columns) == list(table.body.columns) and body.equals(table.body):
        return table
    return replace(table, body=body)
