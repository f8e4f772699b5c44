"""``mds.targeting.v1.TargetingService``.

Parse runs the demand parser (in a worker thread, one at a time: the model uses every core) and then
re-validates its answer against the catalog, so no key outside the catalog and no SQL beyond the
compiled predicate can leave the service whatever the model wrote. SelectAudience queries the
population snapshot (DuckDB, or Spark with ``engine="spark"``) and can store the result as a named
segment in Redis. CheckEligibility reads one user's cached features and evaluates the logic in memory.

For a tool that shows, edits and confirms a parse, Parse also returns each condition's phrase and span in
the demand, the other readings (their audience sizes on request, in one pass over the population) and
scored keys for unresolved phrases; SelectAudience returns a seeded sample of users with the values of
the features the logic tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import grpc

from core.errors import FailedPrecondition, InvalidArgument, UnknownEntity, preview
from features.population import population_entity, population_version
from features.store.base import KEY_PATTERN
from mds.targeting.v1 import targeting_pb2 as pb
from mds.targeting.v1 import targeting_pb2_grpc as pb_grpc
from models.targeting.audience import (
    ENGINES,
    MAX_SAMPLE,
    Population,
    SparkPopulation,
    check_segment_name,
    logic_features,
    open_population,
    snapshot_path,
    value_text,
)
from models.targeting.logic import (
    DIALECTS,
    AlternativeReading,
    ConditionSource,
    Expr,
    ParseResult,
    UnresolvedPhrase,
    canonical,
    check,
    condition_outcomes,
    evaluate,
    parse_logic,
    to_json,
    to_sql,
    validate,
)
from models.targeting.parser import MAX_DEMAND_CHARS
from services.server.context import ServiceContext

if TYPE_CHECKING:
    from services.registry import ExampleData

__all__ = ["TargetingServicer", "example_call", "register"]

log = logging.getLogger(__name__)


def _span(start: int | None, end: int | None) -> dict[str, int]:
    return {} if start is None or end is None else {"start": start, "end": end}


def _unresolved_pb(u: UnresolvedPhrase) -> pb.UnresolvedPhrase:
    return pb.UnresolvedPhrase(phrase=u.phrase, candidates=list(u.candidates), scores=list(u.scores),
                               **_span(u.start, u.end))


def _source_pb(c: ConditionSource) -> pb.ConditionSource:
    return pb.ConditionSource(condition=str(c.condition), negated=c.negated, key=c.condition.key, phrase=c.phrase,
                              **_span(c.start, c.end))


def _alternative_pb(a: AlternativeReading, size: int | None) -> pb.AlternativeReading:
    return pb.AlternativeReading(logic=a.canonical, added=list(a.added), removed=list(a.removed), summary=a.summary,
                                 **({} if size is None else {"audience_size": size}))


class TargetingServicer(pb_grpc.TargetingServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.segments = ctx.segments
        self._parse_lock = asyncio.Lock()
        self._populations: dict[str, tuple[object, Population | SparkPopulation]] = {}

    # -- helpers -----------------------------------------------------------------------------------

    def _logic(self, text: str, field: str = "logic") -> Expr:
        return check(parse_logic(text, field=field), self.ctx.catalog, field=field)

    async def _population(self, engine: str) -> Population | SparkPopulation | None:
        """The population for ``engine``, reopened when its files change; None when there is none."""
        version = population_version(self.ctx.settings)
        if version is None:
            return None
        hit = self._populations.get(engine)
        if hit is None or hit[0] != version:
            population = await asyncio.to_thread(open_population, self.ctx.settings, self.ctx.catalog, engine)
            self._populations[engine] = (version, population)
            return population
        return hit[1]

    async def _parse(self, demand: str, variant: str) -> ParseResult:
        from models.targeting.parser import get_parser

        parser = await asyncio.to_thread(get_parser, variant, self.ctx.settings, catalog=self.ctx.catalog)
        if not parser.serial:  # the linker (and resolve, which locks only its decodes) runs requests in parallel
            return await asyncio.to_thread(parser.parse, demand)
        async with self._parse_lock:  # a local model's KV cache serves one decode at a time
            return await asyncio.to_thread(parser.parse, demand)

    # -- RPCs --------------------------------------------------------------------------------------

    async def Parse(self, request: pb.ParseRequest, context: grpc.aio.ServicerContext) -> pb.ParseResponse:
        demand = request.demand
        if not demand.strip():
            raise InvalidArgument("demand is empty", field="demand")
        if len(demand) > MAX_DEMAND_CHARS:  # before waiting for the parser: a long demand never queues
            raise InvalidArgument(f"demand is {len(demand):,} characters; at most {MAX_DEMAND_CHARS}", field="demand")
        dialect = request.dialect or "duckdb"
        if dialect not in DIALECTS:
            raise InvalidArgument(f"unknown SQL dialect {dialect!r}; use {' or '.join(DIALECTS)}", field="dialect")
        variant = request.variant or "default"
        result = await self._parse(demand, variant)
        logic, explanation = result.logic, result.explanation
        if logic is not None and validate(logic, self.ctx.catalog):
            # Defence in depth: whatever a model wrote, only catalog-valid logic leaves the service.
            log.warning("parser %s returned logic outside the catalog for %r: %s", variant, demand, result.canonical)
            logic, explanation = None, "the parser's answer did not validate against the catalog; nothing was selected"
        # Readings leave the service under the same rule as the logic: only catalog-valid ones.
        alternatives = [a for a in result.alternatives if not validate(a.logic, self.ctx.catalog)] \
            if logic is not None else []
        response = pb.ParseResponse(
            logic=canonical(logic), reasoning=list(result.reasoning if logic is not None else []),
            unresolved=[_unresolved_pb(u) for u in result.unresolved],
            explanation=explanation, variant=variant,
            conditions=[_source_pb(c) for c in result.conditions] if logic is not None else [])
        if logic is not None:
            response.logic_json = json.dumps(to_json(logic), ensure_ascii=False)
            response.sql = to_sql(logic, self.ctx.catalog, dialect)  # type: ignore[arg-type]
        population = await self._population("duckdb")
        sizes: list[int | None] = [None] * len(alternatives)
        if population is not None:
            response.population_size = population.size
            if request.with_sizes and alternatives:  # the chosen logic and every reading in one pass
                counted = await asyncio.to_thread(population.counts, [logic, *(a.logic for a in alternatives)])
                response.estimated_audience_size, sizes = counted[0], list(counted[1:])
            else:
                response.estimated_audience_size = await asyncio.to_thread(population.count, logic)
        response.alternatives.extend(_alternative_pb(a, n) for a, n in zip(alternatives, sizes, strict=True))
        return response

    async def SelectAudience(self, request: pb.SelectAudienceRequest, context: grpc.aio.ServicerContext
                             ) -> pb.SelectAudienceResponse:
        expr = self._logic(request.logic)
        engine = request.engine or "duckdb"
        if engine not in ENGINES:
            raise InvalidArgument(f"unknown engine {engine!r}; use {' or '.join(ENGINES)}", field="engine")
        if request.segment_name:
            check_segment_name(request.segment_name)
        if not 0 <= request.sample_size <= MAX_SAMPLE:
            raise InvalidArgument(f"sample_size must be 0..{MAX_SAMPLE}; got {request.sample_size}",
                                  field="sample_size")
        population = await self._population(engine)
        if population is None:
            raise FailedPrecondition(f"no population snapshot at {snapshot_path(self.ctx.settings)}; "
                                     "run `mds seed` first")
        audience = await asyncio.to_thread(population.select, expr, 0)
        sample = await asyncio.to_thread(population.sample_users, expr, request.sample_size, request.sample_seed)
        response = pb.SelectAudienceResponse(
            logic=audience.logic, sql=audience.sql, count=audience.count, population_size=audience.population,
            sample_user_ids=[u.user_id for u in sample], engine=engine,
            sample_features=logic_features(expr) if sample else [],
            sample=[pb.SampledUser(user_id=u.user_id, values={k: value_text(v) for k, v in u.values.items() if v is not None})
                    for u in sample])
        if request.segment_name:
            ids = await asyncio.to_thread(population.ids, expr)
            segment = await self.segments.save(request.segment_name, audience.logic, ids, engine=engine,
                                               source=Path(population.source).name)
            response.segment_name = segment.name
            response.segment_key = self.segments.key(segment.name)
        return response

    async def CheckEligibility(self, request: pb.CheckEligibilityRequest, context: grpc.aio.ServicerContext
                               ) -> pb.CheckEligibilityResponse:
        expr = self._logic(request.logic)
        if not KEY_PATTERN.match(request.user_id):
            raise InvalidArgument(f"malformed user id {preview(request.user_id)}: use 1-64 letters, digits, '_', '.' "
                                  "or '-'",
                                  field="user_id")
        batch = await self.ctx.store.read(population_entity(self.ctx.catalog), [request.user_id])
        if not bool(batch.found[0]):
            raise UnknownEntity(f"no cached features for user {request.user_id!r}")
        row = batch.row(0)
        outcomes = condition_outcomes(expr, row)
        conditions = [
            pb.ConditionOutcome(
                condition=str(o.condition), negated=o.negated,
                outcome={True: "satisfied", False: "failed", None: "unknown"}[o.satisfied],
                actual_value=value_text(o.actual))
            for o in outcomes
        ]
        return pb.CheckEligibilityResponse(
            eligible=evaluate(expr, row), logic=canonical(expr), conditions=conditions,
            failed_conditions=[("NOT " if o.negated else "") + str(o.condition) for o in outcomes
                               if o.satisfied is not True])


    async def GetSegment(self, request: pb.GetSegmentRequest, context: grpc.aio.ServicerContext
                         ) -> pb.GetSegmentResponse:
        segment = await self.segments.get(check_segment_name(request.name, field="name"))
        return pb.GetSegmentResponse(
            name=segment.name, logic=segment.logic, count=segment.count, created_at=segment.created_at,
            engine=segment.engine, source=segment.source,
            sample_user_ids=await self.segments.sample(segment.name, request.sample_size),
            segment_key=self.segments.key(segment.name))


def register(server: grpc.aio.Server, ctx: ServiceContext) -> str:
    pb_grpc.add_TargetingServiceServicer_to_server(TargetingServicer(ctx), server)
    return pb.DESCRIPTOR.services_by_name["TargetingService"].full_name


def example_call(data: ExampleData) -> tuple[str, str]:
    """Parse of a demand in the served catalog's own words (the corpus generator's)."""
    from models.targeting.corpus import example_demands

    demand = example_demands(data.catalog, 1)[0]
    return "mds.targeting.v1.TargetingService/Parse", json.dumps({"demand": demand})
