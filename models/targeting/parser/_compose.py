"""Linked slots → whole candidate logics and their four-step reasoning chains.

Clauses are joined by the demand's connectives: the conditions of one clause ("women aged 25 to 35")
always go together with AND; between clauses an "or" binds tighter than an "and", because a marketer's
"women who bought toys or books and have kids" means women AND (toys OR books) AND kids.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import TypeVar

from models.targeting.logic import Condition, ReasoningChain
from models.targeting.parser._linking import LinkedClause, Linking, Slot

__all__ = ["STRUCTURES", "Candidate", "candidates", "combine", "structures_for"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One complete reading of a demand: the logic text and the reasoning that leads to it."""

    logic: str
    reasoning: ReasoningChain
    rank: int  # sum of option ranks: 0 is the linker's first choice everywhere


def _wrap(parts: list[str], joiner: str) -> str:
    if len(parts) == 1:
        return parts[0]
    return "(" + f" {joiner} ".join(parts) + ")"


STRUCTURES = ("or_tight", "and_tight", "all_or")


def structures_for(seps: list[tuple[str, str]], either: bool = False, *, last_or_same_key: bool = False,
                   or_opens_group: bool = False) -> list[str]:
    """Bracketings worth considering for clauses joined by ``[(connective, separator words), ...]``, best first.

    "A and B; or C" and "A and B, or anyone with C" read (A AND B) OR C; "A, B, or C" reads A OR B OR C
    unless the last "or" joins two bounds of one key ("India, aged 18-24 or over 55"); otherwise (and
    after "either") an "or" binds the clauses next to it (women who bought toys or books and have kids).
    """
    conns = [c for c, _ in seps[1:]]
    if "or" not in conns:
        return ["or_tight"]
    if or_opens_group or any(";" in sep for c, sep in seps[1:] if c == "or"):
        return ["and_tight", "or_tight", "all_or"]
    if either:  # "either A or B, and C": the "or" groups the two clauses beside it
        return ["or_tight", "and_tight", "all_or"]
    if (len(conns) >= 2 and conns[-1] == "or" and all(re.fullmatch(r"\s*,\s*", sep) for _, sep in seps[1:-1])
            and "," in seps[-1][1] and not last_or_same_key):
        return ["all_or", "or_tight", "and_tight"]
    return ["or_tight", "and_tight", "all_or"]


def combine(groups: list[tuple[str, list[str]]], structure: str = "or_tight") -> str:
    """``[(connective, [condition texts of one clause]), ...]`` → logic text, bracketed by ``structure``."""
    units: list[tuple[str, str]] = []
    pending_or = False
    for conn, conds in groups:
        if not conds:  # "gold members or anyone who spent ...": the "or" belongs to the next clause
            pending_or = pending_or or (conn == "or" and bool(units))
            continue
        if pending_or:
            conn, pending_or = "or", False
        units.append((conn if units else "and", _wrap(conds, "AND")))
    if not units:
        return ""
    if structure == "all_or":
        return _flat([u for _, u in units], "OR")
    if structure == "and_tight":
        ors: list[list[str]] = [[]]
        for conn, unit in units:
            if conn == "or" and ors[-1]:
                ors.append([])
            ors[-1].append(unit)
        return _flat([_wrap(g, "AND") for g in ors], "OR")
    ands: list[list[str]] = []
    for conn, unit in units:
        if conn == "or" and ands:
            ands[-1].append(unit)
        else:
            ands.append([unit])
    return _flat([_wrap(g, "OR") for g in ands], "AND")


def _flat(parts: list[str], joiner: str) -> str:
    return parts[0] if len(parts) == 1 else f" {joiner} ".join(parts)


def _chain(linking: Linking, chosen: list[list[Condition]], logic: str) -> ReasoningChain:
    phrases: list[str] = []
    mapping: list[tuple[str, str]] = []
    conds: list[str] = []
    slot_phrases = [[s.phrase for s in c.slots] for c in linking.clauses]
    for clause_phr, clause_conds in zip(slot_phrases, chosen, strict=True):
        for p, c in zip(clause_phr, clause_conds, strict=True):
            phrases.append(p)
            mapping.append((p, c.key))
            conds.append(str(c))  # NOT shows in the combination step
    return ReasoningChain(tuple(phrases), tuple(mapping), tuple(conds), logic)


