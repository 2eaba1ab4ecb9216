"""Power of pre-trend tests (Roth 2022, AER: Insights), as the R package ``pretrends`` computes it.

The pre-test rejects when any pre-period event-study coefficient has |t| > 1.96 (``pretrends``'
``thresholdTstat.Pretest``). Given event-study estimates ``beta`` with covariance ``sigma`` and a hypothesised
violation of parallel trends ``delta`` (one value per event time; e.g. linear, slope x (t - reference)):

- **power**: P(pre-test rejects) when the pre-coefficients are N(delta_pre, sigma_pre);
- **slope_for_power**: the slope of a linear violation the pre-test detects with a given probability
  (root of power(slope) - target on [0, 8 max se_pre], as ``pretrends::slope_for_power``);
- **Bayes factor**: P(pass | delta) / P(pass | parallel trends); **likelihood ratio**: the density of the
  observed pre-coefficients under delta relative to under zero;
- **mean after pre-testing**: E[beta | the pre-test passes] when the truth is delta -- the pre-coefficients'
  truncated-normal mean (Tallis 1961 / Manjunath & Wilhelm 2012, as ``tmvtnorm::mtmvnorm``) and the post
  coefficients' delta_post + sigma_post,pre sigma_pre^-1 (E[beta_pre | pass] - delta_pre); its difference
  from delta_post is the bias of the post estimates that survive the pre-test.

Box probabilities of the multivariate normal use SciPy's Genz algorithm with a fixed generator and tight
tolerance 1e-6 (deterministic; ``pretrends`` uses mvtnorm's randomised version with tolerance 1e-3, so its
printed fourth digits of power carry that noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

THRESHOLD = 1.96  # pretrends' default pre-test critical value (not 1.959964)


def _box_probability(mean: np.ndarray, cov: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    mean, cov = np.atleast_1d(mean), np.atleast_2d(cov)
    if len(mean) == 1:
        sd = float(np.sqrt(cov[0, 0]))
        return float(stats.norm.cdf(upper[0], mean[0], sd) - stats.norm.cdf(lower[0], mean[0], sd))
    return float(stats.multivariate_normal.cdf(upper, mean=mean, cov=cov, lower_limit=lower, maxpts=60_000,
                                               abseps=1e-6, releps=1e-6, rng=np.random.default_rng(20220101)))


def pretest_power(delta_pre, sigma_pre, threshold: float = THRESHOLD) -> float:
    """Probability that some pre-period |t| exceeds ``threshold`` when the pre-coefficients are N(delta_pre, sigma_pre)."""
    sigma_pre = np.atleast_2d(sigma_pre)
    bound = threshold * np.sqrt(np.diag(sigma_pre))
    return 1.0 - _box_probability(np.atleast_1d(delta_pre), sigma_pre, -bound, bound)


def slope_for_power(sigma, target_power: float, t_vec, reference: int = -1, pre_indices=None,
                    threshold: float = THRESHOLD) -> float:
    """The slope of a linear violation (slope x (t - reference)) the pre-test detects with ``target_power``."""
    t_vec = np.asarray(t_vec, dtype=float)
    pre = np.flatnonzero(t_vec < reference) if pre_indices is None else np.asarray(pre_indices)
    sigma_pre = np.asarray(sigma)[np.ix_(pre, pre)]
    rel = t_vec[pre] - reference
    upper = 8 * np.sqrt(np.diag(sigma_pre)).max()
    return float(optimize.brentq(lambda s: pretest_power(rel * s, sigma_pre, threshold) - target_power, 0.0, upper,
                                 xtol=1e-10, rtol=1e-10, maxiter=1000))


def truncated_mean(mean, cov, lower, upper) -> np.ndarray:
    """Mean of N(mean, cov) truncated to the box [lower, upper] (Tallis 1961; Manjunath & Wilhelm 2012, eq. 15)."""
    mean, cov = np.atleast_1d(np.asarray(mean, float)), np.atleast_2d(np.asarray(cov, float))
    a, b = np.asarray(lower, float) - mean, np.asarray(upper, float) - mean
    n = len(mean)
    alpha = _box_probability(np.zeros(n), cov, a, b)
    F = np.zeros((n, 2))  # marginal density of x_k at a_k and at b_k, times the rest's conditional box probability
    for k in range(n):
        sd = np.sqrt(cov[k, k])
        others = [j for j in range(n) if j != k]
        for col, x in ((0, a[k]), (1, b[k])):
            dens = stats.norm.pdf(x, 0.0, sd)
            if others:
                cond_mean = cov[others, k] / cov[k, k] * x
                cond_cov = cov[np.ix_(others, others)] - np.outer(cov[others, k], cov[k, others]) / cov[k, k]
                dens *= _box_probability(cond_mean, cond_cov, a[others], b[others])
            F[k, col] = dens
    return mean + cov @ (F[:, 0] - F[:, 1]) / alpha


@dataclass
class PretrendsResult:
    power: float
    bayes_factor: float
    likelihood_ratio: float
    table: pd.DataFrame  # t, betahat, delta, se, mean_after_pretest (the reference period included, at zero)


def pretrends(betahat, sigma, t_vec, delta, reference: int = -1, threshold: float = THRESHOLD) -> PretrendsResult:
    """``pretrends::pretrends``: power, Bayes factor, likelihood ratio and the means after pre-testing."""
    betahat, delta = np.asarray(betahat, float), np.asarray(delta, float)
    sigma, t_vec = np.asarray(sigma, float), np.asarray(t_vec, float)
    pre, post = np.flatnonzero(t_vec < reference), np.flatnonzero(t_vec > reference)
    sigma_pre = sigma[np.ix_(pre, pre)]
    power = pretest_power(delta[pre], sigma_pre, threshold)
    size = pretest_power(np.zeros(len(pre)), sigma_pre, threshold)
    density = stats.multivariate_normal(cov=sigma_pre).pdf
    lr = float(density(betahat[pre] - delta[pre]) / density(betahat[pre]))
    bound = threshold * np.sqrt(np.diag(sigma_pre))
    mean_pre = truncated_mean(delta[pre], sigma_pre, -bound, bound)
    mean_post = delta[post] + sigma[np.ix_(post, pre)] @ np.linalg.solve(sigma_pre, mean_pre - delta[pre])
    table = pd.DataFrame({"t": t_vec, "betahat": betahat, "delta": delta, "se": np.sqrt(np.diag(sigma))})
    table["mean_after_pretest"] = np.nan
    table.loc[pre, "mean_after_pretest"] = mean_pre
    table.loc[post, "mean_after_pretest"] = mean_post
    if reference not in set(t_vec):
        table = pd.concat([table, pd.DataFrame({"t": [float(reference)], "betahat": [0.0], "delta": [0.0],
                                                "se": [0.0], "mean_after_pretest": [0.0]})])
    table = table.sort_values("t").reset_index(drop=True)
    return PretrendsResult(power=power, bayes_factor=(1 - power) / (1 - size), likelihood_ratio=lr, table=table)


@dataclass
class PretrendsPower:
    """The pre-test's power against a linear violation, for one event study (:func:`event_study_power`)."""

    result: PretrendsResult  # pretrends() against the slope with the target power
    slopes: dict  # power -> slope of the linear violation detected with that probability (0.5, 0.8, the target)
    power: float  # the target power
    num_pre: int
    num_post: int
    observed_post_mean: float  # average of the post-period estimates
    mean_after_pretest_post: float  # what the target-power trend alone averages after passing the pre-test
    bias_post: np.ndarray  # per post period: mean after pre-testing minus the hypothesised trend


def event_study_power(es, window: tuple[int, int], power: float = 0.8) -> PretrendsPower:
    """Roth's (2022) power analysis of an event-study result (reference -1; see
    :func:`pilotdid.inference.honest.event_study_inputs`) against linear violations of slope x (t + 1)."""
    from pilotdid.inference.honest import event_study_inputs

    beta, sigma, n_pre, n_post = event_study_inputs(es, window)
    t_vec = np.r_[np.arange(-n_pre - 1, -1), np.arange(0, n_post)]
    slopes = {p: slope_for_power(sigma, p, t_vec, -1) for p in sorted({0.5, 0.8, float(power)})}
    slope = slopes[float(power)]
    res = pretrends(beta, sigma, t_vec, slope * (t_vec + 1), reference=-1)
    post = res.table[res.table.t >= 0]
    return PretrendsPower(result=res, slopes=slopes, power=float(power), num_pre=n_pre, num_post=n_post,
                          observed_post_mean=float(np.mean(beta[n_pre:])),
                          mean_after_pretest_post=float(np.mean(post.mean_after_pretest)),
                          bias_post=(post.mean_after_pretest - post.delta).to_numpy())
