"""Hostile input over real gRPC against a real server: every answer is INVALID_ARGUMENT naming the field.

Each case reproduces one finding of issue #14 (oversized lists, deep nesting, long values echoed back,
malformed protobuf, names with a trailing newline, implausible numbers); none may be INTERNAL or
UNKNOWN, none may echo a long value back, and none may stall the server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import grpc
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from core.settings import Settings
from mds.allocation.v1 import allocation_pb2, allocation_pb2_grpc
from mds.experiments.v1 import experiments_pb2 as xpb
from mds.experiments.v1 import experiments_pb2_grpc as xpb_grpc
from mds.features.v1 import features_pb2, features_pb2_grpc
from mds.targeting.v1 import targeting_pb2, targeting_pb2_grpc
from mds.uplift.v1 import uplift_pb2, uplift_pb2_grpc
from services.client import field_violations
from services.experiments.convert import MAX_ARMS, MAX_COMPARISONS, MAX_METRICS, MAX_SEGMENTS

ALL = ["features", "experiments", "uplift", "targeting", "allocation"]


@pytest.fixture
def channel(grpc_server: Callable[..., str]) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(grpc_server(ALL)) as ch:
        yield ch


def _reject(call: Callable[..., object], request: object, field: str) -> grpc.RpcError:
    """The call fails with INVALID_ARGUMENT naming ``field``, with short details."""
    with pytest.raises(grpc.RpcError) as info:
        call(request, timeout=20)
    err = info.value
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, (err.code(), err.details())
    assert field in [v.field for v in field_violations(err)], (field, err.details())
    assert len(err.details()) <= 500
    return err


def _eventually(condition: Callable[[], bool], within_s: float = 5.0) -> None:
    """Wait for ``condition``: the server logs and counts a call just after the client has its answer."""
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _arm(name: str, users: int = 1000, metrics: int = 1) -> xpb.ArmSummary:
    return xpb.ArmSummary(arm=name, users=users, metrics=[
        xpb.MetricSummary(metric=f"m{j}", sum=100.0, sum_squares=100.0) for j in range(metrics)])


# -- 1: unbounded repeated fields ------------------------------------------------------------------

def test_analyze_rejects_too_many_arms_and_metrics_naming_the_limit(channel: grpc.Channel) -> None:
    stub = xpb_grpc.ExperimentServiceStub(channel)
    err = _reject(stub.Analyze, xpb.AnalyzeRequest(control_arm="a0", arms=[_arm(f"a{i}") for i in range(5000)]),
                  "arms")
    assert str(MAX_ARMS) in err.details()
    _reject(stub.Analyze, xpb.AnalyzeRequest(control_arm="a0", arms=[_arm("a0", metrics=MAX_METRICS + 1), _arm("a1")]),
            "arms[0].metrics")
    err = _reject(stub.Analyze, xpb.AnalyzeRequest(control_arm="a0", arms=[_arm(f"a{i}", metrics=MAX_METRICS)
                                                                           for i in range(MAX_ARMS)]), "arms")
    assert str(MAX_COMPARISONS) in err.details()
    segments = [xpb.SegmentSummary(segment=f"s{i}", arms=[_arm("c"), _arm("t")]) for i in range(MAX_SEGMENTS + 1)]
    err = _reject(stub.AnalyzeSegments, xpb.AnalyzeSegmentsRequest(
        metric="m0", control_arm="c", treatment_arm="t", segments=segments), "segments")
    assert f"{MAX_SEGMENTS:,}" in err.details()


def test_largest_allowed_analysis_still_answers(channel: grpc.Channel) -> None:
    stub = xpb_grpc.ExperimentServiceStub(channel)
    metrics = MAX_COMPARISONS // (MAX_ARMS - 1)
    arms = [_arm(f"a{i}", metrics=metrics) for i in range(MAX_ARMS)]
    response = stub.Analyze(xpb.AnalyzeRequest(control_arm="a0", arms=arms), timeout=60)
    assert len(response.comparisons) == (MAX_ARMS - 1) * metrics


def test_get_features_rejects_duplicate_and_too_many_features(channel: grpc.Channel) -> None:
    stub = features_pb2_grpc.FeatureServiceStub(channel)
    _reject(stub.GetFeatures, features_pb2.GetFeaturesRequest(entity="user", keys=["u1"], features=["age", "age"]),
            "features[1]")
    _reject(stub.GetFeatures, features_pb2.GetFeaturesRequest(entity="user", keys=[f"u{i}" for i in range(1000)],
                                                              features=["age"] * 100_000), "features")


def test_select_top_rejects_repeated_user_ids(channel: grpc.Channel) -> None:
    stub = uplift_pb2_grpc.UpliftServiceStub(channel)
    _reject(stub.SelectTop, uplift_pb2.SelectTopRequest(
        model="coupon", user_ids=["u0000001", "u0000002", "u0000001"], max_users=2), "user_ids[2]")


# -- 2: nesting deeper than the parser can recurse -------------------------------------------------

@pytest.mark.parametrize("logic", [
    "(" * 250 + "age#Greater Than#20" + ")" * 250,
    "NOT " * 1000 + "(age#Greater Than#20)",
    "!" * 5000 + "(age#Greater Than#20)",
    "(" * 5000,
])
def test_deep_logic_is_invalid_argument_not_a_recursion_error(channel: grpc.Channel, logic: str) -> None:
    stub = targeting_pb2_grpc.TargetingServiceStub(channel)
    _reject(stub.SelectAudience, targeting_pb2.SelectAudienceRequest(logic=logic), "logic")
    _reject(stub.CheckEligibility, targeting_pb2.CheckEligibilityRequest(logic=logic, user_id="u0000001"), "logic")


# -- 3: long values are never echoed back ------------------------------------------------------------

def test_long_values_get_short_details_and_short_log_lines(channel: grpc.Channel,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    long = "k" * 4000
    huge = "x" * 2_000_000
    features = features_pb2_grpc.FeatureServiceStub(channel)
    with caplog.at_level(logging.INFO, logger="mds.access"):
        _reject(features.GetFeatures, features_pb2.GetFeaturesRequest(entity="user", keys=[long], features=["age"]),
                "keys[0]")
        _reject(features.GetFeatures, features_pb2.GetFeaturesRequest(entity="user", keys=[huge], features=["age"]),
                "keys[0]")
        _reject(features.GetFeatures, features_pb2.GetFeaturesRequest(entity=long, keys=["u1"], features=["age"]),
                "entity")
        _reject(features.GetFeatures, features_pb2.GetFeaturesRequest(entity="user", keys=["u1"], features=[long]),
                "features[0]")
        uplift = uplift_pb2_grpc.UpliftServiceStub(channel)
        _reject(uplift.Score, uplift_pb2.ScoreRequest(model=long, user_ids=["u1"]), "model")
        _reject(uplift.GetModel, uplift_pb2.GetModelRequest(name=huge), "name")
        targeting = targeting_pb2_grpc.TargetingServiceStub(channel)
        _reject(targeting.GetSegment, targeting_pb2.GetSegmentRequest(name=long), "name")
        _reject(targeting.CheckEligibility, targeting_pb2.CheckEligibilityRequest(
            logic="(age#Greater Than#20)", user_id=huge), "user_id")
        _reject(targeting.Parse, targeting_pb2.ParseRequest(demand=huge), "demand")
        _eventually(lambda: len([r for r in caplog.records if r.name == "mds.access"]) >= 9)
    lines = [r.getMessage() for r in caplog.records if r.name == "mds.access"]
    assert max(len(line) for line in lines) < 1000


# -- 8: malformed protobuf, and auth before parsing --------------------------------------------------

def _raw_call(channel: grpc.Channel, method: str) -> Callable[..., bytes]:
    return channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)


MALFORMED = [b"\xff\xff\xff\xff", b"\x0a\xff\xff\xff\xff\x0f", b"\x12\x05ab", b"\x0a\x02\xc3\x28"]


@pytest.mark.parametrize("payload", MALFORMED)
def test_malformed_protobuf_is_invalid_argument_logged_and_counted(channel: grpc.Channel, payload: bytes,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    method = "/mds.features.v1.FeatureService/GetFeatures"
    labels = {"service": "mds.features.v1.FeatureService", "method": "GetFeatures", "code": "INVALID_ARGUMENT"}

    def counted() -> float:  # what /metrics reports for this call and code
        return REGISTRY.get_sample_value("mds_grpc_requests_total", labels) or 0.0

    before = counted()
    with caplog.at_level(logging.INFO, logger="mds.access"):
        with pytest.raises(grpc.RpcError) as info:
            _raw_call(channel, method)(payload, timeout=5)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "request" in [v.field for v in field_violations(info.value)]
        assert "Error parsing" not in info.value.details() and "DecodeError" not in info.value.details()
        _eventually(lambda: counted() >= before + 1 and any(
            '"INVALID_ARGUMENT"' in r.getMessage() for r in caplog.records if r.name == "mds.access"))
    assert counted() == before + 1


def test_token_is_checked_before_the_request_is_parsed(settings: Settings, grpc_server: Callable[..., str]) -> None:
    secured = settings.model_copy(update={"auth_tokens": [SecretStr("s3cret")]})
    with grpc.insecure_channel(grpc_server(["features"], settings_override=secured)) as ch:
        call = _raw_call(ch, "/mds.features.v1.FeatureService/GetFeatures")
        for payload in MALFORMED:
            with pytest.raises(grpc.RpcError) as info:
                call(payload, timeout=5)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as info:
            call(MALFORMED[0], timeout=5, metadata=[("authorization", "Bearer s3cret")])
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# -- 9: names with a trailing newline or non-ASCII letters --------------------------------------------

@pytest.mark.parametrize("bad", ["u0000001\n", "u0000001\r\n", "\nu0000001", "ü0000001", "u 1", "u1\x00"])
def test_names_with_newlines_or_unicode_are_rejected(channel: grpc.Channel, bad: str) -> None:
    features = features_pb2_grpc.FeatureServiceStub(channel)
    _reject(features.GetFeatures, features_pb2.GetFeaturesRequest(entity="user", keys=[bad], features=["age"]),
            "keys[0]")
    targeting = targeting_pb2_grpc.TargetingServiceStub(channel)
    _reject(targeting.CheckEligibility, targeting_pb2.CheckEligibilityRequest(
        logic="(age#Greater Than#20)", user_id=bad), "user_id")
    _reject(targeting.SelectAudience, targeting_pb2.SelectAudienceRequest(
        logic="(age#Greater Than#20)", segment_name=bad.replace("u", "seg")), "segment_name")
    uplift = uplift_pb2_grpc.UpliftServiceStub(channel)
    _reject(uplift.Score, uplift_pb2.ScoreRequest(model=bad.replace("u0000001", "coupon"), user_ids=["u1"]), "model")


# -- 10, 11: implausible numbers ------------------------------------------------------------------------

@pytest.mark.parametrize("rpw", [1e308, 1e-300, 0.5, float("inf"), float("nan"), -1.0, 2e9])
def test_set_budget_bounds_requests_per_window(channel: grpc.Channel, rpw: float) -> None:
    stub = allocation_pb2_grpc.AllocationServiceStub(channel)
    _reject(stub.SetBudget, allocation_pb2.SetBudgetRequest(budget_fraction=0.5, requests_per_window=rpw),
            "requests_per_window")


def test_analyze_rejects_implausible_options(channel: grpc.Channel) -> None:
    stub = xpb_grpc.ExperimentServiceStub(channel)
    arms = [_arm("control"), _arm("email")]
    _reject(stub.Analyze, xpb.AnalyzeRequest(control_arm="control", arms=arms, options=xpb.AnalysisOptions(test=99)),
            "options.test")
    _reject(stub.Analyze, xpb.AnalyzeRequest(control_arm="control", arms=arms, options=xpb.AnalysisOptions(
        lower_is_better=["m0", "unsubscribes"])), "options.lower_is_better[1]")
    _reject(stub.Analyze, xpb.AnalyzeRequest(control_arm="control", arms=[_arm("control", users=2**63 - 1), _arm("email")]),
            "arms[0].users")
    ok = stub.Analyze(xpb.AnalyzeRequest(control_arm="control", arms=arms,
                                         options=xpb.AnalysisOptions(lower_is_better=["m0"])), timeout=20)
    assert ok.comparisons[0].metric == "m0"
