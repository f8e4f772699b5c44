"""The demonstration library of any catalog: hand-written for the catalog they fit, generated and cached otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.settings import get_settings
from features.catalog import Catalog, load_catalog
from models.targeting.logic import ReasoningChain, conditions_of, parse_logic, validate
from models.targeting.parser import generated_demonstrations, library_demonstrations
from models.targeting.parser._demos import HAND_WRITTEN
from models.targeting.parser._parser import shared_library

CATALOGS = Path(__file__).resolve().parents[4] / "models" / "targeting" / "corpus" / "catalogs"


@pytest.fixture(scope="module")
def bank() -> Catalog:
    return load_catalog(CATALOGS / "bank.yaml")


def test_the_catalog_the_hand_written_demonstrations_fit_keeps_them(catalog: Catalog, tmp_path: Path) -> None:
    demos = library_demonstrations(catalog, tmp_path)
    hand = [json.loads(line)["demand"] for line in HAND_WRITTEN.read_text().splitlines() if line.strip()]
    assert [d.demand for d in demos] == hand
    assert not list(tmp_path.iterdir())  # nothing generated, nothing cached


def test_another_catalog_gets_generated_demonstrations(bank: Catalog, tmp_path: Path) -> None:
    demos = library_demonstrations(bank, tmp_path)
    assert len(demos) == 160 and len({d.demand for d in demos}) == 160
    for demo in demos:
        expr = parse_logic(demo.logic)
        assert validate(expr, bank) == []
        assert demo.reasoning.combination == demo.logic
        assert {k for _, k in demo.reasoning.mapping} == {c.key for c in conditions_of(expr)}
    assert len(list((tmp_path / "targeting-demos").glob("*.jsonl"))) == 1
    assert library_demonstrations(bank, tmp_path) == demos  # the second build reads the cache


def test_generated_demonstrations_are_cached_per_catalog_and_rebuilt_when_damaged(bank: Catalog,
                                                                                 tmp_path: Path) -> None:
    first = generated_demonstrations(bank, tmp_path, size=20)
    files = list((tmp_path / "targeting-demos").glob("*.jsonl"))
    assert len(files) == 1 and bank.fingerprint in files[0].name
    rows = [json.loads(line) for line in files[0].read_text().splitlines()]
    rows[0]["demand"] = "read from the cache"
    files[0].write_text("".join(json.dumps(r) + "\n" for r in rows))
    cached = generated_demonstrations(bank, tmp_path, size=20)
    assert cached[0].demand == "read from the cache" and cached[1:] == first[1:]
    files[0].write_text('{"demand": "half a line')  # a damaged cache is generated again
    assert generated_demonstrations(bank, tmp_path, size=20) == first
    rows[0]["logic"] = "(no_such_key#Equal To#1)"  # so is one that no longer fits the catalog
    files[0].write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert generated_demonstrations(bank, tmp_path, size=20) == first


def test_chains_are_the_linkers_where_it_reads_the_gold_logic(bank: Catalog, tmp_path: Path) -> None:
    from models.targeting.corpus import generate_corpus

    demos = generated_demonstrations(bank, tmp_path, size=60)
    items = generate_corpus(60, seed=0, catalog=bank, phrasings=1, empty_share=0.0)
    assert [d.demand for d in demos] == [i.demand for i in items]
    from_linker = [d for d, i in zip(demos, items, strict=True) if d.reasoning != i.chain]
    assert from_linker, "the linker reads some generated demands"
    for demo in demos:
        assert isinstance(demo.reasoning, ReasoningChain) and demo.reasoning.combination == demo.logic


def test_the_parser_retrieves_demonstrations_of_its_own_catalog(bank: Catalog, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        library, _ = shared_library(bank)
    finally:
        get_settings.cache_clear()
    assert list((tmp_path / "cache" / "targeting-demos").glob("bank-*.jsonl"))
    demos = library.similar("premier clients in NYC who hold a mortgage", k=3)
    assert all(validate(parse_logic(d.logic), bank) == [] for d in demos)
    keys = {k for d in demos for _, k in d.reasoning.mapping}
    assert keys & {"relationship_tier", "branch_city", "products_held"}
