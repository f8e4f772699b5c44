"""Clauses of a demand and how they join: the linked slots, lists across clauses, relative clauses, unions.

The linker (``_linking``) fills each clause's slots; the functions here then restructure the clause list
the way a reader would: "in beijing, shanghai or chengdu" is one list, "gold members who live in
shanghai" one audience, "low-income users ..., plus medium-income users ..." two audiences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from features.catalog import DType, Feature
from models.targeting.logic import Condition, Op
from models.targeting.parser._numbers import format_number
from models.targeting.parser._preprocess import GROUP_CLOSE, GROUP_OPEN

__all__ = ["LinkedClause", "Linking", "Slot", "restructure", "split_clauses"]

_SPLIT = re.compile(r"\s*(?:,|;|\.(?!\d)|\s[—–-]\s|[—–]|\band\b|\bor\b|\bbut\b|\bwho\b|\bwhose\b|\bwhich\b|\bthat\b|\bwith\b(?! us\b)|"
                    r"\bwhile\b|(?<!\bthe )(?<!\bon )(?<!\ban )(?<!\bor )(?<!\band )(?<!\ba )\bplus\b(?! (?:plan|tier|members?|subscri\w*|level|orabove|orbelow)\b)|\bas well as\b|\bnor\b|\bwhere\b|\balso\b|\bexcluding\b|\bexcept(?: for)?\b|"
                    r"\bleaving out\b|\bapart from\b|\bother than\b|\bminus\b)\s*")


@dataclass(frozen=True, slots=True)
class Slot:
    """One condition of the demand with its alternative readings, best first."""

    phrase: str
    options: tuple[Condition, ...]
    start: int = 0  # position in the clause, to keep reading order
    wrap_not: bool = False  # the condition is excluded: NOT (...)


@dataclass(slots=True)
class LinkedClause:
    """The slots one clause yields, and what joins it to the previous clause."""

    text: str
    connective: str  # "and" | "or" (to the previous clause)
    negated: bool
    slots: list[Slot] = field(default_factory=list)
    leftover: str = ""  # words no cue explained
    vague: list[tuple[str, str]] = field(default_factory=list)  # (phrase, numeric key) named without a threshold
    sep: str = ""  # the separator words before this clause (",", "or", "; or", ...)
    excluded: bool = False  # "excluding gold members who live in shanghai": NOT (all of its slots together)
    group: int | None = None  # the demand's explicitly bracketed group this clause is in
    # (phrase, closest key or None) whose negation scope the linker is not sure of: left out, reported
    unsure: list[tuple[str, str | None]] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # phrases reported as unresolved though the clause has slots
    lead: str = ""  # exclusion words taken off its start ("skip anyone"): who the clause is about

    def first_condition(self) -> Condition | None:
        """The best reading of the clause's first slot."""
        return self.slots[0].options[0] if self.slots else None


@dataclass(slots=True)
class Linking:
    """Everything the linker found in one demand."""

    demand: str
    text: str  # normalised
    clauses: list[LinkedClause]
    unresolved: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # phrase, candidate keys
    either: bool = False  # "either A and B or C": the "or" is the top-level connective

    @property
    def slots(self) -> list[Slot]:
        return [s for c in self.clauses for s in c.slots]

    @property
    def keys(self) -> list[str]:
        return list(dict.fromkeys(o.key for s in self.slots for o in s.options))


def split_clauses(text: str) -> list[tuple[str, str, str, int | None]]:
    """(connective to the previous clause, the separator words, clause text, bracketed group or None)."""
    parts: list[tuple[str, str, str, int | None]] = []
    seps: list[str] = []
    group: int | None = None
    count = 0

    def add(piece: str) -> None:
        if piece.strip():
            parts.append(("or" if "or" in seps else "and", " ".join(seps), " ".join(piece.split()), group))
            seps.clear()

    for token in re.split(f"({GROUP_OPEN}|{GROUP_CLOSE})", text):
        if token in (GROUP_OPEN, GROUP_CLOSE):  # a bracket ends the clause before it
            group, count = (count, count + 1) if token == GROUP_OPEN else (None, count)
            continue
        pos = 0
        for m in _SPLIT.finditer(token):
            # "plus and premium members": a connective word opening the demand and followed at once by
            # another connective is a word of the demand (a plan, a level), not a connective
            following = _SPLIT.match(token, m.end())
            if (not parts and not seps and m.start() == 0 and m.group(0).strip().isalpha()
                    and following is not None and following.group(0).strip()):
                continue
            add(token[pos:m.start()])
            seps.append(m.group(0).strip())
            pos = m.end()
        add(token[pos:])
    return parts


