"""Experiment analysis: a GrowthBook-style statistics engine over combinable sufficient statistics.

Summaries (:class:`MetricStats`, :class:`RatioStats`, :class:`ArmStats`, :class:`ExperimentStats`)
add with ``+``, so streamed chunks, Spark partitions and gRPC callers all feed the same
:func:`analyze`. Heterogeneous effects (:func:`segment_effects`) and off-policy values
(:func:`compare_policies`, :func:`policy_values`) reuse the same machinery.
"""

from models.experiments._analysis import AnalysisSettings, Comparison, ExperimentResult, analyze
from models.experiments._checks import SrmResult, benjamini_hochberg, holm, sample_ratio_mismatch
from models.experiments._frames import (
    FileSummary,
    coerce_metric,
    parse_metrics,
    score_quantile,
    summarize_file,
)
from models.experiments._inference import (
    CupedEffect,
    Effect,
    Posterior,
    absolute_effect,
    always_valid_p_value,
    chance_to_beat_control,
    confidence_sequence,
    cuped_effect,
    expected_loss,
    posterior,
    ratio_effects,
    relative_effect,
)
from models.experiments._policy import PolicyValue, compare_policies, policy_values
from models.experiments._report import finite_json, plot_lifts, report_json
from models.experiments._segments import SegmentEffect, segment_effects, segment_effects_from_stats
from models.experiments._sql import stats_from_rows, summary_sql
from models.experiments._stats import ArmStats, ExperimentStats, MetricStats, RatioStats, grouped_from_frame
from models.experiments._synthetic import write_synthetic

__all__ = [
    "AnalysisSettings",
    "ArmStats",
    "Comparison",
    "CupedEffect",
    "Effect",
    "ExperimentResult",
    "ExperimentStats",
    "FileSummary",
    "MetricStats",
    "PolicyValue",
    "Posterior",
    "RatioStats",
    "SegmentEffect",
    "SrmResult",
    "absolute_effect",
    "always_valid_p_value",
    "analyze",
    "benjamini_hochberg",
    "chance_to_beat_control",
    "coerce_metric",
    "compare_policies",
    "confidence_sequence",
    "cuped_effect",
    "expected_loss",
    "finite_json",
    "grouped_from_frame",
    "holm",
    "parse_metrics",
    "plot_lifts",
    "policy_values",
    "posterior",
    "ratio_effects",
    "relative_effect",
    "report_json",
    "sample_ratio_mismatch",
    "score_quantile",
    "segment_effects",
    "segment_effects_from_stats",
    "stats_from_rows",
    "summarize_file",
    "summary_sql",
    "write_synthetic",
]
