"""Catalog-driven readings for a sparse catalog the parser never saw (a bike-share scheme written here): units
from key names and descriptions, place codes from proper names, "-less" stems, values that start with "non",
exclusions over "or", a period on an event count, bare presence words beside a threshold."""

from __future__ import annotations

from typing import Any

import pytest

from features.catalog import Catalog
from models.targeting.logic import canonical, normalize, parse_logic, validate
from models.targeting.parser import candidates, get_parser, link_demand
from models.targeting.parser._lexicon import effective_units, lexicon_for
from models.targeting.parser._places import spell_place_codes

BIKES: dict[str, Any] = {
    "name": "bikes",
    "entities": {"rider": {"key": "rider_id"}},
    "groups": [{"name": "riders", "entity": "rider", "ttl_seconds": 86400, "features": [
        {"name": "rider_age", "dtype": "int", "range": [16, 100], "description": "Age of the rider"},
        {"name": "province", "dtype": "category", "values": ["ont", "que", "bc", "ab"],
         "description": "Province of the home address"},
        {"name": "gender", "dtype": "category", "values": ["female", "male", "non_binary"],
         "description": "Gender", "value_aliases": {"non_binary": ["non-binary"]}},
        {"name": "tenure_years", "dtype": "int", "range": [0, 30], "description": "Years as a rider"},
        {"name": "last_fare_amount", "dtype": "float", "range": [0, 500], "unit": "dollars",
         "description": "Latest fare"},
        {"name": "avg_monthly_fare", "dtype": "float", "range": [0, 500], "description": "Average monthly fare"},
        {"name": "ebike_share", "dtype": "float", "range": [0, 100], "description": "Share of rides on an e-bike"},
        {"name": "distance_90d", "dtype": "float", "range": [0, 5000], "window_days": 90,
         "description": "Distance ridden, last 90 days (km)"},
        {"name": "climb_30d", "dtype": "float", "range": [0, 50000], "unit": "metres", "window_days": 30,
         "description": "Height climbed in the last 30 days"},
        {"name": "paperless_receipts", "dtype": "bool", "description": "Receipts by email only"},
        {"name": "has_helmet", "dtype": "bool", "description": "Rents a helmet", "aliases": ["helmet"]},
        {"name": "student_pass", "dtype": "bool", "description": "On a student pass", "aliases": ["student pass"]},
        {"name": "rides_30d", "dtype": "int", "range": [0, 300], "window_days": 30,
         "description": "Rides in the last 30 days", "aliases": ["rides", "ride"]},
        {"name": "days_since_last_ride", "dtype": "int", "range": [0, 3650], "unit": "days",
         "description": "Days since the last ride"},
    ]}],
}


@pytest.fixture(scope="module")
def bikes() -> Catalog:
    return Catalog.model_validate(BIKES)


def first_reading(demand: str, catalog: Catalog) -> str:
    found = candidates(link_demand(demand, catalog))
    if not found:
        return ""
    expr = normalize(parse_logic(found[0].logic), catalog)
    assert validate(expr, catalog) == []
    return canonical(expr)


def same(logic: str, catalog: Catalog) -> str:
    return canonical(normalize(parse_logic(logic), catalog))


def test_units_come_from_names_and_descriptions(bikes: Catalog) -> None:
    units = effective_units({f.name: f for f in bikes.features.values()})
    assert units["rider_age"] == "years" and units["tenure_years"] == "years"
    assert units["avg_monthly_fare"] == "dollars"  # a money noun, in a catalog whose money is in dollars
    assert units["ebike_share"] == "percent" and units["distance_90d"] == "km"
    assert units["rides_30d"] is None and units["last_fare_amount"] == "dollars"
    roles = lexicon_for(bikes).roles
    assert roles.age_key == "rider_age"
    assert "climb_30d" in [k for keys in roles.measure_keys.values() for k in keys]  # any catalog unit


def test_place_codes_from_proper_names(bikes: Catalog) -> None:
    lex = lexicon_for(bikes)
    assert spell_place_codes("all our Ontarians", lex.place_codes, lex.names) == "all our ONT"
    assert spell_place_codes("riders in British Columbia", lex.place_codes, lex.names) == "riders in BC"
    # a capital at the start of a sentence says nothing ("Active" is no abbreviation of anything here)
    assert spell_place_codes("Quebec riders", lex.place_codes, lex.names) == "Quebec riders"
    assert spell_place_codes("Riders in Quebec", lex.place_codes, lex.names) == "Riders in QUE"
    # lower case is a word, not a name
    assert spell_place_codes("riders in quebec", lex.place_codes, lex.names) == "riders in quebec"


