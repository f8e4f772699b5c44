"""Bootstrap confidence intervals on the uplift scores, and calibration by decile.

* :func:`bootstrap_intervals` resamples the test rows with replacement (within each arm, so every
  resample keeps both arms at their sizes) and returns percentile intervals of normalized Qini AUC,
  AUUC and uplift@30%.
* :func:`calibration_by_decile` cuts the test rows into deciles of predicted uplift and compares each
  decile's mean prediction with its observed uplift (treated rate minus control rate), with the
  observed value's standard error: a calibrated model's points lie on the diagonal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import InvalidArgument
from models.uplift.metrics import score_uplift

__all__ = ["Calibration", "bootstrap_intervals", "calibration_by_decile"]


def bootstrap_intervals(y: Any, uplift: Any, treatment: Any, *, n_boot: int = 100, level: float = 0.95,
                        seed: int = 0) -> dict[str, list[float]]:
    """``{metric: [low, high]}`` percentile bootstrap intervals of :func:`score_uplift`'s scores."""
    if n_boot < 10:
        raise InvalidArgument("the bootstrap needs at least 10 resamples", field="--bootstrap")
    ya = np.asarray(y, dtype=np.float64)
    ua = np.asarray(uplift, dtype=np.float64)
    ta = np.asarray(treatment, dtype=np.float64)
    rng = np.random.default_rng(seed)
    arms = [np.flatnonzero(ta == 1), np.flatnonzero(ta == 0)]
    draws: dict[str, list[float]] = {}
    for _ in range(n_boot):
        rows = np.concatenate([rng.choice(arm, size=arm.size, replace=True) for arm in arms])
        try:
            scores = score_uplift(ya[rows], ua[rows], ta[rows]).as_dict()
        except InvalidArgument:  # a degenerate resample (no responders in it): skip it
            continue
        for metric, value in scores.items():
            draws.setdefault(metric, []).append(value)
    tail = (1.0 - level) / 2.0 * 100.0
    return {m: [float(np.percentile(v, tail)), float(np.percentile(v, 100.0 - tail))] for m, v in draws.items()}


@dataclass(frozen=True)
class Calibration:
    """Per decile of predicted uplift (highest first): mean prediction, observed uplift, its std error."""

    predicted: list[float]
    observed: list[float]
    stderr: list[float]
    rows: list[int]

    def to_json(self) -> dict[str, list[float] | list[int]]:
        return {"predicted": self.predicted, "observed": self.observed, "stderr": self.stderr, "rows": self.rows}


def calibration_by_decile(y: Any, uplift: Any, treatment: Any, *, bins: int = 10) -> Calibration:
    """Predicted vs observed uplift in ``bins`` equal-sized groups of the predicted-uplift ranking."""
    ya = np.asarray(y, dtype=np.float64)
    ua = np.asarray(uplift, dtype=np.float64)
    ta = np.asarray(treatment, dtype=np.float64)
    order = np.argsort(-ua, kind="mergesort")
    predicted, observed, stderr, rows = [], [], [], []
    for part in np.array_split(order, bins):
        treated, control = ya[part][ta[part] == 1], ya[part][ta[part] == 0]
        if treated.size == 0 or control.size == 0:
            continue  # a decile without both arms has no observed uplift
        predicted.append(float(ua[part].mean()))
        observed.append(float(treated.mean() - control.mean()))
        stderr.append(float(np.sqrt(treated.var() / treated.size + control.var() / control.size)))
        rows.append(int(part.size))
    return Calibration(predicted, observed, stderr, rows)
