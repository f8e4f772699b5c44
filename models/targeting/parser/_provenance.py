"""Where a parse came from: the demand's words behind each condition, and the other readings kept.

The linker reads normalised text (lower case, numbers as digits, shorthand expanded: ``_preprocess``),
but a marketing tool highlights the words the marketer typed. :class:`DemandSpans` aligns the two
texts once per demand (difflib over characters), so a phrase found in the normalised text maps back to
the characters it was written as ("25" → "twenty-five", "5000" → "5k"). Each condition of the chosen
logic is traced to the linker slot that produced it: the same condition first (after the
conventional spelling), else the slots that produced that key (a list or range merged from several
phrases spans all of them), else nothing (a model wrote a key no phrase named).
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re

from core.errors import MDSError
from features.catalog import Catalog
from models.targeting.logic import (
    AlternativeReading,
    Condition,
    ConditionSource,
    Expr,
    ParseResult,
    canonical,
    normalize,
    parse_logic,
    signed_conditions,
)
from models.targeting.parser._compose import Candidate
from models.targeting.parser._linking import Linking, Slot

__all__ = ["DemandSpans", "alternative_readings", "condition_sources", "explain_parse"]

# Characters trimmed from the ends of a span mapped back to the demand.
_EDGE = " \t\n\r,.;:!?()[]{}\"'"


class DemandSpans:
    """Maps spans of the linker's normalised text back to the demand as it was sent."""

    def __init__(self, demand: str, normalized: str) -> None:
        self.demand = demand
        self.normalized = normalized
        # lower-case character by character so indices stay those of ``demand`` (some lower() grow)
        folded = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in demand)
        matcher = difflib.SequenceMatcher(None, normalized, folded, autojunk=False)
        self._lo = [0] * len(normalized)
        self._hi = [0] * len(normalized)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            for i in range(i1, i2):
                if tag == "equal":
                    self._lo[i], self._hi[i] = j1 + i - i1, j1 + i - i1 + 1
                elif tag == "replace":  # rewritten text ("25" for "twenty-five") maps to all it replaced
                    self._lo[i], self._hi[i] = j1, j2
                else:  # inserted by normalisation: no characters of its own
                    self._lo[i] = self._hi[i] = j1

    def locate(self, phrase: str, cursor: int = 0) -> tuple[int, int] | None:
        """The span of ``phrase`` in the normalised text, searching from ``cursor`` first.

        A merged list ("shanghai, beijing, chengdu") is found part by part, in order, and spans them all.
        """
        for start_at in dict.fromkeys((cursor, 0)):
            found = self._locate_parts([p for p in phrase.split(", ") if p.strip()], start_at)
            if found is not None:
                return found
        return None

    def _locate_parts(self, parts: list[str], pos: int) -> tuple[int, int] | None:
        first: int | None = None
        end = pos
        for part in parts:
            m = re.compile(rf"(?<![a-z0-9]){re.escape(part.strip())}(?![a-z0-9])").search(self.normalized, end)
            if m is None:
                return None
            first = m.start() if first is None else first
            end = m.end()
        return None if first is None else (first, end)

    def original(self, span: tuple[int, int] | None) -> tuple[int, int] | None:
        """The demand's characters behind a normalised span, trimmed of blanks and punctuation."""
        if span is None or span[0] >= span[1]:
            return None
        chars = [(self._lo[i], self._hi[i]) for i in range(span[0], min(span[1], len(self._lo)))
                 if self._lo[i] < self._hi[i]]
        if not chars:
            return None
        start, end = min(lo for lo, _ in chars), max(hi for _, hi in chars)
        while start < end and self.demand[start] in _EDGE:
            start += 1
        while end > start and self.demand[end - 1] in _EDGE:
            end -= 1
        return (start, end) if start < end else None

    def find(self, phrase: str, cursor: int = 0) -> tuple[int, int] | None:
        """:meth:`locate` then :meth:`original`: the phrase's span in the demand as sent."""
        return self.original(self.locate(phrase, cursor))


def _texts(expr: Expr) -> list[str]:
    return list(dict.fromkeys(("NOT " if neg else "") + str(c) for c, neg, _ in signed_conditions(expr)))


def _conventional(condition: Condition, catalog: Catalog) -> Condition:
    """The condition in its conventional spelling, NOT dropped ("= 0" → "> 0" under NOT)."""
    return signed_conditions(normalize(condition, catalog))[0][0]


