"""The training corpus generator and the held-out development set."""

from __future__ import annotations

import json

import pytest

from core.errors import InvalidArgument
from features.catalog import Catalog, demo_catalog, load_catalog
from models.targeting.corpus import (
    DEV_SET_PATH,
    CorpusItem,
    generate_corpus,
    load_cases,
    render_demands,
    write_jsonl,
)
from models.targeting.logic import (
    And,
    Not,
    Or,
    ReasoningChain,
    canonical,
    conditions_of,
    parse_logic,
    validate,
)

CATALOG = demo_catalog()


@pytest.fixture(scope="module")
def corpus() -> list[CorpusItem]:
    return generate_corpus(1500, seed=11)


def test_generation_is_deterministic_by_seed() -> None:
    assert generate_corpus(200, seed=3) == generate_corpus(200, seed=3)
    assert generate_corpus(200, seed=3) != generate_corpus(200, seed=4)


def test_every_generated_logic_is_canonical_and_valid(corpus: list[CorpusItem]) -> None:
    empty = [item for item in corpus if not item.logic]  # requests for no audience
    assert 0 < len(empty) < 0.05 * len(corpus)
    assert all(item.chain == ReasoningChain((), (), (), "") for item in empty)
    for item in corpus:
        if not item.logic:
            continue
        expr = parse_logic(item.logic)
        assert validate(expr, CATALOG) == [], item
        assert canonical(expr) == item.logic


def test_reasoning_chain_has_four_steps_mapping_each_phrase_to_a_used_key(corpus: list[CorpusItem]) -> None:
    for item in (i for i in corpus if i.logic):
        steps = item.reasoning
        assert [s.split(":")[0] for s in steps] == ["Key phrases", "Mapping", "Conditions", "Combination"]
        chain = ReasoningChain.from_steps(steps)
        assert chain == item.chain
        keys = {c.key for c in conditions_of(parse_logic(item.logic))}
        assert {k for _, k in chain.mapping} == keys
        assert chain.combination == item.logic
        for phrase in chain.key_phrases:  # each key phrase is words of the demand
            assert phrase.lower() in item.demand.lower(), (phrase, item.demand)


def test_corpus_covers_the_language(corpus: list[CorpusItem]) -> None:
    exprs = [parse_logic(i.logic) for i in corpus if i.logic]
    ops = {c.op for e in exprs for c in conditions_of(e)}
    assert len(ops) >= 11  # every operator but Not Equal To on numbers is produced
    keys = {c.key for e in exprs for c in conditions_of(e)}
    assert keys == {f.name for f in CATALOG.features_of("user")}

    def kinds(e: object) -> set[str]:
        if isinstance(e, And | Or):
            return {type(e).__name__} | {f"{type(e).__name__}>{type(i).__name__}" for i in e.items} | \
                set().union(*(kinds(i) for i in e.items))
        return {"Not"} | kinds(e.item) if isinstance(e, Not) else set()

    found = set().union(*(kinds(e) for e in exprs))
    assert {"And", "Or", "Not", "And>Or", "Or>And", "And>Not"} <= found
    demands = " ".join(i.demand for i in corpus)
    assert any(w in demands for w in ("twenty", "thirty", "forty", "fifty")), "numbers in words"
    assert "¥" in demands and "k " in demands


def test_several_phrasings_per_logic(corpus: list[CorpusItem]) -> None:
    by_logic: dict[str, set[str]] = {}
    for item in (i for i in corpus if i.logic):
        by_logic.setdefault(item.logic, set()).add(item.demand)
    assert sum(len(d) >= 2 for d in by_logic.values()) > 0.8 * len(by_logic)


def test_reverse_generation_renders_any_logic_in_varied_ways() -> None:
    logic = "((city#Equal To#wuhan) OR (gmv_180d#Between#100,900)) AND NOT (interests#Contains All#music,tech)"
    items = render_demands(logic, n=6, seed=1)
    assert len({i.demand for i in items}) >= 5
    assert all(i.logic == canonical(parse_logic(logic)) for i in items)
    assert render_demands(logic, n=6, seed=1) == items
    with pytest.raises(InvalidArgument):
        render_demands("(shoe_size#Equal To#42)")


def test_generator_works_for_another_catalog_from_descriptions() -> None:
    catalog = Catalog.model_validate({
        "name": "shop", "entities": {"user": {"key": "uid"}},
        "groups": [{"name": "g", "entity": "user", "ttl_seconds": 60, "features": [
            {"name": "visits", "dtype": "int", "range": [0, 100], "description": "Store visits"},
            {"name": "tier", "dtype": "category", "values": ["a", "b", "c"]},
            {"name": "tags", "dtype": "string_set", "values": ["x", "y", "z"], "description": "Tags"},
            {"name": "vip", "dtype": "bool", "description": "Is a VIP"},
        ]}]})
    items = [i for i in generate_corpus(100, seed=0, catalog=catalog) if i.logic]
    assert all(validate(parse_logic(i.logic), catalog) == [] for i in items)
    assert any("store visits" in i.demand for i in items)


def test_write_jsonl_round_trips(tmp_path: object, corpus: list[CorpusItem]) -> None:
    path = tmp_path / "corpus.jsonl"  # type: ignore[operator]
    some = corpus[:10] + [i for i in corpus if not i.logic][:2]
    assert write_jsonl(some, path) == 12
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [CorpusItem.from_dict(r) for r in rows] == some


def test_dev_set_is_held_out_valid_and_large_enough() -> None:
    cases = load_cases(DEV_SET_PATH)
    assert len(cases) >= 60
    assert sum(c.logic is None for c in cases) >= 3  # instructions / nonsense → empty logic
    fresh = load_cases(DEV_SET_PATH.with_name("dev_fresh.jsonl"))
    assert len(fresh) == 30
    # blind sets written against their own catalogs (bank, delivery, telecom, travel)
    other_catalogs = {p.stem for p in (DEV_SET_PATH.parent / "catalogs").glob("*.yaml")}
    heldout = [c for path in sorted(DEV_SET_PATH.parent.glob("heldout*.jsonl"))
               if path.stem.removeprefix("heldout_") not in other_catalogs for c in load_cases(path)]
    assert len(heldout) == 570 and sum(c.logic is None for c in heldout) >= 30  # load_cases validated the rest
    for name in sorted(other_catalogs):
        own = load_catalog(DEV_SET_PATH.parent / "catalogs" / f"{name}.yaml")
        blind = load_cases(DEV_SET_PATH.with_name(f"heldout_{name}.jsonl"), own)
        assert len(blind) >= 60 and any(c.logic is None for c in blind)
    generated = {i.demand.lower().rstrip(".") for i in generate_corpus(5000, seed=0)}
    every = cases + fresh + heldout
    assert not [c.demand for c in every if c.demand.lower().rstrip(".") in generated]
    assert len({c.demand.lower() for c in every}) == len(every)  # no demand in two sets


def test_load_cases_names_the_bad_line(tmp_path: object) -> None:
    path = tmp_path / "cases.jsonl"  # type: ignore[operator]
    path.write_text('{"demand": "women", "logic": "(gender#Equal To#female)"}\n'
                    '{"demand": "x", "logic": "(gender#Equal To#robot)"}\n')
    with pytest.raises(InvalidArgument) as err:
        load_cases(path)
    assert "line 2" in err.value.message and err.value.field == "--cases"
    with pytest.raises(InvalidArgument):
        load_cases(tmp_path / "missing.jsonl")  # type: ignore[operator]