@pytest.mark.parametrize(("demand", "gold"), [
    ("riders aged 30-45 in Ontario", "(rider_age#Between#30,45) AND (province#Equal To#ont)"),
    ("under-35s in British Columbia", "(rider_age#Less Than#35) AND (province#Equal To#bc)"),
    ("riders who climbed over 2000 metres in the last 30 days", "(climb_30d#Greater Than#2000)"),
    ("riders who still get paper receipts", "(paperless_receipts#Equal To#false)"),
    ("non-binary riders under 30", "(gender#Equal To#non_binary) AND (rider_age#Less Than#30)"),
    ("riders with a student pass, excluding anyone with a helmet or with paperless receipts",
     "(student_pass#Equal To#true) AND (has_helmet#Equal To#false) AND (paperless_receipts#Equal To#false)"),
    ("riders who have not taken a ride for more than 60 days", "(days_since_last_ride#Greater Than#60)"),
    ("riders with no rides in the last 10 days", "(days_since_last_ride#Greater Than#10)"),
    ("riders with no rides in the last 30 days", "NOT (rides_30d#Greater Than#0)"),  # the count's own window
    ("riders who barely ride - under 4 rides in the last 30 days", "(rides_30d#Less Than#4)"),
])
def test_sparse_catalog_readings(bikes: Catalog, demand: str, gold: str) -> None:
    assert first_reading(demand, bikes) == same(gold, bikes)


@pytest.mark.parametrize(("demand", "gold"), [
    ("riders who have been with us 10+ yrs", "(tenure_years#Greater Than Or Equal To#10)"),
    ("riders whose fares average between $20 and $40 a month", "(avg_monthly_fare#Between#20,40)"),
    ("riders who take more than 40% of their rides on e-bikes", "(ebike_share#Greater Than#40)"),
    ("riders aged 40+, excluding anyone on a student pass or with a helmet",
     "(has_helmet#Equal To#false) AND (rider_age#Greater Than Or Equal To#40) AND (student_pass#Equal To#false)"),
])
def test_numbers_no_cue_names_go_to_the_closest_key_their_unit_allows(bikes: Catalog, demand: str, gold: str) -> None:
    parser = get_parser("linker", catalog=bikes)
    assert parser.parse(demand).canonical == same(gold, bikes)


def test_a_request_for_a_report_or_a_model_run_is_no_audience(bikes: Catalog) -> None:
    parser = get_parser("linker", catalog=bikes)
    for demand in ("Can you send me the Q3 ride report for Ontario riders?",
                   "Please rerun the churn model for Ontario before Friday"):
        assert parser.parse(demand).logic is None


@pytest.mark.parametrize(("demand", "gold"), [
    # a negation typed without its apostrophe is still a negation
    ("riders who havent taken a ride for more than 60 days", "(days_since_last_ride#Greater Than#60)"),
    ("riders who didnt rent a helmet", "(has_helmet#Equal To#false)"),
    # "or longer" after a number is "at least"; a comparison before a measure's name belongs to the number after it
    ("riders with us for 5 years or longer", "(tenure_years#Greater Than Or Equal To#5)"),
    ("riders under age 30 on a student pass", "(rider_age#Less Than#30) AND (student_pass#Equal To#true)"),
    ("riders on a student pass, excl. helmet renters", "(has_helmet#Equal To#false) AND (student_pass#Equal To#true)"),
])
def test_round7_surface_forms(bikes: Catalog, demand: str, gold: str) -> None:
    parser = get_parser("linker", catalog=bikes)
    assert parser.parse(demand).canonical == same(gold, bikes)


def test_a_request_for_ideas_or_a_summary_is_no_audience(bikes: Catalog) -> None:
    parser = get_parser("linker", catalog=bikes)
    for demand in ("Can you draft 3 push notification ideas for the student pass?",
                   "Give me 5 ideas for a spring ride challenge",
                   "Summarize last month's helmet campaign results for the exec deck"):
        assert parser.parse(demand).logic is None, demand
    # a word naming people on the way makes it an audience again
    kept = parser.parse("Give me riders on a student pass who got our push notifications")
    assert kept.canonical == same("(student_pass#Equal To#true)", bikes)
