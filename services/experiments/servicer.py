"""ExperimentService: the statistics engine behind gRPC, fed only sufficient statistics."""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import grpc

from core.errors import InvalidArgument
from mds.experiments.v1 import experiments_pb2 as pb
from mds.experiments.v1 import experiments_pb2_grpc as pb_grpc
from models.experiments import analyze, segment_effects_from_stats
from services.experiments.convert import (
    MAX_ARMS,
    MAX_COMPARISONS,
    MAX_SEGMENTS,
    arms_from_proto,
    check_count,
    comparison_to_proto,
    segment_effect_to_proto,
    settings_from_proto,
    validate_arms,
)
from services.server.context import ServiceContext

__all__ = ["ExperimentServicer", "register"]

ANALYSIS_WORKERS = 2


class ExperimentServicer(pb_grpc.ExperimentServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        # Analyses are pure-Python statistics that hold the GIL: in threads they starved the event loop
        # (health probes waited up to 340 ms under hostile traffic), so they run in worker processes
        # of their own (a burst queues there). Spawned, not forked: gRPC's threads do not survive fork.
        self._pool = ProcessPoolExecutor(max_workers=ANALYSIS_WORKERS,
                                         mp_context=multiprocessing.get_context("spawn"))
        self._pool.submit(int)  # start the workers now, not on the first request
        ctx.on_shutdown(self._close)

    async def _close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def Analyze(self, request: pb.AnalyzeRequest, context: grpc.aio.ServicerContext) -> pb.AnalyzeResponse:
        check_count("treatment_arms", len(request.treatment_arms), MAX_ARMS, "arms")
        stats = arms_from_proto(request.arms)
        treatments = list(request.treatment_arms)
        validate_arms(stats, request.arms, request.control_arm, treatments)
        names = [*stats.arms[request.control_arm].metrics, *stats.arms[request.control_arm].ratios]
        settings = settings_from_proto(request.options, request.arms, names)
        if not names:
            raise InvalidArgument(f"control arm {request.control_arm!r} has no metrics",
                                  field=f"arms[{[a.arm for a in request.arms].index(request.control_arm)}].metrics")
        compared = len(treatments or stats.arms) - (0 if treatments else 1)
        if compared * len(names) > MAX_COMPARISONS:
            raise InvalidArgument(f"{compared} treatment arms x {len(names)} metrics is {compared * len(names):,} "
                                  f"comparisons; at most {MAX_COMPARISONS} per request", field="arms")
        # The statistics are CPU work: off the event loop (so health checks and other calls keep
        # flowing), in a small pool of their own (so a burst of analyses queues instead of piling up).
        result = await asyncio.get_running_loop().run_in_executor(
            self._pool, analyze, stats, request.control_arm, settings, treatments or None)
        srm = result.srm
        return pb.AnalyzeResponse(
            control_arm=result.control,
            comparisons=[comparison_to_proto(c) for c in result.comparisons],
            srm=pb.SampleRatioCheck(chi2=srm.chi2, p_value=srm.p_value, ok=srm.ok,
                                    max_relative_deviation=srm.max_relative_deviation,
                                    observed=dict(srm.observed), expected_share=dict(srm.expected_share)),
            means={arm: pb.ArmMeans(values=dict(values)) for arm, values in result.means.items()})

    async def AnalyzeSegments(self, request: pb.AnalyzeSegmentsRequest, context: grpc.aio.ServicerContext
                              ) -> pb.AnalyzeSegmentsResponse:
        check_count("segments", len(request.segments), MAX_SEGMENTS, "segments")
        # Up to MAX_SEGMENTS x MAX_ARMS summaries to check and analyse: all of it off the event loop.
        return await asyncio.get_running_loop().run_in_executor(self._pool, _analyze_segments, request)


def _analyze_segments(request: pb.AnalyzeSegmentsRequest) -> pb.AnalyzeSegmentsResponse:
    if not request.metric:
        raise InvalidArgument("metric is empty", field="metric")
    if not request.control_arm:
        raise InvalidArgument("control_arm is empty", field="control_arm")
    if not request.treatment_arm or request.treatment_arm == request.control_arm:
        raise InvalidArgument("treatment_arm must be set and differ from control_arm", field="treatment_arm")
    if not request.segments:
        raise InvalidArgument("no segments given", field="segments")
    settings = settings_from_proto(request.options, [], [request.metric])
    by_segment = {}
    for i, seg in enumerate(request.segments):
        path = f"segments[{i}]"
        if not seg.segment or seg.segment in by_segment:
            raise InvalidArgument(f"{path}.segment is empty or repeated", field=f"{path}.segment")
        stats = arms_from_proto(seg.arms, prefix=f"{path}.arms")
        names = [a.arm for a in seg.arms]
        for arm in (request.control_arm, request.treatment_arm):
            if arm not in stats.arms:
                raise InvalidArgument(f"segment {seg.segment!r} has no arm {arm!r}", field=f"{path}.arms")
            if request.metric not in stats.arms[arm].metrics:
                raise InvalidArgument(f"segment {seg.segment!r}, arm {arm!r} has no metric {request.metric!r}",
                                      field=f"{path}.arms[{names.index(arm)}].metrics")
            if stats.arms[arm].metrics[request.metric].count < 2:
                raise InvalidArgument(f"segment {seg.segment!r} has fewer than 2 users in arm {arm!r}",
                                      field=f"{path}.arms[{names.index(arm)}].users")
        by_segment[seg.segment] = stats
    effects = segment_effects_from_stats(by_segment, request.control_arm, request.treatment_arm, request.metric,
                                         settings.alpha, settings.test, field="segments")
    return pb.AnalyzeSegmentsResponse(effects=[segment_effect_to_proto(e) for e in effects])


def register(server: grpc.aio.Server, ctx: ServiceContext) -> str:
    pb_grpc.add_ExperimentServiceServicer_to_server(ExperimentServicer(ctx), server)
    return pb.DESCRIPTOR.services_by_name["ExperimentService"].full_name


EXAMPLE_CALL = ("mds.experiments.v1.ExperimentService/Analyze", (
    '{"control_arm": "control", "arms": ['
    '{"arm": "control", "users": 1000, "metrics": [{"metric": "conversion", "sum": 100, "sum_squares": 100}]}, '
    '{"arm": "email", "users": 1000, "metrics": [{"metric": "conversion", "sum": 130, "sum_squares": 130}]}]}'))
