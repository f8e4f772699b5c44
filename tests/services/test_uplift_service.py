"""UpliftService over a real gRPC socket, with features in the real Redis and models in the registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
import numpy as np
import pandas as pd
import pytest
from _grpc_errors import first_violation

from core.settings import Settings
from features.catalog import Catalog
from features.store import RedisOnlineStore
from mds.uplift.v1 import uplift_pb2 as pb
from models.registry import ModelRegistry
from models.uplift.demo import train_demo_pipeline
from models.uplift.pipeline import UpliftPipeline
from services.client import MDSClient, feature_value


@pytest.fixture(scope="module")
def population(demo_users: tuple[pd.DataFrame, pd.DataFrame]) -> pd.DataFrame:
    return demo_users[0].iloc[:120].reset_index(drop=True)


@pytest.fixture(scope="module")
def model(demo_users: tuple[pd.DataFrame, pd.DataFrame], catalog: Catalog) -> UpliftPipeline:
    users, truth = demo_users
    return train_demo_pipeline(users, truth["treatment"].to_numpy(), truth["converted"].to_numpy(), catalog,
                               n_estimators=25)


@pytest.fixture
def served(settings: Settings, store: RedisOnlineStore, catalog: Catalog, population: pd.DataFrame,
           model: UpliftPipeline, grpc_server: Callable[..., str]) -> MDSClient:
    store.write_frame("user", population)
    ModelRegistry.from_settings(settings).save("coupon", model, catalog=catalog, metrics={"qini_auc": 0.1})
    client = MDSClient(grpc_server(["uplift"]), timeout_s=10.0)
    yield client
    client.close()


def test_score_by_ids_and_inline_rows_agree_with_direct_predict(
        served: MDSClient, population: pd.DataFrame, model: UpliftPipeline) -> None:
    expected = pd.Series(model.predict(population), index=population["user_id"])
    ids = list(population["user_id"].iloc[:100])
    response = served.uplift.score("coupon", [*ids[:50], "nobody-1", *ids[50:], "nobody-2"])
    assert response.model == "coupon" and response.version == 1
    assert list(response.missing_user_ids) == ["nobody-1", "nobody-2"]
    got = pd.Series([s.uplift for s in response.scores], index=[s.user_id for s in response.scores])
    assert list(got.index) == ids  # request order, unknown ids left out
    np.testing.assert_allclose(got.to_numpy(), expected.loc[ids].to_numpy(), rtol=1e-6, atol=1e-9)

    rows = population.iloc[:30].set_index("user_id")
    by_rows = served.uplift.score("coupon", rows=rows)
    assert [s.user_id for s in by_rows.scores] == list(rows.index)
    np.testing.assert_allclose([s.uplift for s in by_rows.scores], expected.iloc[:30].to_numpy(),
                               rtol=1e-6, atol=1e-9)

    # A row with features left out scores like the model's own imputation of the missing values.
    partial = population.iloc[:3].set_index("user_id").drop(columns=["age", "city", "interests"])
    want = model.predict(partial.assign(age=np.nan, city=None, interests=None))
    got_partial = [s.uplift for s in served.uplift.score("coupon", rows=partial).scores]
    np.testing.assert_allclose(got_partial, want, rtol=1e-6, atol=1e-9)


def test_select_top_honours_count_and_cost_budgets(served: MDSClient, population: pd.DataFrame,
                                                   model: UpliftPipeline) -> None:
    ids = list(population["user_id"].iloc[:100])
    uplift = pd.Series(model.predict(population.iloc[:100]), index=ids)
    positive = uplift[uplift > 0].sort_values(ascending=False, kind="stable")

    top = served.uplift.select_top("coupon", [*ids, "nobody"], max_users=10)
    assert [u.user_id for u in top.selected] == list(positive.index[:10])
    assert top.scored_count == 100 and list(top.missing_user_ids) == ["nobody"]
    assert top.total_cost == pytest.approx(10.0)
    assert top.expected_incremental_conversions == pytest.approx(positive.iloc[:10].sum())

    # Costs vary per user: ranked by uplift per cost, never over budget, only positive uplift.
    costs = np.random.default_rng(3).uniform(0.5, 5.0, len(ids))
    budget = 20.0
    by_cost = served.uplift.select_top("coupon", ids, max_cost=budget, costs=costs.tolist())
    chosen = [u.user_id for u in by_cost.selected]
    cost_of = dict(zip(ids, costs, strict=True))
    assert sum(cost_of[u] for u in chosen) <= budget + 1e-9
    assert by_cost.total_cost == pytest.approx(sum(cost_of[u] for u in chosen))
    assert all(uplift[u] > 0 for u in chosen)
    ratio = (uplift / pd.Series(costs, index=ids))[positive.index].sort_values(ascending=False)
    prefix = []
    spent = 0.0
    for u in ratio.index:  # the best-ratio users that fit in order must all be chosen, first
        if spent + cost_of[u] > budget:
            break
        prefix.append(u)
        spent += cost_of[u]
    assert chosen[:len(prefix)] == prefix
    left = budget - by_cost.total_cost
    assert all(cost_of[u] > left for u in positive.index if u not in chosen)  # nothing else would fit

    # A min_uplift above every prediction selects nobody.
    none = served.uplift.select_top("coupon", ids, max_users=5, min_uplift=float(uplift.max()) + 1)
    assert len(none.selected) == 0


@pytest.mark.parametrize(("request_kwargs", "code", "field"), [
    ({"model": "", "user_ids": ["u1"]}, grpc.StatusCode.INVALID_ARGUMENT, "model"),
    ({"model": "coupon", "user_ids": ["u0000001", "bad id!"]}, grpc.StatusCode.INVALID_ARGUMENT, "user_ids[1]"),
    ({"model": "coupon"}, grpc.StatusCode.INVALID_ARGUMENT, "user_ids"),
    ({"model": "coupon", "version": -1, "user_ids": ["u1"]}, grpc.StatusCode.INVALID_ARGUMENT, "version"),
    ({"model": "coupon", "user_ids": ["u1"], "rows": [pb.FeatureRow()]}, grpc.StatusCode.INVALID_ARGUMENT, "rows"),
    ({"model": "coupon", "rows": [pb.FeatureRow(features={"age": feature_value("old")})]},
     grpc.StatusCode.INVALID_ARGUMENT, "rows[0].features[age]"),
    ({"model": "coupon", "rows": [pb.FeatureRow(), pb.FeatureRow(features={"age": feature_value(300)})]},
     grpc.StatusCode.INVALID_ARGUMENT, "rows[1].features[age]"),
    ({"model": "coupon", "rows": [pb.FeatureRow(features={"city": feature_value("atlantis")})]},
     grpc.StatusCode.INVALID_ARGUMENT, "rows[0].features[city]"),
    ({"model": "coupon", "rows": [pb.FeatureRow(features={"shoe_size": feature_value(42)})]},
     grpc.StatusCode.INVALID_ARGUMENT, "rows[0].features[shoe_size]"),
    ({"model": "nope", "user_ids": ["u1"]}, grpc.StatusCode.NOT_FOUND, ""),
    ({"model": "coupon", "version": 9, "user_ids": ["u1"]}, grpc.StatusCode.NOT_FOUND, ""),
])
def test_score_rejects_bad_requests_naming_the_field(served: MDSClient, request_kwargs: dict,
                                                     code: grpc.StatusCode, field: str) -> None:
    stub = served.uplift._stub
    with pytest.raises(grpc.RpcError) as err:
        stub.Score(pb.ScoreRequest(**request_kwargs), timeout=10)
    assert first_violation(err.value)[:2] == (code, field)


def test_select_top_rejects_bad_budgets_naming_the_field(served: MDSClient) -> None:
    ids = ["u0000001", "u0000002"]
    cases = [
        ({}, "budget"),
        ({"max_users": 0}, "max_users"),
        ({"max_cost": -1.0}, "max_cost"),
        ({"max_cost": 5.0, "costs": [1.0]}, "costs"),
        ({"max_cost": 5.0, "costs": [1.0, 0.0]}, "costs[1]"),
        ({"max_users": 1, "min_uplift": float("nan")}, "min_uplift"),
    ]
    for kwargs, field in cases:
        with pytest.raises(grpc.RpcError) as err:
            served.uplift.select_top("coupon", ids, **kwargs)
        assert first_violation(err.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, field), kwargs


def test_reload_refuses_bad_versions_and_keeps_serving(served: MDSClient, settings: Settings, catalog: Catalog,
                                                       model: UpliftPipeline, population: pd.DataFrame) -> None:
    ids = list(population["user_id"].iloc[:20])
    before = [s.uplift for s in served.uplift.score("coupon", ids).scores]
    registry = ModelRegistry.from_settings(settings)

    # v2: corrupt payload.
    registry.save("coupon", model, catalog=catalog)
    (settings.models_dir / "coupon" / "2" / "model.joblib").write_bytes(b"\x80garbage")
    with pytest.raises(grpc.RpcError) as err:
        served.uplift.reload("coupon")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "corrupt" in err.value.details() and "version 1 keeps serving" in err.value.details()
    # v3: trained for another catalog.
    registry.save("coupon", model, features=model.features, catalog_fingerprint="ffffffffffff")
    with pytest.raises(grpc.RpcError) as err:
        served.uplift.reload("coupon", 3)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "fingerprint" in err.value.details()

    still = served.uplift.score("coupon", ids)
    assert still.version == 1 and [s.uplift for s in still.scores] == before
    listed = {m.name: m for m in served.uplift.list_models().models}
    assert list(listed["coupon"].versions) == [1, 2, 3] and listed["coupon"].serving_version == 1
    assert "fingerprint" in listed["coupon"].last_error

    # v4: good, with other training metrics; reload swaps it in.
    registry.save("coupon", model, catalog=catalog, metrics={"qini_auc": 0.2})
    outcome = served.uplift.reload("coupon")
    assert (outcome.previous_version, outcome.serving_version) == (1, 4)
    info = served.uplift.get_model("coupon")
    assert info.version == 4 and info.serving and info.metrics["qini_auc"] == pytest.approx(0.2)
    assert list(info.features) == model.features and info.catalog_fingerprint == catalog.fingerprint
    assert served.uplift.get_model("coupon", 1).serving is False
    # A pinned older version can still be scored explicitly.
    pinned = served.uplift.score("coupon", ids, version=1)
    assert pinned.version == 1 and [s.uplift for s in pinned.scores] == before


def test_redis_down_is_unavailable_for_ids_while_inline_rows_still_score(
        settings: Settings, catalog: Catalog, model: UpliftPipeline, population: pd.DataFrame,
        grpc_server: Callable[..., str]) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    down = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{dead_port}/0", "redis_timeout_s": 0.2})
    ModelRegistry.from_settings(down).save("coupon", model, catalog=catalog)
    with MDSClient(grpc_server(["uplift"], settings_override=down), timeout_s=10.0) as client:
        with pytest.raises(grpc.RpcError) as err:
            client.uplift.score("coupon", ["u0000001"])
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        rows = population.iloc[:5].set_index("user_id")
        scores = [s.uplift for s in client.uplift.score("coupon", rows=rows).scores]
        np.testing.assert_allclose(scores, model.predict(rows), rtol=1e-6, atol=1e-9)


def test_select_top_reads_large_candidate_lists_in_chunks(
        settings: Settings, store: RedisOnlineStore, catalog: Catalog, model: UpliftPipeline,
        population: pd.DataFrame, grpc_server: Callable[..., str]) -> None:
    small = settings.model_copy(update={"max_batch": 40})  # Score takes 40 ids; SelectTop reads 40 at a time
    store.write_frame("user", population)
    ModelRegistry.from_settings(small).save("coupon", model, catalog=catalog)
    ids = list(population["user_id"])
    uplift = pd.Series(model.predict(population), index=ids)
    with MDSClient(grpc_server(["uplift"], settings_override=small), timeout_s=10.0) as client:
        top = client.uplift.select_top("coupon", ids, max_users=15)
        assert top.scored_count == len(ids) == 120
        want = uplift[uplift > 0].sort_values(ascending=False, kind="stable").index[:15]
        assert [u.user_id for u in top.selected] == list(want)
        with pytest.raises(grpc.RpcError) as err:
            client.uplift.score("coupon", ids[:41])
        assert first_violation(err.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "user_ids")


def test_cache_encoder_equals_pandas_encoding_with_missing_values(
        store: RedisOnlineStore, catalog: Catalog, model: UpliftPipeline, population: pd.DataFrame,
        served: MDSClient) -> None:
    from models.uplift.scoring import compile_cache_encoder

    holes = population.copy()
    holes["age"] = holes["age"].astype("Int64")
    holes.loc[::7, "age"] = pd.NA
    holes.loc[::5, "city"] = None
    holes.loc[::3, "interests"] = None
    holes.loc[::4, "balance"] = np.nan
    store.write_frame("user", holes)
    batch = store.read("user", [*holes["user_id"], "nobody"], model.features)
    cache_encoder = compile_cache_encoder(model, catalog)
    assert cache_encoder is not None
    np.testing.assert_array_equal(cache_encoder.transform(batch), model.encoder.transform(batch.to_pandas()))
    # The service (which uses it) agrees with the pipeline on the holes too.
    ids = list(holes["user_id"].iloc[:60])
    scores = [s.uplift for s in served.uplift.score("coupon", ids).scores]
    np.testing.assert_allclose(scores, model.predict(batch.to_pandas().loc[ids]), rtol=1e-9, atol=1e-12)


def test_torch_bag_regularized_model_serves_like_its_predict(
        settings: Settings, store: RedisOnlineStore, catalog: Catalog, population: pd.DataFrame,
        demo_users: tuple[pd.DataFrame, pd.DataFrame], grpc_server: Callable[..., str]) -> None:
    """The method's torch learner through the registry and the single-threaded predict pool."""
    from models.uplift import BagRegularizedUplift, FeatureEncoder

    users, truth = demo_users
    encoder = FeatureEncoder(features=[f.name for f in catalog.features_of("user")], catalog=catalog)
    net = UpliftPipeline(encoder, BagRegularizedUplift(epochs=2, batch_size=512, bag_size=128)).fit(
        users, truth["treatment"].to_numpy(), truth["converted"].to_numpy())
    store.write_frame("user", population)
    ModelRegistry.from_settings(settings).save("coupon_bag", net, catalog=catalog)
    ids = list(population["user_id"].iloc[:100])
    with MDSClient(grpc_server(["uplift"]), timeout_s=10.0) as client:
        scores = [s.uplift for s in client.uplift.score("coupon_bag", ids).scores]
        top = client.uplift.select_top("coupon_bag", ids, max_users=5)
    expected = net.predict(population.iloc[:100])
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-7)
    assert [u.user_id for u in top.selected] == [ids[i] for i in np.argsort(-expected, kind="stable")[:5]
                                                 if expected[i] > 0]


