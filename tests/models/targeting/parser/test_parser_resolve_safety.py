"""``resolve``: the rules write one candidate condition per close key, the model only chooses among them, and
whatever could invert or guess stays unresolved (a small catalog defined here; a real chat-completions
endpoint on a socket, and the real distilled student)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from features.catalog import Catalog, demo_catalog
from models.targeting.logic import canonical, check, parse_logic, validate
from models.targeting.parser import DEFAULT_ADAPTER, ParserConfig, get_parser
from models.targeting.parser._resolve import candidate_conditions

CLUB = {
    "name": "club",
    "entities": {"user": {"key": "user_id"}},
    "groups": [{"name": "member", "entity": "user", "ttl_seconds": 86400, "features": [
        {"name": "age", "dtype": "int", "range": [18, 99], "unit": "years", "description": "Age"},
        {"name": "loyalty_tier", "dtype": "category", "values": ["bronze", "silver", "gold"],
         "description": "Loyalty tier"},
        {"name": "app_installed", "dtype": "bool", "description": "Has the mobile app installed"},
        {"name": "cancellations_12m", "dtype": "int", "range": [0, 50],
         "description": "Bookings cancelled in the last 12 months"},
        {"name": "days_since_last_booking", "dtype": "int", "range": [0, 3650], "unit": "days",
         "description": "Days since the last booking"},
        {"name": "products_held", "dtype": "string_set",
         "values": ["auto", "home", "term_life", "whole_life", "umbrella"],
         "description": "Insurance products the member holds"},
        {"name": "active_product_count", "dtype": "int", "range": [0, 10],
         "description": "Number of active products"},
        {"name": "trips_abroad_12m", "dtype": "int", "range": [0, 100],
         "description": "Trips abroad in the last 12 months"},
        {"name": "international_traveler", "dtype": "bool", "description": "Travels internationally"},
    ]}],
}


@pytest.fixture(scope="module")
def club() -> Catalog:
    return Catalog.model_validate(CLUB)


def _same(got: str, want: str, catalog: Catalog) -> bool:
    return canonical(parse_logic(got), catalog) == canonical(check(parse_logic(want), catalog), catalog)


def test_each_candidate_is_the_rules_reading_of_the_phrase_with_that_key(club: Catalog) -> None:
    got = candidate_conditions("have not booked anything in the last year",
                               ["days_since_last_booking", "app_installed", "cancellations_12m", "age"], club)
    # the window on a days-since key
    assert _same(got["days_since_last_booking"], "(days_since_last_booking#Greater Than#365)", club)
    assert _same(got["app_installed"], "(app_installed#Equal To#false)", club)  # the phrase's polarity
    assert _same(got["cancellations_12m"], "NOT (cancellations_12m#Greater Than#0)", club)  # presence
    assert "age" not in got  # nothing the phrase says fits an age
    got = candidate_conditions("hold 2 or more products", ["active_product_count", "app_installed"], club)
    # no yes/no feature for "2"
    assert got == {"active_product_count": "(active_product_count#Greater Than Or Equal To#2)"}
    # a word of another feature's values ("life": term_life, whole_life) that the key itself never says
    assert candidate_conditions("have a life policy", ["active_product_count", "app_installed"], club) == {}


def test_an_off_state_word_negates_an_opt_in_but_not_the_opt_out_itself() -> None:
    spec = copy.deepcopy(CLUB)
    spec["groups"][0]["features"] += [
        {"name": "email_opt_in", "dtype": "bool", "description": "Agreed to marketing emails"},
        {"name": "sms_opted_out", "dtype": "bool", "description": "Opted out of text messages"}]
    catalog = Catalog.model_validate(spec)
    keys = ["email_opt_in", "sms_opted_out"]
    assert candidate_conditions("opted out of our marketing emails", keys, catalog) == {
        "email_opt_in": "(email_opt_in#Equal To#false)", "sms_opted_out": "(sms_opted_out#Equal To#true)"}
    assert candidate_conditions("who have not unsubscribed", keys, catalog) == {  # a double negative
        "email_opt_in": "(email_opt_in#Equal To#true)", "sms_opted_out": "(sms_opted_out#Equal To#false)"}


def test_the_polarity_is_the_phrases_whatever_the_endpoint_answers(club: Catalog, fake_openai: type) -> None:
    demand = "gold members who never went overseas"
    assert get_parser("linker", catalog=club).parse(demand).unresolved  # no cue says "overseas"
    fake_openai.answers = ["Logic: (international_traveler#Equal To#true)"]  # the opposite of what was asked
    parser = get_parser("resolve", catalog=club, config=ParserConfig(backend_url=fake_openai.url))
    result = parser.parse(demand)
    assert _same(result.canonical, "(international_traveler#Equal To#false) AND (loyalty_tier#Equal To#gold)",
                 club), result.canonical
    assert not result.unresolved and "the model's choice" in result.explanation
    assert fake_openai.requests


def test_the_endpoint_chooses_among_the_candidates_and_a_key_not_offered_is_not_used(
        club: Catalog, fake_openai: type) -> None:
    demand = "gold members who never went overseas"  # a yes/no and a count fit: two candidates
    parser = get_parser("resolve", catalog=club, config=ParserConfig(backend_url=fake_openai.url))
    fake_openai.answers = ["Logic: (trips_abroad_12m#Greater Than#5)"]  # the key, with a threshold never said
    result = parser.parse(demand)
    # the condition is the rules' reading for the key the endpoint chose, not the endpoint's text
    assert _same(result.canonical, "NOT (trips_abroad_12m#Greater Than#0) AND (loyalty_tier#Equal To#gold)",
                 club), result.canonical
    sent = fake_openai.requests[-1]["body"]["messages"][-1]["content"]
    assert "never went overseas" in sent and "trips_abroad_12m" in sent and "international_traveler" in sent
    fake_openai.answers = ["Logic: (age#Greater Than#30)"]  # a key the phrase gave no condition for
    result = parser.parse(demand)
    assert _same(result.canonical, "(loyalty_tier#Equal To#gold)", club), result.canonical
    assert result.unresolved


@pytest.mark.parametrize("demand", [
    "gold members without a home product or the app",  # "the app" may be inside "without"'s scope
])
def test_phrases_that_could_invert_or_guess_stay_unresolved(club: Catalog, fake_openai: type,
                                                              demand: str) -> None:
    fake_openai.answers = ["Logic: (app_installed#Equal To#true)",
                           "Logic: (active_product_count#Greater Than#0)"]
    linker = get_parser("linker", catalog=club).parse(demand)
    parser = get_parser("resolve", catalog=club, config=ParserConfig(backend_url=fake_openai.url))
    result = parser.parse(demand)
    assert result.canonical == linker.canonical
    assert [u.phrase for u in result.unresolved] == [u.phrase for u in linker.unresolved] != []
    assert not fake_openai.requests  # nothing to choose among: the model is not asked


def test_default_reads_as_resolve_and_loads_no_model_for_one_candidate(club: Catalog, tmp_path: Path) -> None:
    parser = get_parser("default", catalog=club, config=ParserConfig(cache_dir=tmp_path))
    result = parser.parse("gold members who have 3+ active items")  # no key names "items": one candidate
    assert _same(result.canonical, "(active_product_count#Greater Than Or Equal To#3) AND "
                 "(loyalty_tier#Equal To#gold)", club), result.canonical
    assert "the one close key it fits" in result.explanation
    assert not any(tmp_path.iterdir())  # the model (converted into cache_dir on load) was never loaded


def test_one_candidate_needs_no_model(club: Catalog, fake_openai: type) -> None:
    result = get_parser("resolve", catalog=club, config=ParserConfig(backend_url=fake_openai.url)).parse(
        "gold members who have 3+ active items")  # no key names "items": one candidate
    assert _same(result.canonical, "(active_product_count#Greater Than Or Equal To#3) AND "
                 "(loyalty_tier#Equal To#gold)", club), result.canonical
    assert not fake_openai.requests


@pytest.mark.skipif(not (DEFAULT_ADAPTER / "adapter_config.json").exists(), reason="no distilled adapter")
def test_the_student_scores_the_candidates_in_one_pass(club: Catalog, parser_config: ParserConfig) -> None:
    parser = get_parser("resolve", catalog=club, config=parser_config)
    result = parser.parse("gold members who never went overseas")
    assert result.logic is not None and not validate(result.logic, club) and not result.unresolved
    # whichever key the student preferred, the condition is the rules' reading of the phrase for it: negated
    assert any(_same(result.canonical, f"{o} AND (loyalty_tier#Equal To#gold)", club) for o in (
        "(international_traveler#Equal To#false)", "NOT (trips_abroad_12m#Greater Than#0)")), result.canonical


@pytest.mark.parametrize("demand", [
    "is it possible to find users that bought toys",
    "how do i get the users that bought toys?",
    "pls export users that bought toys for a review",
])
def test_how_a_marketer_asks_is_no_condition(demand: str, fake_openai: type) -> None:
    """"users" alone is close to ``is_new_user`` (MiniLM): the asking around the audience must not become one."""
    catalog = demo_catalog()
    linker = get_parser("linker", catalog=catalog).parse(demand)
    assert linker.unresolved  # the asking words are reported, with is_new_user among the closest keys
    parser = get_parser("resolve", catalog=catalog, config=ParserConfig(backend_url=fake_openai.url))
    assert parser.parse(demand).canonical == linker.canonical
