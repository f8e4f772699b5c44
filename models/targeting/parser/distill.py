"""Reasoning-augmented multi-task distillation of the SmolLM2-135M student (LoRA via peft).

Both tasks share one input, the analogical prompt the parser builds at inference (retrieved keys and
demonstration + the demand); they differ in the answer: ``Reasoning: `` + the four-step chain, or
``Logic: `` + the canonical logic. The teacher is the corpus generator (its chains come with the logic
they lead to); with ``--teacher-url`` an OpenAI-compatible model writes the chains instead, and a chain
is kept only when the logic it ends in equals the generator's. Only the attention projections get
low-rank adapters, so the committed adapter stays around two megabytes.

``mds targeting distill`` reproduces the committed adapter from scratch (same seed, same corpus);
``mds targeting distill --catalog FILE`` distils a student for another catalog from a corpus generated
from that catalog, into ``<data_dir>/adapters/targeting-<name>-<fingerprint>``, where the parser finds it.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, NamedTuple

import typer

from core.errors import InvalidArgument
from core.settings import get_settings
from features.catalog import Catalog, configured_catalog
from models.targeting.logic import ReasoningChain
from models.targeting.parser._adapters import distilled_dir, save_adapter
from models.targeting.parser._backends import OpenAIChatBackend

__all__ = ["DistillConfig", "DistillReport", "Example", "build_examples", "distill", "distill_command", "teacher_chain"]


@dataclass(frozen=True)
class DistillConfig:
    corpus_size: int = 1200
    seed: int = 0
    steps: int = 600
    batch_size: int = 8
    learning_rate: float = 2e-3
    rank: int = 8
    alpha: int = 16
    demos: int = 0  # demonstrations in the student's prompt (each costs ~50 tokens of prefill on 2 cores)
    keys: int = 6
    max_tokens: int = 220
    ambiguous_repeats: int = 3  # logic examples repeated where the linker finds several readings
    threads: int | None = None


@dataclass(frozen=True)
class DistillReport:
    adapter_dir: str
    examples: int
    steps: int
    seconds: float
    first_loss: float
    last_loss: float
    trainable_parameters: int
    adapter_bytes: int
    teacher_chains: int = 0  # reasoning chains written by --teacher-url (the rest by the generator)
    catalog: str = ""
    examples_seconds: float = 0.0  # generating the corpus and building the prompts, before the first step
    seconds_per_step: float = 0.0
    # CPU seconds of this process per step (all its threads): wall time on a shared machine measures the
    # neighbours too, CPU time measures the work
    cpu_seconds_per_step: float = 0.0


class Example(NamedTuple):
    """One training example: the shared input, the task's answer prefix, the target, who wrote it."""

    messages: list[dict[str, str]]
    prefix: str
    target: str
    source: str  # "generator" or "teacher"


TEACHER_INSTRUCTION = (
    "Reason in exactly four lines, then stop:\n"
    "Key phrases: the demand's phrases that select users, separated by ';'\n"
    "Mapping: each phrase~its key from the list, separated by ';'\n"
    "Conditions: one (key#Operator#value) per phrase, separated by ';'\n"
    "Combination: the conditions joined by the demand's AND / OR / NOT")


def teacher_chain(teacher: OpenAIChatBackend, messages: list[dict[str, str]], catalog: Catalog,
                  gold: str) -> ReasoningChain | None:
    """The teacher's four-step chain for one demand, kept only when it is well formed and ends in ``gold``."""
    from models.targeting.parser._decoding import project

    ask = [*messages[:-1], {**messages[-1], "content": messages[-1]["content"] + "\n" + TEACHER_INSTRUCTION}]
    answers = teacher.complete(ask, max_tokens=256)
    chain = ReasoningChain.from_steps(answers[0] if answers else "")
    if not chain.key_phrases or not chain.mapping or any(k not in catalog.features for _, k in chain.mapping):
        return None
    if project(chain.combination, catalog) != gold:
        return None
    return ReasoningChain(chain.key_phrases, chain.mapping, chain.conditions, gold)


def build_examples(catalog: Catalog, config: DistillConfig, teacher_url: str | None = None,
                   teacher_model: str = "default", *, progress: bool = False) -> list[Example]:
    """Both tasks of every corpus item; with ``teacher_url`` the chains come from that model where it is right."""
    from rich.progress import track

    from models.targeting.corpus import generate_corpus
    from models.targeting.parser._compose import candidates
    from models.targeting.parser._decoding import END
    from models.targeting.parser._linking import link_demand
    from models.targeting.parser._parser import shared_library
    from models.targeting.parser._prompts import build_messages

    library, retriever = shared_library(catalog)
    teacher = OpenAIChatBackend(teacher_url, teacher_model) if teacher_url else None
    out: list[Example] = []
    corpus = generate_corpus(config.corpus_size, seed=config.seed, catalog=catalog)
    for item in track(corpus, description="building examples", disable=not progress):
        if not item.logic:  # requests for no audience never reach the model (the front end answers them)
            continue
        linking = link_demand(item.demand, catalog)
        keys = retriever.top(item.demand, config.keys, must=linking.keys)
        for k in dict.fromkeys(c for _, c in item.chain.mapping):  # the gold keys must be offered
            if k not in keys:
                keys.append(k)
        demos = library.similar(item.demand, config.demos) if config.demos else []
        msgs = build_messages(catalog, item.demand, keys, demos)
        chain, source = item.chain, "generator"
        if teacher is not None and (taught := teacher_chain(teacher, msgs, catalog, item.logic)) is not None:
            chain, source = taught, "teacher"
        out.append(Example(msgs, "Reasoning: ", "\n".join(chain.steps()) + END, source))
        # Where the linker has several readings the student's choice matters (``rerank``): train it more there.
        repeats = config.ambiguous_repeats if len(candidates(linking, 2)) > 1 else 1
        out += [Example(msgs, "Logic: ", item.logic + END, "generator")] * repeats
    return out


