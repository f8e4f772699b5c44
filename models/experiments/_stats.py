"""Sufficient statistics: the only thing the analysis needs from the raw rows.

Every class here is a frozen sum of per-user terms, so two summaries of disjoint row sets combine
with ``+``. That is what lets a CSV be read in chunks, a Spark job reduce per partition, or a
caller send pre-aggregated numbers over gRPC, and all three give the same result.

Raw sums of squares lose precision when a metric's mean is huge relative to its spread; for
marketing metrics (rates, money, counts) float64 keeps ~1e-12 relative accuracy, which we test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from core.errors import InvalidArgument

__all__ = ["ArmStats", "ExperimentStats", "MetricStats", "RatioStats", "arm_from_sums", "grouped_from_frame",
           "sum_terms"]

FloatArray = npt.NDArray[np.float64]
_T = TypeVar("_T", "MetricStats", "RatioStats", "ArmStats")


@dataclass(frozen=True, slots=True)
class MetricStats:
    """Moments of one metric ``y`` (and optionally a pre-period covariate ``x``) in one arm.

    ``has_covariate`` is False when no covariate was summarized; the covariate sums are then zero.
    """

    count: int
    sum: float
    sum_squares: float
    covariate_sum: float = 0.0
    covariate_sum_squares: float = 0.0
    cross_sum: float = 0.0
    has_covariate: bool = False

    @classmethod
    def from_values(cls, y: npt.ArrayLike, x: npt.ArrayLike | None = None) -> MetricStats:
        yv = np.asarray(y, dtype=np.float64)
        if x is None:
            return cls(int(yv.size), float(yv.sum()), float(yv @ yv))
        xv = np.asarray(x, dtype=np.float64)
        return cls(int(yv.size), float(yv.sum()), float(yv @ yv), float(xv.sum()), float(xv @ xv),
                   float(xv @ yv), True)

    def __add__(self, other: MetricStats) -> MetricStats:
        if not isinstance(other, MetricStats):
            return NotImplemented
        return MetricStats(self.count + other.count, self.sum + other.sum,
                           self.sum_squares + other.sum_squares, self.covariate_sum + other.covariate_sum,
                           self.covariate_sum_squares + other.covariate_sum_squares,
                           self.cross_sum + other.cross_sum, self.has_covariate and other.has_covariate)

    @property
    def mean(self) -> float:
        return self.sum / self.count

    @property
    def variance(self) -> float:
        """Sample variance (ddof=1) of ``y`` (clipped at 0: round-off on a constant metric can dip below)."""
        return max(0.0, _centered(self.sum_squares, self.sum, self.sum, self.count))

    @property
    def covariate_mean(self) -> float:
        return self.covariate_sum / self.count

    @property
    def covariate_variance(self) -> float:
        return max(0.0, _centered(self.covariate_sum_squares, self.covariate_sum, self.covariate_sum, self.count))

    @property
    def covariance(self) -> float:
        """Sample covariance (ddof=1) of ``y`` and the covariate."""
        return _centered(self.cross_sum, self.sum, self.covariate_sum, self.count)


@dataclass(frozen=True, slots=True)
class RatioStats:
    """Moments of a ratio metric ``sum(numerator) / sum(denominator)`` (e.g. spend per visitor) in one arm."""

    count: int
    numerator_sum: float
    numerator_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    cross_sum: float

    @classmethod
    def from_values(cls, numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> RatioStats:
        y = np.asarray(numerator, dtype=np.float64)
        d = np.asarray(denominator, dtype=np.float64)
        return cls(int(y.size), float(y.sum()), float(y @ y), float(d.sum()), float(d @ d), float(y @ d))

    def __add__(self, other: RatioStats) -> RatioStats:
        if not isinstance(other, RatioStats):
            return NotImplemented
        return RatioStats(self.count + other.count, self.numerator_sum + other.numerator_sum,
                          self.numerator_sum_squares + other.numerator_sum_squares,
                          self.denominator_sum + other.denominator_sum,
                          self.denominator_sum_squares + other.denominator_sum_squares,
                          self.cross_sum + other.cross_sum)

    @property
    def ratio(self) -> float:
        return self.numerator_sum / self.denominator_sum

    @property
    def variance(self) -> float:
        """Delta-method variance of the ratio estimate (already divided by ``count``)."""
        n = self.count
        y_bar, d_bar = self.numerator_sum / n, self.denominator_sum / n
        var_y = _centered(self.numerator_sum_squares, self.numerator_sum, self.numerator_sum, n)
        var_d = _centered(self.denominator_sum_squares, self.denominator_sum, self.denominator_sum, n)
        cov = _centered(self.cross_sum, self.numerator_sum, self.denominator_sum, n)
        return max(0.0, (var_y / d_bar**2 - 2 * y_bar * cov / d_bar**3 + y_bar**2 * var_d / d_bar**4) / n)


def _centered(sum_ab: float, sum_a: float, sum_b: float, n: int) -> float:
    """Sample (co)variance with ddof=1 from raw sums; NaN below two observations."""
    if n < 2:
        return math.nan
    return (sum_ab - sum_a * sum_b / n) / (n - 1)


@dataclass(frozen=True, slots=True)
class ArmStats:
    """Everything summarized for one arm: its user count and each metric's moments."""

    count: int
    metrics: Mapping[str, MetricStats] = field(default_factory=dict)
    ratios: Mapping[str, RatioStats] = field(default_factory=dict)

    def __add__(self, other: ArmStats) -> ArmStats:
        if not isinstance(other, ArmStats):
            return NotImplemented
        return ArmStats(self.count + other.count, _merge(self.metrics, other.metrics),
                        _merge(self.ratios, other.ratios))


