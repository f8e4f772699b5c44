"""CampaignService client: plan, launch, export, stream outcomes, read out, learn."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import pandas as pd

from mds.campaign.v1 import campaign_pb2 as pb
from mds.campaign.v1 import campaign_pb2_grpc as pb_grpc
from services.client._base import CallOptions

__all__ = ["CampaignClient"]

_GROUPS = {"treated": pb.GROUP_TREATED, "holdout": pb.GROUP_HOLDOUT}
STREAM_BATCH = 1000


class CampaignClient:
    def __init__(self, options: CallOptions) -> None:
        self._o = options
        self._stub = pb_grpc.CampaignServiceStub(options.channel)

    def plan(self, *, model: str, holdout_share: float, demand: str = "", logic: str = "",
             max_users: int | None = None, max_cost: float | None = None, cost_per_user: float = 0.0,
             cost_feature: str = "", seed: int = 0, name: str = "", model_version: int = 0, sample_size: int = 0,
             timeout_s: float | None = None) -> pb.PlanResponse:
        request = pb.PlanRequest(model=model, model_version=model_version, cost_per_user=cost_per_user,
                                 cost_feature=cost_feature, holdout_share=holdout_share, seed=seed, name=name,
                                 sample_size=sample_size)
        if demand:
            request.demand = demand
        if logic:
            request.logic = logic
        if max_users is not None:
            request.max_users = max_users
        if max_cost is not None:
            request.max_cost = max_cost
        return self.plan_raw(request, timeout_s=timeout_s)

    def plan_raw(self, request: pb.PlanRequest, *, timeout_s: float | None = None) -> pb.PlanResponse:
        return self._stub.Plan(request, timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)

    def launch(self, campaign_id: str, *, timeout_s: float | None = None) -> pb.Campaign:
        return self._stub.Launch(pb.LaunchRequest(campaign_id=campaign_id), timeout=self._o.deadline(timeout_s),
                                 metadata=self._o.metadata).campaign

    def discard(self, campaign_id: str, *, timeout_s: float | None = None) -> None:
        self._stub.Discard(pb.DiscardRequest(campaign_id=campaign_id), timeout=self._o.deadline(timeout_s),
                           metadata=self._o.metadata)

    def get(self, campaign_id: str, *, timeout_s: float | None = None) -> pb.Campaign:
        return self._stub.Get(pb.GetRequest(campaign_id=campaign_id), timeout=self._o.deadline(timeout_s),
                              metadata=self._o.metadata).campaign

    def list(self, *, limit: int = 50, offset: int = 0, timeout_s: float | None = None) -> pb.ListResponse:
        return self._stub.List(pb.ListRequest(limit=limit, offset=offset), timeout=self._o.deadline(timeout_s),
                               metadata=self._o.metadata)

    def export(self, campaign_id: str, *, include_holdout: bool = False,
               timeout_s: float | None = None) -> pd.DataFrame:
        response = self._stub.Export(pb.ExportRequest(campaign_id=campaign_id, include_holdout=include_holdout),
                                     timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)
        return pd.read_parquet(io.BytesIO(response.parquet))

    def record_outcomes(self, campaign_id: str, outcomes: Iterable[tuple[str, str, float, float]], *,
                        batch: int = STREAM_BATCH, timeout_s: float | None = None) -> pb.RecordOutcomesResponse:
        """Stream ``(user_id, "treated" | "holdout", outcome, value)`` records in batches."""

        def messages() -> Iterator[pb.RecordOutcomesRequest]:
            chunk: list[pb.Outcome] = []
            first = True
            for user_id, group, outcome, value in outcomes:
                chunk.append(pb.Outcome(user_id=user_id, group=_GROUPS.get(group, pb.GROUP_UNSPECIFIED),
                                        outcome=outcome, value=value))
                if len(chunk) >= batch:
                    yield pb.RecordOutcomesRequest(campaign_id=campaign_id, outcomes=chunk)
                    chunk, first = [], False
            if chunk or first:
                yield pb.RecordOutcomesRequest(campaign_id=campaign_id, outcomes=chunk)

        return self._stub.RecordOutcomes(messages(), timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)

    def readout(self, campaign_id: str, *, alpha: float | None = None, include_report: bool = False,
                timeout_s: float | None = None) -> pb.ReadoutResponse:
        return self._stub.Readout(pb.ReadoutRequest(campaign_id=campaign_id, alpha=alpha,
                                                    include_report=include_report),
                                  timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)

    def learn(self, campaign_id: str, *, model: str = "", seed: int = 0,
              timeout_s: float | None = None) -> pb.LearnResponse:
        return self._stub.Learn(pb.LearnRequest(campaign_id=campaign_id, model=model, seed=seed),
                                timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)
