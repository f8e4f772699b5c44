"""Random logic over the catalog and the corpus of (demand, reasoning chain, logic) triples."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.settings import get_settings
from features.catalog import Catalog, DType, Feature, configured_catalog
from models.targeting.corpus._lexicon import CATEGORIES, NUMBERS, SPECIALS
from models.targeting.corpus._render import render
from models.targeting.logic import (
    And,
    Condition,
    Expr,
    Not,
    Op,
    Or,
    ReasoningChain,
    canonical,
    check,
    conditions_of,
    operators_for,
    parse_logic,
)

__all__ = ["CorpusItem", "generate_corpus", "random_logic", "render_demands", "write_jsonl"]


@dataclass(frozen=True, slots=True)
class CorpusItem:
    """One training triple: a demand, the four-step reasoning chain, and the canonical logic."""

    demand: str
    chain: ReasoningChain
    logic: str

    @property
    def reasoning(self) -> list[str]:
        return self.chain.steps()

    def to_dict(self) -> dict[str, Any]:
        return {"demand": self.demand, "reasoning": self.reasoning, "logic": self.logic}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CorpusItem:
        return cls(data["demand"], ReasoningChain.from_steps(data.get("reasoning", [])), data["logic"])


def _nice(feature: Feature) -> tuple[float, ...]:
    spec = NUMBERS.get(feature.name)
    if spec:
        return spec.nice
    lo, hi = feature.range or (0, 100)
    step = (hi - lo) / 10
    values = [lo + step * i for i in range(1, 10)]
    return tuple(round(v) if feature.dtype == DType.INT else round(v, 2) for v in values)


def _fmt(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)


def _sample_condition(feature: Feature, rng: random.Random) -> Condition:
    if feature.dtype in (DType.INT, DType.FLOAT):
        spec = NUMBERS.get(feature.name)
        op = rng.choice(spec.ops if spec else (Op.GREATER_THAN, Op.LESS_THAN, Op.BETWEEN))
        nice = sorted(_nice(feature))
        if op == Op.BETWEEN:
            i = rng.randrange(len(nice) - 1)
            j = rng.randrange(i + 1, min(len(nice), i + 4))
            return Condition(feature.name, op, f"{_fmt(nice[i])},{_fmt(nice[j])}")
        if op in (Op.LESS_THAN, Op.LESS_THAN_OR_EQUAL_TO) and len(nice) > 1:
            nice = nice[1:]  # "fewer than 1 ..." reads oddly and means "none"
        if op in (Op.GREATER_THAN, Op.GREATER_THAN_OR_EQUAL_TO) and len(nice) > 1:
            nice = nice[:-1]
        return Condition(feature.name, op, _fmt(rng.choice(nice)))
    if feature.dtype == DType.BOOL:
        return Condition(feature.name, Op.EQUAL_TO, "true" if rng.random() < 0.6 else "false")
    values = list(feature.values or ())
    if feature.dtype == DType.STRING_SET:
        op = rng.choices((Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE), (0.6, 0.15, 0.25))[0]
        k = rng.choice((2,) if op == Op.CONTAINS_ALL else (1, 1, 1, 2, 2, 3))
        return Condition(feature.name, op, ",".join(rng.sample(values, k)))
    spec_c = CATEGORIES.get(feature.name)
    ops = spec_c.ops if spec_c else operators_for(feature.dtype)
    op = rng.choices(ops, [0.55, 0.15, 0.2, 0.1][: len(ops)])[0]
    if op in (Op.BELONGS_TO, Op.NOT_BELONGS_TO) and len(values) > 2:
        # Never every value: "low, medium or high income" is no condition at all.
        k = min(rng.choice((2, 2, 3)), len(values) - 1)
        return Condition(feature.name, op, ",".join(rng.sample(values, k)))
    return Condition(feature.name, Op.EQUAL_TO if op == Op.BELONGS_TO else
                     Op.NOT_EQUAL_TO if op == Op.NOT_BELONGS_TO else op, rng.choice(values))


@lru_cache(maxsize=1)
def _specials() -> tuple[tuple[str, Expr], ...]:
    return tuple((conditions_of(e)[0].key, e) for e in (parse_logic(s.logic) for s in SPECIALS))


def _known(catalog: Catalog) -> bool:
    return catalog.name == "demo"


def _leaf(catalog: Catalog, rng: random.Random, used: set[str], *, numeric_only: bool = False) -> Expr:
    """A condition (or a fixed special phrase's logic) on a key not yet used in this logic."""
    if _known(catalog) and not numeric_only and rng.random() < 0.2:
        fresh = [(key, e) for key, e in _specials() if key not in used]
        if fresh:
            key, expr = rng.choice(fresh)
            used.add(key)
            return expr
    features = [f for f in catalog.features_of("user") if f.name not in used
                and (not numeric_only or f.dtype in (DType.INT, DType.FLOAT))]
    feature = rng.choice(features)
    used.add(feature.name)
    return _sample_condition(feature, rng)


def random_logic(catalog: Catalog, rng: random.Random) -> Expr:
    """A random valid logic: 1–4 conditions, flat AND most often, also OR, nested OR, NOT, OR of ANDs."""
    k = rng.choices((1, 2, 3, 4), (0.2, 0.35, 0.3, 0.15))[0]
    shape = "and" if k == 1 else rng.choices(
        ("and", "or", "and_or", "and_not", "or_of_ands"), (0.55, 0.12, 0.15 if k >= 3 else 0, 0.13,
                                                          0.05 if k >= 3 else 0))[0]
    used: set[str] = set()
    if shape == "and":
        items = [_leaf(catalog, rng, used) for _ in range(k)]
        return items[0] if k == 1 else And(tuple(items))
    if shape == "or":
        return Or(tuple(_leaf(catalog, rng, used) for _ in range(min(k, 3))))
    if shape == "and_or":
        either = Or((_leaf(catalog, rng, used), _leaf(catalog, rng, used)))
        return And((*[_leaf(catalog, rng, used) for _ in range(k - 2)], either))
    if shape == "and_not":
        excluded = _leaf(catalog, rng, used, numeric_only=True)
        if isinstance(excluded, Not):
            excluded = excluded.item
        return And((*[_leaf(catalog, rng, used) for _ in range(k - 1)], Not(excluded)))
    first = And((_leaf(catalog, rng, used), _leaf(catalog, rng, used)))
    rest = [_leaf(catalog, rng, used) for _ in range(k - 2)]
    return Or((first, rest[0] if len(rest) == 1 else And(tuple(rest))))


def generate_corpus(n: int, seed: int = 0, catalog: Catalog | None = None,
                    phrasings: int = 2) -> list[CorpusItem]:
    """``n`` triples, deterministic for a ``seed``: ``n / phrasings`` random logics, each rendered as
    ``phrasings`` different demands (reverse generation). Every logic validates against the catalog."""
    if n <= 0:
        raise ValueError("n must be positive")
    catalog = catalog or configured_catalog(get_settings())
    rng = random.Random(seed)
    items: list[CorpusItem] = []
    while len(items) < n:
        expr = random_logic(catalog, rng)
        check(expr, catalog)
        for _ in range(min(phrasings, n - len(items))):
            r = render(expr, catalog, rng)
            items.append(CorpusItem(r.demand, r.chain, r.logic))
    return items


def render_demands(logic: Expr | str, n: int = 5, seed: int = 0, catalog: Catalog | None = None) -> list[CorpusItem]:
    """Reverse generation: ``n`` varied demands for one logic (validated against the catalog)."""
    catalog = catalog or configured_catalog(get_settings())
    expr = parse_logic(logic) if isinstance(logic, str) else logic
    check(expr, catalog)
    rng = random.Random(f"{seed}:{canonical(expr)}")
    return [CorpusItem(r.demand, r.chain, r.logic) for r in (render(expr, catalog, rng) for _ in range(n))]


def write_jsonl(items: Iterable[CorpusItem], path: str | Path) -> int:
    """Write one JSON object per line; returns how many."""
    count = 0
    with Path(path).open("w") as fh:
        for item in items:
            fh.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