@dataclass(frozen=True, slots=True)
class ExperimentStats:
    """Per-arm summaries of a whole experiment (or one segment of it); combines with ``+``."""

    arms: Mapping[str, ArmStats] = field(default_factory=dict)

    def __add__(self, other: ExperimentStats) -> ExperimentStats:
        if not isinstance(other, ExperimentStats):
            return NotImplemented
        return ExperimentStats(_merge(self.arms, other.arms))

    @classmethod
    def from_frame(cls, frame: object, arm_col: str, metrics: Iterable[str], covariate: str | None = None,
                   ratios: Mapping[str, tuple[str, str]] | None = None) -> ExperimentStats:
        """Summarize a pandas DataFrame whose columns are already validated as numeric."""
        return grouped_from_frame(frame, None, arm_col, metrics, covariate, ratios).get("", cls())

    def validate(self, control: str, treatments: Iterable[str] | None = None, field_name: str = "arm") -> list[str]:
        """Check the arms are analyzable; return the treatment arms (all non-control arms by default).

        Errors name the field ``control``, ``treatments`` or ``field_name`` (the arms themselves).
        """
        known = sorted(self.arms)
        if control not in self.arms:
            raise InvalidArgument(f"control arm {control!r} not found; arms present: {', '.join(known) or 'none'}",
                                  field="control")
        chosen = [a for a in known if a != control] if treatments is None else list(treatments)
        for arm in chosen:
            if arm not in self.arms:
                raise InvalidArgument(f"treatment arm {arm!r} not found; arms present: {', '.join(known)}",
                                      field="treatments")
            if arm == control:
                raise InvalidArgument(f"arm {arm!r} is the control; list only treatment arms", field="treatments")
        if not chosen:
            raise InvalidArgument(f"only one arm ({control!r}) present; an experiment needs a treatment arm",
                                  field=field_name)
        for arm in [control, *chosen]:
            if self.arms[arm].count < 2:
                raise InvalidArgument(f"arm {arm!r} has {self.arms[arm].count} users; at least 2 are needed",
                                      field=field_name)
        return chosen

    def with_arm(self, arm: str, stats: ArmStats) -> ExperimentStats:
        return replace(self, arms={**self.arms, arm: stats})


