"""``mds.campaign.v1.CampaignService``: plan, launch, export, record outcomes, read out and learn.

Everything heavy (scoring an audience, Parquet, Redis transactions, retraining) runs in worker threads
through :class:`models.campaign.CampaignBook`, whose synchronous stores (:class:`features.store.CampaignStores`)
are a ``ServiceContext`` resource; the event loop only converts messages. Bad input is
INVALID_ARGUMENT naming the field (``holdout_share``, ``model``, ``logic``, ``outcomes[3].group``, ...).
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import grpc

from core.errors import InvalidArgument
from features.store import CampaignStores
from mds.campaign.v1 import campaign_pb2 as pb
from mds.campaign.v1 import campaign_pb2_grpc as pb_grpc
from models.campaign import (
    Budget,
    CampaignBook,
    CampaignPlan,
    Outcome,
    PlanSpec,
    Readout,
    RecordSummary,
    readout_png,
)
from services.server.context import ServiceContext

if TYPE_CHECKING:
    from services.registry import ExampleData

__all__ = ["CampaignServicer", "campaign_to_proto", "example_call", "register"]

log = logging.getLogger(__name__)

MAX_SAMPLE = 1000
_STATUS = {"draft": pb.CAMPAIGN_STATUS_DRAFT, "launched": pb.CAMPAIGN_STATUS_LAUNCHED}
_GROUP = {pb.GROUP_TREATED: "treated", pb.GROUP_HOLDOUT: "holdout"}


def campaign_to_proto(plan: CampaignPlan) -> pb.Campaign:
    return pb.Campaign(
        campaign_id=plan.campaign_id, name=plan.name, status=_STATUS.get(plan.status, pb.CAMPAIGN_STATUS_UNSPECIFIED),
        created_at=plan.created_at, launched_at=plan.launched_at, demand=plan.demand, logic=plan.logic,
        model=plan.model, model_version=plan.model_version, max_users=plan.max_users or 0,
        max_cost=plan.max_cost or 0.0, cost_per_user=plan.cost_per_user, cost_feature=plan.cost_feature,
        holdout_share=plan.holdout_share, seed=plan.seed, eligible_count=plan.eligible_count,
        unscored_count=plan.unscored_count, treated_count=plan.treated_count, holdout_count=plan.holdout_count,
        twin_count=plan.twin_count, total_cost=plan.total_cost, expected_incremental=plan.expected_incremental,
        expected_ci_low=plan.expected_ci_low, expected_ci_high=plan.expected_ci_high)


def _spec(request: pb.PlanRequest) -> PlanSpec:
    which = request.WhichOneof("budget")
    if which is None:
        raise InvalidArgument("give a budget: max_users or max_cost", field="budget")
    cost_per_user = request.cost_per_user if request.cost_per_user != 0 else 1.0
    budget = (Budget(max_users=request.max_users, cost_per_user=cost_per_user) if which == "max_users"
              else Budget(max_cost=request.max_cost, cost_per_user=cost_per_user))
    audience = request.WhichOneof("audience")
    return PlanSpec(model=request.model, budget=budget, holdout_share=request.holdout_share, seed=request.seed,
                    demand=request.demand if audience == "demand" else "",
                    logic=request.logic if audience == "logic" else "",
                    model_version=request.model_version, cost_feature=request.cost_feature, name=request.name)


def _opt(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def readout_to_proto(r: Readout, png: bytes = b"") -> pb.ReadoutResponse:
    return pb.ReadoutResponse(
        campaign_id=r.campaign_id, has_outcomes=r.has_outcomes, message=r.message,
        planned_treated=r.planned_treated, planned_twin=r.planned_twin, treated_outcomes=r.treated_outcomes,
        twin_outcomes=r.twin_outcomes, baseline_outcomes=r.baseline_outcomes, outside_outcomes=r.outside_outcomes,
        group_mismatches=r.group_mismatches, srm_p_value=_opt(r.srm_p_value), srm_ok=r.srm_ok,
        lifts=[pb.Lift(metric=x.metric, treated_mean=x.treated_mean, holdout_mean=x.holdout_mean,
                       estimate=x.estimate, ci_low=x.ci_low, ci_high=x.ci_high, p_value=x.p_value,
                       always_valid_p_value=x.always_valid_p_value, relative=_opt(x.relative),
                       relative_ci_low=_opt(x.relative_ci_low), relative_ci_high=_opt(x.relative_ci_high))
               for x in r.lifts],
        realized_incremental=_opt(r.realized_incremental),
        realized_ci_low=_opt(r.realized_ci[0]) if r.realized_ci else None,
        realized_ci_high=_opt(r.realized_ci[1]) if r.realized_ci else None,
        predicted_incremental=r.predicted_incremental, predicted_ci_low=r.predicted_ci[0],
        predicted_ci_high=r.predicted_ci[1],
        deciles=[pb.DecileLift(bin=b.bin, treated=b.treated, holdout=b.holdout, predicted_uplift=b.predicted_uplift,
                               lift=_opt(b.lift), ci_low=_opt(b.ci_low), ci_high=_opt(b.ci_high)) for b in r.bins],
        warnings=r.warnings, report_png=png)


class CampaignServicer(pb_grpc.CampaignServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def _book(self) -> CampaignBook:
        """The process's book, on the context's synchronous campaign stores (built once, closed at shutdown)."""
        settings, catalog = self.ctx.settings, self.ctx.catalog
        stores = await self.ctx.resource(CampaignStores, lambda: CampaignStores.open(settings, catalog),
                                         close=CampaignStores.close)
        return await self.ctx.resource(CampaignBook, lambda: CampaignBook(settings, catalog, stores))

    async def Plan(self, request: pb.PlanRequest, context: grpc.aio.ServicerContext) -> pb.PlanResponse:
        sample = request.sample_size or 20
        if not 0 < sample <= MAX_SAMPLE:
            raise InvalidArgument(f"sample_size must be 1..{MAX_SAMPLE}", field="sample_size")
        spec = _spec(request)
        book = await self._book()
        plan, members = await asyncio.to_thread(book.plan, spec)
        treated = members.treated.nonzero()[0]
        top = treated[members.rank[treated].argsort()[:sample]]
        return pb.PlanResponse(campaign=campaign_to_proto(plan), top_treated=[
            pb.PlannedUser(user_id=str(members.user_id[i]), uplift=float(members.uplift[i]),
                           cost=float(members.cost[i]), rank=int(members.rank[i])) for i in top])

    async def Launch(self, request: pb.LaunchRequest, context: grpc.aio.ServicerContext) -> pb.LaunchResponse:
        book = await self._book()
        plan = await asyncio.to_thread(book.launch, request.campaign_id)
        return pb.LaunchResponse(campaign=campaign_to_proto(plan))

    async def Discard(self, request: pb.DiscardRequest, context: grpc.aio.ServicerContext) -> pb.DiscardResponse:
        book = await self._book()
        await asyncio.to_thread(book.discard, request.campaign_id)
        return pb.DiscardResponse()

    async def Get(self, request: pb.GetRequest, context: grpc.aio.ServicerContext) -> pb.GetResponse:
        book = await self._book()
        return pb.GetResponse(campaign=campaign_to_proto(await asyncio.to_thread(book.get, request.campaign_id)))

    async def List(self, request: pb.ListRequest, context: grpc.aio.ServicerContext) -> pb.ListResponse:
        book = await self._book()
        plans, total = await asyncio.to_thread(book.list, request.limit or 50, request.offset)
        return pb.ListResponse(campaigns=[campaign_to_proto(p) for p in plans], total=total)

    async def Export(self, request: pb.ExportRequest, context: grpc.aio.ServicerContext) -> pb.ExportResponse:
        book = await self._book()

        def build() -> tuple[bytes, int]:
            frame = book.export(request.campaign_id, include_holdout=request.include_holdout)
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            return buffer.getvalue(), len(frame)

        data, rows = await asyncio.to_thread(build)
        return pb.ExportResponse(parquet=data, rows=rows)

    async def RecordOutcomes(self, requests: AsyncIterator[pb.RecordOutcomesRequest],
                             context: grpc.aio.ServicerContext) -> pb.RecordOutcomesResponse:
        book = await self._book()
        total = RecordSummary()
        campaign_id = ""
        index = 0
        async for message in requests:
            if not campaign_id:
                if not message.campaign_id:
                    raise InvalidArgument("the first message must name the campaign", field="campaign_id")
                campaign_id = message.campaign_id
            elif message.campaign_id and message.campaign_id != campaign_id:
                raise InvalidArgument(f"one stream records one campaign ({campaign_id!r}), got "
                                      f"{message.campaign_id!r}", field="campaign_id")
            outcomes = []
            for i, o in enumerate(message.outcomes):
                group = _GROUP.get(o.group)
                if group is None:
                    raise InvalidArgument("group must be GROUP_TREATED or GROUP_HOLDOUT",
                                          field=f"outcomes[{index + i}].group")
                outcomes.append(Outcome(o.user_id, group, o.outcome, o.value))
            summary = await asyncio.to_thread(book.record, campaign_id, outcomes)
            total.add(summary)
            index += len(outcomes)
        if not campaign_id:
            raise InvalidArgument("the stream carried no campaign id", field="campaign_id")
        return pb.RecordOutcomesResponse(
            received=total.received, recorded=total.recorded, replaced=total.replaced,
            outside_campaign=total.outside, outside_sample=total.outside_sample,
            group_mismatches=total.group_mismatches)

    async def Readout(self, request: pb.ReadoutRequest, context: grpc.aio.ServicerContext) -> pb.ReadoutResponse:
        alpha = request.alpha if request.HasField("alpha") else 0.05
        book = await self._book()

        def run() -> pb.ReadoutResponse:
            r = book.readout(request.campaign_id, alpha=alpha)
            return readout_to_proto(r, readout_png(r) if request.include_report else b"")

        return await asyncio.to_thread(run)

    async def Learn(self, request: pb.LearnRequest, context: grpc.aio.ServicerContext) -> pb.LearnResponse:
        book = await self._book()
        result = await asyncio.to_thread(book.learn, request.campaign_id, model=request.model, seed=request.seed)
        log.info("campaign %s: %s", request.campaign_id, result.summary)
        return pb.LearnResponse(
            model=result.model, previous_version=result.previous_version, new_version=result.new_version,
            train_rows=result.train_rows, test_rows=result.test_rows, bags=result.bags,
            previous_qini_auc=result.previous_qini_auc, new_qini_auc=result.new_qini_auc,
            previous_decile_error=result.previous_decile_error, new_decile_error=result.new_decile_error,
            summary=result.summary)


def register(server: grpc.aio.Server, ctx: ServiceContext) -> str:
    pb_grpc.add_CampaignServiceServicer_to_server(CampaignServicer(ctx), server)
    return pb.DESCRIPTOR.services_by_name["CampaignService"].full_name


def example_call(data: ExampleData) -> tuple[str, str]:
    return ("mds.campaign.v1.CampaignService/Plan",
            json.dumps({"logic": data.logic(), "model": data.model(), "max_users": 500, "holdout_share": 0.2,
                        "seed": 1}))
