"""Generic English for any feature: a :class:`Voice` from the catalog entry alone.

Labels come from the name ("card_spend_30d" → "card spend"), the description ("Debit and credit card
spend in the last 30 days" → "debit and credit card spend") and the aliases, each alias read by its
shape: ending in a preposition ("spends on", "has a", "lives in") it leads a value; starting with a
verb ("spent on card", "visited a branch") it follows "who"; ending like an adjective ("digitally
enrolled", "emailable") it follows "who are"; otherwise it is a noun ("card spend", "home branch").
Values are said as themselves and by their value_aliases; numbers by the unit (a currency, days,
years, percent), a share of 0..1, a count from 0, with the feature's window ("this month", "in the past
week") where it has one. No feature is named here.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from features import DType, Feature
from models.targeting.corpus._numbers import currency_forms
from models.targeting.logic import Op

if TYPE_CHECKING:
    from models.targeting.corpus._voices import Voice

__all__ = ["generic_voice", "nice_numbers", "number_style", "window_of", "window_phrases"]

G, GE, L, LE, B, EQ = (Op.GREATER_THAN, Op.GREATER_THAN_OR_EQUAL_TO, Op.LESS_THAN, Op.LESS_THAN_OR_EQUAL_TO,
                       Op.BETWEEN, Op.EQUAL_TO)
_PREPS = {"in", "on", "at", "to", "for", "by", "with", "via", "of", "from", "into", "through", "since", "about",
          "as", "than", "a", "an", "the", "like"}
_PEOPLE = {"customer", "customers", "user", "users", "people", "person", "client", "clients", "member", "members",
           "subscriber", "subscribers", "shopper", "shoppers", "buyer", "buyers", "student", "students", "account"}
_PRONOUNS = {"she", "her", "he", "him", "they", "them", "it", "us", "we", "you", "i", "me", "their", "his"}
_VERBS = {"has", "have", "had", "holds", "hold", "uses", "use", "used", "owns", "own", "spends", "spend", "spent",
          "buys", "buy", "bought", "ordered", "pays", "paid", "made", "makes", "got", "gets", "went", "goes",
          "watched", "visited", "opened", "opens", "is", "are", "was", "were",
          "banks", "lives", "works", "prefers", "receives", "received"}
# words that make a description a clause rather than a label ("open products the customer holds")
_CLAUSE_WORDS = {"is", "are", "was", "were", "has", "have", "had", "holds", "receives", "gives", "lands", "opened",
                 "spent", "bought", "made", "paid", "that", "who", "which", "whose", "customer", "user"}
_ADJ_ENDINGS = ("ed", "able", "ible", "ive", "less", "ful", "ous", "en")
_WINDOW_RX = re.compile(r"\s*(?:,\s*)?\b(?:in|over|during|within) (?:the )?(?:last|past) (?:\d+ |[a-z]+ )?"
                        r"(?:days?|weeks?|months?|quarters?|years?)\b", re.I)
_WINDOW_WORDS: dict[int, tuple[str, ...]] = {
    1: ("today", "in the last day", "in the past 24 hours"),
    7: ("in the last 7 days", "this week", "in the past week", "over the last 7 days"),
    14: ("in the last 14 days", "in the past two weeks"),
    30: ("in the last 30 days", "this month", "in the past month", "over the last 30 days", "in the last month"),
    60: ("in the last 60 days", "in the past two months"),
    90: ("in the last 90 days", "in the past three months", "over the last 90 days", "in the past 90 days"),
    180: ("in the last 180 days", "in the past six months", "over the last half year"),
    365: ("in the last year", "in the past 12 months", "over the last 365 days"),
}
_AGE = re.compile(r"^age\b")  # a label or description starting with the word age: a person's age


def window_of(f: Feature) -> int | None:
    """Days a count or sum covers: ``window_days``, else a ``_30d`` name suffix (not on a days-since key)."""
    if f.window_days is not None:
        return f.window_days
    m = re.search(r"_(\d+)d$", f.name)
    return int(m.group(1)) if m and f.unit != "days" else None


def window_phrases(days: int) -> tuple[str, ...]:
    return _WINDOW_WORDS.get(days, (f"in the last {days} days", f"over the past {days} days"))


def _is_age(f: Feature) -> bool:
    return (f.unit or "").startswith("year") and bool(
        _AGE.match(name_label(f)) or _AGE.match(f.description.lower()))


def number_style(f: Feature) -> str:
    """How the feature's numbers are written (see :mod:`._numbers`), from its unit and range."""
    unit = (f.unit or "").lower()
    lo, hi = f.range or (0.0, math.inf)
    if currency_forms(unit):
        return "money"
    if unit in ("percent", "%", "pct"):
        return "percent"
    if unit == "days":
        return "count" if window_of(f) else "days"
    if unit.startswith("year"):
        return "plain" if _is_age(f) else "years"
    if f.dtype == DType.FLOAT and lo >= 0 and hi <= 1:
        return "fraction"
    if f.dtype == DType.INT and lo == 0:
        return "count"
    return "plain"


