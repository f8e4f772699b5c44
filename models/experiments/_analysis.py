"""The whole-experiment analysis: every treatment arm against control on every metric."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.errors import InvalidArgument
from models.experiments._checks import SrmResult, benjamini_hochberg, holm, sample_ratio_mismatch
from models.experiments._inference import (
    Effect,
    Posterior,
    absolute_effect,
    always_valid_p_value,
    confidence_sequence,
    cuped_effect,
    posterior,
    ratio_effects,
    relative_effect,
)
from models.experiments._stats import ExperimentStats, RatioStats

__all__ = ["AnalysisSettings", "Comparison", "ExperimentResult", "analyze"]


class AnalysisSettings(BaseModel):
    """Knobs of an analysis; the defaults are what a GrowthBook user would expect."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    alpha: float = Field(default=0.05, gt=0, lt=1, description="two-sided level of every interval and test")
    test: Literal["welch", "z"] = Field(default="welch", description="Welch t (unequal variances) or normal z")
    srm_alpha: float = Field(default=0.001, gt=0, lt=1, description="SRM chi-square significance threshold")
    srm_min_relative_deviation: float = Field(
        default=0.01, ge=0, description="SRM is flagged only if some arm's share is off by at least this fraction")
    designed_split: dict[str, float] | None = Field(
        default=None, description="arm -> designed traffic weight; None means an equal split")
    prior_mean: float = Field(default=0.0, description="mean of the normal prior on the relative lift")
    prior_sd: float | None = Field(
        default=None, gt=0, description="sd of the normal prior on the relative lift (GrowthBook's proper prior, "
                                        "e.g. 0.3); None = flat")
    lower_is_better: frozenset[str] = Field(
        default=frozenset(), description="metrics where a decrease is the improvement (e.g. unsubscribes, cost)")
    sequential_tuning_n: float = Field(
        default=5000.0, gt=0, description="total users at which the confidence sequence is tightest")


@dataclass(frozen=True, slots=True)
class Comparison:
    """One treatment arm against control on one metric.

    ``absolute`` is the difference of means (or ratios); ``relative`` the percent change (None when the
    control is zero). ``cuped*`` are present when a covariate was summarized. ``p_holm`` and ``p_bh`` are
    adjusted across every arm x metric of the analysis. The sequential interval uses the CUPED absolute
    estimate when there is one. The Bayesian read-outs (``posterior``: credible interval, chance to beat
    control, expected loss) are on the relative lift, CUPED when available, as in GrowthBook
    (``bayes_scale`` says "absolute" where the control mean is zero and no relative lift exists).
    """

    arm: str
    metric: str
    kind: Literal["mean", "ratio"]
    control_count: int
    treatment_count: int
    control_mean: float
    treatment_mean: float
    absolute: Effect
    relative: Effect | None
    cuped: Effect | None
    cuped_relative: Effect | None
    variance_reduction: float | None
    sequential_ci: tuple[float, float]
    sequential_p_value: float
    posterior: Posterior
    bayes_scale: Literal["relative", "absolute"]
    p_holm: float = math.nan
    p_bh: float = math.nan

    @property
    def chance_to_beat_control(self) -> float:
        return self.posterior.chance_to_beat_control

    @property
    def expected_loss(self) -> float:
        return self.posterior.expected_loss


@dataclass(frozen=True, slots=True)
class ExperimentResult:
    control: str
    treatments: list[str]
    metrics: list[str]
    counts: Mapping[str, int]
    means: Mapping[str, Mapping[str, float]]  # arm -> metric -> mean (or ratio)
    comparisons: list[Comparison]
    srm: SrmResult
    settings: AnalysisSettings
    extras: dict[str, Any] = field(default_factory=dict)

    def comparison(self, arm: str, metric: str) -> Comparison:
        for c in self.comparisons:
            if c.arm == arm and c.metric == metric:
                return c
        raise KeyError((arm, metric))

    def to_json(self) -> dict[str, Any]:
        """The issue's JSON shape (``arms -> arm -> metric -> {mean, lift, ci, p_value, cuped_lift,
        cuped_ci}`` and ``srm``), plus relative lifts, adjusted p-values and the sequential/Bayesian figures.

        ``lift`` is the absolute difference treatment - control (``ci`` and ``p_value`` belong to it);
        ``relative_lift`` is treatment / control - 1. Control arm entries carry only means (lifts null).
        """
        arms: dict[str, dict[str, Any]] = {}
        for arm in [self.control, *self.treatments]:
            arms[arm] = {}
            for metric in self.metrics:
                arms[arm][metric] = {"mean": self.means[arm][metric], "n": self.counts[arm], "lift": None,
                                     "ci": None, "p_value": None, "cuped_lift": None, "cuped_ci": None}
        for c in self.comparisons:
            entry = arms[c.arm][c.metric]
            entry.update({
                "lift": c.absolute.estimate, "ci": list(c.absolute.ci), "p_value": c.absolute.p_value,
                "cuped_lift": c.cuped.estimate if c.cuped else None,
                "cuped_ci": list(c.cuped.ci) if c.cuped else None,
                "cuped_p_value": c.cuped.p_value if c.cuped else None,
                "variance_reduction": c.variance_reduction,
                "relative_lift": c.relative.estimate if c.relative else None,
                "relative_ci": list(c.relative.ci) if c.relative else None,
                "relative_p_value": c.relative.p_value if c.relative else None,
                "cuped_relative_lift": c.cuped_relative.estimate if c.cuped_relative else None,
                "cuped_relative_ci": list(c.cuped_relative.ci) if c.cuped_relative else None,
                "p_value_holm": c.p_holm, "p_value_bh": c.p_bh,
                "sequential_ci": list(c.sequential_ci), "sequential_p_value": c.sequential_p_value,
                "chance_to_beat_control": c.chance_to_beat_control, "expected_loss": c.expected_loss,
                "credible_interval": [c.posterior.ci_low, c.posterior.ci_high], "bayes_scale": c.bayes_scale,
            })
        return {
            "control": self.control,
            "arms": arms,
            "srm": {"p_value": self.srm.p_value, "ok": self.srm.ok, "chi2": self.srm.chi2,
                    "observed": dict(self.srm.observed), "expected_share": dict(self.srm.expected_share),
                    "max_relative_deviation": self.srm.max_relative_deviation},
            "settings": self.settings.model_dump(mode="json"),
            **self.extras,
        }


