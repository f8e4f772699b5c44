"""Failure classes of first blind runs on unseen catalogs, each fixed by a general rule and tested on a small
catalog written here (a gym chain) that no rule, set or demonstration was written for."""

from __future__ import annotations

from typing import Any

import pytest

from features.catalog import Catalog
from models.targeting.logic import canonical, parse_logic, validate
from models.targeting.parser import candidates, link_demand

GYM: dict[str, Any] = {
    "name": "gym",
    "entities": {"member": {"key": "member_id"}},
    "groups": [{"name": "members", "entity": "member", "ttl_seconds": 86400, "features": [
        {"name": "age", "dtype": "int", "range": [14, 99], "unit": "years", "description": "Age of the member"},
        {"name": "home_country", "dtype": "category", "description": "Country of the member's address",
         "values": ["us", "canada", "germany", "japan", "brazil", "italy", "ireland", "united_kingdom"]},
        {"name": "state", "dtype": "category", "values": ["california", "texas", "ohio", "washington"],
         "description": "State of the home club"},
        {"name": "membership", "dtype": "category", "values": ["off_peak", "standard", "premium"], "ordered": True,
         "description": "Membership plan"},
        {"name": "classes_booked_30d", "dtype": "int", "range": [0, 200], "window_days": 30,
         "description": "Group classes booked in the last 30 days"},
        {"name": "locker_size", "dtype": "int", "range": [0, 300], "description": "Litres of locker rented"},
        {"name": "visits_completed_30d", "dtype": "int", "range": [0, 100], "window_days": 30,
         "description": "Club visits in the last 30 days"},
        {"name": "months_member", "dtype": "int", "range": [0, 400], "unit": "months",
         "description": "Months since joining"},
    ]}],
}


@pytest.fixture(scope="module")
def gym() -> Catalog:
    return Catalog.model_validate(GYM)


def first_reading(demand: str, catalog: Catalog) -> str:
    found = candidates(link_demand(demand, catalog))
    if not found:
        return ""
    expr = parse_logic(found[0].logic)
    assert validate(expr, catalog) == []
    return canonical(expr)


def same(logic: str) -> str:
    return canonical(parse_logic(logic))


@pytest.mark.parametrize(("demand", "gold"), [
    ("members aged over 40 who came to us through a friend", "(age#Greater Than#40)"),
    ("anyone who told us they are over 40", "(age#Greater Than#40)"),
    ("members in the us aged over 40", "(age#Greater Than#40) AND (home_country#Equal To#us)"),
    ("US members aged over 40", "(age#Greater Than#40) AND (home_country#Equal To#us)"),
])
def test_a_value_spelled_like_a_function_word_is_read_only_in_capitals_or_after_the(
        demand: str, gold: str, gym: Catalog) -> None:
    assert first_reading(demand, gym) == same(gold)


def test_initials_that_spell_a_function_word_are_read_in_capitals(gym: Catalog) -> None:
    assert first_reading("everyone outside the UK", gym) == same("(home_country#Not Equal To#united_kingdom)")