def nice_numbers(f: Feature) -> tuple[float, ...]:
    """Round thresholds inside the feature's range that a marketer would write."""
    lo, hi = f.range or (0.0, 100.0)
    style = number_style(f)
    span = hi - lo
    if style == "fraction":
        out = [x / 10 for x in range(1, 10)]
    elif style == "percent":
        out = [5, 10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90]
    elif style == "days":
        out = [1, 3, 7, 14, 30, 60, 90, 180, 365]
    elif style == "count" and span > 12:
        out = [1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]
        out = [x for x in out if x <= max(3.0, hi * 0.5)]
    elif f.dtype == DType.INT and span <= 12:
        out = list(range(int(lo), int(hi) + 1))
    elif span <= 120:
        ladder = [1, 2, 3, 5, 7, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 90, 100, 110, 120]
        out = [x for x in ladder if lo + 0.1 * span <= x <= lo + 0.8 * span] if _is_age(f) else \
            [x for x in ladder if x <= lo + 0.8 * span]
    else:
        top = hi * 0.6 if hi > 0 else span * 0.6
        start = max(1.0, 10 ** (math.floor(math.log10(max(hi, 1.0))) - 4))
        out = [m * 10 ** k for k in range(0, 12) for m in (1, 2, 3, 5) if start <= m * 10 ** k <= top]
    inside = [float(x) for x in out if lo < x < hi or (f.dtype == DType.INT and span <= 12 and lo <= x <= hi)]
    if len(inside) < 3:  # a range too narrow or odd for the ladders: evenly spaced points
        inside = [lo + span * i / 10 for i in range(1, 10)]
    return tuple(round(x) if f.dtype == DType.INT else round(x, 2) for x in inside)


# -- labels --------------------------------------------------------------------------------------


def name_label(f: Feature) -> str:
    return re.sub(r"_\d+d$", "", f.name).replace("_", " ")


def description_label(f: Feature) -> str:
    d = re.sub(r"\s*\([^)]*\)", "", f.description.strip().rstrip("."))
    d = re.sub(r",\s*[A-Za-z%$£€¥ ]{1,12}$", "", d)  # ", yuan", ", GB": the unit, said by the number
    d = _WINDOW_RX.sub("", d).strip()
    d = re.sub(r"^(?:the|a|an)\s+", "", d, flags=re.I)
    if d and not (len(d.split()[0]) > 1 and d.split()[0].isupper()):
        d = d[0].lower() + d[1:]
    return d


def alias_kind(alias: str) -> str | None:
    """``prep`` (leads a value), ``verb`` (follows "who"), ``adj`` (follows "who are"), ``noun``; None: unusable."""
    words = alias.lower().replace("-", " ").split()
    if not words or words[0] in _PRONOUNS or any(w in _PEOPLE for w in words) or len(alias) < 2:
        return None
    if words[-1] in _PREPS:
        return "prep"
    if words[0] in _VERBS or (len(words) > 1 and words[0].endswith("ed")):
        return "verb"
    if any(w.endswith(_ADJ_ENDINGS) and not w.endswith(("ment", "ion")) for w in (words[0], words[-1])) \
            or words[0].endswith("ly"):
        return "adj"
    return "noun"


