"""The evaluation harness and audience selection (no language model: parsers here are plain functions)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from core.errors import FailedPrecondition, InvalidArgument, NotFound, StoreUnavailable
from core.settings import Settings
from features.catalog import demo_catalog
from features.demo_world import generate_users
from models.targeting.audience import AsyncSegmentStore, Population, open_population
from models.targeting.corpus import Case, load_cases
from models.targeting.evaluation import (
    EvaluationReport,
    evaluate_parser,
    evaluate_variants,
    generated_users,
    plot_report,
    skeleton,
)
from models.targeting.logic import Expr, ParseResult, canonical, parse_logic

CATALOG = demo_catalog()


@pytest.fixture(scope="module")
def population() -> Population:
    users, _ = generate_users(CATALOG, 3000, seed=5)
    return Population.from_frame(users, CATALOG)


def _result(expr: Expr | None) -> ParseResult:
    return ParseResult(expr, canonical(expr), ["Key phrases: x", "Mapping: x~age", "Conditions: x", "Combination: x"])


CASES = [
    Case("women over 30", parse_logic("(gender#Equal To#female) AND (age#Greater Than#30)")),
    Case("people in beijing or shanghai", parse_logic("(city#Belongs To#beijing,shanghai)")),
    Case("drop table users", None),
    Case("no coupon", parse_logic("NOT (coupon_used_90d#Greater Than#0)")),
]


def test_skeleton_keeps_keys_and_connectives_only() -> None:
    a = parse_logic("(age#Between#25,35) AND ((city#Equal To#wuhan) OR NOT (gender#Equal To#male))")
    b = parse_logic("(age#Greater Than#60) AND (NOT (gender#Equal To#female) OR (city#Belongs To#xian,hefei))")
    assert skeleton(a) == skeleton(b) == "((city) OR NOT (gender)) AND (age)"
    assert skeleton(parse_logic("(age#Greater Than#60) OR (gender#Equal To#female)")) != skeleton(a)
    assert skeleton(None) == ""


def test_a_perfect_parser_scores_one(population: Population) -> None:
    gold = {c.demand: c.logic for c in CASES}
    score = evaluate_parser("perfect", lambda d: _result(gold[d]), CASES, population)
    assert (score.exact, score.execution, score.structure, score.valid) == (1.0, 1.0, 1.0, 1.0)
    assert 0 <= score.p50_s <= score.p95_s and score.n == 4


def test_equivalent_logic_counts_for_execution_and_only_conventional_spellings_for_exact(
        population: Population) -> None:
    equivalent = {
        "women over 30": "(gender#Equal To#female) AND (age#Greater Than Or Equal To#31)",
        "people in beijing or shanghai": "(city#Equal To#beijing) OR (city#Equal To#shanghai)",
        "drop table users": "",
        "no coupon": "(coupon_used_90d#Equal To#0)",
    }
    score = evaluate_parser("equivalent", lambda d: _result(parse_logic(equivalent[d]) if equivalent[d] else None),
                            CASES, population)
    # Exact: the empty one, an OR of cities (conventionally one Belongs To list) and "= 0" for a count (the
    # conventional "NOT (> 0)"); ">= 31" says the same as "> 30" only because ages are whole numbers.
    assert score.exact == 0.75
    assert [c.exact for c in score.cases] == [False, True, True, True]
    assert score.execution == 1.0
    assert score.structure == 1.0  # same keys and connectives ("city OR city" is the one key "city")


def test_wrong_invalid_and_crashing_parsers_are_scored_not_fatal(population: Population) -> None:
    def wrong(d: str) -> ParseResult:
        return _result(parse_logic("(gender#Equal To#male) AND (age#Greater Than#30)"))

    def invalid(d: str) -> ParseResult:
        bad = parse_logic("(shoe_size#Equal To#42)")
        return ParseResult(bad, canonical(bad))

    def crash(d: str) -> ParseResult:
        raise RuntimeError("model exploded")

    w = evaluate_parser("wrong", wrong, CASES, population)
    assert w.exact == 0 and w.execution == 0 and w.valid == 1.0 and w.structure == 0.25
    i = evaluate_parser("invalid", invalid, CASES, population)
    assert (i.valid, i.exact, i.execution) == (0.0, 0.0, 0.0)
    c = evaluate_parser("crash", crash, CASES, population)
    assert c.valid == 0.0 and "model exploded" in c.cases[0].error


def test_evaluate_variants_writes_the_issue_json_shape_and_a_plot(tmp_path: Path) -> None:
    gold = {c.demand: c.logic for c in CASES}
    parsers = {"default": lambda d: _result(gold[d]), "zero_shot": lambda d: _result(None)}
    report = evaluate_variants(CASES, list(parsers), parser_for=parsers.__getitem__, progress=False)
    data = json.loads(json.dumps(report.to_json(), allow_nan=False))  # what `mds targeting evaluate --json` writes
    assert set(data["variants"]) == {"default", "zero_shot"}
    for scores in data["variants"].values():
        assert {"exact", "execution", "valid", "p50_s", "p95_s"} <= set(scores)
    assert data["variants"]["default"]["execution"] == 1.0
    assert data["variants"]["zero_shot"]["execution"] == 0.25  # right only on the empty case
    assert data["population"] == {"users": 20000, "seed": 0, "source": "demo"}
    assert data["variants"]["default"]["inverted"] == 0.0
    png = plot_report(report, tmp_path / "eval.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(report, EvaluationReport)


def test_generated_users_are_the_demo_worlds_for_its_catalog_else_random(tmp_path: Path) -> None:
    from features.catalog import load_catalog

    demo, source = generated_users(CATALOG)
    users, _ = generate_users(CATALOG, 20000, seed=0)
    assert source == "demo" and len(demo) == 20000 and demo.equals(users)  # the issue's population
    bank = load_catalog(Path(__file__).resolve().parents[3] / "models/targeting/corpus/catalogs/bank.yaml")
    drawn, source = generated_users(bank, 500, seed=1)
    assert source == "random" and len(drawn) == 500 and set(drawn.columns) >= set(bank.features)


def test_dev_set_gold_logic_selects_someone(population: Population) -> None:
    for case in load_cases():
        if case.logic is not None:
            assert population.count(case.logic) > 0, case.demand  # a gold logic selecting nobody is a typo


# -- audience ---------------------------------------------------------------------------------------

def test_parquet_and_frame_populations_agree_and_samples_are_deterministic(tmp_path: Path) -> None:
    users, _ = generate_users(CATALOG, 1500, seed=2)
    path = tmp_path / "users.parquet"
    users.to_parquet(path, index=False)
    frame, parquet = Population.from_frame(users, CATALOG), Population.from_parquet(path, CATALOG)
    expr = parse_logic("(interests#Contains Any#music,travel) AND NOT (age#Less Than#30)")
    assert np.array_equal(frame.mask(expr), parquet.mask(expr))
    assert frame.ids(expr) == parquet.ids(expr) == list(users.user_id[frame.mask(expr)])
    assert parquet.sample(expr, 7) == parquet.sample(expr, 7) == frame.sample(expr, 7)
    assert set(parquet.sample(expr, 7)) <= set(parquet.ids(expr))
    assert parquet.sample(expr, 7, seed=1) != parquet.sample(expr, 7)
    assert frame.count(None) == 0 and frame.select(None).count == 0
    with pytest.raises(InvalidArgument) as err:
        frame.sample(expr, 5000)
    assert err.value.field == "sample_size"


def test_missing_snapshot_and_unknown_engine(settings: Settings) -> None:
    with pytest.raises(FailedPrecondition, match="mds seed"):
        open_population(settings, CATALOG)
    with pytest.raises(InvalidArgument) as err:
        open_population(settings, CATALOG, "bigquery")
    assert err.value.field == "engine"


def test_segments_round_trip_in_redis(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("features.store.segments.time.time_ns", lambda: 42)

    async def run() -> None:
        client = redis.asyncio.Redis.from_url(settings.redis_url or "")
        store = AsyncSegmentStore(client, settings.namespace)
        saved = await store.save("vip", "(member_level#Equal To#gold)", ["u1", "u2", "u3"], engine="duckdb",
                                 source="users.parquet")
        assert (await store.get("vip")).count == 3 == saved.count
        assert await store.members("vip") == {"u1", "u2", "u3"}
        await store.save("vip", "(member_level#Equal To#diamond)", ["u9"], engine="duckdb", source="x")
        assert await store.members("vip") == {"u9"}
        assert (await store.get("vip")).logic == "(member_level#Equal To#diamond)"
        assert not await client.exists(f"{store.key('vip')}:staging:42")
        with pytest.raises(NotFound):
            await store.get("nope")
        with pytest.raises(InvalidArgument):
            await store.save("bad name", "", [], engine="duckdb", source="")
        await client.aclose()
        dead = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2,
                                   retry=Retry(NoBackoff(), 0))
        with pytest.raises(StoreUnavailable):
            await AsyncSegmentStore(dead, settings.namespace).save("x", "", ["u1"], engine="duckdb", source="")
        await dead.aclose()

    asyncio.run(run())


def test_an_opposite_audience_counts_as_inverted(population: Population) -> None:
    cases = [Case("women", parse_logic("(gender#Equal To#female)")),
             Case("no coupon", parse_logic("NOT (coupon_used_90d#Greater Than#0)"))]
    flipped = {"women": "(gender#Equal To#male)", "no coupon": "(coupon_used_90d#Greater Than#0)"}
    score = evaluate_parser("flip", lambda d: _result(parse_logic(flipped[d])), cases, population)
    assert score.inverted == 1.0 and score.execution == 0.0
    right = evaluate_parser("right", lambda d: _result(next(c.logic for c in cases if c.demand == d)), cases,
                            population)
    assert right.inverted == 0.0 and right.execution == 1.0


def test_random_population_covers_any_catalog_and_evaluates_its_cases(tmp_path: Path) -> None:
    from features.catalog import load_catalog
    from models.targeting.evaluation import load_population, random_population

    catalog = load_catalog(Path(__file__).resolve().parents[3] / "models/targeting/corpus/catalogs/bank.yaml")
    pop = random_population(catalog, 2000, seed=1)
    assert pop.size == 2000
    for f in catalog.features_of("user"):  # every feature takes more than one value, within its domain
        frame = pop.frame if hasattr(pop, "frame") else None
        assert frame is None or frame[f.name].nunique() > 1
    expr = parse_logic("(relationship_tier#Belongs To#premier,private_client) AND (age#Greater Than#40)")
    assert 0 < pop.count(expr) < 2000
    case = Case("premier and up over 40", expr)
    score = evaluate_parser("gold", lambda d: _result(expr), [case], pop)
    assert score.execution == 1.0
    with pytest.raises(InvalidArgument) as err:
        load_population(tmp_path / "missing.parquet", catalog)
    assert err.value.field == "--population"