def _int_range(prev: LinkedClause | None, c: LinkedClause, features: dict[str, Feature]) -> Condition | None:
    """"third or fourth tier" (two Equal To of one whole-number key, adjacent values) → Between."""
    if prev is None or not c.slots or not prev.slots or c.leftover.strip() or c.negated:
        return None
    a, b = prev.slots[-1].options[0], c.slots[0].options[0]
    if a.key != b.key or b.op != Op.EQUAL_TO or a.op not in (Op.EQUAL_TO, Op.BETWEEN):
        return None
    try:
        nums = [float(x) for x in (*a.value.split(","), b.value)]
    except ValueError:
        return None
    lo, hi = min(nums), max(nums)
    coded = features[b.key].dtype == DType.INT and bool(features[b.key].value_aliases)  # codes named by words
    if hi - lo + 1 != len(set(nums)) or not coded:
        return None
    return Condition(a.key, Op.BETWEEN, f"{format_number(lo)},{format_number(hi)}")


def _rest(c: LinkedClause, features: dict[str, Feature]) -> str:
    """The clause's unread words, less words of its first key's own name ("xiaomi and other brands")."""
    if not c.slots:
        return c.leftover.strip()
    names = {w[:5] for w in c.slots[0].options[0].key.split("_") if len(w) >= 4}
    return " ".join(w for w in c.leftover.split() if w[:5] not in names)


# words that may come before a list item without ending the list ("sweden or the netherlands")
_LEAD = re.compile(r"(?:(?:the|a|an|in|on|at|from|via|by|to|into|of)\s+)*")
_RELATIVE = re.compile(r"(?:who|whose|that|which)\b")


def _agree_on_key(prev: LinkedClause, c: LinkedClause, features: dict[str, Feature]) -> None:
    """"smart TV or console viewers": a word that is a value of two features ("smart tv": a device, a sign-up
    channel) is read as the feature its list partner has ("console": a device only). Values only: two numbers
    side by side are two conditions, not a list."""
    a, b = prev.slots[-1], c.slots[0]
    listed = (DType.CATEGORY, DType.STRING_SET)
    if a.options[0].key == b.options[0].key or any(features[o.key].dtype not in listed
                                                   for o in (*a.options, *b.options)):
        return
    if any(o.key == a.options[0].key for o in b.options[1:]):
        c.slots[0] = Slot(b.phrase, _first_for(b.options, a.options[0].key), b.start, b.wrap_not)
    elif any(o.key == b.options[0].key for o in a.options[1:]):
        prev.slots[-1] = Slot(a.phrase, _first_for(a.options, b.options[0].key), a.start, a.wrap_not)


def _first_for(options: tuple[Condition, ...], key: str) -> tuple[Condition, ...]:
    return tuple(sorted(options, key=lambda o: o.key != key))