def _plural(label: str) -> str:
    if label.endswith(" count"):
        label = label[:-6]
    else:
        return label
    last = label.split()[-1]
    return label if last.endswith("s") else label + ("es" if last.endswith(("s", "x", "ch", "sh")) else "s")


def _is_plural(label: str) -> bool:
    last = label.split()[-1] if label else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is", "ics"))


def _readable(label: str) -> bool:
    """A description short and noun-like enough to stand as a label ("debit and credit card spend")."""
    words = label.lower().split()
    return 0 < len(words) <= 6 and not any(w in _CLAUSE_WORDS or w.endswith("'s") for w in words)


def _labels(f: Feature) -> list[str]:
    described = description_label(f)
    out = [_plural(name_label(f)), described if _readable(described) else ""]
    out += [a.lower() for a in f.aliases if alias_kind(a) == "noun"][:4]
    return [x for x in dict.fromkeys(out) if x]


def who(alias: str) -> str:
    """ "who holds" → "who hold": a verb-led alias after a plural "who"."""
    first, _, rest = alias.partition(" ")
    plural = {"has": "have", "is": "are", "was": "were", "does": "do", "goes": "go"}.get(first.lower())
    if plural is None and first.lower() in _VERBS and first.endswith("s") and not first.endswith("ss"):
        plural = first[:-2] if first.endswith(("ches", "shes", "xes")) else first[:-1]
    return "who " + (plural or first) + (f" {rest}" if rest else "")


def _aliases(f: Feature, kind: str) -> list[str]:
    return [a for a in f.aliases if alias_kind(a) == kind][:4]


def _value_words(f: Feature) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for v in f.values or ():
        extra = tuple(a for a in f.value_aliases.get(v, ()) if a.lower() not in _PRONOUNS)[:3]
        out[v] = (v.replace("_", " "), *extra)
    return out


# -- voices by dtype -----------------------------------------------------------------------------


def _days_since(f: Feature) -> tuple[tuple[str, ...], dict[Op, tuple[str, ...]]]:
    """ "Days since the last login" → "whose last login was {cmp} ago", "with no login in the last {n} days"."""
    since = re.search(r"\bsince (?:the |their |his |her )?(.+)$", description_label(f))
    label = name_label(f)
    templates: list[str] = []
    extra: dict[Op, tuple[str, ...]] = {}
    if since:
        event = since.group(1)
        person = re.match(r"(?:customer|user|member|subscriber|client|account holder|person) (.+)$", event)
        if person:
            templates += [f"who {person.group(1)} {{cmp}} ago"]
        elif re.search(r"\b(?:was|were|is|are)\b", event):
            templates += [f"whose {event} {{cmp}} ago"]
        else:
            templates += [f"whose {event} was {{cmp}} ago", f"with the {event} {{cmp}} ago"]
            noun = re.sub(r"^(?:last|latest|most recent) ", "", event)
            extra = {G: (f"with no {noun} in the last {{n}} days", f"without a {noun} in the past {{n}} days"),
                     LE: (f"with a {noun} in the last {{n}} days", f"who had a {noun} within the past {{n}} days")}
    if not templates:
        templates = [f"whose {label} is {{cmp}}", f"with {label} of {{cmp}}"]
    templates += [f"{who(v)} {{cmp}} ago" for v in _aliases(f, "verb")]
    return tuple(templates), extra


