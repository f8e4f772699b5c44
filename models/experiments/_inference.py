"""Two-arm inference from sufficient statistics: lifts, CUPED, ratio metrics, sequential and Bayesian.

All functions take :class:`MetricStats` / :class:`RatioStats` only (never raw rows), so the same code
serves a streamed CSV, a Spark reduce and a gRPC request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy import stats as sps

from models.experiments._stats import MetricStats, RatioStats

__all__ = [
    "CupedEffect",
    "Effect",
    "Posterior",
    "absolute_effect",
    "always_valid_p_value",
    "chance_to_beat_control",
    "confidence_sequence",
    "cuped_effect",
    "expected_loss",
    "posterior",
    "ratio_effects",
    "relative_effect",
]

TestKind = Literal["welch", "z"]


@dataclass(frozen=True, slots=True)
class Effect:
    """One estimated treatment effect with its standard error, interval and two-sided p-value.

    ``df`` is the Welch-Satterthwaite degrees of freedom, or ``inf`` for a normal (z) interval.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: float

    @property
    def ci(self) -> tuple[float, float]:
        return (self.ci_low, self.ci_high)


@dataclass(frozen=True, slots=True)
class CupedEffect:
    """CUPED-adjusted absolute and relative effects and the variance they saved."""

    absolute: Effect
    relative: Effect | None
    theta: float
    variance_reduction: float  # 1 - Var(adjusted diff) / Var(unadjusted diff)
    control_mean: float  # adjusted means (covariate centred at the pooled mean)
    treatment_mean: float


def _effect(estimate: float, se: float, df: float, alpha: float) -> Effect:
    if se == 0.0:  # both arms constant: the difference is known exactly
        return Effect(estimate, 0.0, estimate, estimate, 1.0 if estimate == 0.0 else 0.0, df)
    dist = sps.norm if math.isinf(df) else sps.t(df)
    crit = float(dist.ppf(1 - alpha / 2))
    p = float(2 * dist.sf(abs(estimate) / se))
    return Effect(estimate, se, estimate - crit * se, estimate + crit * se, p, df)


def _welch_df(var_t: float, n_t: int, var_c: float, n_c: int) -> float:
    a, b = var_t / n_t, var_c / n_c
    denom = a * a / (n_t - 1) + b * b / (n_c - 1)
    return (a + b) ** 2 / denom if denom > 0 else math.inf


def _two_sample(mean_t: float, var_t: float, n_t: int, mean_c: float, var_c: float, n_c: int,
                alpha: float, test: TestKind) -> tuple[Effect, Effect | None]:
    se = math.sqrt(var_t / n_t + var_c / n_c)
    df = _welch_df(var_t, n_t, var_c, n_c) if test == "welch" else math.inf
    absolute = _effect(mean_t - mean_c, se, df, alpha)
    if mean_c == 0.0:  # a relative lift over zero is undefined; say so rather than print inf/NaN
        return absolute, None
    rel = mean_t / mean_c - 1
    rel_var = var_t / (n_t * mean_c**2) + mean_t**2 * var_c / (n_c * mean_c**4)
    return absolute, _effect(rel, math.sqrt(rel_var), df, alpha)


def absolute_effect(control: MetricStats, treatment: MetricStats, alpha: float = 0.05,
                    test: TestKind = "welch") -> Effect:
    """Difference of means, Welch t (unequal variances) or z interval."""
    return _two_sample(treatment.mean, treatment.variance, treatment.count, control.mean, control.variance,
                       control.count, alpha, test)[0]


def relative_effect(control: MetricStats, treatment: MetricStats, alpha: float = 0.05,
                    test: TestKind = "welch") -> Effect | None:
    """``mean_t / mean_c - 1`` with a delta-method interval; None when the control mean is zero."""
    return _two_sample(treatment.mean, treatment.variance, treatment.count, control.mean, control.variance,
                       control.count, alpha, test)[1]


def cuped_effect(control: MetricStats, treatment: MetricStats, alpha: float = 0.05,
                 test: TestKind = "welch") -> CupedEffect:
    """CUPED (Deng et al. 2013): regress out the pre-period covariate with one pooled ``theta``.

    ``theta = Cov(y, x) / Var(x)`` over both arms pooled; each arm's metric becomes
    ``y - theta * (x - mean_pooled(x))``, and the Welch / delta-method machinery runs on that.
    """
    if not (control.has_covariate and treatment.has_covariate):
        raise ValueError("CUPED needs statistics summarized with a covariate")
    pooled = control + treatment
    var_x = pooled.covariate_variance
    theta = pooled.covariance / var_x if var_x > 0 else 0.0
    x_bar = pooled.covariate_mean

    def adjusted(s: MetricStats) -> tuple[float, float]:
        mean = s.mean - theta * (s.covariate_mean - x_bar)
        var = s.variance - 2 * theta * s.covariance + theta**2 * s.covariate_variance
        return mean, max(var, 0.0)

    (m_t, v_t), (m_c, v_c) = adjusted(treatment), adjusted(control)
    absolute, relative = _two_sample(m_t, v_t, treatment.count, m_c, v_c, control.count, alpha, test)
    raw_var = treatment.variance / treatment.count + control.variance / control.count
    reduction = 1 - absolute.se**2 / raw_var if raw_var > 0 else 0.0
    return CupedEffect(absolute, relative, theta, reduction, m_c, m_t)


