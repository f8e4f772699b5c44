"""Off-policy value of a targeting policy, estimated on randomized experiment data.

A policy splits users into *selected* (would be treated) and *not selected* (would not). In a
randomized test both kinds of users appear in both arms, so the expected outcome per user under the
policy is the stratified (Hajek-weighted IPW) difference estimator

    V(pi) = s * mean(Y | treated, selected) + (1 - s) * mean(Y | control, not selected),

with ``s`` the selected share. Its gain over treating no one is ``s * ATE(selected)``. Intervals are
normal, with the strata shares held fixed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from core.errors import InvalidArgument
from models.experiments._frames import NOT_SELECTED, SELECTED
from models.experiments._stats import ArmStats, ExperimentStats, MetricStats

__all__ = ["PolicyValue", "compare_policies", "policy_values"]


@dataclass(frozen=True, slots=True)
class PolicyValue:
    """Expected outcome per user if ``policy`` were rolled out, and its gain over treating no one."""

    policy: str
    treated_share: float
    value: float
    se: float
    ci_low: float
    ci_high: float
    gain: float
    gain_se: float
    gain_ci_low: float
    gain_ci_high: float


def _pick(stats: ExperimentStats, arm: str, metric: str, where: str) -> MetricStats:
    a = stats.arms.get(arm)
    m = a.metrics.get(metric) if a else None
    if m is None or m.count < 2:
        raise InvalidArgument(f"{where}: arm {arm!r} has fewer than 2 users; the policy value needs both arms "
                              f"in every stratum", field="--policy-score")
    return m


def policy_values(by_selection: Mapping[str, ExperimentStats], control: str, treatment: str, metric: str,
                  alpha: float = 0.05, name: str = "policy") -> list[PolicyValue]:
    """Treat-none, treat-all and the policy, from stats of selected / not-selected users.

    ``by_selection`` maps ``"selected"`` and ``"not selected"`` to per-arm statistics.
    """
    z = float(sps.norm.ppf(1 - alpha / 2))
    strata = {k: by_selection.get(k, ExperimentStats()) for k in (SELECTED, NOT_SELECTED)}
    sizes = {k: sum(a.count for a in s.arms.values()) for k, s in strata.items()}
    total = sum(sizes.values())
    if total == 0:
        raise InvalidArgument("no users to evaluate the policy on", field="--policy-score")
    share = sizes[SELECTED] / total
    all_c = sum((s.arms[control].metrics[metric] for s in strata.values() if control in s.arms),
                MetricStats(0, 0.0, 0.0))
    all_t = sum((s.arms[treatment].metrics[metric] for s in strata.values() if treatment in s.arms),
                MetricStats(0, 0.0, 0.0))
    out = []
    for label, c, t in (("treat none", all_c, None), ("treat all", None, all_t)):
        m = c if c is not None else t
        if m is None or m.count < 2:
            arm = control if t is None else treatment
            raise InvalidArgument(f"arm {arm!r} has fewer than 2 users", field="--policy-score")
        se = math.sqrt(m.variance / m.count)
        gain_est = 0.0 if t is None else all_t.mean - all_c.mean
        gain_se = 0.0 if t is None else math.sqrt(all_t.variance / all_t.count + all_c.variance / all_c.count)
        out.append(PolicyValue(label, 0.0 if t is None else 1.0, m.mean, se, m.mean - z * se, m.mean + z * se,
                               gain_est, gain_se, gain_est - z * gain_se, gain_est + z * gain_se))
    parts_v, parts_var, gain, gain_var = 0.0, 0.0, 0.0, 0.0
    if share > 0:
        t_sel = _pick(strata[SELECTED], treatment, metric, "selected users")
        c_sel = _pick(strata[SELECTED], control, metric, "selected users")
        parts_v += share * t_sel.mean
        parts_var += share**2 * t_sel.variance / t_sel.count
        gain = share * (t_sel.mean - c_sel.mean)
        gain_var = share**2 * (t_sel.variance / t_sel.count + c_sel.variance / c_sel.count)
    if share < 1:
        c_rest = _pick(strata[NOT_SELECTED], control, metric, "users not selected")
        parts_v += (1 - share) * c_rest.mean
        parts_var += (1 - share) ** 2 * c_rest.variance / c_rest.count
    se, gain_se = math.sqrt(parts_var), math.sqrt(gain_var)
    out.append(PolicyValue(name, share, parts_v, se, parts_v - z * se, parts_v + z * se, gain, gain_se,
                           gain - z * gain_se, gain + z * gain_se))
    return out


def compare_policies(outcome: npt.ArrayLike, treated: npt.ArrayLike, score: npt.ArrayLike,
                     top_fraction: float = 0.3, alpha: float = 0.05) -> list[PolicyValue]:
    """Treat none / treat all / treat the top ``top_fraction`` by ``score`` (ties broken by order).

    ``treated`` is 1 for users in the treatment arm and 0 for control, as randomized.
    """
    y = np.asarray(outcome, dtype=np.float64)
    t = np.asarray(treated).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    if not (y.shape == t.shape == s.shape) or y.ndim != 1:
        raise InvalidArgument("outcome, treated and score must be 1-D arrays of one length", field="score")
    if not 0 < top_fraction <= 1:
        raise InvalidArgument("top_fraction must lie in (0, 1]", field="top_fraction")
    k = int(math.ceil(top_fraction * y.size))
    selected = np.zeros(y.size, dtype=bool)
    selected[np.argsort(-s, kind="stable")[:k]] = True
    by_selection = {}
    for label, mask in ((SELECTED, selected), (NOT_SELECTED, ~selected)):
        arms = {}
        for arm, arm_mask in (("control", ~t), ("treatment", t)):
            vals = y[mask & arm_mask]
            if vals.size:
                arms[arm] = ArmStats(int(vals.size), {"y": MetricStats.from_values(vals)})
        by_selection[label] = ExperimentStats(arms)
    return policy_values(by_selection, "control", "treatment", "y", alpha,
                         name=f"treat top {top_fraction:.0%}")
