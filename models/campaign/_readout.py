"""Read a campaign out: treated vs its holdout twin, realized vs predicted, lift by predicted-uplift decile.

Comparisons are intent to treat (each member counts in the arm the plan gave it) and use only the
targeted region, where treated and twin are random parts of one population. The experiments engine
does the statistics: Welch interval and delta-method relative lift, the always-valid p-value (valid
while outcomes are still arriving), and the sample-ratio check of the recorded arms against the
planned treated : twin split (a delivery system that loses one arm's outcomes shows up there).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from models.campaign._plan import CampaignMembers
from models.experiments import (
    MetricStats,
    absolute_effect,
    always_valid_p_value,
    finite_json,
    relative_effect,
    sample_ratio_mismatch,
)

__all__ = ["BinLift", "Lift", "Readout", "read_out"]


@dataclass(frozen=True, slots=True)
class Lift:
    """Treated mean minus holdout-twin mean on one metric, per user, with its interval."""

    metric: str
    treated_mean: float
    holdout_mean: float
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    always_valid_p_value: float
    relative: float | None
    relative_ci_low: float | None
    relative_ci_high: float | None


@dataclass(frozen=True, slots=True)
class BinLift:
    """One predicted-uplift decile of the targeted region (``bin`` 0 = lowest predicted uplift)."""

    bin: int
    treated: int
    holdout: int
    predicted_uplift: float
    lift: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass
class Readout:
    campaign_id: str
    has_outcomes: bool
    message: str
    planned_treated: int
    planned_twin: int
    treated_outcomes: int
    twin_outcomes: int
    baseline_outcomes: int  # holdout members outside the targeted region
    outside_outcomes: int
    group_mismatches: int
    srm_p_value: float | None = None
    srm_ok: bool = True
    lifts: list[Lift] = field(default_factory=list)
    realized_incremental: float | None = None
    realized_ci: tuple[float, float] | None = None
    predicted_incremental: float = 0.0
    predicted_ci: tuple[float, float] = (0.0, 0.0)
    bins: list[BinLift] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def lift(self, metric: str) -> Lift | None:
        return next((x for x in self.lifts if x.metric == metric), None)

    def to_json(self) -> dict[str, Any]:
        return finite_json(asdict(self))


def _lift(metric: str, treated: np.ndarray, twin: np.ndarray, alpha: float) -> Lift:
    t, c = MetricStats.from_values(treated), MetricStats.from_values(twin)
    effect = absolute_effect(c, t, alpha)
    rel = relative_effect(c, t, alpha)
    return Lift(metric, t.mean, c.mean, effect.estimate, effect.ci_low, effect.ci_high, effect.p_value,
                always_valid_p_value(effect, t.count + c.count, alpha),
                rel.estimate if rel else None, rel.ci_low if rel else None, rel.ci_high if rel else None)


def read_out(campaign_id: str, members: CampaignMembers, recorded: np.ndarray, outcome: np.ndarray,
             value: np.ndarray, *, predicted_ci: tuple[float, float], expected_incremental: float,
             outside_outcomes: int = 0, group_mismatches: int = 0, alpha: float = 0.05,
             design: tuple[float, float] | None = None) -> Readout:
    """``recorded``/``outcome``/``value`` are aligned with ``members`` (see ``outcome_arrays``).

    ``design``: the expected treated : twin split of the recorded outcomes (default: the planned counts).
    """
    treated = members.treated & recorded
    twin = members.twin & recorded
    n_t, n_c = int(treated.sum()), int(twin.sum())
    out = Readout(
        campaign_id=campaign_id, has_outcomes=bool(recorded.any()), message="",
        planned_treated=int(members.treated.sum()), planned_twin=int(members.twin.sum()),
        treated_outcomes=n_t, twin_outcomes=n_c,
        baseline_outcomes=int((recorded & ~members.targeted).sum()), outside_outcomes=outside_outcomes,
        group_mismatches=group_mismatches, predicted_incremental=expected_incremental, predicted_ci=predicted_ci)
    if outside_outcomes:
        out.warnings.append(f"{outside_outcomes} outcome(s) were for users outside the campaign; not used")
    if group_mismatches:
        out.warnings.append(f"{group_mismatches} member(s) were reported in the other arm than planned; "
                            "they count in their planned arm (intent to treat)")
    if not out.has_outcomes:
        out.message = "no outcomes recorded yet: nothing to read out"
        return out
    if n_t < 2 or n_c < 2:
        out.message = (f"too few outcomes to compare: {n_t} treated and {n_c} holdout-twin users recorded "
                       "(at least 2 each are needed)")
        return out
    expected = design or (float(out.planned_treated), float(out.planned_twin))
    srm = sample_ratio_mismatch({"treated": n_t, "holdout": n_c}, {"treated": expected[0], "holdout": expected[1]})
    out.srm_p_value, out.srm_ok = srm.p_value, srm.ok
    if not srm.ok:
        out.warnings.append(f"SAMPLE RATIO MISMATCH: {n_t} treated vs {n_c} holdout outcomes against a planned "
                            f"{out.planned_treated}:{out.planned_twin} (p = {srm.p_value:.2g}); outcomes are "
                            "missing unevenly, so the lift may be biased")
    out.lifts = [_lift("outcome", outcome[treated], outcome[twin], alpha),
                 _lift("value", value[treated], value[twin], alpha)]
    main = out.lifts[0]
    # The campaign's incremental outcome: per-user lift over every treated member (recorded or not).
    out.realized_incremental = main.estimate * out.planned_treated
    out.realized_ci = (main.ci_low * out.planned_treated, main.ci_high * out.planned_treated)
    out.message = (f"treated {main.treated_mean:.4g} vs holdout {main.holdout_mean:.4g} per user: lift "
                   f"{main.estimate:+.4g} [{main.ci_low:+.4g}, {main.ci_high:+.4g}]")
    for b in range(int(members.bin.max(initial=-1)) + 1):
        in_bin = members.bin == b
        bt, bc = treated & in_bin, twin & in_bin
        lift: tuple[float | None, float | None, float | None] = (None, None, None)
        if bt.sum() >= 2 and bc.sum() >= 2:
            e = absolute_effect(MetricStats.from_values(outcome[bc]), MetricStats.from_values(outcome[bt]), alpha)
            lift = (e.estimate, e.ci_low, e.ci_high)
        out.bins.append(BinLift(b, int(bt.sum()), int(bc.sum()), float(members.uplift[in_bin & members.targeted].mean()),
                                *lift))
    return out