def test_bench_serve_runs_end_to_end_and_cleans_up(settings: Settings, catalog: Catalog, model: UpliftPipeline,
                                                   tmp_path: Path) -> None:
    """The benchmark command itself (a real server process, a seeded namespace); no timing asserted."""
    import json

    from _mds_cli import keys_left
    from typer.testing import CliRunner

    from services.cli.uplift import app

    ModelRegistry.from_settings(settings).save("coupon", model, catalog=catalog)
    report, plot = tmp_path / "bench.json", tmp_path / "bench.png"
    env = {"MDS_REDIS_URL": settings.redis_url, "MDS_DATA_DIR": str(settings.data_dir)}
    # --compare-code: the same requests alternated with a server run from another tree (here this one).
    repo = Path(__file__).resolve().parents[2]
    result = CliRunner().invoke(app, ["bench-serve", "--users", "1000", "--requests", "20", "--warmup", "5",
                                      "--json", str(report), "--plot", str(plot), "--compare-code", str(repo)],
                                env=env)
    assert result.exit_code == 0, result.output
    numbers = json.loads(report.read_text())
    assert numbers["score"]["requests"] == 20 and numbers["select_top"]["requests"] == 10
    assert 0 < numbers["score"]["p50_ms"] <= numbers["score"]["p99_ms"]
    assert numbers["compared"]["code"] == str(repo) and numbers["compared"]["score"]["requests"] == 20
    stages = numbers["stages_in_process"]
    assert stages["cache_encoder"] is True and stages["predict_on_event_loop"] is True and plot.stat().st_size > 0
    assert set(stages["cpu_ms_per_request"]) == {"redis_read", "encode", "predict"}
    bad = CliRunner().invoke(app, ["bench-serve", "--compare-code", str(tmp_path)], env=env)
    assert bad.exit_code != 0 and "--compare-code" in str(bad.exception)
    # Only the namespace this run seeded is checked: other benchmarks may share the Redis meanwhile.
    assert numbers["namespace"].startswith("mdsbench-") and numbers["namespace"] != settings.namespace
    assert not keys_left(settings, numbers["namespace"])  # deleted


