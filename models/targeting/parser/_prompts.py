"""Prompts for the prompting ablations: zero-shot, fixed few-shot, random few-shot, analogical few-shot.

A prompt is a list of chat messages. Every variant lists the catalog keys most relevant to the demand
(MiniLM similarity to each key's description, plus the keys the linker found) with their operators; the
few-shot variants add demonstrations as earlier user/assistant turns: the first ones of the library
(fixed), a random draw (random) or the most similar ones (analogical). Messages stay short because a
135M model on two cores prefills about 200 tokens a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from features.catalog import Catalog, DType
from features.population import population_entity
from models.targeting.parser._demos import Demonstration
from models.targeting.parser._embeddings import Embedder

__all__ = ["KeyRetriever", "Message", "build_messages", "SYSTEM"]

Message = dict[str, str]

SYSTEM = ("Translate the marketing demand into targeting logic: conditions (key#Operator#value) joined by "
          "AND / OR. Use only the listed keys.")


def _key_line(catalog: Catalog, key: str) -> str:
    f = catalog.features[key]
    if f.dtype in (DType.CATEGORY, DType.STRING_SET):
        vals = ",".join((f.values or ())[:8])
        return f"{key} ({f.dtype}: {vals})"
    return f"{key} ({f.dtype})"


def _key_text(catalog: Catalog, key: str) -> str:
    f = catalog.features[key]
    return f"{key.replace('_', ' ')}: {f.description}. {', '.join(f.aliases)}"


@dataclass
class KeyRetriever:
    """Catalog keys ranked by similarity of their description and aliases to a demand."""

    catalog: Catalog
    embedder: Embedder
    entity: str | None = None  # None: the catalog's user entity

    def __post_init__(self) -> None:
        self.entity = self.entity or population_entity(self.catalog)
        self.keys = [f.name for f in self.catalog.features_of(self.entity)]
        self._matrix = self.embedder.encode([_key_text(self.catalog, k) for k in self.keys])

    def scores(self, text: str) -> dict[str, float]:
        sims = self._matrix @ self.embedder.encode([text])[0]
        return {k: float(s) for k, s in zip(self.keys, sims, strict=True)}

    def top(self, text: str, k: int = 6, *, must: list[str] | None = None) -> list[str]:
        sims = self._matrix @ self.embedder.encode([text])[0]
        ranked = [self.keys[i] for i in np.argsort(-sims)]
        out = list(dict.fromkeys([*(must or []), *ranked]))
        return out[:max(k, len(must or []))]


def _user(demand: str, keys_block: str) -> str:
    return f"Keys: {keys_block}\nDemand: {demand}"


def _assistant(demo: Demonstration, with_reasoning: bool) -> str:
    if with_reasoning:
        return demo.reasoning.text().replace(f"Combination: {demo.reasoning.combination}", "") + \
            f"Logic: {demo.logic}"
    return f"Logic: {demo.logic}"


def build_messages(catalog: Catalog, demand: str, keys: list[str], demos: list[Demonstration],
                   *, with_reasoning: bool = False) -> list[Message]:
    """Chat messages ending with the user's demand; the answer starts with ``Logic: ``."""
    msgs: list[Message] = [{"role": "system", "content": SYSTEM}]
    for d in demos:
        demo_keys = list(dict.fromkeys(k for _, k in d.reasoning.mapping))
        msgs.append({"role": "user", "content": _user(d.demand, ", ".join(demo_keys))})
        msgs.append({"role": "assistant", "content": _assistant(d, with_reasoning)})
    msgs.append({"role": "user", "content": _user(demand, "; ".join(_key_line(catalog, k) for k in keys))})
    return msgs
