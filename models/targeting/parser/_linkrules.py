"""The linker's vocabulary and clause-level rules: negation and comparison words, time windows, filler,
and the small rules that rewrite or judge a clause (shared head nouns, possessive places, an "or" between
unread words, durations in a key's unit). Generic English only; nothing here names a catalog feature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from features.catalog import Feature
from models.targeting.logic import Condition, Op
from models.targeting.parser._clauses import LinkedClause
from models.targeting.parser._lexicon import Lexicon
from models.targeting.parser._preprocess import NUM

__all__ = ["CMP_AFTER", "CMP_BEFORE", "EXCLUDE", "FILLER", "NEGATION", "UNIT_DAYS", "WINDOWS", "Found",
           "convert_time", "distribute_heads", "distribute_states", "is_negative", "is_own_window",
           "number_patterns", "or_between_unread", "overlaps", "possessive", "protect_values", "says_privative_stem",
           "spans", "spell_negative_values"]

NEGATION = re.compile(r"(?<![a-z])(?:not|no|never|non|without|excluding|exclude|except|neither|nor|"
                      r"none|nobody|nothing|zero|empty|lack(?:s|ing)?|other than|apart from|outside|disabled|turned off|"
                      r"switched off|existing|leaving out|leave out)(?![a-z])")
EXCLUDE = re.compile(r"\b(?:excluding|exclude|except(?: for)?|leaving out|leave out|but not|not including|(?:do )?not include|"
                     r"skip(?:ping)?|omit(?:ting)?|filter(?:ing)? out|remove|removing|without counting|"
                     r"apart from|other than|not those|minus|drop(?= (?:users|anyone|people|customers|those|the)))\b(?: (?:those|anyone|users|people|customers|clients|"
                     r"shoppers|buyers|the ones))?")
UNIT_DAYS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "month": 30, "months": 30, "year": 365, "years": 365}
CMP_BEFORE = [
    (r"not (?:more|greater|higher|older|over|above) than|no (?:more|greater|higher|older|bigger|larger) than|"
     r"at most|up to|maximum(?: of)?|<=|=<|"
     r"max|not over|not above|a maximum of|within(?: the (?:last|past))?|in the (?:last|past)|"
     r"(?:last|past)|less than or equal to", Op.LESS_THAN_OR_EQUAL_TO),
    (r"not (?:less|fewer|lower|younger) than|no (?:less|fewer) than|at least|minimum(?: of)?|min|"
     r"a minimum of|greater than or equal to|not under|not below|from|>=|=>", Op.GREATER_THAN_OR_EQUAL_TO),
    (r"more than|greater than|higher than|older than|over|above|exceeding|exceeds?|beyond|"
     r"upwards of|in excess of|longer than|bigger than|larger than|north of|>", Op.GREATER_THAN),
    (r"less than|fewer than|lower than|younger than|under|below|shorter than|smaller than|south of|<",
     Op.LESS_THAN),
    (r"exactly|equal to|equals|=|of", Op.EQUAL_TO),
]
CMP_AFTER = [
    (r"or more|or above|and above|and over|or over|or older|\+|or higher|or greater|plus|and up",
     Op.GREATER_THAN_OR_EQUAL_TO),
    (r"or less|or fewer|or under|and under|or younger|and below|or below|or lower", Op.LESS_THAN_OR_EQUAL_TO),
    (r"ago", None),
]


def number_patterns(units: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Range and single-number patterns; ``units`` adds the catalog's own unit words (currencies, counts)."""
    unit = rf"(?:\s*({units}|days?|weeks?|months?|years?(?: old)?|yo|times|points?))?"
    range_rx = re.compile(rf"(?:between|from|aged|ages)?\s*{NUM}{unit}\s*(?:to|-|–|and|through)\s*{NUM}{unit}")
    number_rx = re.compile(
        rf"(?:(?P<before>{'|'.join(p for p, _ in CMP_BEFORE)})\s+)?(?:the\s+)?{NUM}{unit}"
        rf"(?:\s*(?P<after>{'|'.join(p for p, _ in CMP_AFTER)})(?![a-z]))?")
    return range_rx, number_rx