def _number_voice(f: Feature) -> dict[str, Any]:
    style = number_style(f)
    labels = _labels(f)
    verbs = _aliases(f, "verb")
    window = window_of(f)
    w = "{w}" if window else ""
    extra: dict[Op, tuple[str, ...]] = {}
    presence: list[str] = []
    absence: list[str] = []
    ops: tuple[Op, ...] = (G, GE, L, LE, B)
    if _is_age(f):
        templates = ["aged {cmp}", "whose age is {cmp}", "{cmp} years old"]
        extra = {G: ("older than {n}", "over {n}"), L: ("younger than {n}", "under {n}"),
                 GE: ("{n} and older", "{n}+"), LE: ("{n} or younger",)}
        ops = (G, GE, L, LE, B, B, B)
    elif style == "days":
        t, extra = _days_since(f)
        templates = list(t)
        ops = (G, G, LE, B)
    elif style == "count":
        templates = []
        plural = [label for label in labels if _is_plural(label)]
        for label in plural:
            templates += [f"with {{cmp}} {label}{w}", f"who had {{cmp}} {label}{w}"]
            presence += [f"with any {label}{w}", f"who had {label}{w}"]
            absence += [f"with no {label}{w}", f"who had no {label}{w}"]
        for label in labels if len(plural) < 2 else ():
            if label not in plural:
                templates += [f"with {label}{w} {{cmp}}", f"whose {label}{w} is {{cmp}}"]
        templates += [f"{who(v)} {{cmp}} times{w}" for v in verbs]
        presence += [f"{who(v)}{w}" for v in verbs]
        ops = (G, GE, L, LE, B, EQ) if f.dtype == DType.INT else ops
        if f.range is not None and f.range[0] > 0:  # "with any X" is "X > 0": only for counts that can be 0
            presence, absence = [], []
    else:
        templates = []
        for label in labels:
            templates += [f"with {label} {{cmp}}{w}", f"whose {label}{w} is {{cmp}}"]
            if style in ("money", "years", "plain"):
                templates.append(f"with {label}{w} of {{cmp}}")
        if style == "money":
            templates += [f"{who(v)} {{cmp}}{w}" for v in verbs]
        lo, hi = f.range or (0.0, 100.0)
        if f.dtype == DType.INT and hi - lo <= 12:
            ops = (EQ, EQ, GE, LE, B)
    return {"templates": tuple(templates), "by_operator": extra, "operators": ops, "style": style,
            "presence": tuple(presence), "absence": tuple(absence), "decades": _is_age(f)}


def _bool_voice(f: Feature) -> dict[str, Any]:
    pos: list[str] = []
    neg: list[str] = []
    heads: dict[str, tuple[str, ...]] = {}
    words = f.name.split("_")
    rest = " ".join(words[1:])
    if words[0] == "is" and words[-1] in _PEOPLE | {"buyer", "owner", "holder", "borrower", "investor"}:
        plural = rest + ("s" if not rest.endswith("s") else "")
        pos += [f"who are {plural}"]
        neg += [f"who are not {plural}"]
        heads["true"] = (plural,)
    elif words[0] in ("has", "have", "uses", "owns", "holds"):
        verb = {"has": "have", "uses": "use", "owns": "own", "holds": "hold"}.get(words[0], words[0])
        pos += [f"who {verb} {rest}", f"with {rest}"]
        neg += [f"who do not {verb} {rest}", f"without {rest}"]
    elif words[-1] in ("holder", "owner", "user", "member", "subscriber", "buyer"):
        plural = name_label(f) + "s"
        pos += [f"who are {plural}"]
        neg += [f"who are not {plural}"]
        heads["true"] = (plural,)
    elif words[-1].endswith("ed") and len(words) > 1:  # roaming_enabled, online_banking_enrolled
        pos += [f"with {name_label(f)}"]
        neg += [f"with {' '.join(words[:-1])} not {words[-1]}", f"without {' '.join(words[:-1])}"]
    else:
        pos += [f"with {name_label(f)}"]
        neg += [f"without {name_label(f)}"]
    d = description_label(f)
    first = d.split()[0] if d else ""
    if first.endswith("s") and not first.endswith(("ss", "us")) and len(first) >= 2 and first[0].islower():
        verb = {"has": "have", "is": "are", "does": "do"}.get(first) or (
            first[:-2] if first.endswith(("ches", "shes", "sses", "xes")) else first[:-1])
        tail = d[len(first):]
        pos.append(f"who {verb}{tail}")
        neg.append(f"who {verb} not{tail}" if verb in ("have", "are") else f"who do not {verb}{tail}")
    elif first.endswith("ed"):
        pos += [d, f"who are {d}"]
        neg += [f"not {d}", f"who are not {d}"]
    elif re.search(r"\s(?:is|are)\b", d):
        pos.append(f"whose {d}")
        neg.append("whose " + re.sub(r"\b(is|are)\b", r"\1 not", d, count=1))
    for alias in f.aliases:
        kind = alias_kind(alias)
        if kind == "noun":
            pos.append(f"with {alias}")
            neg.append(f"without {alias}")
        elif kind == "adj":
            pos.append(f"who are {alias}")
            neg.append(f"who are not {alias}")
    return {"templates": tuple(dict.fromkeys(pos)), "negated": tuple(dict.fromkeys(neg)), "heads": heads}


