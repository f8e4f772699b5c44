"""The demonstration library: (demand, reasoning chain, logic) triples, and retrieval by similarity.

For the catalog the hand-written ``demonstrations.jsonl`` beside this module was written for (every one
of its logics is valid there) the library is that file; for any other catalog it is generated from
the catalog by the corpus generator (:func:`library_demonstrations`) and cached under the data
directory, one file per catalog fingerprint and wording. Each triple's reasoning chain is the linker's
own four-step chain when the linker reproduces the gold logic, otherwise the generator's (or, for a
hand-written triple, one rebuilt from the gold conditions).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.settings import get_settings
from features.catalog import Catalog
from models.targeting.logic import ReasoningChain, canonical, conditions_of, parse_logic, validate
from models.targeting.parser._compose import candidates
from models.targeting.parser._embeddings import Embedder
from models.targeting.parser._linking import link_demand

__all__ = ["GENERATED_DEMOS", "HAND_WRITTEN", "DemoLibrary", "Demonstration", "generated_demonstrations",
           "library_demonstrations", "load_demonstrations"]

log = logging.getLogger(__name__)

HAND_WRITTEN = Path(__file__).with_name("demonstrations.jsonl")
GENERATED_DEMOS = 160  # generated demonstrations for a catalog without hand-written ones
_GENERATOR_VERSION = 1  # bump when the corpus generator's phrasing changes, so cached libraries refresh


@dataclass(frozen=True, slots=True)
class Demonstration:
    demand: str
    reasoning: ReasoningChain
    logic: str  # canonical text


def _linker_chain(demand: str, logic: str, catalog: Catalog) -> ReasoningChain | None:
    """The linker's four steps for ``demand`` when one of its readings is ``logic`` (canonical)."""
    linked = link_demand(demand, catalog)
    for cand in candidates(linked, limit=4):
        if canonical(parse_logic(cand.logic)) == logic:
            return ReasoningChain(cand.reasoning.key_phrases, cand.reasoning.mapping,
                                  cand.reasoning.conditions, logic)
    return None


def _reasoning_for(demand: str, logic: str, catalog: Catalog) -> ReasoningChain:
    found = _linker_chain(demand, logic, catalog)
    if found is not None:
        return found
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


def _written_for(catalog: Catalog, path: Path = HAND_WRITTEN) -> bool:
    """Whether every hand-written logic is valid over ``catalog`` (the catalog the file was written for)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return bool(rows) and all(not validate(parse_logic(r["logic"]), catalog) for r in rows)


def _cache_file(catalog: Catalog, cache_dir: Path, size: int, seed: int) -> Path:
    # The fingerprint names the layout; the wording hash covers aliases, descriptions and the phrasebook,
    # which change the generated demands without changing the fingerprint.
    wording = hashlib.sha256(catalog.model_dump_json().encode()).hexdigest()[:10]
    return cache_dir / "targeting-demos" / (f"{catalog.name}-{catalog.fingerprint}-{wording}-"
                                            f"v{_GENERATOR_VERSION}-n{size}-s{seed}.jsonl")


def _read_cached(path: Path, catalog: Catalog) -> list[Demonstration] | None:
    try:
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        demos = [Demonstration(r["demand"], ReasoningChain(tuple(r["key_phrases"]),
                                                           tuple((p, k) for p, k in r["mapping"]),
                                                           tuple(r["conditions"]), r["logic"]), r["logic"])
                 for r in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not demos or any(validate(parse_logic(d.logic), catalog) for d in demos):
        return None  # damaged or stale: generate again
    return demos


def generated_demonstrations(catalog: Catalog, cache_dir: Path | None = None, *, size: int = GENERATED_DEMOS,
                             seed: int = 0) -> list[Demonstration]:
    """``size`` demonstrations generated from ``catalog`` (one demand per random logic), each with the
    linker's chain where the linker reads the gold logic, else the generator's; cached in ``cache_dir``
    (default ``<data_dir>/cache``) and written atomically, so concurrent builders never see half a file."""
    from models.targeting.corpus import generate_corpus

    cache_dir = cache_dir or get_settings().data_dir / "cache"
    path = _cache_file(catalog, cache_dir, size, seed)
    cached = _read_cached(path, catalog) if path.exists() else None
    if cached is not None:
        return cached
    demos: list[Demonstration] = []
    for item in generate_corpus(size, seed=seed, catalog=catalog, phrasings=1, empty_share=0.0):
        chain = _linker_chain(item.demand, item.logic, catalog) or item.chain
        demos.append(Demonstration(item.demand, chain, item.logic))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".jsonl", dir=path.parent)
        with os.fdopen(fd, "w") as fh:
            for d in demos:
                chain = d.reasoning  # as fields, not step lines: a phrase may hold "; "
                fh.write(json.dumps({"demand": d.demand, "logic": d.logic, "key_phrases": chain.key_phrases,
                                     "mapping": chain.mapping, "conditions": chain.conditions},
                                    ensure_ascii=False) + "\n")
        os.replace(tmp, path)
    except OSError as exc:  # a read-only data dir costs a rebuild per process, not the parser
        log.warning("could not cache demonstrations at %s: %s", path, exc)
    return demos


def library_demonstrations(catalog: Catalog, cache_dir: Path | None = None) -> list[Demonstration]:
    """The parser's demonstrations for ``catalog``: hand-written where they fit it, else generated."""
    if _written_for(catalog):
        return load_demonstrations(catalog)
    return generated_demonstrations(catalog, cache_dir)


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
