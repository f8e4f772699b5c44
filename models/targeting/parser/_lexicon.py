"""Surface words → catalog keys and values, derived from the catalog alone plus generic English rules.

Nothing here names a feature. A key is cued by its name ("tenure_years", "tenure years"), its
``aliases``; a value by itself ("night_owl", "night owl") and its ``value_aliases`` (a catalog shares
them between features over one vocabulary with a YAML anchor). Every phrase
is compiled with generic English inflection (plurals, verb endings, hyphen or space or nothing between
words), so a catalog lists "kid" once and "kids", "sign-up", "signups" follow.

:class:`Roles` says what part each feature plays in reading numbers, again from the catalog only:
``unit`` (years → the age-like key, a currency → money keys, days without a window → days-since keys),
``window_days`` (the period a count or sum covers: "this month" picks the 30-day sibling of a sum), and
the range (a count from 0 is read as presence: "used a coupon" → ``> 0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from features.catalog import Catalog, DType, Feature
from features.population import population_entity
from models.targeting.parser._namewords import GENERIC_NAME_WORDS as _GENERIC_NAME_WORDS
from models.targeting.parser._namewords import IRREGULAR_PAST as _IRREGULAR
from models.targeting.parser._namewords import STOP_WORDS as _STOP
from models.targeting.parser._namewords import (
    TIME_UNITS,
    WINDOW_SUFFIX,
    name_lemmas,
)
from models.targeting.parser._namewords import name_words as _name_words
from models.targeting.parser._places import demonym_patterns, is_place_feature

__all__ = ["CURRENCY_UNITS", "FUNCTION_WORDS", "MEASURE_UNITS", "STATE_AFTER", "STATE_OFF", "TIME_UNITS", "WINDOW_SUFFIX", "KeyCue", "Lexicon", "Roles", "ValueCue", "effective_units", "lexicon_for", "phrase_pattern"]

# Generic currency words a demand may use, by the unit a catalog writes.
# Generic spellings of measure units a catalog may write ("gb" → "50GB", "100 gigs").
MEASURE_UNITS: dict[str, tuple[str, ...]] = {
    "gb": ("gb", "gigs?", "gigabytes?"), "mb": ("mb", "megabytes?"), "tb": ("tb", "terabytes?"),
    "mbps": ("mbps", "mb/s", "megabits?", "megs?"), "gbps": ("gbps", "gigabits?"), "miles": ("miles?", "mi"),
    "km": ("km", "kms", "kilometers?", "kilometres?"), "kg": ("kg", "kgs", "kilos?", "kilograms?"),
    "minutes": ("minutes?", "mins?"), "hours": ("hours?", "hrs?"), "nights": ("nights?",), "points": ("points?", "pts"),
}
CURRENCY_UNITS: dict[str, tuple[str, ...]] = {
    "yuan": ("yuan", "rmb", "cny", "kuai"),
    "dollars": ("dollars?", "usd", "bucks?"),
    "euros": ("euros?", "eur"),
    "pounds": ("pounds?", "gbp", "quid"),
    "rupees": ("rupees?", "inr"),
    "yen": ("yen", "jpy"),
}
_VOWELS = "aeiou"


# plurals whose singular is mostly a verb in a demand ("return every user"): kept plural
_VERB_SINGULARS = {"return", "order", "view", "visit", "like", "want", "need", "use", "search", "review", "show",
                   "select", "target", "find", "list", "save", "share", "click", "open", "run", "report"}


def _inflect(word: str, *, last: bool, singular: bool = True, alone: bool = True) -> str:
    """A word with its regular English endings: plural inside a phrase, plural, past and the singular of a
    plural ("overdrafts" also reads "overdraft") at its end."""
    w = re.escape(word)
    if not word.isalpha() or len(word) < 3 or word in _STOP:
        return w
    if word in _IRREGULAR:
        return rf"(?:{_inflect_regular(word, last=last, singular=singular, alone=alone)}|{_IRREGULAR[word]})"
    return _inflect_regular(word, last=last, singular=singular, alone=alone)


def _inflect_regular(word: str, *, last: bool, singular: bool, alone: bool = True) -> str:
    w = re.escape(word)
    # "group orders" also reads "group order"; "orders" alone stays plural ("order" is mostly the verb)
    if (singular and last and word.endswith("s") and not word.endswith(("ss", "us", "is", "os", "as"))
            and len(word) > 4 and (word[:-1] not in _VERB_SINGULARS or not alone)):
        word, w = word[:-1], re.escape(word[:-1])  # a plural alias also reads in the singular
    if not last and word.endswith("es") and len(word) >= 4:  # "uses the app" also reads "used the app"
        return re.escape(word[:-1]) + r"(?:s|d)?"
    if not last:  # "opted-in", "logged in": a verb inside a phrase takes its past too
        return w + r"(?:s|es|" + _past(word) + ")?"
    # plural and past only: "-ing" / "-er" forms change the meaning too often ("parent" / "parenting")
    if word.endswith("y") and word[-2] not in _VOWELS:
        return re.escape(word[:-1]) + r"(?:y|ies|ied)"
    if word.endswith("e"):
        return re.escape(word[:-1]) + r"(?:e|es|ed)"
    return w + r"(?:s|es|" + _past(word) + r"|'s)?"


def _past(word: str) -> str:
    """The past ending, doubling a final consonant after one short vowel ("log" → "logged", "shop")."""
    if len(word) <= 4 and re.fullmatch(r"[^aeiou]*[aeiou][b-df-hj-np-tv-z]", word) and not word.endswith(("w", "x", "y")):
        return re.escape(word[-1]) + "?ed"
    return "ed"


# Compounds that are a verb and its particle ("login" ↔ "log in", "signup" ↔ "signed up")
_PARTICLE = re.compile(r"^([a-z]{2,})(in|up|out|on|off)(s?)$")


def _compound_variants(phrase: str) -> list[str]:
    """"last login" also as "last log in" (and so "logged in"), "signups" as "sign ups"."""
    words = re.split(r"[\s_\-]+", phrase.lower().strip())
    out = []
    for i, w in enumerate(words):
        m = _PARTICLE.match(w)
        if m and len(m.group(1)) >= 3:
            out.append(" ".join([*words[:i], m.group(1), m.group(2), *words[i + 1:]]))
    return out


def phrase_pattern(phrase: str, *, singular: bool = True) -> str:
    """Regex source for a catalog phrase with generic inflection; words may be joined by space, hyphen or nothing.
    A single word ending in ``*`` is a stem: any word starting with it."""
    if re.fullmatch(r"[a-z]+\*", phrase):
        return re.escape(phrase[:-1]) + r"[a-z]*"
    words = [w for w in re.split(r"[\s_\-]+", phrase.lower().strip()) if w]
    if not words:
        return r"(?!x)x"
    parts = [_inflect(w, last=i == len(words) - 1, singular=singular, alone=len(words) == 1)
             for i, w in enumerate(words)]
    return r"[- ]?".join(parts)


def _rx(patterns: list[str]) -> re.Pattern[str]:
    alts = sorted(set(patterns), key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9_])(?:" + "|".join(alts) + r")(?![a-z0-9_])")


def _tokens(text: str) -> set[str]:
    """Content-word stems of a phrase (for relating features by what they talk about)."""
    out: set[str] = set()
    for w in re.findall(r"[a-z]+", text.lower()):
        if w in _STOP or len(w) < 3 or w in ("days", "day", "last", "since", "number", "count"):
            continue
        out.add(w[:5])
    return out


@dataclass(frozen=True, slots=True)
class ValueCue:
    key: str
    value: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class KeyCue:
    key: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Roles:
    """What each feature does when a demand's numbers are read, derived from unit, window and range."""

    age_key: str | None
    day_keys: tuple[str, ...]  # "days since ..." (unit days, no window): "in the last 30 days" is a threshold
    presence_keys: tuple[str, ...]  # counts from 0: "used a coupon" is > 0, "no refunds" = 0
    money_keys: tuple[str, ...]  # unit is a currency
    currency_words: str  # regex alternatives for every currency the catalog uses
    windows: dict[str, int]  # key -> days its count or sum covers
    siblings: dict[str, tuple[str, ...]]  # key -> the same measure over other windows (gmv_30d / gmv_180d)
    coded_keys: tuple[str, ...]  # whole numbers named by words ("first-tier" → 1)
    count_unit_keys: dict[str, str]  # a count unit word ("orders") -> the key counted in it
    time_keys: dict[str, str] = field(default_factory=dict)  # key -> its time unit (days, weeks, months, years)
    measure_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)  # unit spelling regex -> keys
    # day key a windowed bool is defined by ("registered in the last 30 days" ↔ days since registration)
    defined_by_days: dict[str, tuple[str, str]] = field(default_factory=dict)  # day key -> (bool key, ...)
    related_day_key: dict[str, str] = field(default_factory=dict)  # event set/count key -> its days-since key
    units: dict[str, str | None] = field(default_factory=dict)  # number key -> its unit, said or inferred

    def window_of(self, key: str) -> int | None:
        return self.windows.get(key)

    def over_window(self, key: str, window: int | None) -> str:
        """``key``'s sibling counted over ``window`` ("spent over 5000 in the last 6 months"), else ``key``."""
        if window is None or self.window_of(key) == window:
            return key
        return next((sib for sib in self.siblings.get(key, ()) if self.window_of(sib) == window), key)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Compiled cue patterns and number roles for one catalog."""

    key_cues: tuple[KeyCue, ...]
    value_cues: tuple[ValueCue, ...]
    roles: Roles
    state_subjects: tuple[str, ...] = ()  # regex sources of yes/no features' subjects ("email" of email_opt_in)
    place_codes: dict[str, str] = field(default_factory=dict)  # a place feature's 2-3 letter value -> feature
    name_lemmas: dict[str, frozenset[str]] = field(default_factory=dict)  # key -> its name words' lemmas (2+)

    def names(self, phrase: str) -> bool:
        """The catalog already has a cue for exactly this phrase (a value, an alias, a key's name)."""
        return (any(c.pattern.fullmatch(phrase) for c in self.value_cues)
                or any(c.pattern.fullmatch(phrase) for c in self.key_cues))


_CACHE: dict[tuple[int, str], tuple[Catalog, Lexicon]] = {}


def lexicon_for(catalog: Catalog, entity: str | None = None) -> Lexicon:
    entity = entity or population_entity(catalog)  # the user entity, whatever the catalog calls it
    hit = _CACHE.get((id(catalog), entity))
    if hit is not None and hit[0] is catalog:
        return hit[1]
    lex = _build(catalog, entity)
    _CACHE[(id(catalog), entity)] = (catalog, lex)
    return lex


def _window(f: Feature) -> int | None:
    if f.window_days is not None:
        return f.window_days
    m = re.search(r"_(\d+)([dwmy])$", f.name)  # the common naming convention orders_30d, flights_12m
    per = {"d": 1, "w": 7, "m": 30, "y": 365}
    return int(m.group(1)) * per[m.group(2)] if m and f.unit != "days" else None


# English nouns naming an amount of money: a number key named with one, in a catalog that states a currency
# elsewhere, counts in that currency ("avg_monthly_bill" beside "last_bill_amount" in dollars)
_MONEY_NOUNS = {"bill", "bills", "spend", "spending", "amount", "fee", "fees", "price", "cost", "costs", "revenue",
                "income", "salary", "arrears", "debt", "charge", "charges", "payout", "deposit", "gmv",
                "aov", "basket", "ltv", "clv", "wallet", "budget", "rent", "fare", "fares", "tip", "tips", "paid"}
_AGE_WORD = re.compile(r"ages?")  # the English word, as a key's name word ("customer_age")
_PERCENT_NAME = re.compile(r"(?:^|_)(?:pct|percent|percentage|share|rate|ratio|utili[sz]ation)(?:_|$)")


def effective_units(features: dict[str, Feature]) -> dict[str, str | None]:
    """Each number key's unit: the catalog's ``unit``, else what its name and description say — a time unit
    among its name words ("tenure_years") or opening its description ("Years as a customer"), the word age in its
    name (years), a money noun when the catalog has a currency ("avg_monthly_bill"), a share or rate running
    to 100 or a description about "%" (percent). A sparse catalog then reads "10+ yrs", "aged 30" and "$150"."""
    currency = next((f.unit for f in features.values() if (f.unit or "") in CURRENCY_UNITS), None)
    out: dict[str, str | None] = {}
    for n, f in features.items():
        if f.dtype not in (DType.INT, DType.FLOAT):
            continue
        if f.unit:
            out[n] = f.unit
            continue
        words = _name_words(n)
        lead = re.match(r"[a-z%]+", f.description.lower().strip())
        top = f.range[1] if f.range is not None else None
        # a plural unit word in the name ("points_balance"; not "late_night_orders")
        measure = next((u for w in words for u in MEASURE_UNITS
                        if w.endswith("s") and re.fullmatch("|".join(MEASURE_UNITS[u]), w)), None)
        time = None
        if _window(f) is None:  # "roaming_days_90d" counts days over its window: a count, not a duration
            time = next((w for w in words if w in TIME_UNITS), None)
            if time is None and lead is not None and lead.group(0) in TIME_UNITS:
                time = lead.group(0)
        said = re.search(r"\(([A-Za-z]{1,6})\)\s*$", f.description)  # "Solar exported, last 90 days (kWh)"
        if said is not None:
            u = said.group(1).lower()
            out[n] = next((c for c, spellings in CURRENCY_UNITS.items() if re.fullmatch("|".join(spellings), u)), u)
        elif measure is not None:  # "points_balance" counts points, whatever else its name says
            out[n] = measure
        elif time is not None:
            out[n] = time
        elif any(_AGE_WORD.fullmatch(w) for w in words) and f.dtype == DType.INT and top is not None and top <= 130:
            out[n] = "years"
        elif currency is not None and set(words) & _MONEY_NOUNS and top is not None and top >= 50:
            out[n] = currency
        elif (top is not None and 1.5 < top <= 100 and (_PERCENT_NAME.search(n) or "%" in f.description
                                                        or re.search(r"\bper ?cent", f.description.lower()))):
            out[n] = "percent"
        else:
            out[n] = None
    return out


def _measure_spellings(unit: str) -> tuple[str, ...]:
    """How a demand writes a catalog's measure unit: the known spellings ("gigs"), else the unit itself with
    an optional plural "s" ("kW", "kWh", "MJ", "steps")."""
    u = unit.lower()
    if u in MEASURE_UNITS:
        return MEASURE_UNITS[u]
    if not re.fullmatch(r"[a-z]+", u):
        return ()
    return (re.escape(u.rstrip("s")) + "s?" if len(u) > 3 else re.escape(u),)


def _roles(features: dict[str, Feature]) -> Roles:
    numeric = {n: f for n, f in features.items() if f.dtype in (DType.INT, DType.FLOAT)}
    units = effective_units(features)
    # the person's age: a years key named for an age first ("customer_age"), else the first years key
    years = sorted((n for n in numeric if (units[n] or "").startswith("year")),
                   key=lambda n: not any(_AGE_WORD.fullmatch(w) for w in _name_words(n)))
    day_keys = tuple(n for n in numeric if units[n] == "days" and _window(features[n]) is None)
    money_keys = tuple(n for n in numeric if (units[n] or "") in CURRENCY_UNITS)
    currencies = sorted({w for n in numeric for w in CURRENCY_UNITS.get(units[n] or "", ())} or
                        {w for ws in CURRENCY_UNITS.values() for w in ws})
    windows = {n: w for n, f in features.items() if (w := _window(f)) is not None}
    coded = tuple(n for n, f in numeric.items() if f.dtype == DType.INT and f.value_aliases)
    presence = tuple(n for n, f in numeric.items()
                     if f.dtype == DType.INT and f.range is not None and f.range[0] == 0 and n not in day_keys
                     and not _MEASURE_NAME.search(n)
                     and n not in money_keys and n not in coded and units[n] not in ("days", "points", "percent", *TIME_UNITS)
                     and not (units[n] or "").startswith("year") and f.range[1] <= 1000)
    stems: dict[str, list[str]] = {}
    for n in numeric:
        stems.setdefault(re.sub(WINDOW_SUFFIX, "", n), []).append(n)
    siblings = {n: tuple(s for s in group if s != n) for group in stems.values() if len(group) > 1 for n in group}
    count_units = {str(units[n]): n for n in numeric if units[n] and n in presence}
    # a plural word only one count's name has is its unit too ("10 flights" → flights_12m)
    noun_owner: dict[str, set[str]] = {}
    for n, f in numeric.items():
        if units[n] is None and f.dtype == DType.INT and n not in coded:
            for word in re.sub(WINDOW_SUFFIX, "", n).split("_"):
                if len(word) >= 5 and word.endswith("s") and not word.endswith("ss") and word not in _GENERIC_NAME_WORDS:
                    noun_owner.setdefault(word, set()).add(n)
    for word, owners in noun_owner.items():
        if len(owners) == 1 and word not in count_units:
            count_units[word] = next(iter(owners))
    for n in presence:  # "2 or more policies", "exactly one policy": the noun an "active_policy_count" counts
        m = re.search(r"(?:^|_)([a-z]{4,})_(?:count|num|number|total)$", re.sub(WINDOW_SUFFIX, "", n))
        if m and m.group(1) not in _GENERIC_NAME_WORDS:
            noun = m.group(1)
            plural = (noun[:-1] + "ies" if noun.endswith("y") else
                      noun + "es" if noun.endswith(("s", "x", "ch", "sh")) else noun + "s")
            for form in (noun, plural):
                count_units.setdefault(form, n)
    time_keys = {n: str(units[n]) for n, f in numeric.items() if units[n] in TIME_UNITS and n not in years[:1]
                 and _window(f) is None}
    other = {"percent", *TIME_UNITS, *CURRENCY_UNITS, *count_units}
    measured = sorted({(units[n] or "").lower() for n in numeric} - {"", *other}, key=len, reverse=True)
    measure_keys = {"|".join(spelled): tuple(n for n in numeric if (units[n] or "").lower() == u)
                    for u in measured if (spelled := _measure_spellings(u))}

    def words(f: Feature) -> set[str]:
        return _tokens(" ".join([f.name.replace("_", " "), f.description, *f.aliases]))

    defined: dict[str, tuple[str, str]] = {}
    for n, f in features.items():
        if f.dtype != DType.BOOL or _window(f) is None:
            continue
        best = max(day_keys, key=lambda d: len(words(features[d]) & words(f)), default=None)
        if best is not None and words(features[best]) & words(f):
            defined[best] = (n, str(_window(f)))
    related: dict[str, str] = {}
    for n, f in features.items():
        if n in day_keys or _window(f) is None or f.dtype not in (DType.STRING_SET, DType.INT):
            continue
        scored = sorted(day_keys, key=lambda d: -len(words(features[d]) & words(f)))
        if scored and words(features[scored[0]]) & words(f):
            related[n] = scored[0]
    return Roles(age_key=years[0] if years else None, day_keys=day_keys, presence_keys=presence,
                 money_keys=money_keys, currency_words="|".join(currencies), windows=windows, siblings=siblings,
                 coded_keys=coded, count_unit_keys=count_units, defined_by_days=defined, related_day_key=related,
                 time_keys=time_keys, measure_keys=measure_keys, units=units)


# a number named so is a measure, not a count of events: "nps_score" from 0 is not "has an NPS" when > 0
_MEASURE_NAME = re.compile(r"(?:^|_)(?:score|rating|rank|index|level|grade|tier|nps|pct|percent|ratio)(?:_|$)")
def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 4 else word


def _name_phrases(features: dict[str, Feature]) -> dict[str, list[str]]:
    """Parts of a key's name that name only that key: "last order" of ``days_since_last_order``; for a number,
    which needs a key to attach to, also the name's head word ("limit" of ``credit_limit``)."""
    grams: dict[str, set[str]] = {}
    for name in features:
        words = [_stem(w) for w in _name_words(name)]
        for n in (1, 2):
            for i in range(len(words) - n + 1):
                grams.setdefault(" ".join(words[i:i + n]), set()).add(name)
    value_phrases = {str(v).lower().replace("_", " ") for f in features.values() for v in (f.values or ())}
    value_words = {w for p in value_phrases for w in p.split()}
    # the units the catalog states (a unit read from a name word, "hotel_nights", keeps that word a cue)
    units = {str(f.unit).lower() for f in features.values() if f.unit} | {"days", "weeks", "months", "years", "times"}
    out: dict[str, list[str]] = {}
    for name, f in features.items():
        words = _name_words(name)
        picked: list[str] = []
        for i in range(len(words) - 1):
            pair = words[i:i + 2]
            if (len(words) > 2 and grams.get(" ".join(_stem(w) for w in pair)) == {name}
                    and not any(w in _GENERIC_NAME_WORDS - {"last"} or len(w) < 3 for w in pair)
                    and " ".join(pair) not in value_phrases):
                picked.append(" ".join(pair))
        heads = [w for w in words if w not in _GENERIC_NAME_WORDS and w not in units
                 and not w.endswith(("ed", "en")) and w not in _IRREGULAR.values()]
        head = heads[-1] if heads else ""
        if (f.dtype in (DType.INT, DType.FLOAT) and not f.value_aliases and len(head) >= 4
                and grams.get(_stem(head)) == {name} and head not in value_words and _stem(head) not in value_words):
            if len(words) > 1:  # a one-word name is a cue already
                picked.append(head)
            if len(head) >= 7 and head.endswith(("s", "ing")):  # "referrals" ↔ "referred": the word's stem
                picked.append((head[:-3] if head.endswith("ing") else head[:max(5, len(head) - 6)]) + "*")
        # a count named by what happened ("titles_completed" ← "completed nothing this month"): its participle
        if f.dtype == DType.INT and f.range is not None and f.range[0] == 0 and f.unit is None:
            picked += [w for w in words if len(w) >= 6 and w.endswith("ed") and grams.get(w) == {name}
                       and w not in value_words]
        # a days-since key is also cued by its event's verb: "days_since_last_booking" ← "haven't booked in a year"
        event = re.fullmatch(r"(?:days_since_)?last_([a-z]{4,})(?:_days)?", name)
        if event and f.unit == "days" and f.window_days is None:
            noun = event.group(1)
            base = noun[:-3] if noun.endswith("ing") and len(noun) > 6 else noun
            past = base + "d" if base.endswith("e") else base[:-1] + "ied" if base.endswith("y") else base + "ed"
            if _past(base) != "ed" and not base.endswith("e"):
                past = base + base[-1] + "ed"
            if not _PARTICLE.match(noun) and not any(past in _name_words(k) for k in features if k != name):
                picked.append(past)
        out[name] = picked
    return out


# a yes/no feature's state said after its subject: "push disabled", "sms is turned off", "roaming on"
STATE_AFTER = (r"(?= (?:notifications? |alerts? |messages? )?(?:is |are |was |were )?(?:enabled|disabled|on|off|"
                r"turned (?:on|off)|switched (?:on|off)|allowed|blocked|opted (?:in|out)|installed|"
                r"uninstalled)\b)")
# ... and before it: "turned on push", "opted out of our marketing emails", "unsubscribed from sms"
STATE_BEFORE = (r"(?:(?:turned|switched) (?:on|off)|enabled|disabled|"
                r"opted[- ]?(?:in|out)(?: (?:to|of|for|from))?|"
                r"subscribed to|unsubscribed from|active (?:in|on|with))(?: (?:the|our|their|any|all))?"
                r"(?: marketing| promotional)? ")
STATE_OFF = re.compile(r"(?:(?:turned|switched) off|disabled|opted[- ]?out|unsubscribed|uninstalled)\b")
# a thing one has or not ("app_installed"): "have the app", "without the app"
_POSSESSED = r"(?:have|has|had|got|with|using|uses|use) (?:the |our |a |an )?"


def _abbreviation(alias: str, value: str) -> bool:
    """"liv" for liverpool: a short cut of the value's own word, read exactly as written ("lives" is not it)."""
    a = alias.lower()
    return len(a) <= 3 and a.isalpha() and value.lower().startswith(a) and len(value) >= len(a) + 3


def _value_pattern(alias: str, value: str) -> str:
    if _abbreviation(alias, value):
        return re.escape(alias.lower())
    # values are exact words ("outdoors" is not "outdoor"), but a phrase ending in a plural noun also reads in
    # the singular ("pool classes" → "any pool class")
    words = alias.lower().split()
    last = words[-1] if words else ""
    if len(words) < 2 or len(last) <= 4 or not last.endswith("s") or last.endswith("ss"):
        return phrase_pattern(alias, singular=False)
    one = last[:-2] if re.search(r"(?:ss|x|ch|sh)es$", last) else last[:-1]
    return phrase_pattern(alias, singular=False) + "|" + phrase_pattern(" ".join([*words[:-1], one]), singular=False)


# English function words: a value (or a value's initials) spelled like one ("us" for the United States) is read
# only where it cannot be the word ("in the US", "US-based" written in capitals), never in "with us"
FUNCTION_WORDS = frozenset({"us", "it", "at", "in", "on", "or", "as", "an", "be", "do", "go", "he", "me", "my",
                            "no", "so", "to", "up", "we", "am", "is", "of", "by", "if"})
# two-letter words a demand uses as words, never as a value's initials
_NOT_INITIALS = {"ok", "pm", "hi", "id", "tv", "ai", "vs", "eg", "ie"}


def _initials(value: str, counts: dict[str, int]) -> list[str]:
    """"united_kingdom" → "uk", "san_francisco" → "sf": a multi-word value's initials, when no other value
    shares them and they are not an English word other than a function word (read as the value only in
    capitals or after "the", see :data:`FUNCTION_WORDS`)."""
    ini = _initial_of(value)
    return [re.escape(ini)] if ini and counts.get(ini) == 1 and ini not in _NOT_INITIALS else []


def _initial_of(value: str) -> str:
    words = [w for w in re.split(r"[_\s-]+", value.lower()) if w]
    return "".join(w[0] for w in words) if len(words) >= 2 and all(w.isalpha() for w in words) else ""


_TIME_WORDS = {"day", "days", "week", "weeks", "month", "months", "quarter", "quarters", "year", "years"}
# words a value family must not be: the people a demand is about, and degree words ("very_low", "very_high")
_NOT_FAMILY = {"customer", "customers", "user", "users", "member", "members", "client", "clients",
               "account", "accounts", "subscriber", "subscribers", "buyer", "buyers", "shopper", "shoppers",
               "people", "person", "very", "extra", "super", "ultra", "more", "most", "less", "least", "high",
               "higher", "highest", "low", "lower", "lowest", "medium", "other", "none", "only", "plus", "level",
               "tier", "type", "group"}


def _family_cues(name: str, f: Feature, features: dict[str, Feature]) -> list[ValueCue]:
    """"any life policy" → term_life and whole_life; "pays by card" → credit_card and debit_card: a word that
    several multi-word values of one feature share, and nothing else in the catalog is, names them all."""
    words_of = {v: [w for w in re.split(r"[_\s-]+", v.lower()) if w] for v in dict.fromkeys(f.values or ())}
    taken = {a.lower() for g in features.values() for v in g.values or ()
             for a in (v, *g.value_aliases.get(v, ()))}
    elsewhere = {w for g in features.values() if g.name != name for v in g.values or ()
                 for w in re.split(r"[_\s-]+", v.lower())}
    family: dict[str, list[str]] = {}
    for v, words in words_of.items():
        if len(words) >= 2:
            for w in dict.fromkeys(words):
                family.setdefault(w, []).append(v)
    return [ValueCue(name, ",".join(vs), _rx([phrase_pattern(w, singular=False)])) for w, vs in family.items()
            if len(vs) >= 2 and len(w) >= 4 and w.isalpha() and w not in taken and w not in elsewhere
            and w not in _STOP and w not in _TIME_WORDS and w not in _NOT_FAMILY
            and w not in name.split("_")]  # "contract" names contract_type


def _build(catalog: Catalog, entity: str) -> Lexicon:
    features = {f.name: f for f in catalog.features_of(entity)}
    initials: dict[str, int] = {}
    for f in features.values():
        for v in f.values or ():
            if ini := _initial_of(v):
                initials[ini] = initials.get(ini, 0) + 1
    name_parts = _name_phrases(features)
    key_cues: list[KeyCue] = []
    subjects: list[str] = []
    for name, f in features.items():
        values = {v.lower() for v in f.values or ()}
        # the name without its window suffix too: "dropped_calls_7d" is cued by "dropped calls"
        phrases = [name, re.sub(WINDOW_SUFFIX, "", name), *name_parts[name],
                   *(a for a in f.aliases if f.dtype != DType.CATEGORY or a.lower() not in values)]
        phrases += [v for p in phrases for v in _compound_variants(p)]
        patterns = [phrase_pattern(p) for p in phrases] + [re.escape(name)]
        # "1 order": a plural kept plural (its singular is mostly a verb) is singular after a number
        patterns += [rf"(?<=\b1 ){re.escape(p[:-1])}" for p in phrases
                     if re.fullmatch(r"[a-z]+s", p) and p[:-1] in _VERB_SINGULARS]
        state = re.fullmatch(r"(.+?)_(enabled|on|active|allowed|opt_in|opted_in|subscribed|installed)", name)
        key_cues.append(KeyCue(name, _rx(patterns)))
        if f.dtype == DType.BOOL and state:  # "push disabled", "sms turned off": the name without its state word
            # its own cue, so that a longer phrase of the key ("push notifications") still matches in full
            subject = phrase_pattern(state.group(1))
            subjects.append(subject)
            key_cues.append(KeyCue(name, _rx([subject + STATE_AFTER, STATE_BEFORE + subject])))
            if state.group(2) == "installed":
                owned = [_POSSESSED + subject + r"(?! [a-z]+ed\b)", subject + r" users?"]  # "app users"
                key_cues.append(KeyCue(name, _rx(owned)))
    value_cues: list[ValueCue] = []
    for name, f in features.items():
        if f.dtype in (DType.CATEGORY, DType.STRING_SET):
            place = is_place_feature(f)
            for v in f.values or ():
                phrases = [v, *f.value_aliases.get(v, ())]  # values are exact words: "outdoors" is not "outdoor"
                people = [d for p in phrases for d in demonym_patterns(p)] if place else []  # "Californians"
                if re.fullmatch(r"[a-z]+al", v.lower()):  # "annually"
                    people.append(re.escape(v.lower()) + "ly")
                value_cues.append(ValueCue(name, v, _rx([_value_pattern(p, v) for p in phrases] + people
                                                        + [re.escape(v.lower())] + _initials(v, initials))))
            value_cues += _family_cues(name, f, features)
        elif f.value_aliases:  # whole numbers named by words: "first-tier" → 1
            for v, aliases in f.value_aliases.items():
                value_cues.append(ValueCue(name, v, _rx([phrase_pattern(p, singular=False) for p in aliases])))
    codes = {v.lower(): name for name, f in features.items() if f.dtype in (DType.CATEGORY, DType.STRING_SET)
             and is_place_feature(f) for v in f.values or () if re.fullmatch(r"[A-Za-z]{2,3}", v)}
    lemmas = {n: ls for n in features if (ls := name_lemmas(n, list(features)))}
    return Lexicon(tuple(key_cues), tuple(value_cues), _roles(features), tuple(subjects), codes, lemmas)
