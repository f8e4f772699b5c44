"""Linked slots → whole candidate logics and their four-step reasoning chains.

Clauses are joined by the demand's connectives: the conditions of one clause ("women aged 25 to 35")
always go together with AND; between clauses an "or" binds tighter than an "and", because a marketer's
"women who bought toys or books and have kids" means women AND (toys OR books) AND kids.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from models.targeting.logic import Condition, ReasoningChain
from models.targeting.parser._linking import Linking

__all__ = ["Candidate", "candidates", "combine"]


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


def combine(groups: list[tuple[str, list[str]]]) -> str:
    """``[(connective, [condition texts of one clause]), ...]`` → logic text."""
    ands: list[list[str]] = []  # AND of OR-groups; each OR-group is a list of clause texts
    pending_or = False
    for conn, conds in groups:
        if not conds:  # "gold members or anyone who spent ...": the "or" belongs to the next clause
            pending_or = pending_or or (conn == "or" and bool(ands))
            continue
        if pending_or:
            conn, pending_or = "or", False
        unit = _wrap(conds, "AND")
        if conn == "or" and ands:
            ands[-1].append(unit)
        else:
            ands.append([unit])
    terms = [_wrap(g, "OR") if len(g) > 1 else g[0] for g in ands]
    text = " AND ".join(terms)
    if len(terms) == 1 and text.startswith("((") is False and text.startswith("(") and len(ands[0]) > 1:
        text = text[1:-1]
    return text


def _chain(linking: Linking, chosen: list[list[Condition]], logic: str) -> ReasoningChain:
    phrases: list[str] = []
    mapping: list[tuple[str, str]] = []
    conds: list[str] = []
    slot_phrases = [[s.phrase for s in c.slots] for c in linking.clauses]
    for clause_phr, clause_conds in zip(slot_phrases, chosen):
        for p, c in zip(clause_phr, clause_conds):
            phrases.append(p)
            mapping.append((p, c.key))
            conds.append(str(c))
    return ReasoningChain(tuple(phrases), tuple(mapping), tuple(conds), logic)


def candidates(linking: Linking, limit: int = 8) -> list[Candidate]:
    """Up to ``limit`` readings, fewest departures from the linker's first choices first."""
    slots = linking.slots
    if not slots:
        return []
    ranges = [range(len(s.options)) for s in slots]
    picks = sorted(itertools.product(*ranges), key=lambda p: (sum(p), p))[:limit]
    out: list[Candidate] = []
    seen: set[str] = set()
    for pick in picks:
        it = iter(pick)
        chosen: list[list[Condition]] = []
        for clause in linking.clauses:
            chosen.append([s.options[next(it)] for s in clause.slots])
        groups = [(c.connective, [str(x) for x in conds]) for c, conds in zip(linking.clauses, chosen)]
        logic = combine(groups)
        if logic in seen:
            continue
        seen.add(logic)
        out.append(Candidate(logic, _chain(linking, chosen, logic), sum(pick)))
    return out