def _merge(a: Mapping[str, _T], b: Mapping[str, _T]) -> dict[str, _T]:
    out = dict(a)
    for key, value in b.items():
        out[key] = out[key] + value if key in out else value  # type: ignore[operator]
    return out


def sum_terms(metrics: Sequence[str], covariate: str | None,
              ratios: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Every per-user term to add up, by alias: alias -> the columns whose product it is.

    Aliases are plain identifiers (``m0_s``, ``m0_q``, ``x_s``, ``r0_yd``, ...) so the same scheme names
    pandas columns and SQL result columns.
    """
    terms: dict[str, tuple[str, ...]] = {"n": ()}
    for i, m in enumerate(metrics):
        terms[f"m{i}_s"], terms[f"m{i}_q"] = (m,), (m, m)
        if covariate is not None:
            terms[f"m{i}_xy"] = (m, covariate)
    if covariate is not None:
        terms["x_s"], terms["x_q"] = (covariate,), (covariate, covariate)
    for j, (num, den) in enumerate(ratios.values()):
        terms[f"r{j}_ys"], terms[f"r{j}_yq"] = (num,), (num, num)
        terms[f"r{j}_ds"], terms[f"r{j}_dq"], terms[f"r{j}_yd"] = (den,), (den, den), (num, den)
    return terms


def arm_from_sums(row: Mapping[str, float], metrics: Sequence[str], covariate: str | None,
                  ratios: Mapping[str, tuple[str, str]]) -> ArmStats:
    """One arm's statistics from the sums named by :func:`sum_terms`."""
    n = int(round(float(row["n"])))
    cov = covariate is not None
    x_s, x_q = (float(row["x_s"]), float(row["x_q"])) if cov else (0.0, 0.0)
    ms = {m: MetricStats(n, float(row[f"m{i}_s"]), float(row[f"m{i}_q"]), x_s, x_q,
                         float(row[f"m{i}_xy"]) if cov else 0.0, cov) for i, m in enumerate(metrics)}
    rs = {name: RatioStats(n, *(float(row[f"r{j}_{k}"]) for k in ("ys", "yq", "ds", "dq", "yd")))
          for j, name in enumerate(ratios)}
    return ArmStats(n, ms, rs)


def grouped_from_frame(frame: object, group_col: str | None, arm_col: str, metrics: Iterable[str],
                       covariate: str | None = None, ratios: Mapping[str, tuple[str, str]] | None = None
                       ) -> dict[str, ExperimentStats]:
    """Per-group (e.g. per-segment) statistics of a DataFrame in one vectorized group-by.

    With ``group_col=None`` the single group is ``""``. Columns must already be numeric.
    """
    import pandas as pd

    df: pd.DataFrame = frame  # type: ignore[assignment]
    metrics = list(metrics)
    ratios = dict(ratios or {})
    terms = sum_terms(metrics, covariate, ratios)
    values = {c: df[c].to_numpy(dtype=np.float64) for cols in terms.values() for c in cols}
    data: dict[str, FloatArray] = {}
    for alias, cols in terms.items():
        data[alias] = np.ones(len(df)) if not cols else values[cols[0]] if len(cols) == 1 else \
            values[cols[0]] * values[cols[1]]
    arm_key = df[arm_col].astype(str).to_numpy()
    group_key = np.full(len(df), "", dtype=object) if group_col is None else df[group_col].astype(str).to_numpy()
    sums = pd.DataFrame(data).groupby([group_key, arm_key], sort=True).sum()
    out: dict[str, dict[str, ArmStats]] = {}
    for (group, arm), series in sums.iterrows():
        out.setdefault(str(group), {})[str(arm)] = arm_from_sums(series.to_dict(), metrics, covariate, ratios)
    return {g: ExperimentStats(a) for g, a in out.items()}
