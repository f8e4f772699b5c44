"""Distillation data: two tasks (reasoning chain, logic) share one analogical input per corpus demand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.errors import ArtifactError, InvalidArgument
from core.settings import get_settings
from features.catalog import Catalog, load_catalog
from models.targeting.corpus import generate_corpus
from models.targeting.logic import ReasoningChain, canonical, conditions_of, parse_logic, validate
from models.targeting.parser import (
    SHIPPED_ADAPTER,
    ParserConfig,
    TransformersBackend,
    adapter_for,
    check_adapter,
    distilled_dir,
    get_parser,
    save_adapter,
    trained_for,
)
from models.targeting.parser.distill import DistillConfig, build_examples, distill, distill_command


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


# -- a student for any catalog -------------------------------------------------------------------------------

BANK = Path(__file__).resolve().parents[4] / "models" / "targeting" / "corpus" / "catalogs" / "bank.yaml"


def test_examples_for_another_catalog_come_from_its_own_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDS_DATA_DIR", str(tmp_path))  # the bank's demonstration library is cached there
    get_settings.cache_clear()
    bank = load_catalog(BANK)
    try:
        examples = build_examples(bank, DistillConfig(corpus_size=12, seed=1, ambiguous_repeats=1))
    finally:
        get_settings.cache_clear()
    logic = [e for e in examples if e.prefix == "Logic: "]
    assert 0 < len(logic) <= 12 and len(examples) == 2 * len(logic)  # requests for no audience are left out
    for example in logic:
        expr = parse_logic(example.target.removesuffix("<|im_end|>"))
        assert validate(expr, bank) == []
        assert all(c.key in example.messages[-1]["content"] for c in conditions_of(expr))  # gold keys offered


def test_distill_command_names_a_bad_catalog(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ngroups: []\n")
    with pytest.raises(InvalidArgument) as err:
        distill_command(catalog_path=broken, out=tmp_path / "lora", steps=1)
    assert err.value.field == "--catalog"


def test_an_adapter_is_saved_whole_or_not_at_all_and_checked_before_loading(tmp_path: Path,
                                                                          catalog: Catalog) -> None:
    out = tmp_path / "lora"

    def write(weights: bytes) -> Callable[[Path], None]:
        def save(tmp: Path) -> None:
            (tmp / "adapter_config.json").write_text("{}")
            (tmp / "adapter_model.safetensors").write_bytes(weights)
        return save

    save_adapter(out, write(b"first"), lambda _: {"catalog": {"name": "bank", "fingerprint": "f" * 12}})
    check_adapter(out)
    assert trained_for(out) == {"name": "bank", "fingerprint": "f" * 12}

    def crash(tmp: Path) -> None:
        write(b"second")(tmp)
        raise OSError("disk full")

    with pytest.raises(OSError):
        save_adapter(out, crash, lambda _: {})
    assert (out / "adapter_model.safetensors").read_bytes() == b"first"  # the old adapter stands
    assert [p.name for p in tmp_path.iterdir()] == ["lora"]  # no half-written directory left behind
    (out / "adapter_model.safetensors").write_bytes(b"tampered")
    with pytest.raises(ArtifactError, match="damaged"):
        check_adapter(out)
    with pytest.raises(ArtifactError):  # the parser refuses it before loading any weights
        get_parser("student", catalog=catalog, config=ParserConfig(adapter_dir=out))


def test_the_parser_finds_the_student_distilled_for_its_catalog(tmp_path: Path, catalog: Catalog) -> None:
    bank = load_catalog(BANK)
    assert distilled_dir(catalog, tmp_path) == SHIPPED_ADAPTER  # the shipped student was distilled for it
    assert adapter_for(bank, tmp_path) == SHIPPED_ADAPTER  # nothing distilled for the bank yet
    own = distilled_dir(bank, tmp_path)
    assert own.is_relative_to(tmp_path) and bank.fingerprint in own.name
    own.mkdir(parents=True)
    (own / "adapter_config.json").write_text("{}")
    assert adapter_for(bank, tmp_path) == own


@pytest.mark.slow  # 15-50 s on the 2 shared cores (model load, one step, the student loaded)
def test_a_one_step_distill_for_another_catalog_gives_a_loadable_student(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_cache: Path) -> None:
    monkeypatch.setenv("MDS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    bank = load_catalog(BANK)
    try:
        out = tmp_path / "adapters" / "bank"
        report = distill(out, DistillConfig(corpus_size=4, steps=1, batch_size=1, max_tokens=96), catalog=bank,
                         cache_dir=model_cache, progress=False)
    finally:
        get_settings.cache_clear()
    assert report.steps == 1 and report.catalog == "bank" and report.adapter_bytes > 0
    assert report.cpu_seconds_per_step > 0 and report.first_loss > 0
    assert trained_for(out) == {"name": "bank", "fingerprint": bank.fingerprint}
    check_adapter(out)
    # the parser loads it (weights merged into the local model); decoding with it is tested with the
    # shipped student in test_parser_constrained.py
    parser = get_parser("student", catalog=bank, config=ParserConfig(cache_dir=model_cache, adapter_dir=out))
    assert isinstance(parser.backend, TransformersBackend) and parser.config.student_demos == 0
