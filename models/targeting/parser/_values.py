"""A catalog value named in a clause → its condition: plain values, ordinal ranges, words only looking like values.

Generic English only; nothing here names a catalog feature or value.
"""

from __future__ import annotations

import re

from features.catalog import DType, Feature
from models.targeting.logic import Condition, Op
from models.targeting.parser._lexicon import FUNCTION_WORDS
from models.targeting.parser._preprocess import AT_OR_ABOVE, AT_OR_BELOW, AT_OR_BETTER, AT_OR_WORSE

__all__ = ["capitalised_words", "is_function_word", "ordinal_condition", "value_condition"]


def capitalised_words(demand: str) -> frozenset[str]:
    """Words the demand writes in capitals ("US", "IN"), lower-cased: there a function word is a name."""
    return frozenset(w.lower() for w in re.findall(r"(?<![A-Za-z])[A-Z]{2,}(?![A-Za-z])", demand))


def is_function_word(text: str, start: int, end: int, capitals: frozenset[str]) -> bool:
    """The value word at ``text[start:end]`` is an English function word used as one: "with us", "scored us".
    It names the value only in capitals ("US customers") or after "the" ("in the us")."""
    word = text[start:end]
    return word in FUNCTION_WORDS and word not in capitals and not re.search(r"\bthe\s+$", text[:start])


_BAD = re.compile(r"\b(?:risk|churn|lapse|fraud|default|delinquen\w*|debt|arrears|complaints?|severity|"
                  r"propensity to (?:leave|cancel|churn))\b")


def ordinal_condition(f: Feature, value: str, text: str, s: int, e: int, negated: bool) -> Condition | None:
    """"gold or above", "below prime", "premier tier and up": a range of an ordered category's levels."""
    if f.dtype != DType.CATEGORY or not f.ordered or value not in (f.values or ()):
        return None
    levels = list(f.values or ())
    i = levels.index(value)
    # on a feature that measures something bad (risk, churn, ...) the better levels are the lower ones
    bad = bool(_BAD.search(f"{f.name.replace('_', ' ')} {f.description}".lower()))
    up = {AT_OR_ABOVE: True, AT_OR_BELOW: False, AT_OR_BETTER: not bad, AT_OR_WORSE: bad,
          "better than": not bad, "worse than": bad}
    after = re.match(rf"\s*(?:[a-z]+\s+){{0,2}}?({AT_OR_ABOVE}|{AT_OR_BELOW}|{AT_OR_BETTER}|{AT_OR_WORSE})\b",
                     text[e:])
    before = re.search(r"\b(above|higher than|better than|over|at least|below|lower than|worse than|under|"
                       r"at most|less than)\s+(?:the\s+)?$", text[:s])
    if after:
        picked = levels[i:] if up[after.group(1)] else levels[:i + 1]
    elif before:
        word = before.group(1)
        picked = (levels[i:] if word == "at least" else levels[:i + 1] if word == "at most" else
                  levels[i + 1:] if up.get(word, word in ("above", "higher than", "over")) else levels[:i])
    else:
        return None
    if not picked:
        return None
    if len(picked) == 1:
        return Condition(f.name, Op.NOT_EQUAL_TO if negated else Op.EQUAL_TO, picked[0])
    return Condition(f.name, Op.NOT_BELONGS_TO if negated else Op.BELONGS_TO, ",".join(sorted(picked)))


def value_condition(f: Feature, value: str, negated: bool) -> Condition:
    """One value, or several named by a word they share ("life policy": term_life,whole_life)."""
    if f.dtype == DType.STRING_SET:
        return Condition(f.name, Op.CONTAINS_NONE if negated else Op.CONTAINS_ANY, value)
    if "," in value:
        return Condition(f.name, Op.NOT_BELONGS_TO if negated else Op.BELONGS_TO, value)
    return Condition(f.name, Op.NOT_EQUAL_TO if negated else Op.EQUAL_TO, value)
