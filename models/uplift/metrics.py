"""Uplift evaluation metrics: Qini and uplift curves, their areas, and uplift@k.

Outcomes are 0/1 or continuous (revenue: the curves then count money instead of responders).
Definitions follow scikit-uplift (``sklift.metrics``) so numbers compare across projects:

* Qini curve at the top ``n`` rows (ranked by predicted uplift, ties kept together):
  ``Q(n) = Y_t(n) - Y_c(n) * N_t(n) / N_c(n)``, the extra responders the treated part of the top would
  have over a same-sized control group.
* Uplift curve: ``U(n) = (Y_t(n)/N_t(n) - Y_c(n)/N_c(n)) * n``.
* Areas are reported normalized by default: ``(model - random) / (perfect - random)``, where
  "random" is the straight line from ``(0, 0)`` to the curve's end and "perfect" is the curve of an
  oracle ranking (sklift's ``perfect_qini_curve`` with negative effects, ``perfect_uplift_curve``).
  ``normalize=False`` returns the raw ``model - random`` area divided by ``n**2`` (a per-row scale).
* ``uplift_at_k``: treated response rate minus control response rate among the top ``k`` rows
  (``strategy="overall"``), or among the top ``k`` share of each arm separately (``"by_group"``).
  A top ``k`` without control (or treated) rows raises :class:`InvalidArgument` instead of NaN.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from core.errors import InvalidArgument

__all__ = [
    "UpliftScores",
    "perfect_qini_curve",
    "perfect_uplift_curve",
    "qini_auc",
    "qini_curve",
    "score_uplift",
    "uplift_at_k",
    "uplift_auc",
    "uplift_curve",
]


def _check(y: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ya = np.asarray(y, dtype=np.float64).ravel()
    ua = np.asarray(uplift, dtype=np.float64).ravel()
    ta = np.asarray(treatment, dtype=np.float64).ravel()
    if not (ya.shape == ua.shape == ta.shape):
        raise InvalidArgument(
            f"y ({ya.size}), uplift ({ua.size}) and treatment ({ta.size}) need the same length", field="uplift"
        )
    if ya.size == 0:
        raise InvalidArgument("no rows to score", field="y")
    if not np.isfinite(ua).all():
        raise InvalidArgument("uplift contains NaN or infinite values", field="uplift")
    if not np.isin(ta, (0.0, 1.0)).all():
        raise InvalidArgument("treatment must be 0 (control) or 1 (treated)", field="treatment")
    if not np.isfinite(ya).all():
        raise InvalidArgument("y contains NaN or infinite values", field="y")
    if ta.min() == ta.max():
        raise InvalidArgument("scoring needs both treated and control rows", field="treatment")
    return ya, ua, ta


def _cumulative(y: np.ndarray, uplift: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
    """Cumulative counts at each distinct-score cut of the descending ranking (ties share one cut)."""
    order = np.argsort(uplift, kind="mergesort")[::-1]
    y, uplift, t = y[order], uplift[order], t[order]
    cuts = np.r_[np.flatnonzero(np.diff(uplift)), uplift.size - 1]
    n_all = (cuts + 1).astype(np.float64)
    n_t = np.cumsum(t)[cuts]
    n_c = n_all - n_t
    y_t = np.cumsum(y * t)[cuts]
    y_c = np.cumsum(y * (1.0 - t))[cuts]
    return n_all, n_t, n_c, y_t, y_c


def _start_at_origin(x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.r_[0.0, x], np.r_[0.0, v]


def qini_curve(y: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(n_targeted, qini)`` of the Qini curve, starting at ``(0, 0)``."""
    ya, ua, ta = _check(y, uplift, treatment)
    n_all, n_t, n_c, y_t, y_c = _cumulative(ya, ua, ta)
    ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c != 0)
    return _start_at_origin(n_all, y_t - y_c * ratio)


