"""Experiment-level checks: sample-ratio mismatch and multiple-testing correction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from core.errors import InvalidArgument

__all__ = ["SrmResult", "benjamini_hochberg", "holm", "sample_ratio_mismatch"]


@dataclass(frozen=True, slots=True)
class SrmResult:
    """Chi-square test of the observed arm sizes against the designed split.

    ``ok`` is False only when the test is significant at ``srm_alpha`` AND some arm's share is off its
    designed share by at least ``min_relative_deviation`` (the floor that keeps a 0.1% imbalance in a
    ten-million-user test from raising an alarm nobody should act on).
    """

    chi2: float
    p_value: float
    ok: bool
    observed: Mapping[str, int]
    expected_share: Mapping[str, float]
    max_relative_deviation: float


def sample_ratio_mismatch(counts: Mapping[str, int], design: Mapping[str, float] | None = None,
                          srm_alpha: float = 0.001, min_relative_deviation: float = 0.01) -> SrmResult:
    arms = list(counts)
    if design is None:
        design = {a: 1.0 for a in arms}
    missing = [a for a in arms if a not in design]
    if missing:
        raise InvalidArgument(f"designed split has no weight for arm(s) {', '.join(map(repr, missing))}",
                              field="designed_split")
    weights = np.array([float(design[a]) for a in arms])
    if (weights <= 0).any() or not np.isfinite(weights).all():
        raise InvalidArgument("designed split weights must be positive numbers", field="designed_split")
    share = weights / weights.sum()
    observed = np.array([counts[a] for a in arms], dtype=np.float64)
    total = observed.sum()
    expected = share * total
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    p_value = float(sps.chi2.sf(chi2, len(arms) - 1))
    deviation = float(np.max(np.abs(observed / total - share) / share))
    ok = not (p_value < srm_alpha and deviation >= min_relative_deviation)
    return SrmResult(chi2, p_value, ok, {a: int(counts[a]) for a in arms},
                     {a: float(s) for a, s in zip(arms, share, strict=True)}, deviation)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error control)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted.tolist()


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg step-up adjusted p-values (q-values; false-discovery-rate control)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    stepped = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted.tolist()