def distill(out_dir: Path, config: DistillConfig = DistillConfig(), *, catalog: Catalog | None = None,
            cache_dir: Path | None = None, teacher_url: str | None = None, teacher_model: str = "default",
            progress: bool = True) -> DistillReport:
    """Fine-tune LoRA adapters on the two tasks and save them (peft format) into ``out_dir``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from models.targeting.parser._backends import smollm2_dir

    catalog = catalog or configured_catalog(get_settings())
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    settings = get_settings()
    model_dir = smollm2_dir(cache_dir or settings.parser.cache_dir or (settings.data_dir / "cache"))
    tok = AutoTokenizer.from_pretrained(model_dir)
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=0.0,
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                                             task_type="CAUSAL_LM"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    started = time.time()
    examples = build_examples(catalog, config, teacher_url, teacher_model, progress=progress)
    examples_seconds = time.time() - started
    encoded: list[tuple[list[int], list[int]]] = []
    for msgs, prefix, target, _ in examples:
        prompt = tok.encode(str(tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)) + prefix,
                            add_special_tokens=False)
        answer = tok.encode(target, add_special_tokens=False)
        ids = (prompt + answer)[-config.max_tokens:]
        n_answer = min(len(answer), len(ids))
        encoded.append((ids, [-100] * (len(ids) - n_answer) + ids[len(ids) - n_answer:]))
    rng = random.Random(config.seed)
    order: list[int] = []
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 5) * max(0.1, 1 - s / config.steps))
    losses: list[float] = []
    model.train()
    start, cpu_start = time.time(), time.process_time()
    with Progress(TextColumn("distilling"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                  TextColumn("loss {task.fields[loss]:.3f}"), TimeRemainingColumn(), disable=not progress) as bar:
        task = bar.add_task("distill", total=config.steps, loss=float("nan"))
        for step in range(config.steps):
            if len(order) < config.batch_size:
                order += rng.sample(range(len(encoded)), len(encoded))
            batch = [encoded[order.pop()] for _ in range(config.batch_size)]
            width = max(len(ids) for ids, _ in batch)
            pad = tok.pad_token_id or 0
            input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch])
            labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
            mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch])
            loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            losses.append(float(loss.detach()))
            bar.update(task, advance=1, loss=losses[-1])
            if progress and not bar.console.is_terminal and (step + 1) % 25 == 0:  # logs, nohup: no live bar
                bar.console.print(f"step {step + 1}/{config.steps}  loss {sum(losses[-25:]) / 25:.3f}  "
                                  f"{time.time() - start:.0f} s")
    seconds, cpu = time.time() - start, time.process_time() - cpu_start
    report = DistillReport(str(out_dir), len(examples), config.steps, round(seconds, 1), losses[0],
                           sum(losses[-5:]) / len(losses[-5:]), trainable, 0,
                           sum(e.source == "teacher" for e in examples), catalog.name,
                           round(examples_seconds, 1), round(seconds / config.steps, 2),
                           round(cpu / config.steps, 2))

    def training(tmp: Path) -> dict[str, object]:
        nonlocal report
        size = sum(p.stat().st_size for p in tmp.glob("adapter_model.*"))
        report = DistillReport(**(asdict(report) | {"adapter_bytes": size}))
        return {"config": asdict(config), "report": asdict(report),
                "catalog": {"name": catalog.name, "fingerprint": catalog.fingerprint},
                "losses": [round(x, 4) for x in losses]}

    save_adapter(out_dir, lambda tmp: model.save_pretrained(str(tmp)), training)
    return report


def distill_command(
    catalog_path: Annotated[Path | None, typer.Option("--catalog", help="catalog YAML to distil a student for "
                                                      "(default: the configured catalog, MDS_CATALOG)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="adapter directory (default: where the parser looks "
                                             "for this catalog's student)")] = None,
    steps: Annotated[int, typer.Option("--steps", help="LoRA optimisation steps")] = DistillConfig.steps,
    corpus_size: Annotated[int, typer.Option("--corpus-size", help="generated training demands")] =
    DistillConfig.corpus_size,
    seed: Annotated[int, typer.Option("--seed")] = DistillConfig.seed,
    batch_size: Annotated[int, typer.Option("--batch-size")] = DistillConfig.batch_size,
    rank: Annotated[int, typer.Option("--rank", help="LoRA rank")] = DistillConfig.rank,
    teacher_url: Annotated[str | None, typer.Option("--teacher-url",
                                                    help="OpenAI-compatible API root writing the chains")] = None,
    teacher_model: Annotated[str, typer.Option("--teacher-model", help="model name sent to --teacher-url")] = "default",
) -> None:
    """Distil the SmolLM2-135M student (LoRA) on demands generated from a catalog: reasoning chain + logic."""
    from features import load_checked_catalog

    for name, value, low in (("--steps", steps, 1), ("--corpus-size", corpus_size, 2), ("--batch-size", batch_size, 1),
                             ("--rank", rank, 1)):
        if value < low:
            raise InvalidArgument(f"{name} must be at least {low}; got {value}", field=name)
    config = DistillConfig(corpus_size=corpus_size, seed=seed, steps=steps, batch_size=batch_size, rank=rank,
                           alpha=2 * rank)
    settings = get_settings()
    catalog = (load_checked_catalog(catalog_path, setting="--catalog") if catalog_path is not None
               else configured_catalog(settings))
    report = distill(out or distilled_dir(catalog, settings.data_dir), config, catalog=catalog,
                     teacher_url=teacher_url, teacher_model=teacher_model)
    typer.echo(json.dumps(asdict(report), indent=1))