def ratio_effects(control: RatioStats, treatment: RatioStats, alpha: float = 0.05) -> tuple[Effect, Effect | None]:
    """Absolute and relative effect on a ratio metric ``sum(y) / sum(d)``, delta method, normal intervals."""
    r_t, r_c = treatment.ratio, control.ratio
    v_t, v_c = treatment.variance, control.variance
    absolute = _effect(r_t - r_c, math.sqrt(v_t + v_c), math.inf, alpha)
    if r_c == 0.0:
        return absolute, None
    rel_var = v_t / r_c**2 + r_t**2 * v_c / r_c**4
    return absolute, _effect(r_t / r_c - 1, math.sqrt(rel_var), math.inf, alpha)


def _rho_squared(alpha: float, tuning_n: float) -> float:
    # The mixture variance that makes the sequence tightest at `tuning_n` observations (Howard et al. 2021).
    return (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning_n


def confidence_sequence(effect: Effect, n: int, alpha: float = 0.05, tuning_n: float = 5000.0,
                        mixture_alpha: float | None = None) -> tuple[float, float]:
    """Always-valid (1 - alpha) interval: the asymptotic normal-mixture confidence sequence.

    Waudby-Smith et al. (2021), "Time-uniform central limit theory", eq. for the asymptotic CS with
    ``n`` the total users so far and ``se`` the current standard error of the estimate (GrowthBook's
    sequential mode uses the same boundary). Peeking after every user keeps coverage >= 1 - alpha.
    The mixture is tuned for ``mixture_alpha`` (default ``alpha``) at ``tuning_n`` users.
    """
    rho2 = _rho_squared(mixture_alpha or alpha, tuning_n)
    sigma2 = effect.se**2 * n  # per-observation variance of the estimator
    half = math.sqrt(sigma2) * math.sqrt(2 * (n * rho2 + 1) / (n * n * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha))
    return (effect.estimate - half, effect.estimate + half)


def always_valid_p_value(effect: Effect, n: int, alpha: float = 0.05, tuning_n: float = 5000.0) -> float:
    """Smallest level at which :func:`confidence_sequence` (mixture tuned for ``alpha``) excludes zero."""
    if effect.se == 0.0:
        return 1.0 if effect.estimate == 0.0 else 0.0
    rho2 = _rho_squared(alpha, tuning_n)
    z2 = (effect.estimate / effect.se) ** 2  # = estimate^2 * n / sigma2
    log_p = 0.5 * math.log(n * rho2 + 1) - z2 * n * rho2 / (2 * (n * rho2 + 1))
    return min(1.0, math.exp(log_p))


def chance_to_beat_control(effect: Effect) -> float:
    """Posterior P(effect > 0) under a flat prior and a normal likelihood (GrowthBook's "chance to win")."""
    if effect.se == 0.0:
        return 1.0 if effect.estimate > 0 else 0.0 if effect.estimate < 0 else 0.5
    return float(sps.norm.cdf(effect.estimate / effect.se))


def expected_loss(effect: Effect) -> float:
    """Posterior E[max(0, -effect)]: what shipping the treatment costs in expectation if it is worse."""
    mu, sd = effect.estimate, effect.se
    if sd == 0.0:
        return max(0.0, -mu)
    return float(sd * sps.norm.pdf(mu / sd) - mu * sps.norm.cdf(-mu / sd))


@dataclass(frozen=True, slots=True)
class Posterior:
    """Normal posterior of an effect: credible interval, P(improvement) and expected loss of shipping.

    ``chance_to_beat_control`` is P(effect > 0), or P(effect < 0) for a lower-is-better metric;
    ``expected_loss`` is E[max(0, -effect)] (E[max(0, effect)] when lower is better).
    """

    mean: float
    sd: float
    ci_low: float
    ci_high: float
    chance_to_beat_control: float
    expected_loss: float


def posterior(effect: Effect, alpha: float = 0.05, prior_mean: float = 0.0, prior_sd: float | None = None,
              lower_is_better: bool = False) -> Posterior:
    """Combine the normal likelihood of ``effect`` with a normal prior (flat when ``prior_sd`` is None)."""
    mean, sd = effect.estimate, effect.se
    if prior_sd is not None and sd > 0:
        precision = 1 / prior_sd**2 + 1 / sd**2
        mean = (prior_mean / prior_sd**2 + effect.estimate / sd**2) / precision
        sd = math.sqrt(1 / precision)
    z = float(sps.norm.ppf(1 - alpha / 2))
    oriented = Effect(-mean if lower_is_better else mean, sd, math.nan, math.nan, math.nan, math.inf)
    return Posterior(mean, sd, mean - z * sd, mean + z * sd, chance_to_beat_control(oriented), expected_loss(oriented))