WINDOWS = [
    (re.compile(r"(?:in|within|during|over|for)? ?(?:the )?(?:last|past|previous|recent) (?:30 days|1 month|month)|"
                r"this month|last month|past month|monthly"), 30),
    (re.compile(r"(?:in|within|during|over|for)? ?(?:the )?(?:last|past|previous) (?:7 days|1 week|week)|this week|"
                r"last week|past week|weekly"), 7),
    (re.compile(r"(?:in|within|during|over|for)? ?(?:the )?(?:last|past|previous) (?:90 days|3 months|quarter)|"
                r"this quarter|last quarter|past quarter|recently"), 90),
    (re.compile(r"(?:in|within|during|over|for)? ?(?:the )?(?:last|past|previous)? ?(?:180 days|6 months|half ?a? year)"),
     180),
    (re.compile(r"(?:in|within|during|over|for)? ?(?:the )?(?:last|past|previous) (?:365 days|12 months|1 year|year)|"
                r"this year|last year|past year|yearly|annually"), 365),
]
FILLER = re.compile(r"\b(?:users?|customers?|people|persons?|shoppers?|clients?|buyers?|members?|accounts?|"
                    r"who|whose|are|is|have|has|had|been|be|the|a|an|in|of|for|to|at|on|by|their|them|they|"
                    r"those|these|all|any|some|ones?|than|also|both|either|only|just|please|find|select|"
                    r"target|show|get|give|me|list|want|audience|segment|group|everyone|anyone|do|does|did|"
                    r"and|or|but|with|that|which|from|last|past|days?|products?|items?|goods|stuff|things|"
                    r"category|categories|gadgets?|quarter|month|week|year|yet|so far|cities|city|areas?|regions?|gear|supplies|stuff|lovers?|fans?|buyers?|holders?|owners?|"
                    r"\d+(?:\.\d+)?|currently|recently|within|least|most|"
                    r"more|less|over|under|above|below|not|no|never|made|make|placed|any|ever|still|yet|i|we)\b")


@dataclass(slots=True)
class Found:
    """A feature read at ``text[start:end]`` (with the value it names, for a value word)."""

    key: str
    start: int
    end: int
    value: str | None = None