def analyze(stats: ExperimentStats, control: str, settings: AnalysisSettings | None = None,
            treatments: Iterable[str] | None = None, metrics: Iterable[str] | None = None) -> ExperimentResult:
    """Compare each treatment arm with ``control`` on every metric (and ratio metric) summarized."""
    settings = settings or AnalysisSettings()
    chosen = stats.validate(control, treatments)
    ctrl = stats.arms[control]
    names = list(metrics) if metrics is not None else [*ctrl.metrics, *ctrl.ratios]
    if not names:
        raise InvalidArgument("no metrics to analyze", field="metrics")
    for arm in [control, *chosen]:
        a = stats.arms[arm]
        missing = [m for m in names if m not in a.metrics and m not in a.ratios]
        if missing:
            raise InvalidArgument(f"arm {arm!r} has no statistics for metric(s) {', '.join(missing)}",
                                  field="metrics")
        few = [m for m in names if (a.metrics[m].count if m in a.metrics else a.ratios[m].count) < 2]
        if few:
            raise InvalidArgument(f"arm {arm!r} has fewer than 2 users with metric(s) {', '.join(few)}",
                                  field="metrics")
    alpha, test = settings.alpha, settings.test
    comparisons: list[Comparison] = []
    means: dict[str, dict[str, float]] = {a: {} for a in [control, *chosen]}
    for metric in names:
        for arm in [control, *chosen]:
            a = stats.arms[arm]
            means[arm][metric] = a.metrics[metric].mean if metric in a.metrics else _ratio_value(a.ratios[metric], arm, metric)
        for arm in chosen:
            comparisons.append(_compare(stats, control, arm, metric, settings, alpha, test))
    adjusted_holm = holm([c.absolute.p_value for c in comparisons])
    adjusted_bh = benjamini_hochberg([c.absolute.p_value for c in comparisons])
    comparisons = [replace(c, p_holm=h, p_bh=b)
                   for c, h, b in zip(comparisons, adjusted_holm, adjusted_bh, strict=True)]
    counts = {a: stats.arms[a].count for a in [control, *chosen]}
    # Assignment is checked over every arm of the experiment, not only the ones being compared.
    all_counts = {a: arm.count for a, arm in sorted(stats.arms.items())}
    srm = sample_ratio_mismatch(all_counts, settings.designed_split, settings.srm_alpha,
                                settings.srm_min_relative_deviation)
    return ExperimentResult(control, chosen, names, counts, means, comparisons, srm, settings)


def _ratio_value(r: RatioStats, arm: str, metric: str) -> float:
    if r.denominator_sum == 0:
        raise InvalidArgument(f"ratio metric {metric!r} has a zero denominator in arm {arm!r}", field="metrics")
    return float(r.ratio)


def _compare(stats: ExperimentStats, control: str, arm: str, metric: str, settings: AnalysisSettings,
             alpha: float, test: Literal["welch", "z"]) -> Comparison:
    c_arm, t_arm = stats.arms[control], stats.arms[arm]
    n = c_arm.count + t_arm.count
    if metric in c_arm.metrics:
        c, t = c_arm.metrics[metric], t_arm.metrics[metric]
        absolute, relative = absolute_effect(c, t, alpha, test), relative_effect(c, t, alpha, test)
        cuped = cuped_effect(c, t, alpha, test) if c.has_covariate and t.has_covariate else None
        kind: Literal["mean", "ratio"] = "mean"
        control_mean, treatment_mean, n_c, n_t = c.mean, t.mean, c.count, t.count
    else:
        rc, rt = c_arm.ratios[metric], t_arm.ratios[metric]
        control_mean, treatment_mean = _ratio_value(rc, control, metric), _ratio_value(rt, arm, metric)
        absolute, relative = ratio_effects(rc, rt, alpha)
        cuped, kind, n_c, n_t = None, "ratio", rc.count, rt.count
    decision = cuped.absolute if cuped else absolute
    relative_decision = cuped.relative if cuped else relative
    bayes_effect = relative_decision if relative_decision is not None else decision
    prior_sd = settings.prior_sd if relative_decision is not None else None
    post = posterior(bayes_effect, alpha, settings.prior_mean, prior_sd, metric in settings.lower_is_better)
    return Comparison(
        arm=arm, metric=metric, kind=kind, control_count=n_c, treatment_count=n_t,
        control_mean=control_mean, treatment_mean=treatment_mean, absolute=absolute, relative=relative,
        cuped=cuped.absolute if cuped else None, cuped_relative=cuped.relative if cuped else None,
        variance_reduction=cuped.variance_reduction if cuped else None,
        sequential_ci=confidence_sequence(decision, n, alpha, settings.sequential_tuning_n),
        sequential_p_value=always_valid_p_value(decision, n, alpha, settings.sequential_tuning_n),
        posterior=post, bayes_scale="relative" if relative_decision is not None else "absolute",
    )