def uplift_curve(y: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(n_targeted, cumulative uplift * n)`` of the uplift curve, starting at ``(0, 0)``."""
    ya, ua, ta = _check(y, uplift, treatment)
    n_all, n_t, n_c, y_t, y_c = _cumulative(ya, ua, ta)
    rate_t = np.divide(y_t, n_t, out=np.zeros_like(y_t), where=n_t != 0)
    rate_c = np.divide(y_c, n_c, out=np.zeros_like(y_c), where=n_c != 0)
    return _start_at_origin(n_all, (rate_t - rate_c) * n_all)


def perfect_qini_curve(y: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """The oracle Qini curve: treated responders first, control responders last."""
    ya, _, ta = _check(y, np.zeros(np.asarray(y).size), treatment)
    return qini_curve(ya, ya * ta - ya * (1.0 - ta), ta)


def perfect_uplift_curve(y: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """The oracle uplift curve (sklift's construction; for a continuous outcome, treated rows by
    descending outcome first and control rows by ascending outcome last)."""
    ya, _, ta = _check(y, np.zeros(np.asarray(y).size), treatment)
    if not np.isin(ya, (0.0, 1.0)).all():
        return uplift_curve(ya, ya * ta - ya * (1.0 - ta), ta)
    control_responders = np.sum((ya == 1) & (ta == 0))
    treated_non_responders = np.sum((ya == 0) & (ta == 1))
    summand = ya if control_responders > treated_non_responders else ta
    return uplift_curve(ya, 2.0 * (ya == ta) + summand, ta)


def _area_above_random(x: np.ndarray, v: np.ndarray) -> float:
    random_area = 0.5 * x[-1] * v[-1]
    return float(np.trapezoid(v, x) - random_area)


def _auc(curve: Any, perfect_curve: Any, y: Any, uplift: Any, treatment: Any, normalize: bool) -> float:
    x, v = curve(y, uplift, treatment)
    model = _area_above_random(x, v)
    if not normalize:
        return model / float(x[-1]) ** 2
    return _ratio(model, _area_above_random(*perfect_curve(y, treatment)))


def qini_auc(y: Any, uplift: Any, treatment: Any, *, normalize: bool = True) -> float:
    """Area between the Qini curve and the random line; normalized by the perfect curve's by default."""
    return _auc(qini_curve, perfect_qini_curve, y, uplift, treatment, normalize)


def uplift_auc(y: Any, uplift: Any, treatment: Any, *, normalize: bool = True) -> float:
    """Area between the uplift curve and the random line (AUUC); normalized by default."""
    return _auc(uplift_curve, perfect_uplift_curve, y, uplift, treatment, normalize)


def _ratio(model: float, perfect: float) -> float:
    if perfect == 0.0:
        raise InvalidArgument("the perfect curve has no area above random (no responders?)", field="y")
    return model / perfect


def uplift_at_k(y: Any, uplift: Any, treatment: Any, *, k: float | int = 0.3,
                strategy: Literal["overall", "by_group"] = "overall") -> float:
    """Response-rate difference (treated minus control) among the top ``k`` by predicted uplift.

    ``k`` is a share in (0, 1] or a row count. Raises :class:`InvalidArgument` when the top ``k`` holds
    no control or no treated rows (the difference is undefined), never returns NaN.
    """
    ya, ua, ta = _check(y, uplift, treatment)
    if strategy not in ("overall", "by_group"):
        raise InvalidArgument(f"strategy must be 'overall' or 'by_group', got {strategy!r}", field="strategy")
    order = np.argsort(ua, kind="mergesort")[::-1]
    ya, ta = ya[order], ta[order]

    def top(n_rows: int) -> int:
        if isinstance(k, bool) or not isinstance(k, int | float | np.integer | np.floating):
            raise InvalidArgument(f"k must be a share in (0, 1] or a row count, got {k!r}", field="k")
        if isinstance(k, int | np.integer):
            if k <= 0:
                raise InvalidArgument(f"k={k} must be positive", field="k")
            return min(int(k), n_rows)
        if not 0.0 < k <= 1.0:
            raise InvalidArgument(f"k={k} must be a share in (0, 1]", field="k")
        return max(1, int(n_rows * k))

    if strategy == "overall":
        n = top(ya.size)
        y_top, t_top = ya[:n], ta[:n]
        treated, control = y_top[t_top == 1], y_top[t_top == 0]
    else:
        y_t, y_c = ya[ta == 1], ya[ta == 0]
        treated, control = y_t[: top(y_t.size)], y_c[: top(y_c.size)]
    if control.size == 0:
        raise InvalidArgument(f"the top k={k} rows hold no control rows; uplift@k is undefined", field="k")
    if treated.size == 0:
        raise InvalidArgument(f"the top k={k} rows hold no treated rows; uplift@k is undefined", field="k")
    return float(treated.mean() - control.mean())


@dataclass(frozen=True, slots=True)
class UpliftScores:
    """The standard scores of one ranking on one test set."""

    qini_auc: float
    uplift_auc: float
    uplift_at_30: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def score_uplift(y: Any, uplift: Any, treatment: Any) -> UpliftScores:
    """Normalized Qini AUC, normalized AUUC and overall uplift@30%."""
    return UpliftScores(
        qini_auc=qini_auc(y, uplift, treatment),
        uplift_auc=uplift_auc(y, uplift, treatment),
        uplift_at_30=uplift_at_k(y, uplift, treatment, k=0.3),
    )
