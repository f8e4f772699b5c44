"""Heterogeneous effects: the average treatment effect inside each segment of users.

The uplift models use these per-segment ATEs as bag labels, so :func:`segment_effects` is a stable
public entry point: one row per segment, sorted by segment name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import InvalidArgument
from models.experiments._inference import TestKind, absolute_effect
from models.experiments._stats import ExperimentStats, grouped_from_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SegmentEffect", "segment_effects", "segment_effects_from_stats"]



@dataclass(frozen=True, slots=True)
class SegmentEffect:
    """ATE of ``treatment`` vs ``control`` on one metric inside one segment, with a Welch interval."""

    segment: str
    control_count: int
    treatment_count: int
    control_mean: float
    treatment_mean: float
    ate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def count(self) -> int:
        return self.control_count + self.treatment_count


def segment_effects(df: pd.DataFrame, arm_col: str, control: str, treatment: str, metric: str,
                    segment_col: str, alpha: float = 0.05, test: TestKind = "welch") -> list[SegmentEffect]:
    """ATE per value of ``segment_col`` (missing values form the segment ``"(missing)"``).

    Raises :class:`InvalidArgument` naming the column for an unknown column or non-numeric metric, and
    naming the segment when one of its arms has fewer than two users (no interval is possible there).
    """
    import pandas as pd

    from models.experiments._frames import MISSING_SEGMENT, coerce_metric

    for col, flag in ((arm_col, "arm_col"), (metric, "metric"), (segment_col, "segment_col")):
        if col not in df.columns:
            raise InvalidArgument(f"column {col!r} not in the data", field=flag)
    y = coerce_metric(df[metric], metric)
    arms = df[arm_col].astype(str)
    keep = arms.isin([control, treatment])
    segments = df[segment_col].astype(object).where(df[segment_col].notna(), MISSING_SEGMENT).astype(str)
    frame = pd.DataFrame({"arm": arms[keep], metric: y[keep], "segment": segments[keep]})
    by_segment = grouped_from_frame(frame, "segment", "arm", [metric])
    return segment_effects_from_stats(by_segment, control, treatment, metric, alpha, test, field=segment_col)


def segment_effects_from_stats(by_segment: Mapping[str, ExperimentStats], control: str, treatment: str,
                               metric: str, alpha: float = 0.05, test: TestKind = "welch",
                               field: str = "segments") -> list[SegmentEffect]:
    """Same as :func:`segment_effects` from per-segment sufficient statistics (e.g. a streamed file)."""
    if not by_segment:
        raise InvalidArgument("no segments in the data", field=field)
    out: list[SegmentEffect] = []
    for segment in sorted(by_segment):
        arms = by_segment[segment].arms
        for arm in (control, treatment):
            n = arms[arm].count if arm in arms else 0
            if n < 2:
                raise InvalidArgument(
                    f"segment {segment!r} has {n} user(s) in arm {arm!r}; at least 2 per arm are needed "
                    f"(merge small segments of column {field!r})", field=field)
        c, t = arms[control].metrics[metric], arms[treatment].metrics[metric]
        e = absolute_effect(c, t, alpha, test)
        out.append(SegmentEffect(segment, c.count, t.count, c.mean, t.mean, e.estimate, e.se, e.ci_low,
                                 e.ci_high, e.p_value))
    return out
