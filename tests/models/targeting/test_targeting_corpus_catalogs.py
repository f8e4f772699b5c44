"""The corpus generator on catalogs it was not written for: every phrasing comes from the catalog itself."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from _mds_cli import mds_in_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.errors import InvalidArgument
from features import Catalog, DType, check_catalog_file, demo_catalog, load_catalog
from models.targeting.corpus import CorpusItem, example_demands, generate_corpus
from models.targeting.logic import And, Expr, Not, Op, Or, canonical, conditions_of, parse_logic, validate

ROOT = Path(__file__).resolve().parents[3]
CORPUS_DIR = ROOT / "models" / "targeting" / "corpus"
SPARSE = {  # names, dtypes, values and ranges only: no description, alias, unit or window
    "name": "sparse", "entities": {"member": {"key": "member_id"}},
    "groups": [{"name": "g", "entity": "member", "ttl_seconds": 60, "features": [
        {"name": "visits_7d", "dtype": "int", "range": [0, 300]},
        {"name": "lifetime_value", "dtype": "float", "range": [0, 50000]},
        {"name": "rating", "dtype": "int", "range": [1, 5]},
        {"name": "plan", "dtype": "category", "values": ["basic", "plus", "pro"]},
        {"name": "region", "dtype": "category", "values": ["north", "south", "east", "west"]},
        {"name": "badges", "dtype": "string_set", "values": ["early", "loyal", "reviewer", "referrer"]},
        {"name": "is_verified", "dtype": "bool"},
    ]}],
}
CATALOGS = {
    "demo": demo_catalog(),
    "bank": load_catalog(CORPUS_DIR / "catalogs" / "bank.yaml"),
    "delivery": load_catalog(CORPUS_DIR / "catalogs" / "delivery.yaml"),
    "sparse": Catalog.model_validate(SPARSE),
}
NUMBER_OPS = {Op.GREATER_THAN, Op.GREATER_THAN_OR_EQUAL_TO, Op.LESS_THAN, Op.LESS_THAN_OR_EQUAL_TO, Op.BETWEEN}
OPS_BY_DTYPE = {
    DType.INT: NUMBER_OPS, DType.FLOAT: NUMBER_OPS, DType.BOOL: {Op.EQUAL_TO},
    DType.CATEGORY: {Op.EQUAL_TO, Op.NOT_EQUAL_TO, Op.BELONGS_TO, Op.NOT_BELONGS_TO},
    DType.STRING_SET: {Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE},
}


@pytest.fixture(scope="module", params=sorted(CATALOGS))
def generated(request: pytest.FixtureRequest) -> tuple[Catalog, list[CorpusItem]]:
    catalog = CATALOGS[request.param]
    return catalog, generate_corpus(800, seed=5, catalog=catalog)


def _assert_item_is_sound(item: CorpusItem, catalog: Catalog) -> None:
    if not item.logic:  # a request for no audience
        assert not item.chain.mapping
        return
    expr = parse_logic(item.logic)
    assert validate(expr, catalog) == [], item
    assert canonical(expr) == item.logic
    assert {k for _, k in item.chain.mapping} == {c.key for c in conditions_of(expr)}
    for phrase in item.chain.key_phrases:  # each key phrase is words of the demand
        assert phrase.lower() in item.demand.lower(), (phrase, item.demand)
    assert "{" not in item.demand and "}" not in item.demand, item.demand  # no template left unfilled


def test_every_logic_validates_and_every_chain_points_into_its_demand(
        generated: tuple[Catalog, list[CorpusItem]]) -> None:
    catalog, items = generated
    for item in items:
        _assert_item_is_sound(item, catalog)
    assert 0 < sum(not i.logic for i in items) < 0.05 * len(items)


def test_every_feature_dtype_and_operator_and_shape_is_produced(generated: tuple[Catalog, list[CorpusItem]]) -> None:
    catalog, items = generated
    exprs = [parse_logic(i.logic) for i in items if i.logic]
    conditions = [c for e in exprs for c in conditions_of(e)]
    user_features = {f.name: f for f in catalog.features.values() if f.entity in ("user", "member")}
    assert {c.key for c in conditions} == set(user_features)
    for dtype, wanted in OPS_BY_DTYPE.items():
        if any(f.dtype == dtype for f in user_features.values()):
            assert wanted <= {c.op for c in conditions if user_features[c.key].dtype == dtype}, dtype

    def kinds(e: Expr) -> set[str]:
        if isinstance(e, And | Or):
            return {type(e).__name__} | {f"{type(e).__name__}>{type(i).__name__}" for i in e.items} | \
                set().union(*(kinds(i) for i in e.items))
        return {"Not"} | kinds(e.item) if isinstance(e, Not) else set()

    assert {"And", "Or", "Not", "And>Or", "Or>And", "And>Not"} <= set().union(*(kinds(e) for e in exprs))
    demands = [i.demand for i in items]
    assert any("(" in d and ")" in d for d in demands), "bracketed groups"
    assert any(re.search(r"\b(?:twenty|thirty|forty|fifty|one|two|three|five|ten)\b", d) for d in demands)


def test_generation_is_deterministic_by_seed() -> None:
    bank = CATALOGS["bank"]
    assert generate_corpus(150, seed=9, catalog=bank) == generate_corpus(150, seed=9, catalog=bank)
    assert generate_corpus(150, seed=9, catalog=bank) != generate_corpus(150, seed=10, catalog=bank)


def test_example_demands_are_the_catalogs_own_words_for_different_logics() -> None:
    sparse = CATALOGS["sparse"]
    demands = example_demands(sparse, 5)
    assert demands == example_demands(sparse, 5) and len(set(demands)) == 5
    assert demands != example_demands(sparse, 5, seed=1)
    logics = [item.logic for item in generate_corpus(5, catalog=sparse, phrasings=1, empty_share=0.0)]
    assert len(set(logics)) > 1 and all(logics)  # one logic each, none empty
    words = re.compile(r"\b(shanghai|beijing|coupons?|first-tier|gmv)\b", re.IGNORECASE)  # the demo world's
    assert not any(words.search(d) for d in demands)


def test_bank_demands_speak_the_catalogs_units_windows_aliases_and_levels() -> None:
    bank = CATALOGS["bank"]
    items = [i for i in generate_corpus(1500, seed=2, catalog=bank) if i.logic]
    text = " ".join(i.demand for i in items)
    assert "$" in text and re.search(r"\d+k\b", text) and " dollars" in text  # unit: dollars
    assert "%" in text  # credit_utilization is in percent
    assert re.search(r"\b(?:this month|in the past month|in the last 30 days)\b", text)  # window_days: 30
    value_aliases = {a for f in bank.features.values() for forms in f.value_aliases.values() for a in forms}
    assert sum(re.search(rf"(?<!\w){re.escape(a)}(?!\w)", text) is not None for a in value_aliases) >= 10
    ordinal = re.compile(r"\bor (?:above|higher|below)\b|\+|\bat least [a-z]|\band up\b|\bbelow [a-z]")
    ordered = {name for name, f in bank.features.items() if f.ordered}
    runs = [i for i in items for c in conditions_of(parse_logic(i.logic))
            if c.key in ordered and c.op == Op.BELONGS_TO and ordinal.search(i.demand)]
    assert runs, "ordered categories said as ranges of levels ('premier or above')"
    for item in runs:  # a level range is a run of consecutive levels, lowest or highest included
        for c in conditions_of(parse_logic(item.logic)):
            if c.key in ordered and c.op == Op.BELONGS_TO:
                levels = list(bank.features[c.key].values or ())
                positions = sorted(levels.index(v) for v in c.items)
                assert positions == list(range(positions[0], positions[-1] + 1))


def test_counts_from_zero_are_said_as_presence_and_absence() -> None:
    sparse = CATALOGS["sparse"]
    items = [i for i in generate_corpus(1000, seed=4, catalog=sparse) if i.logic]
    said = {phrase for i in items for phrase, cond in zip(i.chain.key_phrases, i.chain.conditions, strict=True)
            if cond in ("(visits_7d#Greater Than#0)", "NOT (visits_7d#Greater Than#0)")}
    assert any("any visits" in p or "had visits" in p for p in said)
    assert any("no visits" in p for p in said)


def test_the_generator_names_no_catalog_feature() -> None:
    names = {f.name for f in demo_catalog().features.values()}
    for path in CORPUS_DIR.glob("*.py"):
        literals = set(re.findall(r"\"([a-z0-9_]+)\"", path.read_text()))
        assert not literals & names, f"{path.name} names features {sorted(literals & names)}"


def test_the_demo_phrasebook_is_data_in_the_catalog_and_is_checked() -> None:
    assert check_catalog_file(ROOT / "features" / "catalogs" / "demo.yaml") == []
    demo = demo_catalog()
    assert demo.phrasebook.features and demo.phrasebook.fixed
    raw: dict[str, Any] = json.loads(json.dumps(SPARSE))
    raw["phrasebook"] = {"features": {"no_such_feature": {"templates": ["x {cmp}"]}}}
    with pytest.raises(ValidationError, match="no_such_feature"):
        Catalog.model_validate(raw)
    raw["phrasebook"] = {"features": {"plan": {"templates": ["on {v}"], "words": {"gold": ["gold"]}}}}
    with pytest.raises(ValidationError, match="gold"):
        Catalog.model_validate(raw)
    raw["phrasebook"] = {"fixed": [{"logic": "(plan#Equal To#diamond)", "phrases": ["diamond people"]}]}
    with pytest.raises(InvalidArgument) as err:
        generate_corpus(10, catalog=Catalog.model_validate(raw))
    assert "phrasebook.fixed[0].logic" in err.value.message or "phrasebook.fixed[0].logic" in str(err.value.field)
    raw["phrasebook"] = {"features": {"plan": {"templates": ["on the {cmp} plan"]}}}  # {cmp} is for numbers
    with pytest.raises(InvalidArgument, match=r"phrasebook.features.plan.templates\[0\].*\{v\}"):
        generate_corpus(10, catalog=Catalog.model_validate(raw))


def test_catalog_check_names_phrasebook_problems_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "bank.yaml"
    path.write_text((CORPUS_DIR / "catalogs" / "bank.yaml").read_text() + (
        "phrasebook:\n  features:\n    no_such_feature:\n      templates: [x]\n"
        "    branch_city:\n      templates: ['banking in {v}']\n      words: {paris: [Paris]}\n"))
    problems = {p.path: p for p in check_catalog_file(path)}
    assert set(problems) == {"phrasebook.features.no_such_feature", "phrasebook.features.branch_city.words.paris"}
    assert all(p.line is not None and p.line > 150 for p in problems.values())


def test_a_phrasebook_entry_replaces_the_generic_phrasing_of_its_feature() -> None:
    raw: dict[str, Any] = json.loads(json.dumps(SPARSE))
    raw["phrasebook"] = {"features": {"plan": {"templates": ["subscribed to the {v} plan"],
                                               "heads": {"pro": ["power users"]}}},
                         "fixed": [{"logic": "(rating#Equal To#5)", "phrases": ["who gave five stars"]}]}
    catalog = Catalog.model_validate(raw)
    items = [i for i in generate_corpus(600, seed=1, catalog=catalog) if i.logic]
    plan_phrases = {p for i in items for p, k in i.chain.mapping if k == "plan"}
    assert plan_phrases and all("plan" in p and p.startswith("subscribed to the") or p == "power users"
                                for p in plan_phrases if "not" not in p and "other than" not in p)
    assert any("who gave five stars" in i.demand for i in items)


# -- any catalog (property) ---------------------------------------------------------------------------

_WORD = st.from_regex(r"[a-z]{3,9}", fullmatch=True)


@st.composite
def catalogs(draw: st.DrawFn) -> Catalog:
    names = draw(st.lists(st.from_regex(r"[a-z][a-z0-9]{1,7}(?:_[a-z0-9]{1,6}){0,2}", fullmatch=True),
                          min_size=2, max_size=7, unique=True))
    features: list[dict[str, Any]] = []
    for name in names:
        dtype = draw(st.sampled_from([d.value for d in DType]))
        spec: dict[str, Any] = {"name": name, "dtype": dtype}
        if draw(st.booleans()):
            spec["description"] = " ".join(draw(st.lists(_WORD, min_size=1, max_size=6))).capitalize()
        if draw(st.booleans()):
            spec["aliases"] = draw(st.lists(st.lists(_WORD, min_size=1, max_size=3).map(" ".join), max_size=3,
                                            unique=True))
        if dtype in ("category", "string_set"):
            spec["values"] = draw(st.lists(_WORD, min_size=1, max_size=6, unique=True))
            spec["ordered"] = dtype == "category" and draw(st.booleans())
            if draw(st.booleans()):
                value = spec["values"][0]
                spec["value_aliases"] = {value: [f"{value} {draw(_WORD)}"]}
        elif dtype in ("int", "float"):
            lo = draw(st.integers(-100, 1000))
            hi = lo + draw(st.integers(0, 10_000_000))
            spec["range"] = [lo, hi]
            spec["unit"] = draw(st.sampled_from([None, "dollars", "yuan", "days", "years", "percent", "orders"]))
            if draw(st.booleans()):
                spec["window_days"] = draw(st.sampled_from([1, 7, 30, 90, 365, 45]))
        features.append(spec)
    return Catalog.model_validate({"name": "random", "entities": {"user": {"key": "id"}},
                                   "groups": [{"name": "g", "entity": "user", "ttl_seconds": 60,
                                               "features": features}]})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogs(), st.integers(0, 10_000))
def test_any_catalog_gets_a_valid_corpus(catalog: Catalog, seed: int) -> None:
    items = generate_corpus(40, seed=seed, catalog=catalog)
    assert len(items) == 40
    for item in items:
        _assert_item_is_sound(item, catalog)


def test_corpus_command_takes_a_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bank.jsonl"
    code, _, err = mds_in_process(["targeting", "corpus", "--catalog", str(CORPUS_DIR / "catalogs" / "bank.yaml"),
                                   "--out", str(out), "--n", "60"], monkeypatch, capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 60
    bank = CATALOGS["bank"]
    assert all(validate(parse_logic(r["logic"]), bank) == [] for r in rows if r["logic"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ngroups: []\n")
    code, _, err = mds_in_process(["targeting", "corpus", "--catalog", str(broken), "--out", str(tmp_path / "x.jsonl")],
                                  monkeypatch, capsys)
    assert code == 2 and "--catalog" in err and "Traceback" not in err