def _slot_choices(linking: Linking, chosen: Candidate | None) -> list[tuple[Slot, Condition]]:
    """Each linker slot with the condition the chosen reading took from it (its first option otherwise)."""
    slots = linking.slots
    picked: list[Condition] = [s.options[0] for s in slots]
    if chosen is not None and len(chosen.reasoning.conditions) == len(slots):
        try:
            parsed = [parse_logic(text) for text in chosen.reasoning.conditions]
            picked = [p if isinstance(p, Condition) else s.options[0] for p, s in zip(parsed, slots, strict=True)]
        except MDSError:  # a reasoning line that is not one condition: keep the first options
            pass
    return list(zip(slots, picked, strict=True))


def _distance(starts: list[int | None], anchors: list[int], far: int, slot: int) -> int:
    """How far slot ``slot``'s phrase is from the nearest anchor (``far`` when it was not located)."""
    here = starts[slot]
    if here is None:
        return far
    return min((abs(here - a) for a in anchors), default=0)


def condition_sources(logic: Expr, linking: Linking, chosen: Candidate | None, spans: DemandSpans,
                      catalog: Catalog) -> tuple[ConditionSource, ...]:
    """Each condition of ``logic`` (reading order) with the demand's words it came from."""
    choices = _slot_choices(linking, chosen)
    conventional = [_conventional(c, catalog) for _, c in choices]
    located: list[tuple[int, int] | None] = []
    cursor = 0
    for slot, _ in choices:  # slots come in reading order; two "women" in a demand are two places
        span = spans.locate(slot.phrase, cursor)
        located.append(span)
        if span is not None:
            cursor = span[0]
    starts = [span[0] if span is not None else None for span in located]
    found = signed_conditions(logic)
    exact = [[i for i, c in enumerate(conventional) if c == condition] for condition, _, _ in found]
    picked: dict[int, list[int]] = {}
    used: set[int] = set()
    for k, same in enumerate(exact):  # one slot wrote exactly this condition
        if len(same) == 1:
            picked[k] = same
            used.update(same)
    for k, (condition, _, _) in enumerate(found):  # merged from several phrases (a list, a range), or a model's
        if exact[k]:
            continue
        by_key = ([i for i, (_, c) in enumerate(choices) if c.key == condition.key]
                  or [i for i, (s, _) in enumerate(choices) if any(o.key == condition.key for o in s.options)])
        picked[k] = [i for i in by_key if i not in used] or by_key
        used.update(picked[k])
    for k, same in enumerate(exact):  # the same condition twice ("women in X or women in Y"): the phrase
        if k in picked:               # nearest the other conditions of its own group
            continue
        pool = [i for i in same if i not in used] or same
        anchors = [a for j, idx in picked.items() if found[j][2][:-1] == found[k][2][:-1] for i in idx
                   if (a := starts[i]) is not None]
        far = len(spans.normalized)
        best = min(pool, key=functools.partial(_distance, starts, anchors, far))
        picked[k] = [best]
        used.add(best)
    out: list[ConditionSource] = []
    for k, (condition, negated, _) in enumerate(found):
        parts = [span for i in picked[k] if (span := located[i]) is not None]
        norm = (min(s for s, _ in parts), max(e for _, e in parts)) if parts else None
        span = spans.original(norm)
        if span is None:
            out.append(ConditionSource(condition, negated))
        else:
            out.append(ConditionSource(condition, negated, spans.demand[span[0]:span[1]], span[0], span[1]))
    return tuple(out)


def alternative_readings(logic: Expr, readings: list[tuple[Candidate, Expr]], limit: int
                         ) -> tuple[AlternativeReading, ...]:
    """Up to ``limit`` readings other than ``logic`` (conventional spelling, best first) and what differs."""
    seen = {canonical(logic)}
    mine = _texts(logic)
    out: list[AlternativeReading] = []
    for _, expr in readings:
        if len(out) >= limit:
            break
        text = canonical(expr)
        if text in seen:
            continue
        seen.add(text)
        theirs = _texts(expr)
        out.append(AlternativeReading(expr, text, tuple(t for t in theirs if t not in mine),
                                      tuple(t for t in mine if t not in theirs)))
    return tuple(out)


def explain_parse(result: ParseResult, spans: DemandSpans, linking: Linking, cands: list[Candidate],
                  catalog: Catalog, alternatives: int) -> ParseResult:
    """``result`` with each condition's phrase and the other readings filled in."""
    if result.logic is None:
        return result
    readings: list[tuple[Candidate, Expr]] = []
    for c in cands:
        try:
            readings.append((c, normalize(parse_logic(c.logic), catalog)))
        except MDSError:  # never expected of the linker; a bad reading is just not offered
            continue
    chosen = next((c for c, expr in readings if canonical(expr) == result.canonical), None)
    return dataclasses.replace(
        result, conditions=condition_sources(result.logic, linking, chosen, spans, catalog),
        alternatives=alternative_readings(result.logic, readings, alternatives))
