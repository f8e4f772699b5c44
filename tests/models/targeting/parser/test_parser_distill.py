"""Distillation data: two tasks (reasoning chain, logic) share one analogical input per corpus demand."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import InvalidArgument
from features.catalog import Catalog
from models.targeting.corpus import generate_corpus
from models.targeting.logic import ReasoningChain, canonical, parse_logic
from models.targeting.parser.distill import DistillConfig, build_examples, distill_command


def test_each_demand_gives_a_reasoning_task_and_a_logic_task_on_the_same_input(catalog: Catalog) -> None:
    examples = build_examples(catalog, DistillConfig(corpus_size=6, seed=3, ambiguous_repeats=1))
    assert len(examples) == 12
    for (msgs_a, prefix_a, chain, _), (msgs_b, prefix_b, logic, _) in zip(examples[::2], examples[1::2],
                                                                          strict=True):
        assert msgs_a == msgs_b
        assert (prefix_a, prefix_b) == ("Reasoning: ", "Logic: ")
        target = logic.removesuffix("<|im_end|>")
        assert canonical(parse_logic(target)) == target
        steps = ReasoningChain.from_steps(chain.removesuffix("<|im_end|>"))
        assert steps.mapping and steps.combination == target
        assert all(k in msgs_a[-1]["content"] for _, k in steps.mapping)  # gold keys are offered


def test_distill_command_rejects_bad_flags() -> None:
    with pytest.raises(InvalidArgument) as err:
        distill_command(steps=0)
    assert err.value.field == "--steps"


def test_teacher_chains_are_kept_only_when_well_formed_and_ending_in_the_gold_logic(
        catalog: Catalog, fake_openai: Any) -> None:
    config = DistillConfig(corpus_size=8, seed=5, ambiguous_repeats=1)
    gold = {item.demand: item for item in generate_corpus(config.corpus_size, seed=config.seed, catalog=catalog)}
    demands = sorted(gold)
    wrong_logic, unknown_key = demands[:2]  # every other demand gets a right, well-formed chain

    def answer(body: dict) -> str:
        demand = body["messages"][-1]["content"].split("Demand: ", 1)[1].split("\n", 1)[0]
        chain = gold[demand].chain
        mapping = [f"{p}~{'loyalty_vibes' if demand == unknown_key else k}" for p, k in reversed(chain.mapping)]
        combination = "(gender#Equal To#female) OR (age#Less Than#1)" if demand == wrong_logic else \
            gold[demand].logic.replace(" AND ", " and ")  # the teacher's own spelling; the student learns canonical
        return (f"Let me think.\nKey phrases: {'; '.join(reversed(chain.key_phrases))}\n"
                f"Mapping: {'; '.join(mapping)}\nConditions: {'; '.join(reversed(chain.conditions))}\n"
                f"Combination: {combination}")

    fake_openai.answer_for = answer
    examples = build_examples(catalog, config, teacher_url=fake_openai.url)
    assert all("Reason in exactly four lines" in r["body"]["messages"][-1]["content"] for r in fake_openai.requests)
    chains = {e.messages[-1]["content"].split("Demand: ", 1)[1]: e for e in examples if e.prefix == "Reasoning: "}
    assert len(chains) == len(demands)
    for demand, example in chains.items():
        steps = ReasoningChain.from_steps(example.target.removesuffix("<|im_end|>"))
        assert steps.combination == gold[demand].logic  # every chain ends in the gold logic, canonical
        expected = "generator" if demand in (wrong_logic, unknown_key) else "teacher"
        assert example.source == expected, demand
        if expected == "teacher":
            assert steps.key_phrases == tuple(reversed(gold[demand].chain.key_phrases))
        else:
            assert steps == gold[demand].chain
