"""The demonstration library: (demand, reasoning chain, logic) triples, and retrieval by similarity.

Demonstrations come from the hand-written ``demonstrations.jsonl`` beside this module and, when it is
present, the corpus generator's training split. Each triple's reasoning chain is the linker's chain
when the linker reproduces the gold logic, otherwise one rebuilt from the gold conditions.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from features.catalog import Catalog
from models.targeting.logic import ReasoningChain, canonical, conditions_of, parse_logic
from models.targeting.parser._compose import candidates
from models.targeting.parser._embeddings import Embedder
from models.targeting.parser._linking import link_demand

__all__ = ["Demonstration", "DemoLibrary", "HAND_WRITTEN", "load_demonstrations"]

HAND_WRITTEN = Path(__file__).with_name("demonstrations.jsonl")


@dataclass(frozen=True, slots=True)
class Demonstration:
    demand: str
    reasoning: ReasoningChain
    logic: str  # canonical text


def _reasoning_for(demand: str, logic: str, catalog: Catalog) -> ReasoningChain:
    linked = link_demand(demand, catalog)
    for cand in candidates(linked, limit=4):
        if canonical(parse_logic(cand.logic)) == logic:
            return ReasoningChain(cand.reasoning.key_phrases, cand.reasoning.mapping,
                                  cand.reasoning.conditions, logic)
    conds = conditions_of(parse_logic(logic))
    phrases = tuple(c.key.replace("_", " ") for c in conds)
    return ReasoningChain(phrases, tuple((p, c.key) for p, c in zip(phrases, conds, strict=True)),
                          tuple(str(c) for c in conds), logic)


def load_demonstrations(catalog: Catalog, paths: list[Path] | None = None,
                        limit_per_file: int | None = None) -> list[Demonstration]:
    """Triples from JSONL files of ``{"demand", "logic"}`` lines (hand-written ones by default)."""
    out: list[Demonstration] = []
    for path in paths or [HAND_WRITTEN]:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        if limit_per_file is not None and len(rows) > limit_per_file:
            rows = random.Random(0).sample(rows, limit_per_file)
        for row in rows:
            logic = canonical(parse_logic(row["logic"]))
            reasoning = (ReasoningChain.from_steps(row["reasoning"]) if row.get("reasoning")
                         else _reasoning_for(row["demand"], logic, catalog))
            out.append(Demonstration(row["demand"], reasoning, logic))
    return out


class DemoLibrary:
    """Demonstrations with their embeddings; ``similar`` is the analogical retrieval."""

    def __init__(self, demos: list[Demonstration], embedder: Embedder) -> None:
        if not demos:
            raise ValueError("the demonstration library is empty")
        self.demos = demos
        self._embedder = embedder
        self._matrix = embedder.encode([d.demand for d in demos])

    def similar(self, demand: str, k: int = 3, *, exclude: str | None = None) -> list[Demonstration]:
        """The ``k`` demonstrations whose demands are closest in meaning, most similar first."""
        q = self._embedder.encode([demand])[0]
        scores = self._matrix @ q
        order = np.argsort(-scores)
        picked = [self.demos[i] for i in order if self.demos[i].demand != (exclude or demand)]
        return picked[:k]

    def fixed(self, k: int = 3) -> list[Demonstration]:
        return self.demos[:k]

    def random(self, k: int = 3, seed: int | None = None) -> list[Demonstration]:
        return random.Random(seed).sample(self.demos, min(k, len(self.demos)))
