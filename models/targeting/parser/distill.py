"""Reasoning-augmented multi-task distillation of the SmolLM2-135M student (LoRA via peft).

Both tasks share one input, the analogical prompt the parser builds at inference (retrieved keys and
demonstration + the demand); they differ in the answer: ``Reasoning: `` + the four-step chain, or
``Logic: `` + the canonical logic. The teacher is the corpus generator (its chains come with the logic
they lead to); with ``--teacher-url`` an OpenAI-compatible model writes the chains instead, and a chain
is kept only when the logic it ends in equals the generator's. Only the attention projections get
low-rank adapters, so the committed adapter stays around two megabytes.

``mds targeting distill`` reproduces the committed adapter from scratch (same seed, same corpus).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import typer

from core.errors import InvalidArgument
from core.settings import get_settings
from features.catalog import Catalog, demo_catalog

__all__ = ["DistillConfig", "DistillReport", "build_examples", "distill", "distill_command"]


@dataclass(frozen=True)
class DistillConfig:
    corpus_size: int = 240
    seed: int = 0
    steps: int = 40
    batch_size: int = 2
    learning_rate: float = 3e-3
    rank: int = 4
    alpha: int = 8
    demos: int = 0  # demonstrations in the student's prompt (each costs ~50 tokens of prefill on 2 cores)
    keys: int = 6
    max_tokens: int = 220
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


def _chain_text(chain_steps: list[str]) -> str:
    return "\n".join(chain_steps)


def build_examples(catalog: Catalog, config: DistillConfig, teacher_url: str | None = None,
                   teacher_model: str = "default") -> list[tuple[list[dict[str, str]], str, str]]:
    """(messages, answer prefix, target) for both tasks of every corpus item."""
    from models.targeting.corpus import generate_corpus
    from models.targeting.parser._backends import OpenAIChatBackend
    from models.targeting.parser._decoding import END, project
    from models.targeting.parser._linking import link_demand
    from models.targeting.parser._parser import _library
    from models.targeting.parser._prompts import build_messages

    library, retriever = _library(catalog)
    teacher = OpenAIChatBackend(teacher_url, teacher_model) if teacher_url else None
    items = generate_corpus(config.corpus_size, seed=config.seed, catalog=catalog)
    out: list[tuple[list[dict[str, str]], str, str]] = []
    for item in items:
        keys = retriever.top(item.demand, config.keys, must=link_demand(item.demand, catalog).keys)
        for k in dict.fromkeys(c for _, c in item.chain.mapping):  # the gold keys must be offered
            if k not in keys:
                keys.append(k)
        demos = library.similar(item.demand, config.demos) if config.demos else []
        msgs = build_messages(catalog, item.demand, keys, demos)
        chain = _chain_text(item.chain.steps())
        if teacher is not None:
            answer = teacher.generate(msgs, prefix="Reasoning: ", max_tokens=200, stop="")[0]
            last = answer.strip().splitlines()[-1] if answer.strip() else ""
            if project(last.split(":", 1)[-1], catalog) == item.logic:
                chain = answer.strip()
        out.append((msgs, "Reasoning: ", chain + END))
        out.append((msgs, "Logic: ", item.logic + END))
    return out


def distill(out_dir: Path, config: DistillConfig = DistillConfig(), *, catalog: Catalog | None = None,
            cache_dir: Path | None = None, teacher_url: str | None = None, progress: bool = True) -> DistillReport:
    """Fine-tune LoRA adapters on the two tasks and save them (peft format) into ``out_dir``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from models.targeting.parser._backends import smollm2_dir

    catalog = catalog or demo_catalog()
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    model_dir = smollm2_dir(cache_dir or (get_settings().data_dir / "cache"))
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=0.0,
                                             target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                                             task_type="CAUSAL_LM"))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)

    examples = build_examples(catalog, config, teacher_url)
    encoded: list[tuple[list[int], list[int]]] = []
    for msgs, prefix, target in examples:
        prompt = tok.encode(tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True) + prefix,
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
    start = time.time()
    with Progress(TextColumn("distilling"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                  TextColumn("loss {task.fields[loss]:.3f}"), TimeRemainingColumn(), disable=not progress) as bar:
        task = bar.add_task("distill", total=config.steps, loss=float("nan"))
        for _step in range(config.steps):
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
    seconds = time.time() - start
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    size = sum(p.stat().st_size for p in out_dir.glob("adapter_model.*"))
    report = DistillReport(str(out_dir), len(examples), config.steps, round(seconds, 1), losses[0],
                           sum(losses[-5:]) / len(losses[-5:]), trainable, size)
    (out_dir / "training.json").write_text(json.dumps({"config": asdict(config), "report": asdict(report),
                                                       "losses": [round(x, 4) for x in losses]}, indent=1))
    return report


def distill_command(
    out: Annotated[Path | None, typer.Option("--out", help="adapter directory (default: the committed one)")] = None,
    steps: Annotated[int, typer.Option("--steps", help="LoRA optimisation steps")] = DistillConfig.steps,
    corpus_size: Annotated[int, typer.Option("--corpus-size", help="generated training demands")] =
    DistillConfig.corpus_size,
    seed: Annotated[int, typer.Option("--seed")] = DistillConfig.seed,
    batch_size: Annotated[int, typer.Option("--batch-size")] = DistillConfig.batch_size,
    rank: Annotated[int, typer.Option("--rank", help="LoRA rank")] = DistillConfig.rank,
    teacher_url: Annotated[str | None, typer.Option("--teacher-url",
                                                    help="OpenAI-compatible API root writing the chains")] = None,
) -> None:
    """Distil the SmolLM2-135M student (LoRA) on generated demands: reasoning chain + logic."""
    from models.targeting.parser._parser import DEFAULT_ADAPTER

    for name, value, low in (("--steps", steps, 1), ("--corpus-size", corpus_size, 2), ("--batch-size", batch_size, 1),
                             ("--rank", rank, 1)):
        if value < low:
            raise InvalidArgument(f"{name} must be at least {low}; got {value}", field=name)
    config = DistillConfig(corpus_size=corpus_size, seed=seed, steps=steps, batch_size=batch_size, rank=rank,
                           alpha=2 * rank)
    report = distill(out or DEFAULT_ADAPTER, config, teacher_url=teacher_url)
    typer.echo(json.dumps(asdict(report), indent=1))
