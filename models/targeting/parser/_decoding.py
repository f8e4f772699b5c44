"""Grammar-constrained decoding: the model only ever chooses among strings the grammar allows.

The logic grammar is walked as a sequence of choices: an opening ``(key#`` or ``NOT (key#`` among the
allowed keys, an ``Operator#`` among the key's operators, a ``value)`` among the linked values, then
``AND (key#``, ``AND NOT (key#``, ``OR (key#`` or the end (allowed once every key the linker found in
the demand is used). Each choice scores every allowed string in one batched forward pass over the
prompt's KV cache; a choice with one allowed string is appended without scoring (forced tokens cost no
sampling). Whatever the model prefers, the result parses and uses only catalog keys, operators and
values valid for the key.

For backends that cannot score (HTTP endpoints) :func:`project` maps free text onto the grammar: parse,
validate, and fall back to the linker's reading when the text is not valid logic over allowed keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from core.errors import InvalidArgument
from features.catalog import Catalog, DType
from models.targeting.logic import (
    LIST_OPERATORS,
    Op,
    canonical,
    conditions_of,
    operators_for,
    parse_logic,
    validate,
)
from models.targeting.parser._backends import ScoringSession
from models.targeting.parser._linking import Linking
from models.targeting.parser._numbers import format_number

__all__ = ["END", "ChoiceTrace", "decode_logic", "pick_candidate", "project", "value_options"]

END = "<|im_end|>"
MAX_GENERATED_CONDITIONS = 6


@dataclass(frozen=True, slots=True)
class ChoiceTrace:
    """How a decode went: the text, how many scored choices and forced spans it took."""

    logic: str
    scored_steps: int
    forced_steps: int
    score: float


def _numbers_in(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![a-z])", text)]


def value_options(catalog: Catalog, key: str, op: Op, linking: Linking) -> list[str]:
    """Every value string (closing ``)`` included) the grammar allows for ``key`` and ``op`` here."""
    f = catalog.features[key]
    linked = [o.value for s in linking.slots for o in s.options if o.key == key]
    out: list[str] = []
    if f.dtype == DType.BOOL:
        out = ["true", "false"]
    elif f.dtype in (DType.CATEGORY, DType.STRING_SET):
        allowed = list(f.values or ())
        lists = [v for v in linked if "," in v] if op in LIST_OPERATORS else []
        singles = [v for v in linked if "," not in v]
        out = list(dict.fromkeys([*lists, *singles, *allowed]))
    else:
        nums = list(dict.fromkeys([*(float(x) for v in linked for x in v.split(",")), *_numbers_in(linking.text),
                                   0.0]))
        lo, hi = f.range if f.range is not None else (-np.inf, np.inf)
        nums = [x for x in nums if lo <= x <= hi and (f.dtype == DType.FLOAT or x == int(x))]
        if op == Op.BETWEEN:
            pairs = [v for v in linked if "," in v]
            pairs += [f"{format_number(a)},{format_number(b)}" for a in nums for b in nums if a < b]
            out = list(dict.fromkeys(pairs)) or [f"{format_number(lo)},{format_number(hi)}"]
        else:
            out = [format_number(x) for x in nums] or [format_number(lo)]
    return [f"{v})" for v in out]


def decode_logic(session: ScoringSession, catalog: Catalog, keys: list[str], linking: Linking) -> ChoiceTrace:
    """Walk the grammar from ``Logic: `` choosing greedily; returns logic that always parses and validates."""
    scored = forced = 0
    total = 0.0
    used: set[str] = set()
    required = {s.options[0].key for s in linking.slots} & set(keys)

    def choose(options: list[str]) -> str:
        nonlocal scored, forced, total
        if len(options) == 1:
            session.commit(options[0])
            forced += 1
            return options[0]
        best, s = session.choose(options)
        scored += 1
        total += s
        return best

    def key_of(opening: str) -> str:
        return opening.rsplit("(", 1)[1][:-1]

    opening = choose([*(f"({k}#" for k in keys), *(f"NOT ({k}#" for k in keys)])
    key, negated = key_of(opening), opening.startswith("NOT")
    parts: list[str] = []
    while True:
        used.add(key)
        ops = operators_for(catalog.features[key].dtype)
        op_text = choose([f"{op.value}#" for op in ops])[:-1]
        value = choose(value_options(catalog, key, Op(op_text), linking))
        parts.append(f"{'NOT ' if negated else ''}({key}#{op_text}#{value}")
        rest = [k for k in keys if k not in used]
        if len(parts) >= MAX_GENERATED_CONDITIONS or not rest:
            break
        # The demand's linked phrases must all be used before the logic may end.
        done = required <= used
        nxt = choose([*([END] if done else []), *(f" AND ({k}#" for k in rest), *(f" AND NOT ({k}#" for k in rest),
                      *(f" OR ({k}#" for k in rest)])
        if nxt == END:
            break
        parts.append("AND" if nxt.startswith(" AND") else "OR")
        key, negated = key_of(nxt), " NOT (" in nxt
    logic = " ".join(parts)
    return ChoiceTrace(logic, scored, forced, total)


def pick_candidate(session: ScoringSession, logics: list[str]) -> tuple[int, np.ndarray]:
    """Index of the candidate logic the model finds most likely (all scored in one batched pass)."""
    scores = session.score([f"{lg}{END}" for lg in logics])
    return int(np.argmax(scores)), scores


def project(text: str, catalog: Catalog, allowed_keys: set[str] | None = None) -> str | None:
    """Free model text → canonical logic when it parses, validates and stays within ``allowed_keys``."""
    text = text.strip().removeprefix("Logic:").strip()
    if not text:
        return None
    try:
        expr = parse_logic(text)
    except InvalidArgument:
        return None
    if validate(expr, catalog):
        return None
    if allowed_keys is not None and any(c.key not in allowed_keys for c in conditions_of(expr)):
        return None
    return canonical(expr)
