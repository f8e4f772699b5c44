"""ExperimentService client: send sufficient statistics, get the read-out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mds.experiments.v1 import experiments_pb2 as pb
from mds.experiments.v1 import experiments_pb2_grpc as pb_grpc
from models.experiments import ExperimentStats
from services.client._base import CallOptions
from services.experiments.convert import arms_to_proto

__all__ = ["ExperimentsClient"]


class ExperimentsClient:
    def __init__(self, options: CallOptions) -> None:
        self._o = options
        self._stub = pb_grpc.ExperimentServiceStub(options.channel)

    def analyze(self, stats: ExperimentStats, control: str, *, treatments: Sequence[str] = (),
                alpha: float | None = None, test: str = "welch", designed_split: Mapping[str, float] | None = None,
                prior_sd: float | None = None, lower_is_better: Sequence[str] = (),
                timeout_s: float | None = None) -> pb.AnalyzeResponse:
        """Analyze summaries built locally (e.g. ``ExperimentStats.from_frame`` or a Spark reduce)."""
        request = pb.AnalyzeRequest(
            control_arm=control, arms=arms_to_proto(stats, dict(designed_split or {})),
            treatment_arms=list(treatments),
            options=pb.AnalysisOptions(alpha=alpha, test=pb.TEST_KIND_Z if test == "z" else pb.TEST_KIND_WELCH,
                                       prior_sd=prior_sd, lower_is_better=list(lower_is_better)))
        return self.analyze_raw(request, timeout_s=timeout_s)

    def analyze_raw(self, request: pb.AnalyzeRequest, *, timeout_s: float | None = None) -> pb.AnalyzeResponse:
        return self._stub.Analyze(request, timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)

    def segments(self, by_segment: Mapping[str, ExperimentStats], control: str, treatment: str, metric: str, *,
                 alpha: float | None = None, timeout_s: float | None = None) -> pb.AnalyzeSegmentsResponse:
        request = pb.AnalyzeSegmentsRequest(
            control_arm=control, treatment_arm=treatment, metric=metric,
            segments=[pb.SegmentSummary(segment=k, arms=arms_to_proto(v)) for k, v in by_segment.items()],
            options=pb.AnalysisOptions(alpha=alpha))
        return self._stub.AnalyzeSegments(request, timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)
