"""Value and key linking: find the catalog keys, values and numbers a demand mentions, before any model runs.

The demand is split into clauses at its connectives ("and", "or", "who", "with", commas); each clause is
linked by :class:`~models.targeting.parser._clauselinker.ClauseLinker` (values, numbers, booleans, presence
words; every reading kept, best first; what names no key or no threshold reported, never guessed). Here the
clauses are joined back: exclusion groups, "both A and B", connectives a clause that names nothing hands on.

Text normalisation happens before (``_preprocess``), restructuring the clause list after (``_clauses``).
"""

from __future__ import annotations

import re

from features.catalog import Catalog
from features.population import population_entity
from models.targeting.logic import Op
from models.targeting.parser._clauselinker import ClauseLinker, KeySimilarity
from models.targeting.parser._clauses import LinkedClause, Linking, Slot, restructure, split_clauses
from models.targeting.parser._lexicon import lexicon_for
from models.targeting.parser._linkrules import (
    EXCLUDE,
    NEGATION,
    distribute_heads,
    distribute_states,
    is_negative,
    or_between_unread,
    protect_values,
    spell_negative_values,
)
from models.targeting.parser._places import spell_place_codes
from models.targeting.parser._preprocess import preprocess
from models.targeting.parser._values import capitalised_words

__all__ = ["NEGATION", "KeySimilarity", "LinkedClause", "Linking", "Slot", "is_negative", "link_demand", "preprocess"]

# a clause that opens another group of people ("and anyone ...", "or those ...")
_ANOTHER_GROUP = re.compile(r"(?:anyone|anybody|those|everyone|people|users|customers|members|subscribers|clients|"
                            r"the ones)\b")


