"""General linker fixes found by a blind set's first run: money words, bullet lists, small ranges, windows, units."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.catalog import Catalog, load_catalog
from models.targeting.logic import canonical, parse_logic, validate
from models.targeting.parser import candidates, link_demand, normalize_numbers

INSURANCE = Path(__file__).resolve().parents[4] / "models/targeting/corpus/catalogs/insurance.yaml"


@pytest.fixture(scope="module")
def insurance() -> Catalog:
    return load_catalog(INSURANCE)


def first_reading(demand: str, catalog: Catalog) -> str:
    found = candidates(link_demand(demand, catalog))
    assert found, f"no reading for {demand!r}"
    expr = parse_logic(found[0].logic)
    assert validate(expr, catalog) == []
    return canonical(expr)


@pytest.mark.parametrize(("text", "expected"), [
    ("premium above 5 grand", "premium above 5000"),
    ("spent over 2.5 grand", "spent over 2500"),
    ("coverage under half a million", "coverage under 500000"),
])
def test_grand_and_half_a_million_are_multipliers(text: str, expected: str) -> None:
    assert normalize_numbers(text) == expected