def test_models_and_reload_commands_against_a_running_server(
        settings: Settings, catalog: Catalog, model: UpliftPipeline, grpc_server: Callable[..., str]) -> None:
    from typer.testing import CliRunner

    from services.cli.uplift import app

    registry = ModelRegistry.from_settings(settings)
    registry.save("coupon", model, catalog=catalog)
    address = grpc_server(["uplift"])
    runner = CliRunner()
    ok = runner.invoke(app, ["reload", "--name", "coupon", "--address", address])
    assert ok.exit_code == 0 and "serving version 1" in ok.output, ok.output
    registry.save("coupon", model, catalog=catalog)
    (settings.models_dir / "coupon" / "2" / "model.joblib").write_bytes(b"\x80garbage")
    refused = runner.invoke(app, ["reload", "--name", "coupon", "--address", address])
    assert refused.exit_code == 1 and "version 1 keeps serving" in refused.output.replace("\n", " "), refused.output
    listed = runner.invoke(app, ["models", "--address", address], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "coupon" in listed.output and "1, 2" in listed.output, listed.output


def test_several_treatment_model_serves_per_arm_uplift_and_chosen_arm(
        settings: Settings, store: RedisOnlineStore, catalog: Catalog, population: pd.DataFrame,
        demo_users: tuple[pd.DataFrame, pd.DataFrame], grpc_server: Callable[..., str], tmp_path: Path) -> None:
    from models.uplift import MultiArmUplift
    from models.uplift.encoding import FeatureEncoder
    from models.uplift.scoring import score_parquet

    users, truth = demo_users
    rng = np.random.default_rng(0)
    # Two coupon arms (the demo experiment's treated users split at random) against no coupon.
    arm = np.where(truth["treatment"].to_numpy() == 1, rng.choice(["coupon_a", "coupon_b"], len(users)), "none")
    pipeline = UpliftPipeline(FeatureEncoder(catalog=catalog, exclude=()),
                              MultiArmUplift("t_learner", "none")).set_params(estimator__random_state=1)
    pipeline.fit(users.drop(columns=["user_id"]), arm, truth["converted"].to_numpy())
    assert pipeline.arms == ["coupon_a", "coupon_b"]
    store.write_frame("user", population)
    ModelRegistry.from_settings(settings).save("coupons", pipeline, catalog=catalog)
    expected = pipeline.predict_arms(population)
    with MDSClient(grpc_server(["uplift"]), timeout_s=10.0) as client:
        ids = list(population["user_id"].iloc[:40])
        by_id = client.uplift.score("coupons", ids).scores
        for i, s in enumerate(by_id):
            per_arm = [a.uplift for a in s.arm_uplift]
            assert [a.arm for a in s.arm_uplift] == ["coupon_a", "coupon_b"]
            np.testing.assert_allclose(per_arm, expected[i], rtol=1e-6, atol=1e-9)
            assert s.uplift == pytest.approx(max(per_arm))
            best = ["coupon_a", "coupon_b"][int(np.argmax(per_arm))]
            assert s.chosen_arm == (best if max(per_arm) > 0 else "")
    # Batch scoring writes every arm's uplift and the chosen arm.
    path, out = tmp_path / "users.parquet", tmp_path / "scored.parquet"
    population.to_parquet(path)
    score_parquet(pipeline, path, out, progress=False)
    scored = pd.read_parquet(out)
    assert list(scored.columns) == ["user_id", "uplift", "uplift_coupon_a", "uplift_coupon_b", "chosen_arm"]
    np.testing.assert_allclose(scored[["uplift_coupon_a", "uplift_coupon_b"]].to_numpy(), expected, rtol=1e-6)
    chosen = np.where(expected.max(axis=1) > 0, np.array(["coupon_a", "coupon_b"])[expected.argmax(axis=1)], None)
    assert scored["chosen_arm"].tolist() == chosen.tolist()


def test_select_top_by_net_value(served: MDSClient, population: pd.DataFrame, model: UpliftPipeline) -> None:
    ids = list(population["user_id"].iloc[:100])
    uplift = pd.Series(model.predict(population), index=population["user_id"]).loc[ids].to_numpy()
    costs = np.linspace(0.5, 2.0, len(ids))
    value = 40.0
    response = served.uplift.select_top("coupon", ids, max_cost=30.0, costs=list(costs), value_per_conversion=value)
    net = uplift * value - costs
    picked = [ids.index(s.user_id) for s in response.selected]
    assert picked and all(net[i] > 0 for i in picked) and response.total_cost <= 30.0 + 1e-9
    assert response.expected_profit == pytest.approx(float(net[picked].sum()), rel=1e-6)
    # Best net value per unit cost first.
    ratios = [net[i] / costs[i] for i in picked]
    assert ratios[0] == pytest.approx(max(net[net > 0] / costs[net > 0]))
    with pytest.raises(grpc.RpcError) as err:
        served.uplift.select_top("coupon", ids, max_users=3, value_per_conversion=-1.0)
    assert first_violation(err.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "value_per_conversion")


SHOP_CATALOG = """\
name: shop
entities:
  customer: {key: customer_id}
groups:
  - name: profile
    entity: customer
    ttl_seconds: 3600
    features:
      - {name: visits, dtype: int, range: [0, 50]}
      - {name: tier, dtype: category, values: [bronze, silver, gold]}
      - {name: spend, dtype: float, range: [0, 500]}
      - {name: channels, dtype: string_set, values: [web, app, store]}
"""


def test_bench_serve_and_the_demo_model_follow_the_configured_catalog(settings: Settings, tmp_path: Path) -> None:
    """Under a catalog that is not the demo world's (entity ``customer``): no demo model is prepared, and
    bench-serve seeds that catalog's entity with in-domain rows and serves the team's own model."""
    import json

    from typer.testing import CliRunner

    from features.bench import synthetic_rows
    from features.catalog import configured_catalog
    from models.uplift import FeatureEncoder, TLearner
    from services.cli.uplift import app
    from services.uplift.servicer import prepare_demo

    path = tmp_path / "shop.yaml"
    path.write_text(SHOP_CATALOG)
    shop = settings.model_copy(update={"catalog": path})
    prepare_demo(shop)
    registry = ModelRegistry.from_settings(shop)
    assert registry.list_models() == []  # a demo model could not be served under this catalog
    catalog = configured_catalog(shop)
    features = [f.name for f in catalog.features_of("customer")]
    frame = synthetic_rows(catalog, "customer", 1_500, seed=2)
    rng = np.random.default_rng(2)
    t = rng.integers(0, 2, len(frame))
    y = (rng.random(len(frame)) < 0.2 + 0.2 * t * (frame["tier"] == "gold")).astype(int)
    model = UpliftPipeline(FeatureEncoder(features=features, catalog=catalog),
                           TLearner(n_estimators=5, min_child_samples=20)).fit(frame[features], t, y)
    registry.save("shop_uplift", model, catalog=catalog)
    report = tmp_path / "bench.json"
    env = {"MDS_REDIS_URL": settings.redis_url, "MDS_DATA_DIR": str(settings.data_dir), "MDS_CATALOG": str(path)}
    result = CliRunner().invoke(app, ["bench-serve", "--model", "shop_uplift", "--users", "1000", "--requests", "10",
                                      "--warmup", "2", "--json", str(report)], env=env)
    assert result.exit_code == 0, result.output
    numbers = json.loads(report.read_text())
    assert numbers["catalog"] == "shop" and numbers["score"]["requests"] == 10
    assert numbers["stages_in_process"]["cache_encoder"] is True
