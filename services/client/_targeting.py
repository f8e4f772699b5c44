"""TargetingService client."""

from __future__ import annotations

from mds.targeting.v1 import targeting_pb2 as pb
from mds.targeting.v1 import targeting_pb2_grpc as pb_grpc
from services.client._base import CallOptions

__all__ = ["TargetingClient"]

# Parsing runs a language model on the server; give it longer than a feature read by default.
PARSE_TIMEOUT_S = 30.0


class TargetingClient:
    def __init__(self, options: CallOptions) -> None:
        self._o = options
        self._stub = pb_grpc.TargetingServiceStub(options.channel)

    def parse(self, demand: str, *, variant: str = "", dialect: str = "", with_sizes: bool = False,
              timeout_s: float | None = None) -> pb.ParseResponse:
        """Demand → canonical logic, JSON AST, reasoning, SQL, unresolved phrases, estimated audience.

        For a tool that shows and edits the result: ``conditions`` (each condition with the phrase and
        character span of the demand it came from), ``alternatives`` (other readings, what differs, and
        with ``with_sizes=True`` each one's audience size), ``unresolved`` (closest keys and their scores).
        """
        request = pb.ParseRequest(demand=demand, variant=variant, dialect=dialect, with_sizes=with_sizes)
        return self._stub.Parse(request, timeout=timeout_s if timeout_s is not None else
                                max(PARSE_TIMEOUT_S, self._o.timeout_s), metadata=self._o.metadata)

    def select_audience(self, logic: str, *, segment_name: str = "", sample_size: int = 20, engine: str = "",
                        sample_seed: int = 0, timeout_s: float | None = None) -> pb.SelectAudienceResponse:
        """Count (and optionally store as a named segment) the users ``logic`` selects.

        ``sample`` holds ``sample_size`` of them (deterministic for ``sample_seed``) with the values of the
        features the logic tests (``sample_features``), so a tool can show who is in.
        """
        request = pb.SelectAudienceRequest(logic=logic, segment_name=segment_name, sample_size=sample_size,
                                           engine=engine, sample_seed=sample_seed)
        return self._stub.SelectAudience(request, timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)

    def check_eligibility(self, logic: str, user_id: str, *, timeout_s: float | None = None
                          ) -> pb.CheckEligibilityResponse:
        """Whether one user satisfies ``logic`` right now, with each condition's outcome."""
        request = pb.CheckEligibilityRequest(logic=logic, user_id=user_id)
        return self._stub.CheckEligibility(request, timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)

    def get_segment(self, name: str, *, sample_size: int = 20, timeout_s: float | None = None
                    ) -> pb.GetSegmentResponse:
        """A stored segment's logic, size, provenance and a sample of members."""
        request = pb.GetSegmentRequest(name=name, sample_size=sample_size)
        return self._stub.GetSegment(request, timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)