def _merge_lists(clauses: list[LinkedClause], features: dict[str, Feature], either: bool = False
                 ) -> list[LinkedClause]:
    """"in beijing, shanghai or shenzhen" → one clause with one list-valued slot; not after "either" when the
    "or" item is qualified further ("either private clients, or premier clients with a brokerage account")."""
    out: list[LinkedClause] = []
    for i, c in enumerate(clauses):
        nxt = clauses[i + 1] if i + 1 < len(clauses) else None
        qualified = len(c.slots) > 1 or (nxt is not None and nxt.slots and nxt.connective == "and"
                                         and bool(re.fullmatch(r"who|whose|that|which|with", nxt.sep)))
        if either and c.connective == "or" and "," in c.sep and qualified:
            out.append(c)
            continue
        prev = out[-1] if out else None
        tiers = _int_range(prev, c, features)
        if tiers is not None and prev is not None:
            prev.slots[-1] = Slot(f"{prev.slots[-1].phrase}, {c.slots[0].phrase}", (tiers,), prev.slots[-1].start,
                                  prev.slots[-1].wrap_not)
            prev.slots.extend(c.slots[1:])
            continue
        # A clause that starts with another value of the previous key continues its list, whatever follows
        # ("in shanghai or hangzhou using iphones" is (shanghai or hangzhou) and iphones), unless it is a
        # relative clause: "pet holders who also have home or renters cover" adds a condition, not an item.
        rest = _rest(c, features)
        leads = bool(c.slots) and _LEAD.fullmatch(c.text[:c.slots[0].start]) is not None  # "or the netherlands"
        if prev is not None and prev.slots and leads and not _RELATIVE.match(c.sep):
            _agree_on_key(prev, c, features)
        if (prev is not None and c.slots and prev.slots and (not rest or leads)
                and not _RELATIVE.match(c.sep) and c.group == prev.group
                and (c.excluded == prev.excluded or prev.excluded and not rest)
                and (c.negated == prev.negated or not c.negated
                     or not prev.negated and c.slots[0].options[0].op in (Op.EQUAL_TO, Op.CONTAINS_ANY))
                and c.slots[0].options[0].key == prev.slots[-1].options[0].key
                and c.slots[0].options[0].op in (Op.EQUAL_TO, Op.NOT_EQUAL_TO, Op.BELONGS_TO, Op.NOT_BELONGS_TO,
                                                 Op.CONTAINS_ANY, Op.CONTAINS_NONE)
                and prev.slots[-1].options[0].op in (Op.EQUAL_TO, Op.NOT_EQUAL_TO, Op.BELONGS_TO,
                                                     Op.NOT_BELONGS_TO, Op.CONTAINS_ANY, Op.CONTAINS_ALL,
                                                     Op.CONTAINS_NONE)
                and features[c.slots[0].options[0].key].dtype in (DType.CATEGORY, DType.STRING_SET)):
            last = prev.slots[-1].options[0]
            new = c.slots[0].options[0]
            items = list(dict.fromkeys([*last.value.split(","), *new.value.split(",")]))
            f = features[last.key]
            negated = prev.negated or last.op in (Op.NOT_EQUAL_TO, Op.NOT_BELONGS_TO, Op.CONTAINS_NONE)
            if f.dtype == DType.STRING_SET:
                if negated:
                    op = Op.CONTAINS_NONE
                elif c.connective == "or":  # "baby items, home goods, or sports gear": any of them
                    op = Op.CONTAINS_ANY
                elif re.search(r"\band\b", c.sep):
                    op = Op.CONTAINS_ALL
                else:
                    op = last.op if last.op in (Op.CONTAINS_ANY, Op.CONTAINS_ALL) else Op.CONTAINS_ANY
                if len(items) == 1:
                    op = Op.CONTAINS_NONE if negated else Op.CONTAINS_ANY
                alt = Op.CONTAINS_ANY if op == Op.CONTAINS_ALL else Op.CONTAINS_ALL
                options: tuple[Condition, ...] = (Condition(last.key, op, ",".join(items)),)
                if not negated and len(items) > 1:
                    options += (Condition(last.key, alt, ",".join(items)),)
            else:
                op = Op.NOT_BELONGS_TO if negated else Op.BELONGS_TO
                options = (Condition(last.key, op, ",".join(items)),)
            prev.slots[-1] = Slot(f"{prev.slots[-1].phrase}, {c.slots[0].phrase}", options, prev.slots[-1].start,
                                  prev.slots[-1].wrap_not)
            prev.slots.extend(c.slots[1:])
            continue
        out.append(c)
    return out


def _bind_relative(clauses: list[LinkedClause]) -> list[LinkedClause]:
    """A relative clause describes the clause before it: "gold members who are women ..., or platinum members
    who are men ..." is (gold AND women ...) OR (platinum AND men ...). Not when a bare "or" follows: in
    "women who have insurance or a credit card" the "or" belongs inside the relative clause."""
    out: list[LinkedClause] = []
    for i, c in enumerate(clauses):
        prev = out[-1] if out else None
        seps: list[str] = []
        conn = "and"  # how the next clause that names something is joined ("with us or have ...")
        for nxt in clauses[i + 1:]:
            seps.append(nxt.sep)
            conn = "or" if nxt.connective == "or" else conn
            if nxt.slots:
                break
        inner_or = conn == "or" and not re.search(r"[,;]", " ".join(seps))
        if (prev is not None and prev.slots and c.slots and not prev.excluded and not c.excluded and not inner_or
                and not _shared_relative(out, c)
                and c.group == prev.group
                and (re.fullmatch(r"who|whose|that|which", c.sep)
                     # "investors or insurance holders with high income": "with" qualifies the whole "or"
                     or c.sep == "with" and not (prev.connective == "or" and "," not in prev.sep))):
            prev.slots.extend(c.slots)
            prev.leftover = f"{prev.leftover} {c.leftover}".strip()
            prev.vague.extend(c.vague)
            prev.unsure.extend(c.unsure)
            prev.unread.extend(c.unread)
            continue
        out.append(c)
    return out


