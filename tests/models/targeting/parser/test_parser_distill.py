"""Distillation data: two tasks (reasoning chain, logic) share one analogical input per corpus demand."""

from __future__ import annotations

import pytest

from core.errors import InvalidArgument
from features.catalog import Catalog
from models.targeting.logic import ReasoningChain, canonical, parse_logic
from models.targeting.parser.distill import DistillConfig, build_examples, distill_command


def test_each_demand_gives_a_reasoning_task_and_a_logic_task_on_the_same_input(catalog: Catalog) -> None:
    examples = build_examples(catalog, DistillConfig(corpus_size=6, seed=3))
    assert len(examples) == 12
    for (msgs_a, prefix_a, chain), (msgs_b, prefix_b, logic) in zip(examples[::2], examples[1::2], strict=True):
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
