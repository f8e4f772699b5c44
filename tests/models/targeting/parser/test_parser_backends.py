"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 that speaks chat-completions JSON."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import InvalidArgument, Unavailable
from features.catalog import Catalog
from models.targeting.logic import parse_logic, validate
from models.targeting.parser import OpenAIChatBackend, ParserConfig, get_parser


def test_generate_posts_chat_completions_and_returns_the_logic_line(fake_openai: Any) -> None:
    fake_openai.answers = ["Sure.\nLogic: (gender#Equal To#female)"]
    backend = OpenAIChatBackend(fake_openai.url, "qwen", api_key="k1")
    out = backend.generate([{"role": "user", "content": "women"}], prefix="Logic: ", n=1)
    assert out == ["(gender#Equal To#female)"]
    req = fake_openai.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["body"]["model"] == "qwen" and req["auth"] == "Bearer k1"


def test_openai_variant_votes_over_canonical_forms(fake_openai: Any, catalog: Catalog) -> None:
    # Two of three samples agree (in different spellings); the odd one out loses the vote.
    fake_openai.answers = ["Logic: (gender#Equal To#female) AND (city#Equal To#shanghai)",
                           "Logic: (city#Equal To#beijing) AND (gender#Equal To#female)",
                           "Logic: (city#equal to#shanghai) and (gender#Equal To#female)"]
    parser = get_parser("openai", catalog=catalog,
                        config=ParserConfig(backend_url=fake_openai.url, samples=3))
    result = parser.parse("women in Shanghai")
    assert result.canonical == "(city#Equal To#shanghai) AND (gender#Equal To#female)"
    assert "2 of 3 votes" in result.explanation


@pytest.mark.parametrize("answer", [
    "Logic: (salary#Greater Than#100)",                  # key outside the catalog
    "Logic: (gender#Equal To#unknown)",                  # value outside the allowed values
    "Logic: SELECT * FROM users; DROP TABLE users",      # not logic at all
    "Logic: (balance#Greater Than#5)",                   # valid, but a key the demand never offered
])
def test_invalid_endpoint_answers_never_leave_the_grammar(fake_openai: Any, catalog: Catalog, answer: str) -> None:
    fake_openai.answers = [answer]
    parser = get_parser("openai", catalog=catalog, config=ParserConfig(backend_url=fake_openai.url, keys=3))
    result = parser.parse("women in Shanghai")
    assert result.logic is not None and validate(result.logic, catalog) == []
    assert result.canonical == "(city#Equal To#shanghai) AND (gender#Equal To#female)"
    assert "linker's reading" in result.explanation


def test_unreachable_endpoint_is_unavailable(catalog: Catalog) -> None:
    backend = OpenAIChatBackend("http://127.0.0.1:9/v1", timeout_s=2)
    with pytest.raises(Unavailable):
        backend.generate([{"role": "user", "content": "x"}])


def test_backend_url_must_be_http() -> None:
    with pytest.raises(InvalidArgument) as err:
        OpenAIChatBackend("ftp://example/v1")
    assert err.value.field == "backend_url"


def test_parsed_logic_round_trips(catalog: Catalog) -> None:
    assert validate(parse_logic("(gender#Equal To#female)"), catalog) == []