_LEVEL_WORDS = {"low", "medium", "mid", "high", "very", "none", "basic", "moderate", "average", "top", "bottom"}


def _lead(alias: str) -> str:
    """A preposition-ended alias as a modifier: "who pay with", "lives in" → "who live in", "interested in"."""
    return who(alias) if alias.split()[0].lower() in _VERBS else alias


_PLACE = re.compile(r"\b(?:city|cities|region|country|state|district|area|location|market|town|province|postcode|"
                    r"neighbourhood|neighborhood|address)\b")


def _category_voice(f: Feature) -> dict[str, Any]:
    labels = _labels(f)
    place = bool(_PLACE.search(" ".join([name_label(f), description_label(f)])))
    eq = [f"whose {label} is {{v}}" for label in labels] + [f"with {labels[0]} {{v}}"]
    neq = [f"whose {label} is not {{v}}" for label in labels[:2]] + [f"with a {labels[0]} other than {{v}}"]
    eq += [_lead(alias) + " {v}" for alias in _aliases(f, "prep")]
    heads: dict[str, tuple[str, ...]] = {}
    if place:
        eq += ["in {v}", "based in {v}", "from {v}"]
        neq += ["outside {v}", "not in {v}"]
    if place or f.ordered:
        # "premier customers", but "low churn risk customers": a bare level word needs its measure
        measure = re.sub(r"\s+(?:band|level|tier|status|segment|group|class)$", "", name_label(f))
        for v in f.values or ():
            word = v.replace("_", " ")
            named = f"{word} {measure}" if set(word.split()) & _LEVEL_WORDS else word
            heads[v] = (f"{named} customers", f"{named} users")
    return {"templates": tuple(eq), "negated": tuple(neq), "heads": heads, "words": _value_words(f),
            "list_heads": ("{vs_or} customers",) if place or f.ordered else (), "ordinal": f.ordered,
            "proper_nouns": place}


def _set_voice(f: Feature) -> dict[str, Any]:
    labels = _labels(f)
    preps = _aliases(f, "prep")
    verbs = _aliases(f, "verb")
    w = "{w}" if window_of(f) else ""
    anys = [f"whose {label}{w} include {{vs_or}}" for label in labels[:3]]
    anys += [f"{_lead(p)} {{vs_or}}{w}" for p in preps] + [f"{who(v)} {{vs_or}}{w}" for v in verbs]
    anys.append(f"with {{vs_or}} among their {labels[0]}{w}")
    alls = [f"whose {labels[0]}{w} include both {{vs_and}}", f"with both {{vs_and}} in their {labels[0]}{w}"]
    alls += [f"{_lead(p)} both {{vs_and}}{w}" for p in preps[:2]]
    nones = [f"whose {label}{w} include none of {{vs_or}}" for label in labels[:2]]
    nones += [f"with no {{vs_or}} in their {labels[0]}{w}"]
    return {"templates": tuple(anys), "all_of": tuple(alls), "negated": tuple(nones), "words": _value_words(f)}


def generic_voice(f: Feature) -> Voice:
    """The voice of a feature from its catalog entry alone."""
    from models.targeting.corpus._voices import Voice

    if f.dtype in (DType.INT, DType.FLOAT):
        parts = _number_voice(f)
    elif f.dtype == DType.BOOL:
        parts = _bool_voice(f)
    elif f.dtype == DType.CATEGORY:
        parts = _category_voice(f)
    else:
        parts = _set_voice(f)
    ops = parts.pop("operators", None) or (
        (Op.EQUAL_TO, Op.NOT_EQUAL_TO, Op.BELONGS_TO, Op.NOT_BELONGS_TO) if f.dtype == DType.CATEGORY else ())
    return Voice(f, numbers=nice_numbers(f) if f.dtype in (DType.INT, DType.FLOAT) else (),
                 operators=ops, currency=currency_forms(f.unit) or (), window=window_of(f), generic=True, **parts)
