"""Polarity audit: does each condition include or exclude what the demand's words around it say?

An inverted audience (the opposite of what was asked, with no warning) is the worst error a parser can
make. The linker decides polarity clause by clause; the model-resolved conditions take the polarity of
their phrase read alone. This audit looks again, after a reading is chosen, at the words around the phrase
each condition came from (the reasoning chain's ``phrase~key`` mapping, located in the normalised demand)
and compares what they say with the condition:

* **an exclusion after the phrase** ("customers already opted in to X are excluded"): the group the sentence
  names is left out; with one condition in that sentence it is negated, with several (``NOT (A AND B)`` or
  ``NOT A AND NOT B``?) they are dropped and the sentence reported;
* **an exclusion before the phrase** ("skip anyone on hardship or life support") covering a condition no
  linker clause read (a model-resolved phrase): negated when it only continues a list the linker excluded,
  dropped and reported otherwise;
* **a negation before an "or"** ("who don't have a watch or tracker connected"): the next item of the negated
  list is negated (neither A nor B); when other words stand between the "or" and the phrase, or the "or" was
  read as a union of audiences, the condition is dropped and the words reported;
* **antonyms by English morphology** between the demand's word and the key's own name ("paper bills" and
  ``paperless_billing``; "active" and ``inactive_...``): the phrase means the key's opposite, so the
  condition's polarity is that of the phrase's own negation, flipped;
* **words that say the thing stopped or is absent**: "stopped", "cancelled", "yet to" before the phrase, "-free"
  / "-less" right after it, "not <the key's own state word>" after it ("autopay not enrolled"), a value
  written after the feature ("smart meter: no");
* **exclusion headings** of a brief ("Exclude:", "Exclusions:", "Do not include:", "Suppress ..."): each listed
  item with one condition is negated, and a condition just before the heading that took its negation by
  mistake is turned back;
* **a negation over words no condition came from** ("(not on hardship)" with nothing read there): reported.

Fixed conditions are rewritten; dropped ones are reported in ``unresolved`` (with the closest keys, the
dropped key first) rather than guessed. Numeric thresholds are left alone (their comparative words decide
their direction). A source-side helper sits here too: :func:`unattached_numbers` reports a number the
linker read but could not attach to any key, which would otherwise vanish without a word (a value that
starts with "non-", "non-binary", is kept from reading as a negation by ``_linkrules.spell_negative_values``).

Nothing here names a catalog feature or value; the words are generic English.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

from features.catalog import Catalog, DType
from models.targeting.logic import (
    And,
    Condition,
    Expr,
    Not,
    Op,
    Or,
    ParseResult,
    ReasoningChain,
    UnresolvedPhrase,
    canonical,
    normalize,
    signed_conditions,
)
from models.targeting.parser._clauses import LinkedClause, Linking
from models.targeting.parser._linkrules import EXCLUDE, NEGATION

__all__ = ["PolarityFix", "audit_polarity", "unattached_numbers"]

# Reports an unresolved phrase: (label, phrase, the key to list first) → the phrase with its closest keys.
Report = Callable[[str, str, str | None], UnresolvedPhrase]

_SENTENCE = re.compile(r"[.;!?\n]+(?!\d)")
# "... are excluded", "... should be left out", "... don't qualify": the group named before it is left out
_EXCLUDED_AFTER = re.compile(
    r"\b(?:(?:are|is|were|was|be|being|get|gets|should be|must be|will be|to be)\s+(?:all\s+)?"
    r"(?:excluded|removed|left out|filtered out|taken out|dropped|suppressed|ineligible|not eligible|out of scope)"
    r"|(?:do|does|should|must|will|can) not (?:qualify|be (?:included|targeted|contacted))"
    r"|are not (?:included|eligible|in scope))\b")
# between an exclusion word and a phrase it may cover: nothing but who, how the list goes on, small words
_LIST_ONLY = re.compile(r"(?:\s|,|\bor\b|\band\b|\bnor\b|\banyone\b|\banybody\b|\bthose\b|\bwho\b|\bis\b|\bare\b|"
                        r"\bon\b|\bin\b|\bwith\b|\bof\b|\ba\b|\ban\b|\bthe\b|\bany\b)*")
_NEGATED_OR = 6  # words between a negation and an "or" that may carry it over to the phrase after the "or"
_DETERMINERS = re.compile(r"\s*(?:(?:a|an|the|any|their|his|her|its|our)\s+)*")
# something stopped, or has not happened yet: the state the phrase names does not hold now
_CEASED = re.compile(r"\b(?:stopped|quit|ceased|gave up|given up|cancell?ed|dropped|ended|uninstalled|removed|"
                     r"deleted|deactivated|unsubscribed(?: from)?|(?:has |have )?yet to)\b")
# "- smart meter: no", "solar = yes": a yes/no feature's value written after it
_STATED = re.compile(r"\s*[:=]\s*(no|none|false|off|n|nope|never|yes|true|on|y)\b")
_STATED_NO = ("no", "none", "false", "off", "n", "nope", "never")
# a heading that lists who to leave out ("Exclude:", "Exclusions:", "Do not include:"), or "Suppress ..." opening
# a sentence; its list runs to the next heading of another kind or the end of the sentence
_EXCLUSION_HEADING = re.compile(r"\b(?:exclude|excluding|exclusions?|do not include|not including|suppress(?:ions?)?"
                                r"(?: list)?|leave out|omit|except|do not target|out of scope)\s*:"
                                r"|(?:^|[.!?]\s*)suppress(?:ing)?\b")
_NEXT_HEADING = re.compile(r"[.!?](?!\d)|\b(?:target|audience|include|who|segment|goal|offer|channel|message|"
                           r"timing|notes?|send|budget|kpi)\s*:")
_HEADING_GAP = 40  # characters between a condition and the heading after it whose negation it may have taken
_CEASED_GAP = 4  # words between such a word and the phrase it is about
_ANTONYM_PREFIXES = ("non", "un", "in", "dis")
_ADJECTIVE = re.compile(r"(?:ed|ive|id|ete|ful|able|ible|al|ar|ent|ant)$")  # endings a prefix negates
# "... or west users": the item after an "or" names people, so the "or" joins audiences
_AUDIENCE_AFTER = re.compile(r"\s+(?:users?|customers?|people|persons?|clients?|members?|subscribers?|accounts?|"
                             r"shoppers?|buyers?|households?|holders?|owners?|ones)\b")
# right after the phrase: "autopay not enrolled", "wearable is not connected"
_NOT_AFTER = re.compile(r"\s+(?:is |are |was |were )?(?:not|never) ([a-z]{4,})")
# right after a yes/no or count phrase: "claim-free", "claim-less" say the thing is absent ("free-plan" does not)
_WITHOUT_AFTER = re.compile(r"-(free|less)\b(?!-)")
# a number stated as a threshold or a range ("aged 30-45", "more than 30", "bigger than 6.6"), not a bare
# number inside a name ("5g", "q3", "a 20-character title")
_THRESHOLD = re.compile(r"\b(?:more|less|fewer|greater|bigger|smaller|higher|lower|over|under|above|below|at least|"
                        r"at most|up to|between|aged?|exactly)\b[^\d]{0,12}\d|\d+(?:\.\d+)?\s*(?:-|to)\s*\d")
# "at least one spin class": presence, which the condition the clause did read already says
_PRESENCE = re.compile(r"\b(?:at least|more than|over) 0\b|\bat least 1\b|\b1 or more\b")
_NOTE_NEGATION = "not sure what the negation covers"
_NOTE_EXCLUSION = "not sure what the exclusion covers"
_NOTE_CEASED = "stopped or not yet: not sure what it leaves"


@dataclass(frozen=True, slots=True)
class PolarityFix:
    """What the audit did to one condition: ``"negated"`` (rewritten) or ``"dropped"`` (reported)."""

    condition: str
    action: str
    why: str


# -- source-side helpers --------------------------------------------------------------------------------


def unattached_numbers(clause: LinkedClause) -> list[str]:
    """Number expressions of a clause that no key took ("account holders aged 30-45 living in houses" with no
    key for "aged"): with other conditions in the clause they would otherwise be dropped silently."""
    if not clause.slots:
        return []  # a clause with nothing read is reported whole
    return [part.strip() for part in re.split(r"\s{2,}", clause.leftover)
            if _THRESHOLD.search(part) and not _PRESENCE.search(part)]


# -- the audit ------------------------------------------------------------------------------------------


def _excludes(cond: Condition, negated: bool, catalog: Catalog) -> bool | None:
    """Whether the condition, with its NOTs, leaves people out (``= false``, ``Not Equal To``, no presence);
    None for a numeric threshold, whose comparative words decide its direction."""
    dtype = catalog.features[cond.key].dtype
    if dtype == DType.BOOL:
        return negated != (cond.value == "false")
    if dtype in (DType.CATEGORY, DType.STRING_SET):
        return negated != (cond.op in (Op.NOT_EQUAL_TO, Op.NOT_BELONGS_TO, Op.CONTAINS_NONE))
    if cond.op == Op.GREATER_THAN and cond.value == "0":
        return negated
    if cond.op == Op.EQUAL_TO and cond.value == "0":
        return not negated
    return None


def _sentence(text: str, at: int) -> tuple[int, int]:
    """The span of the sentence (or bulleted line) holding position ``at``."""
    start, end = 0, len(text)
    for m in _SENTENCE.finditer(text):
        if m.end() <= at:
            start = m.end()
        elif m.start() >= at:
            end = m.start()
            break
    return start, end


def _locate(text: str, phrase: str, taken: set[int]) -> tuple[int, int] | None:
    """The first place of ``phrase`` in ``text`` not used by an earlier condition (merged lists part by part)."""
    parts = [p for p in phrase.split(", ") if p.strip()]
    if not parts:
        return None
    first = re.compile(rf"(?<![a-z0-9]){re.escape(parts[0])}(?![a-z0-9])")
    hits = [m for m in first.finditer(text)]
    for m in sorted(hits, key=lambda h: h.start() in taken):
        end = m.end()
        for part in parts[1:]:
            nxt = re.compile(rf"(?<![a-z0-9]){re.escape(part)}(?![a-z0-9])").search(text, end)
            end = nxt.end() if nxt else end
        return m.start(), end
    return None


def _antonym(phrase: str, key: str) -> bool:
    """The phrase says a word whose opposite the key's name says ("paper" / ``paperless_billing``, "active" /
    ``inactive_days``), or the reverse, and not the key's own word. A prefix counts only on an adjective or a
    participle ("inactive", "unpaid", "unverified"), never on a noun that merely starts so ("discount")."""
    named = set(key.lower().split("_"))
    said = set(re.findall(r"[a-z]{3,}", phrase)) - named  # the key's own words ("paperless") say nothing opposite
    for w in said:
        if f"{w}less" in named or w.endswith("less") and w[:-4] in named:  # "ink" / "inkless"
            return True
        for p in _ANTONYM_PREFIXES:
            stem, prefixed = (w[len(p):], w) if w.startswith(p) else (w, f"{p}{w}")
            if len(stem) >= 4 and _ADJECTIVE.search(stem) and (stem in named if prefixed == w else prefixed in named):
                return True
    return False


def _negated_locally(text: str, clause_start: int, end: int) -> bool:
    """A negation word in the phrase, or between its clause's start and the phrase ("still no paper bills")."""
    return bool(NEGATION.search(text[clause_start:end]))