def link_demand(demand: str, catalog: Catalog, *, entity: str | None = None,
                similarity: KeySimilarity | None = None) -> Linking:
    """Link ``demand`` to ``catalog`` (keys, values, numbers); nothing here guesses a threshold.

    ``similarity`` (phrase → score per key, e.g. MiniLM's) lets a number no cue names go to the closest key
    its unit allows ("haven't logged in for 60 days" → the days-since-login key)."""
    entity = entity or population_entity(catalog)
    lex = lexicon_for(catalog, entity)
    demand = spell_negative_values(demand, lex)  # "non-binary" is a value, not a negation
    # "Queenslanders", "South Australian": proper names of places the catalog stores as codes
    demand = spell_place_codes(demand, lex.place_codes, lex.names) if lex.place_codes else demand
    text = preprocess(demand)
    text = distribute_states(distribute_heads(protect_values(text, lex), lex), lex)
    linker = ClauseLinker(catalog, lex, entity, similarity)
    linker.percent = bool(re.search(r"%|\bper ?cent\b", demand, re.I))
    linker.capitals = capitalised_words(demand)
    clauses: list[LinkedClause] = []
    pending_negation = excluding = both = False
    excluded: LinkedClause | None = None  # the excluded group relative clauses still add to
    pieces = split_clauses(text)
    for i, (conn, sep, piece, group) in enumerate(pieces):
        lead = ""
        if EXCLUDE.search(piece) or EXCLUDE.search(sep):  # "..., excluding those with 5+ items": NOT the next one
            excluding, excluded = True, None
            lead = " ".join(m.group(0) for m in EXCLUDE.finditer(piece))
            piece = re.sub(r"\s+", " ", EXCLUDE.sub(" ", piece)).strip()
            if not piece:
                continue
        neg = bool(NEGATION.search(piece))
        if piece in ("not",):
            pending_negation = True
            continue
        clause = LinkedClause(piece, conn, neg or pending_negation, sep=sep, group=group, lead=lead)
        pending_negation = False
        context = " ".join(p for _, _, p, _ in pieces[max(0, i - 1):i] + pieces[i + 1:i + 2])
        linker.link(clause, clauses[-1] if clauses else None, context)
        if excluded is not None and clause.slots and re.fullmatch(r"(?:who|whose|that|which|with)", sep):
            excluded.slots.extend(clause.slots)  # "excluding gold members | who live in shanghai": same group
            excluded.leftover = f"{excluded.leftover} {clause.leftover}".strip()
            continue
        excluded = None
        if both and clause.slots and conn == "and":
            # "excluding anyone who is both A and B" is NOT (A AND B); the linker cannot build that
            # group, so the whole exclusion is reported instead of being read as NOT A AND B
            phrase, key = clauses[-1].unsure[-1]
            clauses[-1].unsure[-1] = (f"{phrase} and {clause.text}", key)
            both = False
            continue
        both = False
        # "skip anyone who cancelled ... and anyone not opted in": the second "anyone" is excluded too
        # "excluding anyone with high risk or on a hardship plan": NOT A AND NOT B
        if (clauses and clauses[-1].excluded and not excluding and conn in ("and", "or")
                and (_ANOTHER_GROUP.match(piece) or conn == "or" and clause.slots)):
            clause.excluded, excluded = True, clause  # relative clauses that follow add to it
            clause.connective = "and"  # "do not include A or anyone with B": neither A nor B
            clauses.append(clause)
            continue
        if excluding and not clause.slots and clause.leftover.strip() and not NEGATION.search(piece):
            # "skip anyone on hardship or ...": words no rule read, excluded: reported as the exclusion they are,
            # so that whatever reads them later reads their negation
            clause.unread.append(f"not {clause.text}")
            clause.leftover = ""
            clauses.append(clause)
            continue
        if excluding and clause.slots:
            clause.excluded, excluded = True, clause
            excluding = False
            if re.search(r"\bboth\b", piece):
                clause.unsure.append((piece, clause.slots[0].options[0].key))
                clause.slots, clause.excluded, excluded, both = [], False, None, True
        clauses.append(clause)
    for c in clauses:
        if c.excluded and not c.slots and c.leftover.strip():
            # unread words inside an exclusion ("and anyone not opted in"): a reading would be negated twice
            c.unsure.append((c.text, None))
    or_between_unread(clauses)
    clauses = restructure(clauses, linker.features, "either " in f" {demand.lower()}")
    # A clause that names nothing ("or shoppers", "who") hands its connective to the next one.
    carry_conn, carry_sep = "and", ""
    for c in clauses:
        if not c.slots:
            if c.connective == "or":
                carry_conn = "or"
            carry_sep = f"{carry_sep} {c.sep}".strip()
            continue
        if carry_conn == "or":
            c.connective = "or"
        c.sep = f"{carry_sep} {c.sep}".strip()
        carry_conn, carry_sep = "and", ""
    _drop_bare_presence(clauses)
    return Linking(demand, text, clauses, either="either " in f" {demand.lower()}")


def _drop_bare_presence(clauses: list[LinkedClause]) -> None:
    """A count named by a bare word ("barely visits", a "Referral push." label) adds no presence condition when
    the demand also gives that count a threshold ("under 4 check-ins") or says it is zero ("haven't made a
    single referral"): both together would contradict or repeat it."""
    plain = [c for c in clauses if not c.excluded and c.connective == "and" and c.group is None]
    said: set[str] = set()
    for c in plain:
        for sl in c.slots:
            cond = sl.options[0]
            if re.search(r"\d", sl.phrase) or cond.op == Op.EQUAL_TO and cond.value == "0":
                said.add(cond.key)
    for c in plain:
        kept = [sl for sl in c.slots if not (
            len(sl.options) == 1 and sl.options[0].op == Op.GREATER_THAN and sl.options[0].value == "0"
            and not re.search(r"\d", sl.phrase) and not sl.wrap_not and sl.options[0].key in said)]
        if c.slots and not kept:
            c.leftover = ""  # what it said is the other condition on that count, not a phrase left unread
        c.slots = kept
