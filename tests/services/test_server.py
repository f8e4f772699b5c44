"""The shared server bootstrap, over real sockets: features, errors, auth, health, reflection, metrics."""

from __future__ import annotations

import urllib.request

import grpc
import pytest
from _grpc_errors import violations
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from pydantic import SecretStr

from core.settings import Settings
from mds.features.v1 import features_pb2 as pb
from services.client import MDSClient
from services.server import BackgroundServer


def test_get_features_matches_what_was_written(grpc_server, store, demo_users):
    users, _ = demo_users
    store.write_frame("user", users.iloc[:50])
    address = grpc_server(["features"])
    with MDSClient(address) as client:
        frame = client.features.get(list(users.user_id[:3]) + ["u9999999"], ["age", "city", "interests", "balance"])
    expected = users.set_index("user_id").iloc[:3]
    assert frame["age"].iloc[:3].tolist() == expected["age"].tolist()
    assert frame["city"].iloc[:3].tolist() == expected["city"].tolist()
    assert [sorted(v) for v in frame["interests"].iloc[:3]] == [sorted(v) for v in expected["interests"]]
    assert frame["balance"].iloc[:3].tolist() == pytest.approx(expected["balance"].tolist())
    assert frame.loc["u9999999"].isna().all()


@pytest.mark.parametrize(("keys", "features", "field"), [
    (["u0000001"], ["age", "no_such_feature"], "features[1]"),
    ([], ["age"], "keys"),
    (["u0000001", "bad key!"], ["age"], "keys[1]"),
    ([f"u{i}" for i in range(1001)], ["age"], "keys"),
])
def test_bad_requests_are_invalid_argument_with_the_field_named(grpc_server, keys, features, field):
    address = grpc_server(["features"])
    with MDSClient(address) as client, pytest.raises(grpc.RpcError) as info:
        client.features.get_raw(keys, features)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in [f for f, _ in violations(info.value)]


def test_unknown_entity_is_invalid_argument(grpc_server):
    address = grpc_server(["features"])
    with MDSClient(address) as client, pytest.raises(grpc.RpcError) as info:
        client.features.get_raw(["u1"], ["age"], entity="shop")
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "entity" in info.value.details()


def test_catalog_introspection(grpc_server, catalog):
    address = grpc_server(["features"])
    with MDSClient(address) as client:
        response = client.features.catalog("user")
    assert response.fingerprint == catalog.fingerprint
    by_name = {f.name: f for f in response.features}
    assert len(by_name) == len(catalog.features_of("user"))
    assert by_name["city_tier"].has_range and by_name["city_tier"].range_max == 4
    assert "shanghai" in by_name["city"].allowed_values
    assert by_name["interests"].dtype == "string_set"


def test_bearer_token_required_when_configured(settings: Settings, grpc_server):
    secured = settings.model_copy(update={"auth_tokens": [SecretStr("s3cret")]})
    address = grpc_server(["features"], settings_override=secured)
    with MDSClient(address) as anonymous, pytest.raises(grpc.RpcError) as info:
        anonymous.features.catalog()
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with MDSClient(address, token="wrong") as wrong, pytest.raises(grpc.RpcError) as info:
        wrong.features.catalog()
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with MDSClient(address, token="s3cret") as client:
        assert client.features.catalog().fingerprint
    # Health stays open for load-balancer probes.
    with grpc.insecure_channel(address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_health_flips_to_not_serving_on_shutdown_and_reflection_lists_services(settings: Settings):
    server = BackgroundServer(settings, ["features"]).start()
    try:
        with grpc.insecure_channel(server.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            request = health_pb2.HealthCheckRequest(service="mds.features.v1.FeatureService")
            assert health.Check(request, timeout=5).status == health_pb2.HealthCheckResponse.SERVING
            reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
            replies = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                      timeout=5)
            names = {s.name for reply in replies for s in reply.list_services_response.service}
            assert {"mds.features.v1.FeatureService", "grpc.health.v1.Health"} <= names
            # Enter shutdown on the server loop with a long grace period and watch health flip.
            import asyncio

            asyncio.run_coroutine_threadsafe(server.server._health.enter_graceful_shutdown(), server._loop).result(5)
            assert health.Check(request, timeout=5).status == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        server.stop()


def test_metrics_count_calls_by_code(settings: Settings):
    with_metrics = settings.model_copy(update={"metrics_port": 0})
    with BackgroundServer(with_metrics, ["features"]) as server, MDSClient(server.address) as client:
        client.features.catalog()
        with pytest.raises(grpc.RpcError):
            client.features.get_raw([], ["age"])
        port = server.server.metrics_port
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'mds_grpc_requests_total{code="OK",method="GetCatalog",service="mds.features.v1.FeatureService"}' in text
    assert 'mds_grpc_errors_total{code="INVALID_ARGUMENT",method="GetFeatures"' in text
    assert "mds_grpc_request_seconds_bucket" in text


def test_feature_columns_carry_validity(grpc_server, store, demo_users):
    users, _ = demo_users
    row = users.iloc[:1].copy()
    row["balance"] = float("nan")
    store.write_frame("user", row)
    address = grpc_server(["features"])
    with MDSClient(address) as client:
        response = client.features.get_raw([row.user_id.iloc[0]], ["balance", "age"])
    columns = {c.name: c for c in response.columns}
    assert list(columns["balance"].valid) == [False]
    assert list(columns["age"].valid) == [True]
    assert isinstance(response, pb.GetFeaturesResponse)