class _Audit:
    def __init__(self, result: ParseResult, linking: Linking, catalog: Catalog, report: Report) -> None:
        assert result.logic is not None
        self.result = result
        self.text = linking.text
        self.catalog = catalog
        self.report = report
        self.slot_phrases = {s.phrase for s in linking.slots}
        chain = ReasoningChain.from_steps(result.reasoning)
        self.mapping = list(chain.mapping)
        self.chain = chain
        self.leftover = {w for c in linking.clauses if c.slots for w in c.leftover.split()}
        # the catalog's own word for its people ("riders", "policyholders") names an audience too
        names = "|".join(re.escape(e.lower().replace("_", " ")) for e in catalog.entities) or "users"
        self.entity_after = re.compile(rf"\s+(?:{names})s?\b")
        self.fixes: list[PolarityFix] = []
        self.reported: list[UnresolvedPhrase] = []
        # every located source phrase: (start, end, key, from a linker slot)
        self.sources: list[tuple[int, int, str, bool]] = []
        taken: set[int] = set()
        for phrase, key in self.mapping:
            where = _locate(self.text, phrase, taken)
            if where is not None:
                taken.add(where[0])
                self.sources.append((*where, key, phrase in self.slot_phrases))

    def _report(self, note: str, start: int, end: int, key: str | None) -> None:
        phrase = re.sub(r"\s+", " ", self.text[start:end]).strip(" ,:-")
        if phrase and all(u.phrase.split(" (")[0] != phrase for u in (*self.result.unresolved, *self.reported)):
            self.reported.append(self.report(f"{phrase} ({note})", phrase, key))

    def verdict(self, cond: Condition, negated: bool, in_or: bool) -> tuple[str, str] | None:
        """("negate" | "drop", why) when the words around the condition's phrase disagree with it."""
        excludes = _excludes(cond, negated, self.catalog)
        if excludes is None:  # a threshold: only a heading's list says it is left out, and only when not yet NOT
            return next((found for start, end, key, _ in self.sources if key == cond.key
                         and (found := self._headed(start, end, key, negated)) is not None), None)
        for start, end, key, from_slot in self.sources:
            if key != cond.key:
                continue
            s_lo, s_hi = _sentence(self.text, start)
            in_sentence = [src for src in self.sources if s_lo <= src[0] < s_hi]
            after = self.text[end:s_hi]
            said = _STATED.match(after)  # "smart meter: no", "solar = yes"
            if said is not None and self.catalog.features[cond.key].dtype == DType.BOOL:
                if (said.group(1) in _STATED_NO) != excludes:
                    return "negate", f"'{self.text[start:end]}{said.group(0)}' states the value"
                continue
            state = _NOT_AFTER.match(self.text, end)
            if (state is not None and self.catalog.features[cond.key].dtype == DType.BOOL and not excludes
                    and any(state.group(1).startswith(w) or w.startswith(state.group(1)[:5])
                            for w in cond.key.lower().split("_") if len(w) >= 3)):
                return "negate", f"'{self.text[start:end]}{state.group(0)}' negates the key's own state"
            found = self._headed(start, end, cond.key, excludes)
            if found is not None:
                return found
            m = _EXCLUDED_AFTER.search(after)
            if m is not None and not excludes:
                before_cue = [src for src in in_sentence if src[0] < end + m.start()]
                if len({src[2] for src in before_cue}) == 1:
                    return "negate", f"'{self.text[start:end]}' is in a group the demand excludes ('{m.group(0)}')"
                self._report(_NOTE_EXCLUSION, s_lo, end + m.end(), cond.key)
                return "drop", f"'{m.group(0)}' covers several conditions"
            lead = [x for x in EXCLUDE.finditer(self.text, s_lo, start)]
            if lead and not from_slot and not excludes:
                between = self.text[lead[-1].end():start]
                for src in in_sentence:  # words of conditions the linker already excluded are part of the list
                    if lead[-1].end() <= src[0] < start:
                        between = between.replace(self.text[src[0]:src[1]], " ")
                if _LIST_ONLY.fullmatch(between):
                    return "negate", f"'{self.text[start:end]}' continues the list after '{lead[-1].group(0)}'"
                self._report(_NOTE_EXCLUSION, lead[-1].start(), end, cond.key)
                return "drop", f"'{lead[-1].group(0)}' may cover '{self.text[start:end]}'"
            clause_lo = max([s_lo, *(src[1] for src in in_sentence if src[1] <= start)])
            listed = None if excludes else self._negated_or(s_lo, start, end)
            if listed is not None:
                neg = [x for x in NEGATION.finditer(self.text, s_lo, start)][-1]
                if listed == "negate" and not in_or:  # an "or" inside the negated list joined no audiences
                    return "negate", f"'{self.text[start:end]}' is the next item of the list '{neg.group(0)}' negates"
                self._report(_NOTE_NEGATION, neg.start(), end, cond.key)
                return "drop", f"'{neg.group(0)} ... or' may cover '{self.text[start:end]}'"
            ceased = None if excludes else self._ceased(clause_lo, start, cond.key)
            if ceased is not None:
                if self.catalog.features[cond.key].dtype == DType.BOOL:
                    return "negate", f"'{ceased}' says {cond.key} no longer holds"
                self._report(_NOTE_CEASED, self.text.rfind(ceased, clause_lo, start), end, cond.key)
                return "drop", f"'{ceased}' before '{self.text[start:end]}'"
            without = _WITHOUT_AFTER.match(self.text, end)  # "claim-free", "debt free", "claim-less"
            if (without is not None and not excludes and without.group(1) not in cond.key.lower().split("_")
                    and self.catalog.features[cond.key].dtype not in (DType.CATEGORY, DType.STRING_SET)):
                return "negate", f"'{self.text[start:end]}{without.group(0)}' says without it"
            if _antonym(self.text[start:end], cond.key):
                want = not _negated_locally(self.text, clause_lo, end)
                if want != excludes:
                    return "negate", f"'{self.text[start:end]}' names the opposite of {cond.key}"
        return None

    def _headed(self, start: int, end: int, key: str, excludes: bool) -> tuple[str, str] | None:
        """An exclusion heading ("Exclude:", "Exclusions:", "Do not include:", "Suppress ...") and the phrase: in its
        list, an including condition alone in its item is negated (one in an item with other conditions is
        dropped: ``NOT (A AND B)`` or each?); just before it, an excluding condition whose words say no
        negation took the heading's by mistake and is turned back."""
        for h in _EXCLUSION_HEADING.finditer(self.text):
            if h.end() <= end:  # the heading before the phrase, or opening it ("exclusions: battery owners")
                at = max(start, h.end())
                stop = _NEXT_HEADING.search(self.text, h.end())
                if at >= (stop.start() if stop else len(self.text)) or excludes:
                    continue
                lo, hi = _item(self.text, at, h.end())
                if len({src[2] for src in self.sources if src[0] < hi and lo < src[1]}) == 1:
                    return "negate", f"'{self.text[start:end]}' is listed under '{h.group(0).strip(' .;')}'"
                self._report(_NOTE_EXCLUSION, lo, hi, key)
                return "drop", f"'{h.group(0).strip(' .;')}' lists several conditions together"
            if excludes and end <= h.start():
                s_lo = _sentence(self.text, start)[0]
                own = self.text[s_lo:h.start()]
                if (h.start() - end < _HEADING_GAP and not NEGATION.search(own) and not EXCLUDE.search(own)
                        and not _antonym(self.text[start:end], key) and not re.search(r"\w(?:less|free)\b", own)):
                    return "negate", f"the negation of '{h.group(0).strip(' .;')}' does not reach back to " \
                                     f"'{self.text[start:end]}'"
        return None

    def _unread_negations(self) -> None:
        """A negation followed by words no condition came from and the linker left unread ("customers in QLD with
        solar (not on hardship)"): the exclusion would vanish without a word, so the words are reported."""
        for m in NEGATION.finditer(self.text):
            words = list(re.finditer(r"[a-z][a-z'-]*", self.text[m.end():m.end() + 60]))[:_NEGATED_OR]
            unread = [w for w in words if w.group(0) in self.leftover]
            if not unread:
                continue
            end = m.end() + unread[0].end()
            reach = m.end() + words[-1].end()
            if any(m.start() <= src[1] and src[0] < reach for src in self.sources):
                continue  # a condition read within its reach took the negation (or the words are its own)
            self._report(_NOTE_NEGATION, m.start(), end, None)

    def _negated_or(self, s_lo: int, start: int, end: int) -> str | None:
        """A negation shortly before the phrase, then an "or": ``"negate"`` when the phrase is the next item of
        the negated list ("don't have a watch or tracker", "no battery or solar": neither), ``"drop"`` when
        other words stand between the "or" and the phrase and no condition between took the negation (its
        scope cannot be told), else None."""
        negs = [x for x in NEGATION.finditer(self.text, s_lo, start)]
        if not negs:
            return None
        between = self.text[negs[-1].end():start]
        joints = list(re.finditer(r"\b(?:or|nor)\b", between))
        if not joints or len(between.split()) > _NEGATED_OR:
            return None
        if _AUDIENCE_AFTER.match(self.text, end) or self.entity_after.match(self.text, end):
            return None  # "without an EV or west users": the "or" opens another audience
        if _DETERMINERS.fullmatch(between[joints[-1].end():]):
            return "negate"
        # a condition read between the negation and the phrase took the negation ("no kids, or ...")
        took = any(negs[-1].end() <= src[0] < start for src in self.sources)
        return None if took else "drop"

    def _ceased(self, clause_lo: int, start: int, key: str) -> str | None:
        """A word saying something stopped or has not happened yet shortly before the phrase ("stopped paying by
        direct debit", "cancelled their add-on", "yet to install"), unless it is a word of the key's own name
        ("dropped calls")."""
        named = set(key.lower().split("_"))
        for m in reversed(list(_CEASED.finditer(self.text, clause_lo, start))):
            gap = self.text[m.end():start]
            if len(gap.split()) <= _CEASED_GAP and not set(m.group(0).split()) & named and not NEGATION.search(gap):
                return m.group(0)
        return None

    def run(self) -> ParseResult:
        logic = self.result.logic
        assert logic is not None
        actions: dict[tuple[int, ...], str] = {}
        for cond, negated, path in signed_conditions(logic):
            found = self.verdict(cond, negated, _in_or(logic, path))
            if found is not None:
                actions[path] = found[0]
                self.fixes.append(PolarityFix(("NOT " if negated else "") + str(cond),
                                              "negated" if found[0] == "negate" else "dropped", found[1]))
        self._unread_negations()
        if not actions:
            if not self.reported:
                return self.result
            return dataclasses.replace(self.result, unresolved=[*self.result.unresolved, *self.reported])
        new = _rewrite(logic, actions)
        return self._result(normalize(new, self.catalog) if new is not None else None)

    def _result(self, logic: Expr | None) -> ParseResult:
        unresolved = [*self.result.unresolved, *self.reported]
        note = " Polarity audit: " + "; ".join(f"{f.condition} {f.action} ({f.why})" for f in self.fixes) + "."
        if logic is None:
            return ParseResult(None, "", [], unresolved, self.result.explanation + note)
        text = canonical(logic)
        conds = tuple(("NOT " if neg else "") + str(c) for c, neg, _ in signed_conditions(logic))
        chain = ReasoningChain(self.chain.key_phrases, self.chain.mapping, conds, text)
        return dataclasses.replace(self.result, logic=logic, canonical=text, reasoning=chain.steps(),
                                   unresolved=unresolved, explanation=self.result.explanation + note)


