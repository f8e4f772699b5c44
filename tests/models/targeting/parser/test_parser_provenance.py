"""What a marketing tool shows of a parse: each condition's words in the demand, other readings, unresolved phrases."""

from __future__ import annotations

from typing import Any

import pytest

from features.catalog import Catalog
from models.targeting.logic import ParseResult, canonical, parse_logic
from models.targeting.parser import DemandSpans, ParserConfig, get_parser


def _sources(result: ParseResult) -> dict[str, str]:
    """Condition text (NOT-prefixed when negated) → the demand's words it came from."""
    return {("NOT " if c.negated else "") + str(c.condition): c.phrase for c in result.conditions}


@pytest.fixture(scope="module")
def linker(catalog: Catalog) -> Any:
    return get_parser("linker", catalog=catalog)


def test_each_condition_points_at_the_words_it_came_from_as_typed(linker: Any) -> None:
    # Number words, a "k" amount, capitals, doubled blanks and a newline: spans index the demand as sent.
    demand = "Women  aged twenty-five to 35 in Shanghai, Beijing or Chengdu\nwho spent over 5k yuan"
    result = linker.parse(demand)
    assert _sources(result) == {
        "(age#Between#25,35)": "aged twenty-five to 35",
        "(city#Belongs To#beijing,chengdu,shanghai)": "Shanghai, Beijing or Chengdu",
        "(gender#Equal To#female)": "Women",
        "(gmv_30d#Greater Than#5000)": "over 5k yuan",
    }
    for c in result.conditions:
        assert c.start is not None and c.end is not None and demand[c.start:c.end] == c.phrase
    # One entry per condition of the logic, in the logic's reading order.
    assert [str(c.condition) for c in result.conditions] == result.canonical.split(" AND ")


def test_negated_and_shared_phrases(linker: Any) -> None:
    result = linker.parse("Moms in Wuhan who have never used a coupon")
    assert _sources(result) == {"(city#Equal To#wuhan)": "Wuhan", "(gender#Equal To#female)": "Moms",
                                "(has_children#Equal To#true)": "Moms",
                                "NOT (coupon_used_90d#Greater Than#0)": "used a coupon"}


def test_a_repeated_condition_points_at_its_own_group(linker: Any) -> None:
    demand = "women in shanghai or women in beijing"
    result = linker.parse(demand)
    assert result.canonical == ("((city#Equal To#beijing) AND (gender#Equal To#female)) OR "
                                "((city#Equal To#shanghai) AND (gender#Equal To#female))")
    starts = [(str(c.condition), c.start) for c in result.conditions]
    second, first = demand.rindex("women"), demand.index("women")
    assert starts == [("(city#Equal To#beijing)", demand.index("beijing")), ("(gender#Equal To#female)", second),
                      ("(city#Equal To#shanghai)", demand.index("shanghai")), ("(gender#Equal To#female)", first)]


def test_alternatives_are_the_other_readings_with_what_differs(linker: Any) -> None:
    result = linker.parse("users who like pets in Beijing")
    assert result.canonical == "(city#Equal To#beijing) AND (interests#Contains Any#pets)"
    alts = result.alternatives
    assert len(alts) >= 2
    assert len({a.canonical for a in alts} | {result.canonical}) == len(alts) + 1  # all different
    first = alts[0]
    assert first.removed == ("(interests#Contains Any#pets)",)
    assert first.added and all("pets" in a for a in first.added)
    assert "instead of (interests#Contains Any#pets)" in first.summary
    assert canonical(parse_logic(first.canonical)) == first.canonical
    # A bracketing alternative has the same conditions: nothing added or removed.
    regrouped = linker.parse("iOS users in Hangzhou or Android users with kids in Chengdu").alternatives
    assert any(not a.added and not a.removed and a.summary.endswith("grouped differently") for a in regrouped)


def test_alternatives_follow_the_setting(catalog: Catalog) -> None:
    one = get_parser("linker", catalog=catalog, config=ParserConfig(alternatives=1))
    assert len(one.parse("users who like pets in Beijing").alternatives) == 1
    none = get_parser("linker", catalog=catalog, config=ParserConfig(alternatives=0))
    assert none.parse("users who like pets in Beijing").alternatives == ()


def test_unresolved_phrases_have_scored_keys_and_spans(linker: Any) -> None:
    demand = "Big spenders in Wuhan who love astrology"
    result = linker.parse(demand)
    by_phrase = {u.phrase: u for u in result.unresolved}
    vague = by_phrase["big spenders (no threshold given)"]
    assert vague.candidates[0] == "gmv_30d" and len(vague.scores) == len(vague.candidates) == 3
    assert demand[vague.start:vague.end] == "Big spenders"  # type: ignore[misc]
    other = by_phrase["love astrology"]
    assert demand[other.start:other.end] == "love astrology"  # type: ignore[misc]
    assert list(other.scores) == sorted(other.scores, reverse=True) and all(-1 <= s <= 1 for s in other.scores)


def test_empty_logic_has_no_conditions_or_alternatives(linker: Any) -> None:
    result = linker.parse("write me a poem about autumn in Hangzhou")
    assert result.logic is None and result.conditions == () and result.alternatives == ()


def test_model_variants_map_conditions_to_the_linker_phrase_with_the_same_key(fake_openai: Any,
                                                                              catalog: Catalog) -> None:
    """A model's condition gets the linker's phrase for its key; a key no phrase named gets no span."""
    fake_openai.answers = ["Logic: (gender#Equal To#female) AND (city#Equal To#beijing) AND (city_tier#Equal To#1)"]
    parser = get_parser("openai", catalog=catalog, config=ParserConfig(backend_url=fake_openai.url))
    demand = "Women in Shanghai"
    result = parser.parse(demand)
    assert result.canonical == "(city#Equal To#beijing) AND (city_tier#Equal To#1) AND (gender#Equal To#female)"
    spans = {str(c.condition): (c.phrase, c.start, c.end) for c in result.conditions}
    assert spans == {"(city#Equal To#beijing)": ("Shanghai", 9, 17), "(city_tier#Equal To#1)": ("", None, None),
                     "(gender#Equal To#female)": ("Women", 0, 5)}
    # The linker's own reading is offered as the alternative, with what the model changed.
    assert result.alternatives[0].canonical == "(city#Equal To#shanghai) AND (gender#Equal To#female)"
    assert set(result.alternatives[0].removed) == {"(city#Equal To#beijing)", "(city_tier#Equal To#1)"}


@pytest.mark.parametrize(("demand", "normalized", "phrase", "typed"), [
    ("Spent OVER ¥2,000", "spent over 2000 yuan", "over 2000 yuan", "OVER ¥2,000"),
    ("in their thirties", "aged 30 to 39", "aged 30 to 39", "in their thirties"),
    ("w/o kids", "with no kids", "kids", "kids"),
])
def test_spans_map_rewritten_text_back_to_what_was_typed(demand: str, normalized: str, phrase: str,
                                                         typed: str) -> None:
    spans = DemandSpans(demand, normalized)
    span = spans.find(phrase)
    assert span is not None and demand[span[0]:span[1]] == typed
    assert spans.find("not in the text") is None
