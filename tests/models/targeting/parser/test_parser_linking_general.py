"""General linker fixes found by a blind set's first run: money words, bullet lists, small ranges, windows, units."""

from __future__ import annotations

from pathlib import Path

import pytest

from features.catalog import Catalog, load_catalog
from models.targeting.logic import canonical, parse_logic, validate
from models.targeting.parser import candidates, get_parser, link_demand, normalize_numbers

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


def test_a_negation_does_not_leak_into_the_next_bullet(insurance: Catalog) -> None:
    demand = "Pull:\n* Midwest\n* hasn't used the app in 90 days\n* prefers email\n* tenure at least 5 years"
    reading = first_reading(demand, insurance)
    assert "(tenure_years#Greater Than Or Equal To#5)" in reading
    assert "tenure_years#Less Than" not in reading


@pytest.mark.parametrize("bullet", ["*", "-", "\u2022", "1."])
def test_every_list_marker_ends_a_clause(bullet: str, catalog: Catalog) -> None:
    demand = f"audience:\n{bullet} users not in Shanghai\n{bullet} aged at least 30"
    assert first_reading(demand, catalog) == canonical(parse_logic(
        "(age#Greater Than Or Equal To#30) AND (city#Not Equal To#shanghai)"))


@pytest.mark.parametrize(("demand", "gold"), [
    ("users with two or three refunds", "(refund_count_90d#Between#2,3)"),
    ("customers with 1 or 2 items in their cart", "(cart_items#Between#1,2)"),
])
def test_two_consecutive_counts_are_a_range(demand: str, gold: str, catalog: Catalog) -> None:
    assert first_reading(demand, catalog) == canonical(parse_logic(gold))


def test_two_consecutive_counts_are_a_range_on_any_catalog(insurance: Catalog) -> None:
    assert first_reading("Customers with one or two claims over the past 3 yrs", insurance) == canonical(
        parse_logic("(claims_count_3y#Between#1,2)"))


@pytest.mark.parametrize(("demand", "gold"), [
    ("drivers with a claim in the last 12 months", "(claims_count_12m#Greater Than#0)"),
    ("policyholders with claims in the past year", "(claims_count_12m#Greater Than#0)"),
    ("drivers with a claim", "(claims_count_3y#Greater Than#0)"),  # no window named: the cue's own key
])
def test_a_presence_in_a_window_picks_the_sibling_over_that_window(demand: str, gold: str,
                                                                   insurance: Catalog) -> None:
    assert first_reading(demand, insurance) == canonical(parse_logic(gold))


def test_or_older_is_an_age_even_after_a_money_key(insurance: Catalog) -> None:
    reading = first_reading("whole life policyholders with coverage under half a million who are 55 or older", insurance)
    assert "(primary_driver_age#Greater Than Or Equal To#55)" in reading
    assert "(life_coverage_amount#Less Than#500000)" in reading
    assert "life_coverage_amount#Greater Than Or Equal To" not in reading


def test_or_younger_is_an_age_on_the_demo_catalog(catalog: Catalog) -> None:
    assert first_reading("shoppers with a balance above 10000 who are 25 or younger", catalog) == canonical(
        parse_logic("(age#Less Than Or Equal To#25) AND (balance#Greater Than#10000)"))


def test_a_verb_alias_in_the_present_also_reads_in_the_past(insurance: Catalog) -> None:
    # the catalog says "uses the app"; the demand says "hasn't used the app"
    assert first_reading("hasn't used the app in 90 days", insurance) == canonical(
        parse_logic("(app_active_90d#Equal To#false)"))


def test_the_parser_keeps_the_line_breaks_of_a_bulleted_demand() -> None:
    parsed = get_parser("linker").parse("audience:\n* users not in Shanghai\n* aged at least 30")
    assert parsed.canonical == canonical(parse_logic("(age#Greater Than Or Equal To#30) AND (city#Not Equal To#shanghai)"))
