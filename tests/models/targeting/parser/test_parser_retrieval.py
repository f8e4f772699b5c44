"""Analogical retrieval: MiniLM finds demonstrations and catalog keys close in meaning to a demand."""

from __future__ import annotations

from features.catalog import Catalog
from models.targeting.parser import build_messages, get_parser
from models.targeting.parser._parser import shared_library


def test_similar_demonstrations_share_the_demands_keys(catalog: Catalog) -> None:
    library, _ = shared_library(catalog)
    demos = library.similar("mums who enjoy cooking or yoga", k=3)
    keys = {k for d in demos for _, k in d.reasoning.mapping}
    assert "has_children" in keys or "interests" in keys
    # the nearest demonstration is the hand-written "mothers interested in cooking or fitness"
    assert "mothers" in demos[0].demand


def test_retrieval_ranks_keys_by_meaning(catalog: Catalog) -> None:
    _, retriever = shared_library(catalog)
    assert "credit_score" in retriever.top("people with an excellent credit rating", 3)
    assert "wealth_product_holder" in retriever.top("customers who hold investment funds", 3)
    assert retriever.top("x", 4, must=["age", "city"])[:2] == ["age", "city"]


def test_prompt_variants_differ_only_in_their_demonstrations(catalog: Catalog) -> None:
    demand = "women in Shanghai who bought toys"
    zero = get_parser("linker", catalog=catalog)
    keys = zero.retriever.top(demand, 4)
    lib = zero.library
    zero_msgs = build_messages(catalog, demand, keys, [])
    fixed = build_messages(catalog, demand, keys, lib.fixed(2))
    analog = build_messages(catalog, demand, keys, lib.similar(demand, 2))
    assert len(zero_msgs) == 2 and len(fixed) == len(analog) == 6
    assert zero_msgs[-1] == fixed[-1] == analog[-1]
    assert fixed[1] != analog[1] or fixed[3] != analog[3]
    assert all(k in zero_msgs[-1]["content"] for k in keys)