def _shared_relative(out: list[LinkedClause], c: LinkedClause) -> bool:
    """"anyone in the West region or in Texas who prefers the app": after an "or" between two bare values
    (one condition each, nothing else said) the relative clause describes both; it is not bound to the last."""
    if len(out) < 2 or not _RELATIVE.match(c.sep):
        return False
    a, b = out[-2], out[-1]
    return (b.connective == "or" and "," not in b.sep and len(a.slots) == len(b.slots) == 1
            and not b.leftover.strip() and not a.leftover.strip() and a.group == b.group == c.group
            and not a.excluded and not b.excluded and a.connective == "and")


def _union_on_conflict(clauses: list[LinkedClause], features: dict[str, Feature]) -> list[LinkedClause]:
    """A clause naming another value of a one-valued feature the audience already has starts a second audience:
    "low-income users with ..., plus medium-income users who ..." cannot be low AND medium income, so it is OR."""
    seen: dict[str, str] = {}
    for c in clauses:
        if c.connective == "or":
            seen = {}
        first = c.first_condition()
        if (c.connective == "and" and first and first.op == Op.EQUAL_TO and first.key in seen and not c.excluded
                and seen[first.key] != first.value and features[first.key].dtype == DType.CATEGORY):
            c.connective, seen = "or", {}
        for sl in c.slots:
            o = sl.options[0]
            if o.op == Op.EQUAL_TO and not sl.wrap_not and not c.excluded:
                seen.setdefault(o.key, o.value)
    return clauses


def _drop_subsumed(clauses: list[LinkedClause]) -> list[LinkedClause]:
    """"Breakfast lovers: favourite cuisine is breakfast or coffee": in an all-AND demand, a value already
    inside a list of the same key says nothing more."""
    if any(c.connective == "or" for c in clauses[1:]) or any(c.excluded for c in clauses):
        return clauses
    lists = {(o.key, v) for c in clauses for sl in c.slots for o in sl.options[:1]
             if o.op in (Op.BELONGS_TO, Op.CONTAINS_ANY) and "," in o.value and not sl.wrap_not
             for v in o.value.split(",")}
    for c in clauses:
        c.slots = [sl for sl in c.slots if not (not sl.wrap_not
                                                and sl.options[0].op in (Op.EQUAL_TO, Op.CONTAINS_ANY)
                                                and "," not in sl.options[0].value
                                                and (sl.options[0].key, sl.options[0].value) in lists)]
    return clauses


def _drop_restated(clauses: list[LinkedClause]) -> list[LinkedClause]:
    """"no life policy of any kind (term or whole)", "on mobile (app or mobile web)": a bracketed group that
    only names values of the list just before it restates that list; it adds no condition (nor an "or")."""
    for i, c in enumerate(clauses):
        if c.group is None or (i and clauses[i - 1].group == c.group):
            continue
        members = [d for d in clauses[i:] if d.group == c.group]
        prev = next((d for d in reversed(clauses[:i]) if d.slots), None)
        if prev is None or not any(d.slots for d in members):
            continue
        head = prev.slots[-1].options[0]
        named = {v for d in members for sl in d.slots for v in sl.options[0].value.split(",")
                 if sl.options[0].key == head.key}
        if all(sl.options[0].key == head.key for d in members for sl in d.slots) and named <= set(
                head.value.split(",")):
            for d in members:
                d.slots, d.connective, d.leftover = [], "and", ""
    return clauses


def restructure(clauses: list[LinkedClause], features: dict[str, Feature], either: bool = False
                ) -> list[LinkedClause]:
    """Lists merged, restated brackets dropped, relative clauses bound to their audience, conflicting values
    split into a union."""
    merged = _drop_restated(_merge_lists(clauses, features, either))
    return _drop_subsumed(_union_on_conflict(_bind_relative(merged), features))
