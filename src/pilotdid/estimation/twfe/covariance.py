"""Standard-error presets: one class per Stata (or R) command a user may be comparing against.

Every preset is a cluster-robust CRV1 sandwich ``V = q · (X'X)⁻¹ (Σ_g X_g'e_g e_g'X_g) (X'X)⁻¹``
computed on the same point estimates and residuals. Presets differ only in the conventions nobody
names, and each class names them:

* **K** — how many parameters the small-sample factor ``q = (N−1)/(N−K) · G/(G−1)`` counts
  (whether fixed-effect levels count, and whether those nested in the cluster variable count);
* **df** — the degrees of freedom of the t distribution used for p-values and confidence intervals;
* **constant** — which intercept is reported: the intercept of the base levels of dummy variables
  (``reg``), the mean-based constant ``ȳ − x̄'b`` (``areg``, ``xtreg, fe``, ``reghdfe``) or none
  (R ``fixest``);
* **singletons** — whether groups of one observation are dropped before estimation (``reghdfe``) or
  kept (every other command).

Notation: N observations, G clusters, k slope regressors, C levels of the first fixed effect (the
unit, "absorbed" by ``areg``/``xtreg``), T levels of the other fixed effects (entered as
``i.year`` dummies, or absorbed by ``reghdfe``). Where pyfixest's ``ssc(k_adj, k_fixef, G_adj,
G_df)`` expresses a preset we hand it to pyfixest; the K each preset counts is also computed here
(:meth:`VcovPreset.count_k`) and, should it ever differ from pyfixest's, the variance is rescaled by
the ratio of the two factors (reported in the fit's notes), so the preset's documented convention
always wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from pilotdid.errors import PilotdidInputError

#: How the reported intercept is defined.
CONSTANT_BASE_LEVELS = "base_levels"  # intercept of an LSDV regression with the first level of each FE as base
CONSTANT_MEAN = "mean"  # ȳ − x̄'b over the estimation sample, x̄ including any explicit FE dummies


@dataclass(frozen=True)
class FixedEffectDesign:
    """What the small-sample count needs to know about the fixed effects of one fit.

    ``levels`` are the numbers of levels of each fixed effect, in the order given (the first is the
    unit / absorbed one); ``nested`` says, for each, whether it is nested in the cluster variable
    (every level inside one cluster).
    """

    n_slopes: int
    levels: tuple[int, ...]
    nested: tuple[bool, ...]
    #: further redundant dummies when the FEs form disconnected groups (components − 1 per pair)
    redundant: int = 0

    @property
    def fe_dof(self) -> int:
        """Free FE parameters with an intercept: C + Σ(T_j − 1) − redundant (one level per further FE
        is redundant, one more per extra disconnected group — the dummies ``regress`` would omit)."""
        if not self.levels:
            return 0
        return self.levels[0] + sum(n - 1 for n in self.levels[1:]) - self.redundant


class VcovPreset:
    """A named standard-error convention. Subclasses set the class attributes and ``count_k``."""

    name: str = ""
    stata_command: str = ""
    description: str = ""
    #: pyfixest ``ssc`` knobs that express (or come closest to) the preset
    k_fixef: str = "full"
    #: drop observations whose fixed-effect level occurs once (reghdfe) before estimating
    drop_singletons: bool = False
    #: CONSTANT_BASE_LEVELS, CONSTANT_MEAN or None
    constant: str | None = None
    #: for a mean-based constant: how many of the fixed effects (in order) are absorbed; the rest
    #: enter as explicit dummies with their first level as base. None = all absorbed.
    n_absorbed: int | None = None
    k_rule: str = ""
    df_rule: str = "G − 1 (number of clusters minus one); N − K without clustering"
    constant_rule: str = ""

    def ssc(self) -> dict:
        """The pyfixest ``ssc`` dictionary for this preset."""
        from pilotdid.estimation.fixest import pf  # here, not at import: validating a study needs no pyfixest

        return pf.ssc(k_adj=True, k_fixef=self.k_fixef, G_adj=True, G_df="min")

    def count_k(self, design: FixedEffectDesign) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def small_sample_factor(self, n_obs: int, k: int, n_clusters: int | None) -> float:
        """q = (N−1)/(N−K) · G/(G−1) clustered; N/(N−K) (HC1) without clustering."""
        if n_obs - k <= 0:
            raise PilotdidInputError(
                f"{n_obs} observations for {k} parameters under preset {self.name!r}: no residual degrees of freedom",
                fix="use fewer regressors or fixed effects, or more data",
            )
        if n_clusters is not None and n_clusters < 2:
            raise PilotdidInputError(
                f"only {n_clusters} cluster: clustered standard errors need at least 2",
                fix="cluster by a variable with more groups",
            )
        from pilotdid.estimation.within import small_sample_factor  # here: validating a study needs no scipy

        return small_sample_factor(n_obs, k, n_clusters)

    def t_df(self, n_obs: int, k: int, n_clusters: int | None) -> int:
        """Degrees of freedom of the t distribution for p-values and confidence intervals."""
        return n_clusters - 1 if n_clusters is not None else n_obs - k

    def as_dict(self) -> dict[str, str]:
        return {
            "preset": self.name,
            "stata_command": self.stata_command,
            "k_rule": self.k_rule,
            "df_rule": self.df_rule,
            "constant_rule": self.constant_rule,
            "singletons": "dropped" if self.drop_singletons else "kept",
            "description": self.description,
        }

    def command(self, outcome: str, regressors: list[str], fixed_effects: list[str], cluster: str | None) -> str:
        """:attr:`stata_command` written with a fit's own column names (fixed_effects: the unit's first)."""
        return self.stata_command

    def __repr__(self) -> str:
        return f"<VcovPreset {self.name}: {self.stata_command}>"


def _vce(cluster: str | None) -> str:
    return f"vce(cluster {cluster})" if cluster else "vce(robust)"


def _dummies(fixed_effects: list[str]) -> str:
    return " ".join(f"i.{f}" for f in fixed_effects)


class LsdvPreset(VcovPreset):
    """``reg y x i.city i.year, vce(cluster city)`` — least-squares dummy variables.

    K = k + 1 + (C−1) + Σ(T−1): every dummy and the intercept count, nested or not (``regress``
    does not look for nesting). t with G−1 df. Constant: the intercept of the base levels (first
    city and first year in sorted order, as ``i.`` factor notation and ``pd.get_dummies(drop_first=
    True)`` choose them). Singletons kept. pyfixest: ``ssc(k_adj=True, k_fixef="full", G_adj=True)``.
    """

    name = "lsdv"
    stata_command = "reg y x i.city i.year, vce(cluster city)"

    def command(self, outcome, regressors, fixed_effects, cluster):
        return f"reg {outcome} {' '.join(regressors)} {_dummies(fixed_effects)}, {_vce(cluster)}"
    description = "all fixed-effect dummies counted in K; intercept of the base levels"
    k_fixef = "full"
    constant = CONSTANT_BASE_LEVELS
    k_rule = "k + 1 + (C−1) + Σ(T−1): every dummy and the intercept"
    constant_rule = "intercept of the base levels (first unit, first period)"

    def count_k(self, design: FixedEffectDesign) -> int:
        return design.n_slopes + max(design.fe_dof, 1)


class AregPreset(VcovPreset):
    """``areg y x i.year, absorb(city) vce(cluster city)``.

    ``areg`` counts the absorbed levels in K even when nested in the cluster, so K equals the LSDV
    K (k + 1 + (C−1) + Σ(T−1)) and the standard errors equal ``lsdv``'s. t with G−1 df. Constant:
    ``ȳ − x̄'b`` with the other fixed effects as explicit dummies (x̄ includes the shares of the
    non-base periods), its SE from the regression of ``y − ȳ_i + ȳ`` on ``x − x̄_i + x̄`` with an
    intercept (areg's own construction). Singletons kept.
    """

    name = "areg"
    stata_command = "areg y x i.year, absorb(city) vce(cluster city)"

    def command(self, outcome, regressors, fixed_effects, cluster):
        unit, others = (fixed_effects[0], fixed_effects[1:]) if fixed_effects else ("", [])
        return (f"areg {outcome} {' '.join(regressors)} {_dummies(others)}".rstrip()
                + f", absorb({unit}) {_vce(cluster)}")
    description = "absorbed unit levels counted in K (same SEs as lsdv); mean-based constant"
    k_fixef = "full"
    constant = CONSTANT_MEAN
    n_absorbed = 1
    k_rule = "k + 1 + (C−1) + Σ(T−1): absorbed levels count even when nested in the cluster"
    constant_rule = "ȳ − x̄'b, x̄ including the period dummies (mean of the absorbed unit effects)"

    def count_k(self, design: FixedEffectDesign) -> int:
        return design.n_slopes + max(design.fe_dof, 1)


class XtregFePreset(VcovPreset):
    """``xtreg y x i.year, fe vce(cluster city)``.

    The within estimator; the unit effects are not counted in K because the panels are nested in the
    clusters (Stata refuses a cluster variable that does not nest the panel variable, and so do we):
    K = k + 1 + Σ(T−1) (slopes, the intercept, the period dummies). t with G−1 df. Constant as in
    ``areg``. Singletons kept. pyfixest ``k_fixef="nonnested"`` counts the same K when only the unit
    fixed effect is nested in the cluster; :meth:`count_k` is authoritative otherwise.
    """

    name = "xtreg_fe"
    stata_command = "xtreg y x i.year, fe vce(cluster city)"

    def command(self, outcome, regressors, fixed_effects, cluster):
        unit, others = (fixed_effects[0], fixed_effects[1:]) if fixed_effects else ("", [])
        return (f"xtset {unit}; xtreg {outcome} {' '.join(regressors)} {_dummies(others)}".rstrip()
                + f", fe {_vce(cluster)}")
    description = "unit effects not counted (nested in clusters); mean-based constant"
    k_fixef = "nonnested"
    constant = CONSTANT_MEAN
    n_absorbed = 1
    k_rule = "k + 1 + Σ(T−1): the unit effects (nested in the cluster) do not count"
    constant_rule = "ȳ − x̄'b, x̄ including the period dummies"

    def count_k(self, design: FixedEffectDesign) -> int:
        if not design.levels:
            return design.n_slopes + 1
        return design.n_slopes + 1 + sum(n - 1 for n in design.levels[1:])


class ReghdfePreset(VcovPreset):
    """``reghdfe y x, absorb(city year) vce(cluster city)``.

    Fixed effects nested in the cluster variable do not count; one parameter is kept for the
    intercept when they all drop out. With FE (city, year) and clusters by city:
    K = k + 1 + (T−1). t with G−1 df. Constant: ``ȳ − x̄'b`` with every fixed effect absorbed.
    Singletons are dropped before estimation (reghdfe's default) and counted.
    pyfixest: ``ssc(k_adj=True, k_fixef="nonnested", G_adj=True)``, ``fixef_rm="singleton"``.
    """

    name = "reghdfe"
    stata_command = "reghdfe y x, absorb(city year) vce(cluster city)"

    def command(self, outcome, regressors, fixed_effects, cluster):
        return f"reghdfe {outcome} {' '.join(regressors)}, absorb({' '.join(fixed_effects)}) {_vce(cluster)}"
    description = "FE nested in the cluster not counted; singletons dropped; mean-based constant"
    k_fixef = "nonnested"
    drop_singletons = True
    constant = CONSTANT_MEAN
    n_absorbed = None
    k_rule = "k + FE parameters not nested in the cluster (+1 for the intercept if all are nested)"
    constant_rule = "ȳ − x̄'b with every fixed effect absorbed"

    def count_k(self, design: FixedEffectDesign) -> int:
        return _nonnested_k(design)


class FixestPreset(VcovPreset):
    """R ``fixest::feols(y ~ x | city + year, cluster = ~city)`` defaults.

    ``ssc(adj=TRUE, fixef.K="nested", cluster.adj=TRUE, t.df="min")``: the K of ``reghdfe``,
    t with G−1 df, no intercept reported, singletons kept (R fixest removes them from OLS only when
    asked, unlike pyfixest 0.60 whose default ``fixef_rm="singleton"`` drops them).
    """

    name = "fixest"
    stata_command = "R: feols(y ~ x | city + year, cluster = ~city)"

    def command(self, outcome, regressors, fixed_effects, cluster):
        return (f"R: feols({outcome} ~ {' + '.join(regressors)} | {' + '.join(fixed_effects)}"
                + (f", cluster = ~{cluster})" if cluster else ', vcov = "hetero")'))
    description = "FE nested in the cluster not counted; no constant; singletons kept"
    k_fixef = "nonnested"
    constant = None
    k_rule = "k + FE parameters not nested in the cluster (+1 if all are nested)"
    constant_rule = "none reported"

    def count_k(self, design: FixedEffectDesign) -> int:
        return _nonnested_k(design)


def _nonnested_k(design: FixedEffectDesign) -> int:
    if not design.levels:
        return design.n_slopes + 1
    dof = design.fe_dof
    nested_levels = sum(n for n, is_nested in zip(design.levels, design.nested) if is_nested)
    if nested_levels == 0:
        return design.n_slopes + dof
    # every fully nested FE gives back one parameter (the intercept it was spanning), as in
    # reghdfe and fixest; see fixest issue #554 / FixedEffectModels.jl PR #48
    return design.n_slopes + dof - nested_levels + sum(design.nested)


VCOV_PRESETS: dict[str, VcovPreset] = {
    p.name: p for p in (LsdvPreset(), AregPreset(), XtregFePreset(), ReghdfePreset(), FixestPreset())
}

#: The preset every ``vcov`` argument and the study file's ``[model] vcov`` default to: ``reg y x i.unit i.year,
#: vce(cluster unit)``, the conservative count (every fixed-effect dummy in K). The one place this default is
#: written; tests/test_default_vcov.py checks every signature against it.
DEFAULT_VCOV = "lsdv"


def get_preset(name: str | VcovPreset) -> VcovPreset:
    """The preset called ``name``; an unknown name raises PilotdidInputError listing the valid ones."""
    if isinstance(name, VcovPreset):
        return name
    try:
        return VCOV_PRESETS[str(name)]
    except KeyError:
        raise PilotdidInputError(
            f"unknown standard-error preset {name!r}",
            where="[model] vcov",
            fix=f"use one of: {', '.join(VCOV_PRESETS)}",
        ) from None
