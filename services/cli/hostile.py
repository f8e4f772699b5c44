"""The hostile requests behind ``mds bench hostile`` (issue #14), sent against a running server while a
health probe measures how long other calls wait (a stall shows as a slow probe); the tests send them too.

Each hostile request is one the server must answer with INVALID_ARGUMENT (or, for the largest
allowed analyses, OK) — never INTERNAL or UNKNOWN — and none may hold up the probe.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np

__all__ = ["HostileResult", "hostile_requests", "run_hostile"]


@dataclass
class HostileResult:
    target: str
    seconds: float
    hostile_calls: int
    codes_by_request: dict[str, dict[str, int]]
    internal_or_unknown: int
    probe_calls: int
    probe_p50_ms: float
    probe_p99_ms: float
    probe_max_ms: float
    probes_over_100ms: int


def hostile_requests() -> list[tuple[str, str, bytes]]:
    """(label, method path, serialized request) for each kind of hostile input."""
    from mds.allocation.v1 import allocation_pb2
    from mds.experiments.v1 import experiments_pb2 as xpb
    from mds.features.v1 import features_pb2
    from mds.targeting.v1 import targeting_pb2
    from mds.uplift.v1 import uplift_pb2

    def arm(name: str, metrics: int = 1) -> xpb.ArmSummary:
        return xpb.ArmSummary(arm=name, users=1000, metrics=[
            xpb.MetricSummary(metric=f"m{j}", sum=100.0, sum_squares=100.0) for j in range(metrics)])

    deep = "(" * 250 + "age#Greater Than#20" + ")" * 250
    cases: list[tuple[str, str, Any]] = [
        ("Analyze 5,000 arms", "/mds.experiments.v1.ExperimentService/Analyze",
         xpb.AnalyzeRequest(control_arm="a0", arms=[arm(f"a{i}") for i in range(5000)])),
        ("Analyze largest allowed (31 x 8)", "/mds.experiments.v1.ExperimentService/Analyze",
         xpb.AnalyzeRequest(control_arm="a0", arms=[arm(f"a{i}", 8) for i in range(32)])),
        ("AnalyzeSegments 1,000 segments", "/mds.experiments.v1.ExperimentService/AnalyzeSegments",
         xpb.AnalyzeSegmentsRequest(metric="m0", control_arm="c", treatment_arm="t", segments=[
             xpb.SegmentSummary(segment=f"s{i}", arms=[arm("c"), arm("t")]) for i in range(1000)])),
        ("Analyze test=99", "/mds.experiments.v1.ExperimentService/Analyze",
         xpb.AnalyzeRequest(control_arm="a0", arms=[arm("a0"), arm("a1")], options=xpb.AnalysisOptions(test=99))),
        ("SelectAudience 250 brackets", "/mds.targeting.v1.TargetingService/SelectAudience",
         targeting_pb2.SelectAudienceRequest(logic=deep)),
        ("CheckEligibility NOT x1000", "/mds.targeting.v1.TargetingService/CheckEligibility",
         targeting_pb2.CheckEligibilityRequest(logic="NOT " * 1000 + "(age#Greater Than#20)", user_id="u0000001")),
        ("GetFeatures 4,000-char key", "/mds.features.v1.FeatureService/GetFeatures",
         features_pb2.GetFeaturesRequest(keys=["k" * 4000])),
        ("GetFeatures 1,000 keys x 100,000 features", "/mds.features.v1.FeatureService/GetFeatures",
         features_pb2.GetFeaturesRequest(keys=[f"u{i:07d}" for i in range(1000)],
                                         features=["age"] * 100_000)),
        ("GetFeatures key with newline", "/mds.features.v1.FeatureService/GetFeatures",
         features_pb2.GetFeaturesRequest(keys=["u0000001\n"])),
        ("SelectTop repeated ids", "/mds.uplift.v1.UpliftService/SelectTop",
         uplift_pb2.SelectTopRequest(model="coupon", user_ids=["u0000001"] * 3, max_users=2)),
        ("SetBudget 1e308", "/mds.allocation.v1.AllocationService/SetBudget",
         allocation_pb2.SetBudgetRequest(budget_fraction=0.5, requests_per_window=1e308)),
    ]
    out = [(label, method, message.SerializeToString()) for label, method, message in cases]
    out.append(("GetFeatures malformed bytes", "/mds.features.v1.FeatureService/GetFeatures", b"\xff\xff\xff\xff"))
    return out


async def _run(target: str, seconds: float, concurrency: int) -> HostileResult:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    requests = hostile_requests()
    codes: dict[str, Counter[str]] = {label: Counter() for label, _, _ in requests}
    probe_ms: list[float] = []
    options = [("grpc.max_send_message_length", 64 * 1024 * 1024)]
    async with grpc.aio.insecure_channel(target, options=options) as hostile, \
            grpc.aio.insecure_channel(target) as probe_channel:
        await asyncio.wait_for(hostile.channel_ready(), 10)
        calls: dict[str, Callable[..., Any]] = {
            method: hostile.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
            for _, method, _ in requests}
        health = health_pb2_grpc.HealthStub(probe_channel)
        stop_at = time.perf_counter() + seconds

        async def attacker(offset: int) -> None:
            i = offset
            while time.perf_counter() < stop_at:
                label, method, payload = requests[i % len(requests)]
                i += 1
                try:
                    await calls[method](payload, timeout=60)
                    codes[label]["OK"] += 1
                except grpc.aio.AioRpcError as exc:
                    codes[label][exc.code().name] += 1

        async def prober() -> None:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=30)
                probe_ms.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.02)

        await asyncio.gather(prober(), *(attacker(k) for k in range(concurrency)))  # worker k starts at case k
    ms = np.asarray(probe_ms)
    bad = sum(c["INTERNAL"] + c["UNKNOWN"] for c in codes.values())
    return HostileResult(
        target=target, seconds=seconds, hostile_calls=sum(sum(c.values()) for c in codes.values()),
        codes_by_request={k: dict(v) for k, v in codes.items()}, internal_or_unknown=bad, probe_calls=len(ms),
        probe_p50_ms=round(float(np.percentile(ms, 50)), 3), probe_p99_ms=round(float(np.percentile(ms, 99)), 3),
        probe_max_ms=round(float(ms.max()), 3), probes_over_100ms=int((ms > 100).sum()))


def run_hostile(target: str, seconds: float, concurrency: int = 2) -> HostileResult:
    return asyncio.run(_run(target, seconds, concurrency))
