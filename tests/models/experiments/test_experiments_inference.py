"""Every statistic of the engine against an independent computation on the raw rows (scipy / statsmodels)."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from scipy import integrate, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from models.experiments import (
    AnalysisSettings,
    ArmStats,
    Effect,
    ExperimentStats,
    MetricStats,
    RatioStats,
    absolute_effect,
    always_valid_p_value,
    analyze,
    benjamini_hochberg,
    chance_to_beat_control,
    confidence_sequence,
    cuped_effect,
    expected_loss,
    holm,
    posterior,
    ratio_effects,
    relative_effect,
    sample_ratio_mismatch,
)

RTOL = 1e-9


def _arms(seed: int = 0, n_c: int = 3000, n_t: int = 2500) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x_c, x_t = rng.gamma(2.0, 50.0, n_c), rng.gamma(2.0, 50.0, n_t)
    y_c = 0.8 * x_c + rng.normal(0, 40, n_c)
    y_t = 0.8 * x_t + 6.0 + rng.normal(0, 45, n_t)
    return y_c, x_c, y_t, x_t


def test_stats_combine_across_chunks_like_one_pass() -> None:
    y_c, x_c, _, _ = _arms()
    whole = MetricStats.from_values(y_c, x_c)
    parts = [MetricStats.from_values(y, x) for y, x in zip(np.array_split(y_c, 7), np.array_split(x_c, 7), strict=True)]
    combined = sum(parts[1:], parts[0])
    for name in ("count", "sum", "sum_squares", "covariate_sum", "covariate_sum_squares", "cross_sum"):
        assert getattr(combined, name) == pytest.approx(getattr(whole, name), rel=1e-12)
    assert combined.mean == pytest.approx(np.mean(y_c), rel=RTOL)
    assert combined.variance == pytest.approx(np.var(y_c, ddof=1), rel=RTOL)
    assert combined.covariance == pytest.approx(np.cov(y_c, x_c)[0, 1], rel=RTOL)
    assert combined.has_covariate
    assert not (combined + MetricStats.from_values(y_c)).has_covariate


@hypothesis_settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=4, max_size=60), st.integers(1, 3),
       st.randoms(use_true_random=False))
def test_summaries_add_up_in_any_order(values: list[float], cut: int, rnd: random.Random) -> None:
    y = np.array(values)
    x = y[::-1].copy()
    order = list(range(len(y)))
    rnd.shuffle(order)
    chunks = [order[i::cut + 1] for i in range(cut + 1)]
    parts = [MetricStats.from_values(y[idx], x[idx]) for idx in chunks if idx]
    total = sum(parts[1:], parts[0])
    whole = MetricStats.from_values(y, x)
    assert total.count == whole.count
    scale = 1.0 + float(np.abs(y).max()) ** 2 * len(y)
    for name in ("sum", "sum_squares", "covariate_sum", "covariate_sum_squares", "cross_sum"):
        assert abs(getattr(total, name) - getattr(whole, name)) <= 1e-9 * scale


def test_welch_absolute_effect_matches_scipy() -> None:
    y_c, _, y_t, _ = _arms(1)
    e = absolute_effect(MetricStats.from_values(y_c), MetricStats.from_values(y_t), alpha=0.1)
    ref = stats.ttest_ind(y_t, y_c, equal_var=False)
    ci = ref.confidence_interval(0.9)
    assert e.estimate == pytest.approx(y_t.mean() - y_c.mean(), rel=RTOL)
    assert e.p_value == pytest.approx(ref.pvalue, rel=RTOL)
    assert e.df == pytest.approx(ref.df, rel=RTOL)
    assert (e.ci_low, e.ci_high) == pytest.approx((ci.low, ci.high), rel=RTOL)


def test_z_effect_matches_statsmodels() -> None:
    y_c, _, y_t, _ = _arms(2)
    e = absolute_effect(MetricStats.from_values(y_c), MetricStats.from_values(y_t), test="z")
    cm = CompareMeans(DescrStatsW(y_t), DescrStatsW(y_c))
    z, p = cm.ztest_ind(usevar="unequal")
    assert e.p_value == pytest.approx(p, rel=RTOL)
    assert e.estimate / e.se == pytest.approx(z, rel=RTOL)
    assert e.ci == pytest.approx(cm.zconfint_diff(alpha=0.05, usevar="unequal"), rel=RTOL)
    assert math.isinf(e.df)


def test_relative_lift_is_the_delta_method() -> None:
    y_c, _, y_t, _ = _arms(3)
    e = relative_effect(MetricStats.from_values(y_c), MetricStats.from_values(y_t), test="z")
    assert e is not None
    mc, mt = y_c.mean(), y_t.mean()
    # gradient of g(mt, mc) = mt/mc - 1 times the covariance of the two (independent) means
    grad = np.array([1 / mc, -mt / mc**2])
    cov = np.diag([y_t.var(ddof=1) / y_t.size, y_c.var(ddof=1) / y_c.size])
    se = math.sqrt(grad @ cov @ grad)
    assert e.estimate == pytest.approx(mt / mc - 1, rel=RTOL)
    assert e.se == pytest.approx(se, rel=RTOL)
    assert e.p_value == pytest.approx(2 * stats.norm.sf(abs(e.estimate) / se), rel=1e-7)
    assert relative_effect(MetricStats.from_values(np.zeros(10)), MetricStats.from_values(np.ones(10))) is None


def test_cuped_is_welch_on_the_adjusted_metric_and_reduces_variance() -> None:
    y_c, x_c, y_t, x_t = _arms(4)
    res = cuped_effect(MetricStats.from_values(y_c, x_c), MetricStats.from_values(y_t, x_t))
    x_all, y_all = np.concatenate([x_c, x_t]), np.concatenate([y_c, y_t])
    theta = np.cov(y_all, x_all)[0, 1] / np.var(x_all, ddof=1)
    adj_c = y_c - theta * (x_c - x_all.mean())
    adj_t = y_t - theta * (x_t - x_all.mean())
    ref = stats.ttest_ind(adj_t, adj_c, equal_var=False)
    assert res.theta == pytest.approx(theta, rel=RTOL)
    assert res.absolute.estimate == pytest.approx(adj_t.mean() - adj_c.mean(), rel=RTOL)
    assert res.absolute.p_value == pytest.approx(ref.pvalue, rel=1e-7)
    assert res.absolute.ci == pytest.approx(tuple(ref.confidence_interval(0.95)), rel=RTOL)
    raw = stats.ttest_ind(y_t, y_c, equal_var=False)
    raw_se = (y_t.mean() - y_c.mean()) / raw.statistic
    assert res.variance_reduction == pytest.approx(1 - (res.absolute.se / raw_se) ** 2, rel=1e-9)
    # the covariate explains most of y here: CUPED must remove roughly corr^2 of the variance
    corr2 = np.corrcoef(y_all, x_all)[0, 1] ** 2
    assert res.variance_reduction == pytest.approx(corr2, abs=0.03)
    assert res.variance_reduction > 0.5


def test_ratio_metric_delta_method_matches_linearization() -> None:
    rng = np.random.default_rng(5)
    d_c, d_t = rng.binomial(1, 0.3, 4000), rng.binomial(1, 0.35, 4200)
    y_c = d_c * rng.gamma(2.0, 20.0, 4000)
    y_t = d_t * rng.gamma(2.0, 22.0, 4200)
    absolute, relative = ratio_effects(RatioStats.from_values(y_c, d_c), RatioStats.from_values(y_t, d_t))

    def var_ratio(y: np.ndarray, d: np.ndarray) -> tuple[float, float]:
        r = y.sum() / d.sum()
        influence = (y - r * d) / d.mean()  # per-user linearization of sum(y)/sum(d)
        return r, influence.var(ddof=1) / y.size

    (r_c, v_c), (r_t, v_t) = var_ratio(y_c, d_c), var_ratio(y_t, d_t)
    assert absolute.estimate == pytest.approx(r_t - r_c, rel=RTOL)
    assert absolute.se == pytest.approx(math.sqrt(v_c + v_t), rel=1e-8)
    assert relative is not None
    assert relative.estimate == pytest.approx(r_t / r_c - 1, rel=RTOL)
    assert relative.se == pytest.approx(math.sqrt(v_t / r_c**2 + r_t**2 * v_c / r_c**4), rel=1e-8)


def test_srm_chi_square_matches_scipy_and_has_a_floor() -> None:
    counts = {"a": 5040, "b": 4960, "c": 10210}
    res = sample_ratio_mismatch(counts, {"a": 1, "b": 1, "c": 2})
    ref = stats.chisquare([5040, 4960, 10210], f_exp=np.array([0.25, 0.25, 0.5]) * 20210)
    assert res.chi2 == pytest.approx(ref.statistic, rel=RTOL)
    assert res.p_value == pytest.approx(ref.pvalue, rel=RTOL)
    # 0.2% imbalance on 20M users: highly "significant", but below the 1% floor, so no alarm
    huge = sample_ratio_mismatch({"a": 10_010_000, "b": 9_990_000})
    assert huge.p_value < 1e-3 and huge.ok
    broken = sample_ratio_mismatch({"a": 10_500, "b": 9_500})
    assert broken.p_value < 1e-3 and not broken.ok


def test_holm_and_bh_match_statsmodels() -> None:
    p = np.random.default_rng(6).uniform(0, 0.1, 12)
    p[3] = p[7]  # ties
    for ours, method in ((holm(p), "holm"), (benjamini_hochberg(p), "fdr_bh")):
        assert ours == pytest.approx(multipletests(p, method=method)[1], rel=RTOL)


def test_confidence_sequence_p_value_is_its_boundary() -> None:
    y_c, _, y_t, _ = _arms(7, 400, 400)
    e = absolute_effect(MetricStats.from_values(y_c), MetricStats.from_values(y_t))
    lo, hi = confidence_sequence(e, 800)
    fixed = e.ci
    assert lo < fixed[0] and hi > fixed[1]  # wider than the fixed-horizon interval
    p = always_valid_p_value(e, 800)
    assert p >= e.p_value
    # at the level equal to the always-valid p-value the sequence just touches zero
    lo_p, hi_p = confidence_sequence(e, 800, alpha=p, mixture_alpha=0.05)
    assert min(abs(lo_p), abs(hi_p)) == pytest.approx(0.0, abs=1e-9 * abs(e.estimate))


def test_confidence_sequence_keeps_false_positives_under_alpha_when_peeking() -> None:
    """A/A: 1000 experiments, 40 peeks each; the share that EVER excludes zero must stay <= alpha."""
    rng = np.random.default_rng(8)
    reps, peeks, batch, alpha = 1000, 40, 100, 0.05
    a = rng.normal(0.0, 1.0, (reps, peeks, batch))
    b = rng.exponential(1.0, (reps, peeks, batch))  # skewed metric, same mean 1 as a + 1
    b = b - 1.0
    n = batch * np.arange(1, peeks + 1)
    s_a, q_a = np.cumsum(a.sum(2), 1), np.cumsum((a * a).sum(2), 1)
    s_b, q_b = np.cumsum(b.sum(2), 1), np.cumsum((b * b).sum(2), 1)
    var_a, var_b = (q_a - s_a**2 / n) / (n - 1), (q_b - s_b**2 / n) / (n - 1)
    diff = s_b / n - s_a / n
    se = np.sqrt(var_a / n + var_b / n)
    total = 2 * n
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / 5000.0
    half = se * np.sqrt(total) * np.sqrt(2 * (total * rho2 + 1) / (total**2 * rho2)
                                         * np.log(np.sqrt(total * rho2 + 1) / alpha))
    seq_fp = (np.abs(diff) > half).any(axis=1).mean()
    fixed_fp = (np.abs(diff / se) > stats.norm.ppf(1 - alpha / 2)).any(axis=1).mean()
    print(f"A/A false-positive rate with 40 peeks: sequential {seq_fp:.3f}, fixed-horizon {fixed_fp:.3f}")
    assert seq_fp <= alpha
    assert fixed_fp > 2 * alpha  # naive peeking inflates errors: the simulation can see a broken method
    # a single look at the end is an honest fixed-horizon test: its error rate is alpha (+- 3 binomial sd)
    last_fp = (np.abs(diff[:, -1] / se[:, -1]) > stats.norm.ppf(1 - alpha / 2)).mean()
    assert abs(last_fp - alpha) < 3 * math.sqrt(alpha * (1 - alpha) / reps)
    # the vectorized boundary above is the engine's, checked on a few cells
    for r, k in ((0, 0), (5, 17), (999, 39)):
        e = Effect(diff[r, k], se[r, k], 0.0, 0.0, 1.0, math.inf)
        lo, hi = confidence_sequence(e, int(total[k]), alpha)
        assert hi - diff[r, k] == pytest.approx(half[r, k], rel=RTOL)


def test_chance_to_beat_control_and_expected_loss() -> None:
    rng = np.random.default_rng(9)
    conv_c, conv_t = rng.binomial(1, 0.10, 5000), rng.binomial(1, 0.11, 5000)
    e = absolute_effect(MetricStats.from_values(conv_c), MetricStats.from_values(conv_t), test="z")
    # reference: exact Beta-Binomial posteriors under uniform priors, P(p_t > p_c) by integration
    a_c, b_c = 1 + conv_c.sum(), 1 + 5000 - conv_c.sum()
    a_t, b_t = 1 + conv_t.sum(), 1 + 5000 - conv_t.sum()
    exact = integrate.quad(lambda p: stats.beta.pdf(p, a_c, b_c) * stats.beta.sf(p, a_t, b_t), 0.05, 0.2,
                           epsabs=1e-12)[0]
    assert chance_to_beat_control(e) == pytest.approx(exact, abs=0.01)
    loss = integrate.quad(lambda d: -d * stats.norm.pdf(d, e.estimate, e.se), -np.inf, 0, epsabs=1e-14)[0]
    assert expected_loss(e) == pytest.approx(loss, rel=1e-7, abs=1e-13)


def test_analyze_adjusts_across_arms_and_metrics() -> None:
    rng = np.random.default_rng(10)
    arms = {}
    raw: dict[str, dict[str, np.ndarray]] = {}
    for arm, shift in (("control", 0.0), ("b", 0.05), ("c", 0.0)):
        cols = {"m1": rng.normal(1 + shift, 1, 2000), "m2": rng.binomial(1, 0.2 + shift, 2000).astype(float)}
        raw[arm] = cols
        arms[arm] = ArmStats(2000, {k: MetricStats.from_values(v) for k, v in cols.items()})
    res = analyze(ExperimentStats(arms), "control")
    p = [stats.ttest_ind(raw[c.arm][c.metric], raw["control"][c.metric], equal_var=False).pvalue
         for c in res.comparisons]
    assert [c.absolute.p_value for c in res.comparisons] == pytest.approx(p, rel=RTOL)
    assert [c.p_holm for c in res.comparisons] == pytest.approx(multipletests(p, method="holm")[1], rel=RTOL)
    assert [c.p_bh for c in res.comparisons] == pytest.approx(multipletests(p, method="fdr_bh")[1], rel=RTOL)
    out = res.to_json()
    assert out["arms"]["control"]["m1"]["lift"] is None
    assert out["arms"]["b"]["m2"]["ci"] == list(res.comparison("b", "m2").absolute.ci)
    assert out["srm"]["ok"] is True


def test_constant_and_degenerate_metrics_give_numbers_not_nan() -> None:
    big = np.full(50, 1e6)  # sum of squares round-off must not produce a negative variance
    res = analyze(ExperimentStats({"a": ArmStats(50, {"m": MetricStats.from_values(big, big),
                                                      "z": MetricStats.from_values(np.zeros(50), big)}),
                                   "b": ArmStats(50, {"m": MetricStats.from_values(big, big),
                                                      "z": MetricStats.from_values(np.zeros(50), big)})}), "a")
    for c in res.comparisons:
        assert c.absolute.estimate == 0.0 and c.absolute.p_value == 1.0 and c.absolute.ci == (0.0, 0.0)
        assert c.chance_to_beat_control == 0.5
    assert res.comparison("b", "z").relative is None  # 0 / 0 - 1 is undefined, reported as None
    assert math.isfinite(res.comparison("b", "m").variance_reduction or 0.0)


def test_posterior_with_a_prior_matches_numerical_bayes() -> None:
    e = Effect(0.04, 0.03, 0.0, 0.0, 1.0, math.inf)
    post = posterior(e, prior_mean=0.0, prior_sd=0.05)

    def unnormalized(d: float) -> float:  # prior x likelihood, integrated numerically
        return stats.norm.pdf(d, 0.0, 0.05) * stats.norm.pdf(0.04, d, 0.03)

    evidence = integrate.quad(unnormalized, -1, 1, epsabs=1e-14)[0]
    mean = integrate.quad(lambda d: d * unnormalized(d), -1, 1, epsabs=1e-14)[0] / evidence
    above = integrate.quad(unnormalized, 0, 1, epsabs=1e-14)[0] / evidence
    loss = integrate.quad(lambda d: -d * unnormalized(d), -1, 0, epsabs=1e-14)[0] / evidence
    assert post.mean == pytest.approx(mean, rel=1e-8)
    assert post.chance_to_beat_control == pytest.approx(above, rel=1e-8)
    assert post.expected_loss == pytest.approx(loss, rel=1e-7)
    assert post.mean < 0.04 and post.sd < 0.03  # shrunk towards the prior, tighter than the data alone
    flat = posterior(e)
    assert (flat.mean, flat.sd) == (0.04, 0.03)
    lower = posterior(e, lower_is_better=True)
    assert lower.chance_to_beat_control == pytest.approx(1 - flat.chance_to_beat_control, rel=1e-12)


def test_bayesian_readouts_use_the_relative_lift_and_respect_lower_is_better() -> None:
    rng = np.random.default_rng(13)
    c, t = rng.binomial(1, 0.10, 4000).astype(float), rng.binomial(1, 0.12, 4000).astype(float)
    arms = {"a": ArmStats(4000, {"m": MetricStats.from_values(c)}), "b": ArmStats(4000, {"m": MetricStats.from_values(t)})}
    res = analyze(ExperimentStats(arms), "a")
    cmp_ = res.comparison("b", "m")
    assert cmp_.bayes_scale == "relative" and cmp_.relative is not None
    assert cmp_.chance_to_beat_control == pytest.approx(stats.norm.cdf(cmp_.relative.estimate / cmp_.relative.se))
    churn = analyze(ExperimentStats(arms), "a", AnalysisSettings(lower_is_better=frozenset({"m"})))
    assert churn.comparison("b", "m").chance_to_beat_control == pytest.approx(1 - cmp_.chance_to_beat_control)
    assert json.dumps(churn.to_json())  # settings (a frozenset) serialize