def spans(rx: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    """The (start, end) of every match of ``rx`` in ``text``."""
    return [(m.start(), m.end()) for m in rx.finditer(text)]


def overlaps(a: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    """The span ``a`` shares a character with one of ``taken``."""
    return any(a[0] < e and s < a[1] for s, e in taken)


def or_between_unread(clauses: list[LinkedClause]) -> None:
    """"women in SH or BJ aged 25-35": when the words on both sides of an "or" are words the linker could not
    read, the "or" joins those two unknowns, not the audiences around them; reading it as a union of the
    clauses would select the opposite of what was asked, so the clauses stay joined by AND and the
    "X or Y" phrase is reported as unresolved."""
    for prev, c in zip(clauses, clauses[1:], strict=False):
        if c.connective != "or" or not prev.leftover or not c.leftover or not c.text.split():
            continue
        last, first = prev.text.split()[-1], c.text.split()[0]
        if last in prev.leftover.split() and first in c.leftover.split():
            c.connective = "and"
            c.unread.append(f"{last} or {first}")


def distribute_heads(text: str, lex: Lexicon) -> str:
    """"credit or debit card", "the video and the music streaming add-ons": a head noun shared by a list is
    written out for each item when "item + head" is a value of the same feature ("credit card")."""
    for cue in lex.value_cues:
        for m in list(cue.pattern.finditer(text)):
            words = m.group(0).split()
            if len(words) < 2:
                continue
            before = re.search(r"\b([a-z0-9][a-z0-9-]*)((?:,| or| and|, or|, and) (?:the |a |an )?)$", text[:m.start()])
            if before is None:
                continue
            head = " ".join(words[1:])
            candidate = f"{before.group(1)} {head}"
            if any(c.key == cue.key and c.value != cue.value and c.pattern.fullmatch(candidate) for c in lex.value_cues):
                text = f"{text[:before.start(1)]}{candidate}{before.group(2)}{text[m.start():]}"
    return text


# the state words a yes/no feature's subject takes after it ("email opted in", "push enabled")
_STATE = (r"(?:(?:is |are )?(?:opted[- ]in|opted[- ]out|enabled|disabled|turned on|turned off|switched on|"
          r"switched off))")


def distribute_states(text: str, lex: Lexicon) -> str:
    """"email or SMS opted in", "push and email enabled": a state word shared by a list of yes/no features'
    subjects is written out for each ("email opted in or sms opted in")."""
    if not lex.state_subjects:
        return text
    subject = "(?:" + "|".join(lex.state_subjects) + ")"
    rx = re.compile(rf"\b({subject})((?:,| or| and|, or|, and) )({subject}) ({_STATE})\b")
    return rx.sub(lambda m: f"{m.group(1)} {m.group(4)}{m.group(2)}{m.group(3)} {m.group(4)}", text)


_CONNECTIVE = re.compile(r"\b(?:with|and|or|who|that|which|but|plus|while|where|also)\b")


def protect_values(text: str, lex: Lexicon) -> str:
    """"lives with family", "salt and pepper": a value whose words include a connective is written as the value
    itself ("lives_with_family") so that splitting the demand into clauses does not cut it."""
    for cue in lex.value_cues:
        if "," in cue.value:
            continue
        for m in reversed(list(cue.pattern.finditer(text))):
            if _CONNECTIVE.search(m.group(0)):
                text = f"{text[:m.start()]}{cue.value.lower()}{text[m.end():]}"
    return text


def spell_negative_values(demand: str, lex: Lexicon) -> str:
    """"non-binary", "no-contract": a catalog value or value alias that starts with a negation word is written
    as the value itself ("non_binary") before the text is normalised, so its "non" negates nothing."""
    lowered = demand.lower()  # same length: positions carry over to the demand as written
    found: list[tuple[int, int, str]] = []
    for cue in lex.value_cues:
        if "," in cue.value:
            continue
        for m in cue.pattern.finditer(lowered):
            if re.match(r"(?:non|no|not)\b", m.group(0)) and not overlaps((m.start(), m.end()),
                                                                        [(s, e) for s, e, _ in found]):
                found.append((m.start(), m.end(), cue.value.lower()))
    for s, e, value in sorted(found, reverse=True):
        demand = f"{demand[:s]}{value}{demand[e:]}"
    return demand


def convert_time(x: float, unit: str, to: str) -> float:
    """A duration from the demand's unit into the key's (months and years by 12, the rest by days)."""
    a, b = unit.rstrip("s"), to.rstrip("s")
    if {a, b} <= {"month", "year"}:
        return x * (12 if a == "year" and b == "month" else 1 / 12 if a == "month" and b == "year" else 1)
    days = {"day": 1, "week": 7, "month": 30, "year": 365}
    return round(x * days.get(a, 1) / days.get(b, 1), 2)


def possessive(text: str, first: Found, second: Found) -> bool:
    """``first`` owns ``second`` ("Liverpool's Baltic Triangle"): only "'" or "'s" stands between them."""
    between = text[first.end:second.start]
    return bool(re.fullmatch(r"'s?\s*", between)
                or text[first.start:first.end].endswith("'s") and re.fullmatch(r"\s*", between))


def is_negative(cond: Condition) -> bool:
    """The condition excludes something ("not", "none", "false", "= 0", an upper bound)."""
    return (cond.op in (Op.NOT_EQUAL_TO, Op.NOT_BELONGS_TO, Op.CONTAINS_NONE, Op.LESS_THAN, Op.LESS_THAN_OR_EQUAL_TO)
            or cond.value in ("false", "0") and cond.op == Op.EQUAL_TO)


def is_own_window(window: int | None, feature: Feature, nums: list[float], unit: str) -> bool:
    """The number is the feature's own window (``orders_30d`` and "30 days"), not a threshold."""
    unit_days = UNIT_DAYS.get(unit.split()[0] if unit else "")
    if window is None or unit_days is None or len(nums) != 1 or feature.unit == "days":
        return False
    return nums[0] * unit_days == window


def says_privative_stem(text: str, key: str) -> bool:
    """The key's name has an English "-less" word ("paperless_billing") and the text says its stem without the
    suffix ("still get paper bills"): the text names the opposite of the yes/no feature."""
    stems = [w[:-4] for w in key.split("_") if w.endswith("less") and len(w) >= 7]
    return any(re.search(rf"\b{re.escape(stem)}\b(?!-?less)", text) for stem in stems)
