"""Example calls, load-generator keys and the client's default entity come from the configured catalog:
a team whose catalog has no ``user`` entity and whose keys look nothing like the demo's gets examples
that name its entity and its real keys, and those examples work against a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from google.protobuf import json_format

from core.errors import FailedPrecondition, InvalidArgument
from core.settings import Settings
from features import load_checked_catalog
from features.catalog import Catalog
from features.store import open_store
from mds.features.v1 import features_pb2
from models.targeting.corpus import example_demands
from models.targeting.logic import check, parse_logic
from services.cli.bench import configured_requests, run_load
from services.client import MDSClient
from services.registry import ExampleData, example_call
from services.server import BackgroundServer

SHOP = """\
name: shop
entities:
  customer: {key: customer_id}
groups:
  - name: history
    entity: customer
    ttl_seconds: 3600
    features:
      - {name: recency, dtype: int, range: [1, 12]}
      - {name: zone, dtype: category, values: [urban, rural]}
"""
CUSTOMERS = pd.DataFrame({"customer_id": ["c0042", "c0007", "c0311", "c0100", "c0555"],
                          "recency": [3, 7, 1, 12, 5], "zone": ["urban", "rural", "urban", "rural", "urban"]})


@pytest.fixture
def shop(settings: Settings, tmp_path: Path) -> tuple[Settings, Catalog]:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP)
    return settings.model_copy(update={"catalog": path}), load_checked_catalog(path)


@pytest.fixture
def shop_with_customers(shop: tuple[Settings, Catalog], tmp_path: Path) -> tuple[Settings, Catalog]:
    """The shop catalog with CUSTOMERS as its population (a CSV) and in the feature store."""
    settings, catalog = shop
    population = tmp_path / "customers.csv"
    CUSTOMERS.to_csv(population, index=False)
    settings = settings.model_copy(update={"population": str(population)})
    open_store(settings, catalog).write_frame("customer", CUSTOMERS)
    return settings, catalog


def _examples(settings: Settings, services: list[str]) -> tuple[BackgroundServer, ExampleData]:
    server = BackgroundServer(settings, services).start()
    data = server.run(server.server.example_data())
    return server, data


def test_examples_name_the_entity_and_the_population_keys_and_work(
        shop_with_customers: tuple[Settings, Catalog]) -> None:
    settings, catalog = shop_with_customers
    server, data = _examples(settings, ["features", "campaign"])
    try:
        assert (data.entity, data.keys, data.models) == ("customer", ["c0042", "c0007", "c0311", "c0100"], [])
        method, body = example_call("features", data) or ("", "")
        assert method == "mds.features.v1.FeatureService/GetFeatures"
        request = json_format.Parse(body, features_pb2.GetFeaturesRequest())
        assert (request.entity, list(request.keys), list(request.features)) == ("customer", ["c0042"],
                                                                               ["recency", "zone"])
        with MDSClient(server.address) as mds:
            answer = mds.features.get_raw(list(request.keys), list(request.features), entity=request.entity)
            assert list(answer.found) == [True]  # the example is a real call that finds its key
            default = mds.features.get(["c0311"], ["zone"])  # no entity: the catalog's only one
            assert default.loc["c0311", "zone"] == "urban"
        _, plan = example_call("campaign", data) or ("", "")
        logic = json.loads(plan)["logic"]
        assert logic == "(recency#Between#1, 12)" and check(parse_logic(logic), catalog) is not None
        uplift = json.loads((example_call("uplift", data) or ("", ""))[1])
        assert uplift["model"] == "<model>" and uplift["user_ids"] == data.keys  # no model registered yet
        method, parse = example_call("targeting", data) or ("", "")
        assert method == "mds.targeting.v1.TargetingService/Parse"
        assert json.loads(parse)["demand"] == example_demands(catalog, 1)[0]  # the shop's words, not the demo's
    finally:
        server.stop(grace=0.2)


def test_without_a_population_the_keys_come_from_the_store_else_a_placeholder(
        shop: tuple[Settings, Catalog]) -> None:
    settings, catalog = shop
    server, empty = _examples(settings, ["features"])
    server.stop(grace=0.2)
    assert empty.keys == [] and empty.some_keys(3) == ["<customer_id>"]
    with pytest.raises(FailedPrecondition, match="no customer keys"):
        configured_requests(settings, 10)

    open_store(settings, catalog).write_frame("customer", CUSTOMERS.iloc[:2])
    server, stored = _examples(settings, ["features"])
    server.stop(grace=0.2)
    assert sorted(stored.keys) == ["c0007", "c0042"]
    requests = configured_requests(settings, 10)
    assert requests.entity == "customer" and sorted(requests.keys) == ["c0007", "c0042"]


def test_the_load_generator_requests_the_configured_entity_and_keys(
        shop_with_customers: tuple[Settings, Catalog]) -> None:
    settings, _ = shop_with_customers
    requests = configured_requests(settings, 3)
    assert (requests.entity, requests.keys, requests.models) == ("customer", ["c0042", "c0007", "c0311"], [])
    assert requests.logic() == "(recency#Between#1, 12)"
    server = BackgroundServer(settings, ["features", "targeting"]).start()
    try:
        features = run_load("GetFeatures", server.address, 1, 0.5, entity=requests.entity, keys=requests.keys,
                            batch=2, n_features=2)
        eligible = run_load("CheckEligibility", server.address, 1, 0.5, keys=requests.keys, batch=1,
                            logic=requests.logic())
    finally:
        server.stop(grace=0.2)
    assert features.calls > 0 and features.errors == 0
    assert eligible.calls > 0 and eligible.errors == 0  # the catalog's own feature, a real customer
    with pytest.raises(InvalidArgument) as no_model:
        run_load("Score", "127.0.0.1:1", 1, 0.5, keys=requests.keys, batch=1)  # nothing registered
    assert no_model.value.field == "--model"
    with pytest.raises(InvalidArgument) as no_demands:
        run_load("Parse", "127.0.0.1:1", 1, 0.5)  # the CLI sends example_demands of the configured catalog
    assert no_demands.value.field == "demands"


def test_the_example_logic_prefers_a_whole_range_to_a_category(tmp_path: Path) -> None:
    recency = "      - {name: recency, dtype: int, range: [1, 12]}\n"
    zones_first, zones_only = tmp_path / "zones_first.yaml", tmp_path / "zones_only.yaml"
    zones_first.write_text(SHOP.replace(recency, "") + recency)
    zones_only.write_text(SHOP.replace(recency, ""))
    assert ExampleData(load_checked_catalog(zones_first), "customer", [], []).logic() == "(recency#Between#1, 12)"
    assert ExampleData(load_checked_catalog(zones_only), "customer", [], []).logic() == "(zone#Equal To#urban)"
