"""Sufficient statistics: the only thing the analysis needs from the raw rows.

Every class here is a frozen sum of per-user terms, so two summaries of disjoint row sets combine
with ``+``. That is what lets a CSV be read in chunks, a Spark job reduce per partition, or a
caller send pre-aggregated numbers over gRPC, and all three give the same result.

Raw sums of squares lose precision when a metric's mean is huge relative to its spread; for
marketing metrics (rates, money, counts) float64 keeps ~1e-12 relative accuracy, which we test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from core.errors import InvalidArgument

__all__ = ["ArmStats", "ExperimentStats", "MetricStats", "RatioStats"]

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
        """Sample variance (ddof=1) of ``y``."""
        return _centered(self.sum_squares, self.sum, self.sum, self.count)

    @property
    def covariate_mean(self) -> float:
        return self.covariate_sum / self.count

    @property
    def covariate_variance(self) -> float:
        return _centered(self.covariate_sum_squares, self.covariate_sum, self.covariate_sum, self.count)

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
        return (var_y / d_bar**2 - 2 * y_bar * cov / d_bar**3 + y_bar**2 * var_d / d_bar**4) / n


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
        import pandas as pd

        df: pd.DataFrame = frame  # type: ignore[assignment]
        metrics = list(metrics)
        ratios = dict(ratios or {})
        cols: dict[str, FloatArray] = {}
        for m in metrics:
            y = df[m].to_numpy(dtype=np.float64)
            cols[f"{m}|s"], cols[f"{m}|q"] = y, y * y
            if covariate is not None:
                cols[f"{m}|xy"] = y * df[covariate].to_numpy(dtype=np.float64)
        if covariate is not None:
            x = df[covariate].to_numpy(dtype=np.float64)
            cols["|x"], cols["|xx"] = x, x * x
        for name, (num, den) in ratios.items():
            y = df[num].to_numpy(dtype=np.float64)
            d = df[den].to_numpy(dtype=np.float64)
            cols[f"{name}|rs"], cols[f"{name}|rq"] = y, y * y
            cols[f"{name}|ds"], cols[f"{name}|dq"], cols[f"{name}|yd"] = d, d * d, y * d
        cols["|n"] = np.ones(len(df))
        sums = pd.DataFrame(cols).groupby(df[arm_col].astype(str).to_numpy(), sort=True).sum()
        arms: dict[str, ArmStats] = {}
        for arm, series in sums.iterrows():
            row = {k: float(v) for k, v in series.items()}
            n = int(round(row["|n"]))
            ms = {m: MetricStats(n, row[f"{m}|s"], row[f"{m}|q"],
                                 row["|x"] if covariate else 0.0, row["|xx"] if covariate else 0.0,
                                 row[f"{m}|xy"] if covariate else 0.0, covariate is not None)
                  for m in metrics}
            rs = {name: RatioStats(n, row[f"{name}|rs"], row[f"{name}|rq"], row[f"{name}|ds"],
                                   row[f"{name}|dq"], row[f"{name}|yd"]) for name in ratios}
            arms[str(arm)] = ArmStats(n, ms, rs)
        return cls(arms)

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