def _item(text: str, start: int, lo: int) -> tuple[int, int]:
    """The item of a heading's list holding ``start``: between bullets (" ; "), commas and "or" / "and"."""
    cut = re.compile(r"\s;\s|,|\bor\b|\band\b|[.!?\n](?!\d)")
    before = [m.end() for m in cut.finditer(text, lo, start)]
    after = cut.search(text, start)
    return (before[-1] if before else lo), (after.start() if after else len(text))


def _in_or(expr: Expr, path: tuple[int, ...]) -> bool:
    """The condition at ``path`` is an item of an OR group."""
    parent: Expr = expr
    for i in path:
        while isinstance(parent, Not):
            parent = parent.item
        if isinstance(parent, Or) and i == path[-1] and parent.items:
            return True
        assert isinstance(parent, (And, Or))
        parent = parent.items[i]
    return False


def _rewrite(expr: Expr, actions: dict[tuple[int, ...], str], path: tuple[int, ...] = ()) -> Expr | None:
    """``expr`` with the condition at each path negated or removed (an emptied group goes too)."""
    if isinstance(expr, Condition):
        act = actions.get(path)
        return None if act == "drop" else Not(expr) if act == "negate" else expr
    if isinstance(expr, Not):
        inner = _rewrite(expr.item, actions, path)
        return None if inner is None else Not(inner)
    items = [x for i, item in enumerate(expr.items) if (x := _rewrite(item, actions, (*path, i))) is not None]
    if not items:
        return None
    return items[0] if len(items) == 1 else (And(tuple(items)) if isinstance(expr, And) else Or(tuple(items)))


def audit_polarity(result: ParseResult, linking: Linking, catalog: Catalog, report: Report) -> ParseResult:
    """``result`` with each condition's polarity checked against the demand's words (module docstring):
    negated where they are unambiguous, dropped and reported where they are not."""
    if result.logic is None:
        return result
    return _Audit(result, linking, catalog, report).run()