def candidates(linking: Linking, limit: int = 8) -> list[Candidate]:
    """Up to ``limit`` readings, fewest departures from the linker's first choices first."""
    slots = linking.slots
    if not slots:
        return []
    ranges = [range(len(s.options)) for s in slots]
    live = _units([c for c in linking.clauses if c.slots], [c.group for c in linking.clauses if c.slots])
    opens_group = any(c.connective == "or" and _NEW_GROUP.match(c.text) for c in live[1:])
    shapes = structures_for([(c.connective, c.sep) for c in live], linking.either,
                            last_or_same_key=_last_or_same_key(live), or_opens_group=opens_group)
    picks = sorted(itertools.product(*ranges), key=lambda p: (sum(p), p))[:limit]
    out: list[Candidate] = []
    seen: set[str] = set()
    for pick in picks:
        it = iter(pick)
        chosen: list[list[Condition]] = []
        for clause in linking.clauses:
            chosen.append([s.options[next(it)] for s in clause.slots])
        groups = [(c.connective, _clause_texts(conds, c.slots, c.excluded))
                  for c, conds in zip(linking.clauses, chosen, strict=True)]
        groups = _bracketed(groups, [c.group for c in linking.clauses])
        for penalty, structure in enumerate(shapes):
            logic = combine(groups, structure)
            if logic in seen:
                continue
            seen.add(logic)
            out.append(Candidate(logic, _chain(linking, chosen, logic), sum(pick) + penalty))
    out.sort(key=lambda c: c.rank)
    return out[:limit]


# an "or" followed by another group of people ("..., or anyone on an annual plan") joins whole audiences
_NEW_GROUP = re.compile(r"(?:anyone|anybody|everyone|everybody|those|the ones)\b")


def _last_or_same_key(clauses: list[LinkedClause]) -> bool:
    """The last "or" joins two conditions on one key ("aged 18-24 or over 55"): it is local to that key."""
    ors = [i for i, c in enumerate(clauses) if i and c.connective == "or"]
    if not ors:
        return False
    i = ors[-1]
    return clauses[i].slots[0].options[0].key == clauses[i - 1].slots[-1].options[0].key


def _runs(group_ids: list[int | None]) -> list[tuple[int, int]]:
    """``(start, end)`` of each unit: a run of clauses in one bracketed group, or one clause outside any."""
    runs: list[tuple[int, int]] = []
    for i, g in enumerate(group_ids):
        if g is not None and runs and group_ids[i - 1] == g:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


def _units(items: list[T], group_ids: list[int | None]) -> list[T]:
    """The first item of each unit (see :func:`_runs`)."""
    return [items[start] for start, _ in _runs(group_ids)]


def _bracketed(groups: list[tuple[str, list[str]]], group_ids: list[int | None]) -> list[tuple[str, list[str]]]:
    """Clauses the demand bracketed explicitly ("A or (B and C)") become one unit, combined inside first."""
    out: list[tuple[str, list[str]]] = []
    for start, end in _runs(group_ids):
        if end - start == 1:
            out.append(groups[start])
            continue
        inner = combine([(conn if k else "and", conds) for k, (conn, conds) in enumerate(groups[start:end])])
        out.append((groups[start][0], [f"({inner})"] if inner else []))
    return out


def _text(cond: Condition, wrap_not: bool) -> str:
    return f"NOT {cond}" if wrap_not else str(cond)


def _clause_texts(conds: list[Condition], slots: list[Slot], excluded: bool) -> list[str]:
    texts = [_text(x, sl.wrap_not) for x, sl in zip(conds, slots, strict=True)]
    return [f"NOT {_wrap(texts, 'AND')}"] if excluded and texts else texts
