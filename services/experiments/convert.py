"""Messages ↔ statistics: request summaries to :class:`ExperimentStats` (validated, with field paths in
every error) and results back to messages. The client uses the same functions in the other direction."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import ValidationError

from core.errors import InvalidArgument, preview
from mds.experiments.v1 import experiments_pb2 as pb
from models.experiments import (
    AnalysisSettings,
    ArmStats,
    Comparison,
    Effect,
    ExperimentStats,
    MetricStats,
    RatioStats,
    SegmentEffect,
)

__all__ = ["MAX_ARMS", "MAX_ARM_USERS", "MAX_COMPARISONS", "MAX_METRICS", "MAX_SEGMENTS", "arms_from_proto",
           "arms_to_proto", "check_count", "comparison_to_proto", "settings_from_proto", "segment_effect_to_proto"]

# Request limits: far above any real experiment, far below what would occupy a worker for long. One
# comparison (every read-out of one metric of one treatment arm) costs about 3.5 ms of CPU, so
# MAX_COMPARISONS bounds an Analyze to about a second; a segment costs about 2 ms.
MAX_ARMS = 32
MAX_METRICS = 32  # per arm, metrics and ratios together
MAX_COMPARISONS = 256  # treatment arms x metrics of one Analyze
MAX_SEGMENTS = 1_000
MAX_ARM_USERS = 10_000_000_000  # more people than there are; beyond it the sums lose float precision

# Relative slack allowed on sum_squares >= sum^2 / n (float round-off in the caller's aggregation).
_ROUNDOFF = 1e-9


def _finite(field: str, *values: float) -> None:
    if not all(math.isfinite(v) for v in values):
        raise InvalidArgument(f"{field} holds a NaN or infinite sum", field=field)


def _count(field: str, given: int, users: int) -> int:
    count = given or users
    if count < 0 or count > users:
        raise InvalidArgument(f"{field} is {given}; it must lie in [0, users={users}]", field=field)
    if count < 2 <= users:
        raise InvalidArgument(f"{field} is {given}; a metric needs at least 2 users", field=field)
    return count


def _check_spread(field: str, sum_: float, sum_squares: float, n: int) -> None:
    if n and sum_squares < sum_ * sum_ / n - _ROUNDOFF * max(1.0, abs(sum_squares)):
        raise InvalidArgument(f"{field}: sum of squares {sum_squares} is below sum^2/count; the sums are "
                              f"inconsistent", field=field)


def check_count(field: str, given: int, limit: int, what: str) -> None:
    """INVALID_ARGUMENT naming ``field`` and the limit when a repeated field holds too many items."""
    if given > limit:
        raise InvalidArgument(f"{field} holds {given:,} {what}; at most {limit:,} are allowed", field=field)


def arms_from_proto(arms: Sequence[pb.ArmSummary], prefix: str = "arms") -> ExperimentStats:
    """Validated statistics; every error names the offending field (e.g. ``arms[1].metrics[0].count``)."""
    check_count(prefix, len(arms), MAX_ARMS, "arms")
    out: dict[str, ArmStats] = {}
    for i, arm in enumerate(arms):
        path = f"{prefix}[{i}]"
        if not arm.arm:
            raise InvalidArgument(f"{path}.arm is empty", field=f"{path}.arm")
        if arm.arm in out:
            raise InvalidArgument(f"arm {preview(arm.arm)} appears twice", field=f"{path}.arm")
        if arm.users < 0:
            raise InvalidArgument(f"arm {preview(arm.arm)} has a negative user count", field=f"{path}.users")
        if arm.users > MAX_ARM_USERS:
            raise InvalidArgument(f"arm {preview(arm.arm)} has {arm.users:,} users; at most {MAX_ARM_USERS:,} are "
                                  "plausible", field=f"{path}.users")
        check_count(f"{path}.metrics", len(arm.metrics) + len(arm.ratios), MAX_METRICS, "metrics and ratios")
        metrics: dict[str, MetricStats] = {}
        for j, m in enumerate(arm.metrics):
            mpath = f"{path}.metrics[{j}]"
            if not m.metric or m.metric in metrics:
                raise InvalidArgument(f"{mpath}.metric is empty or repeated", field=f"{mpath}.metric")
            n = _count(f"{mpath}.count", m.count, arm.users)
            _finite(mpath, m.sum, m.sum_squares, m.covariate_sum, m.covariate_sum_squares, m.cross_sum)
            _check_spread(f"{mpath}.sum_squares", m.sum, m.sum_squares, n)
            if m.has_covariate:
                _check_spread(f"{mpath}.covariate_sum_squares", m.covariate_sum, m.covariate_sum_squares, n)
            metrics[m.metric] = MetricStats(n, m.sum, m.sum_squares, m.covariate_sum, m.covariate_sum_squares,
                                            m.cross_sum, m.has_covariate)
        ratios: dict[str, RatioStats] = {}
        for j, r in enumerate(arm.ratios):
            rpath = f"{path}.ratios[{j}]"
            if not r.metric or r.metric in ratios or r.metric in metrics:
                raise InvalidArgument(f"{rpath}.metric is empty or repeated", field=f"{rpath}.metric")
            n = _count(f"{rpath}.count", r.count, arm.users)
            _finite(rpath, r.numerator_sum, r.numerator_sum_squares, r.denominator_sum, r.denominator_sum_squares,
                    r.cross_sum)
            _check_spread(f"{rpath}.numerator_sum_squares", r.numerator_sum, r.numerator_sum_squares, n)
            _check_spread(f"{rpath}.denominator_sum_squares", r.denominator_sum, r.denominator_sum_squares, n)
            ratios[r.metric] = RatioStats(n, r.numerator_sum, r.numerator_sum_squares, r.denominator_sum,
                                          r.denominator_sum_squares, r.cross_sum)
        out[arm.arm] = ArmStats(int(arm.users), metrics, ratios)
    return ExperimentStats(out)


def validate_arms(stats: ExperimentStats, arms: Sequence[pb.ArmSummary], control: str,
                  treatments: Sequence[str], prefix: str = "arms") -> None:
    """The arm-level checks of :meth:`ExperimentStats.validate`, reported against request fields."""
    index = {a.arm: i for i, a in enumerate(arms)}
    known = ", ".join(sorted(index)) or "none"
    if not control:
        raise InvalidArgument("control_arm is empty", field="control_arm")
    if control not in index:
        raise InvalidArgument(f"control arm {control!r} is not among the arms ({known})", field="control_arm")
    for k, arm in enumerate(treatments):
        if arm not in index or arm == control:
            raise InvalidArgument(f"treatment arm {arm!r} is not a non-control arm ({known})",
                                  field=f"treatment_arms[{k}]")
    if len(index) < 2:
        raise InvalidArgument(f"only one arm ({control!r}); an experiment needs a treatment arm", field=prefix)
    for arm in [control, *(treatments or [a for a in index if a != control])]:
        if stats.arms[arm].count < 2:
            raise InvalidArgument(f"arm {arm!r} has {stats.arms[arm].count} users; at least 2 are needed",
                                  field=f"{prefix}[{index[arm]}].users")


def arms_to_proto(stats: ExperimentStats, design: dict[str, float] | None = None) -> list[pb.ArmSummary]:
    out = []
    for name, arm in stats.arms.items():
        out.append(pb.ArmSummary(
            arm=name, users=arm.count, designed_weight=(design or {}).get(name, 0.0),
            metrics=[pb.MetricSummary(metric=k, count=m.count, sum=m.sum, sum_squares=m.sum_squares,
                                      has_covariate=m.has_covariate, covariate_sum=m.covariate_sum,
                                      covariate_sum_squares=m.covariate_sum_squares, cross_sum=m.cross_sum)
                     for k, m in arm.metrics.items()],
            ratios=[pb.RatioSummary(metric=k, count=r.count, numerator_sum=r.numerator_sum,
                                    numerator_sum_squares=r.numerator_sum_squares, denominator_sum=r.denominator_sum,
                                    denominator_sum_squares=r.denominator_sum_squares, cross_sum=r.cross_sum)
                    for k, r in arm.ratios.items()]))
    return out


def settings_from_proto(options: pb.AnalysisOptions, arms: Sequence[pb.ArmSummary],
                        metrics: Sequence[str] | None = None) -> AnalysisSettings:
    """Analysis settings from request options; ``metrics``: the names ``lower_is_better`` may use."""
    values: dict[str, object] = {}
    for name in ("alpha", "srm_alpha", "srm_min_relative_deviation", "sequential_tuning_n", "prior_mean", "prior_sd"):
        if options.HasField(name):
            values[name] = getattr(options, name)
    if options.test not in (pb.TEST_KIND_UNSPECIFIED, pb.TEST_KIND_WELCH, pb.TEST_KIND_Z):
        raise InvalidArgument(f"options.test is {options.test}, not a TestKind (0 unspecified, 1 Welch, 2 z)",
                              field="options.test")
    if options.test == pb.TEST_KIND_Z:
        values["test"] = "z"
    if options.lower_is_better:
        check_count("options.lower_is_better", len(options.lower_is_better), MAX_METRICS, "metrics")
        if metrics is not None:
            known = set(metrics)
            for i, name in enumerate(options.lower_is_better):
                if name not in known:
                    raise InvalidArgument(f"options.lower_is_better names {preview(name)}, which is not a metric of "
                                          f"the request ({', '.join(sorted(known)[:10]) or 'none'})",
                                          field=f"options.lower_is_better[{i}]")
        values["lower_is_better"] = frozenset(options.lower_is_better)
    weights = {a.arm: a.designed_weight for a in arms}
    if any(w != 0 for w in weights.values()):
        bad = [i for i, a in enumerate(arms) if not (a.designed_weight > 0 and math.isfinite(a.designed_weight))]
        if bad:
            raise InvalidArgument("designed_weight must be positive on every arm when set on any",
                                  field=f"arms[{bad[0]}].designed_weight")
        values["designed_split"] = weights
    try:
        return AnalysisSettings(**values)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidArgument(f"options.{err['loc'][0]}: {err['msg']}", field=f"options.{err['loc'][0]}") from exc


def _effect(e: Effect | None) -> pb.Effect | None:
    if e is None:
        return None
    return pb.Effect(estimate=e.estimate, standard_error=e.se, ci_low=e.ci_low, ci_high=e.ci_high,
                     p_value=e.p_value, degrees_of_freedom=e.df)


def comparison_to_proto(c: Comparison) -> pb.Comparison:
    msg = pb.Comparison(
        arm=c.arm, metric=c.metric, kind=c.kind, control_count=c.control_count, treatment_count=c.treatment_count,
        control_mean=c.control_mean, treatment_mean=c.treatment_mean, absolute=_effect(c.absolute),
        relative=_effect(c.relative), cuped=_effect(c.cuped), cuped_relative=_effect(c.cuped_relative),
        p_value_holm=c.p_holm, p_value_bh=c.p_bh, sequential_ci_low=c.sequential_ci[0],
        sequential_ci_high=c.sequential_ci[1], sequential_p_value=c.sequential_p_value,
        chance_to_beat_control=c.chance_to_beat_control, expected_loss=c.expected_loss,
        credible_ci_low=c.posterior.ci_low, credible_ci_high=c.posterior.ci_high, bayes_scale=c.bayes_scale)
    if c.variance_reduction is not None:
        msg.variance_reduction = c.variance_reduction
    return msg


def segment_effect_to_proto(e: SegmentEffect) -> pb.SegmentEffect:
    return pb.SegmentEffect(segment=e.segment, control_count=e.control_count, treatment_count=e.treatment_count,
                            control_mean=e.control_mean, treatment_mean=e.treatment_mean, ate=e.ate,
                            standard_error=e.se, ci_low=e.ci_low, ci_high=e.ci_high, p_value=e.p_value)
