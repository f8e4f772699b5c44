"""The parser on catalogs it was not written for: everything it reads comes from the catalog itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from features.catalog import Catalog, demo_catalog, load_catalog
from models.targeting.logic import canonical, check, parse_logic, validate
from models.targeting.parser import get_parser

CORPUS = Path(__file__).resolve().parents[4] / "models" / "targeting" / "corpus"
PARSER_DIR = Path(__file__).resolve().parents[4] / "models" / "targeting" / "parser"

NAMES_ONLY = {
    "name": "telecom",
    "entities": {"user": {"key": "user_id"}},
    "groups": [{"name": "subscriber", "entity": "user", "ttl_seconds": 86400, "features": [
        {"name": "age", "dtype": "int", "range": [16, 99], "unit": "years", "description": "Age"},
        {"name": "data_usage_gb_30d", "dtype": "float", "range": [0, 2000], "window_days": 30,
         "description": "Mobile data used in the last 30 days, GB"},
        {"name": "plan_type", "dtype": "category", "values": ["prepaid", "postpaid", "business"],
         "description": "Kind of plan"},
        {"name": "roaming_enabled", "dtype": "bool", "description": "Roaming is switched on"},
        {"name": "dropped_calls_7d", "dtype": "int", "range": [0, 500], "window_days": 7,
         "description": "Dropped calls in the last 7 days"},
        {"name": "handset_brand", "dtype": "category", "values": ["apple", "samsung", "xiaomi", "other"],
         "description": "Brand of the handset"},
    ]}],
}


def _parse(demand: str, catalog: Catalog) -> str:
    result = get_parser("default", catalog=catalog).parse(demand)
    if result.logic is not None:
        assert not validate(result.logic, catalog)  # never a key or value outside the catalog
    return result.canonical


def _same(got: str, want: str, catalog: Catalog) -> bool:
    return canonical(parse_logic(got), catalog) == canonical(check(parse_logic(want), catalog), catalog)


def test_no_catalog_feature_or_value_is_named_in_the_parser_code() -> None:
    """Proof that linking is catalog-driven: no string literal in the parser equals a demo key or value."""
    catalog = demo_catalog()
    names = {f.name for f in catalog.features.values()}
    values = {v for f in catalog.features.values() for v in (f.values or ())}
    for path in PARSER_DIR.glob("*.py"):
        literals = set(re.findall(r"\"([a-z0-9_]+)\"", path.read_text()))
        assert not literals & names, f"{path.name} names features {sorted(literals & names)}"
        assert not {v for v in literals & values if "_" in v}, f"{path.name} names values"


def test_a_catalog_with_only_names_and_descriptions_parses_simple_demands() -> None:
    catalog = Catalog.model_validate(NAMES_ONLY)
    cases = {
        "postpaid users with roaming enabled": "(plan_type#Equal To#postpaid) AND (roaming_enabled#Equal To#true)",
        "samsung or xiaomi handsets, aged over 30": "(age#Greater Than#30) AND (handset_brand#Belongs To#samsung,xiaomi)",
        "prepaid subscribers with more than 5 dropped calls":
            "(dropped_calls_7d#Greater Than#5) AND (plan_type#Equal To#prepaid)",
    }
    for demand, want in cases.items():
        got = _parse(demand, catalog)
        assert _same(got, want, catalog), (demand, got)


def test_a_demand_naming_a_feature_the_catalog_lacks_is_unresolved_not_guessed() -> None:
    catalog = Catalog.model_validate(NAMES_ONLY)
    result = get_parser("default", catalog=catalog).parse("customers with a pet insurance policy")
    assert result.logic is None and result.unresolved
    assert all(k in catalog.features for u in result.unresolved for k in u.candidates)


@pytest.mark.parametrize(("demand", "want"), [
    ("gold or above members", "(member_level#Belongs To#diamond,gold,platinum)"),
    ("members below gold", "(member_level#Belongs To#regular,silver)"),
    ("platinum+ members in shanghai", "(city#Equal To#shanghai) AND (member_level#Belongs To#diamond,platinum)"),
    ("bachelor or higher", "(education#Belongs To#bachelor,doctorate,master)"),
    ("freelancers in Beijing + Shanghai", "(city#Belongs To#beijing,shanghai) AND (occupation#Equal To#freelancer)"),
    ("users who spent over ¥500", "(gmv_30d#Greater Than#500)"),
])
def test_ordinal_levels_and_lists_on_the_demo_catalog(demand: str, want: str) -> None:
    catalog = demo_catalog()
    assert _same(_parse(demand, catalog), want, catalog)


def test_the_bank_catalog_reads_its_own_aliases_units_and_order() -> None:
    catalog = load_catalog(CORPUS / "catalogs" / "bank.yaml")
    got = _parse("prime or better customers in SF with a card limit under $5k", catalog)
    assert _same(got, "(branch_city#Equal To#san_francisco) AND (credit_limit#Less Than#5000) AND "
                      "(credit_score_band#Belongs To#prime,super_prime)", catalog), got


@pytest.mark.parametrize("demand", ["Write a 20-character push title for the sale", "Need a tagline for the relaunch",
                                    "Give me 5 push copy ideas for the weekend"])
def test_copywriting_requests_give_empty_logic(demand: str) -> None:
    assert get_parser("default", catalog=demo_catalog()).parse(demand).logic is None
