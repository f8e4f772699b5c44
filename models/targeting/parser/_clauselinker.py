"""One clause → its slots: the catalog keys, values and numbers the clause mentions, before any model runs.

Each clause yields conditions from the values it names ("shanghai" → ``city``), its numbers attached to the
nearest numeric key cue ("spent over 500" → ``gmv_30d``), booleans ("with kids") and presence words ("used a
coupon"). Where a clause allows several readings (a word that is a value of two features, a number near two
keys) every reading is kept, best first, so that a model can choose. Phrases that name no catalog key, or
name one without a threshold ("big spenders"), are reported as unresolved, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from features.catalog import Catalog, DType, Feature
from models.targeting.logic import Condition, Op
from models.targeting.parser._clauses import LinkedClause, Slot
from models.targeting.parser._lexicon import STATE_AFTER, STATE_OFF, Lexicon
from models.targeting.parser._linkrules import (
    CMP_AFTER,
    CMP_BEFORE,
    FILLER,
    NEGATION,
    UNIT_DAYS,
    WINDOWS,
    Found,
    convert_time,
    is_negative,
    is_own_window,
    number_patterns,
    overlaps,
    possessive,
    says_privative_stem,
    spans,
)
from models.targeting.parser._namewords import name_word_overlap, name_word_span
from models.targeting.parser._numbers import format_number
from models.targeting.parser._preprocess import AT_OR_ABOVE, AT_OR_BELOW, AT_OR_BETTER, AT_OR_WORSE, NUM
from models.targeting.parser._values import is_function_word, ordinal_condition, value_condition

__all__ = ["ClauseLinker", "KeySimilarity"]

# key → similarity of a phrase to each catalog key's text (MiniLM), for numbers no cue names
KeySimilarity = Callable[[str], dict[str, float]]
_MIN_SIMILARITY = 0.25  # below this no key is close enough to take a number no cue names
_MIN_WINDOW_SIMILARITY = 0.4  # "within the last 30 days" as a days-since threshold needs a closer key
_NAME_WORD_BONUS = 0.2  # added to the similarity per word of the key's name the phrase uses as written


def _singular_or_plural(unit: str) -> str:
    """A pattern for a count's unit word with or without its plural "s" ("titles" → ``titles?``)."""
    return re.escape(unit).rstrip("s") + "s?"


class ClauseLinker:
    """Links one clause at a time (:meth:`link`); holds the catalog's features and the demand-wide state."""

    def __init__(self, catalog: Catalog, lex: Lexicon, entity: str, similarity: KeySimilarity | None = None) -> None:
        self.features: dict[str, Feature] = {f.name: f for f in catalog.features_of(entity)}
        self.similarity = similarity
        self.sep = ""  # the words joining the clause being linked to the previous one ("with" in "with us")
        self.lead = ""  # the exclusion words taken off the clause being linked ("skip anyone")
        self.lex = lex
        self.roles = lex.roles
        count_units = "|".join(sorted({_singular_or_plural(u) for u in self.roles.count_unit_keys}))
        measures = "|".join(self.roles.measure_keys)
        self.units = "|".join(filter(None, [self.roles.currency_words, count_units, measures]))
        self.range_rx, self.number_rx = number_patterns(self.units)
        self.percent = False  # the demand wrote a percentage (set per demand)
        self.capitals: frozenset[str] = frozenset()  # words the demand wrote in capitals (set per demand)
        self.currency_rx = re.compile(rf"\b(?:{self.roles.currency_words})\b")

    # -- cues -------------------------------------------------------------------------------------

    def key_cues(self, text: str) -> list[Found]:
        found = [Found(c.key, s, e) for c in self.lex.key_cues for s, e in spans(c.pattern, text)]
        found += self._name_word_cues(text, {f.key for f in found})
        # A cue inside a longer cue of another key is not a cue ("credit" inside "credit card").
        return [f for f in found if not any(g.key != f.key and g.start <= f.start and f.end <= g.end
                                            and (g.end - g.start) > (f.end - f.start) for g in found)]

    def _name_word_cues(self, text: str, cued: set[str]) -> list[Found]:
        """A key whose name words the clause says in any order and form, close together ("paid a bill late" →
        ``late_payments_12m``, "concession card holders" → ``concession_holder``); see ``name_word_spans``."""
        out = []
        for key, lemmas in self.lex.name_lemmas.items():
            if key in cued:
                continue
            span = name_word_span(text, lemmas)
            if span is not None:
                out.append(Found(key, *span))
        return out

    def value_cues(self, text: str, taken: list[tuple[int, int]], cues: list[Found]) -> list[list[Found]]:
        """Value mentions, longest first; each inner list holds the readings of one span."""
        hits = [(s, e, c) for c in self.lex.value_cues for s, e in spans(c.pattern, text)
                if not is_function_word(text, s, e, self.capitals)]
        # "push" in "push notifications", "card" in "card spend": a word inside another key's longer name
        hits = [(s, e, c) for s, e, c in hits
                if not any(k.key != c.key and k.start <= s and e <= k.end and k.end - k.start > e - s
                           and (self.features[k.key].dtype == DType.BOOL or not self._is_value_cue(k, text))
                           for k in cues)
                # "push disabled": the word and its state word name the yes/no feature, not the value
                and not any(k.key != c.key and (k.start, k.end) == (s, e) and self.features[k.key].dtype == DType.BOOL
                            and re.match(STATE_AFTER, text[e:]) for k in cues)]
        hits.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
        groups: dict[tuple[int, int], list[Found]] = {}
        used: list[tuple[int, int]] = list(taken)
        for s, e, c in hits:
            if (s, e) in groups:
                groups[(s, e)].append(Found(c.key, s, e, c.value))
            elif not overlaps((s, e), used):
                groups[(s, e)] = [Found(c.key, s, e, c.value)]
                used.append((s, e))
        return [groups[k] for k in sorted(groups)]

    def _is_value_cue(self, cue: Found, text: str) -> bool:
        """The key cue's own words are a value of some feature ("first-tier": a code of city_tier)."""
        phrase = text[cue.start:cue.end]
        return any(v.pattern.fullmatch(phrase) for v in self.lex.value_cues)

    # -- numbers ----------------------------------------------------------------------------------

    def numbers(self, text: str) -> list[tuple[int, int, Op | None, list[float], str, str]]:
        """(start, end, op, [numbers], unit, comparator words) for every number expression."""
        out: list[tuple[int, int, Op | None, list[float], str, str]] = []
        for m in self.range_rx.finditer(text):
            lo, hi = float(m.group(1)), float(m.group(3))
            if lo < hi:
                out.append((m.start(), m.end(), Op.BETWEEN, [lo, hi], m.group(4) or m.group(2) or "", "between"))
        taken = [(s, e) for s, e, *_ in out]
        for m in self.number_rx.finditer(text):
            s, e = m.start(2), m.end()
            if overlaps((m.start(2), m.end(2)), taken):
                continue
            op: Op | None = None
            words = ""
            if m.group("before"):
                words = m.group("before")
                op = next(o for p, o in CMP_BEFORE if re.fullmatch(p, words))
                s = m.start()
            if m.group("after"):
                after = m.group("after")
                aop = next(o for p, o in CMP_AFTER if re.fullmatch(p, after))
                words = (words + " " + after).strip()
                op = aop or op
            out.append((s, e, op, [float(m.group(2))], m.group(3) or "", words))
        return sorted(out)

    # -- one clause -------------------------------------------------------------------------------

    def link(self, clause: LinkedClause, previous: LinkedClause | None, context: str = "") -> None:
        text = clause.text
        self.sep = clause.sep if re.fullmatch(r"[a-z ]*", clause.sep) else ""
        self.lead = clause.lead
        negated = clause.negated
        cues = self.key_cues(text)
        cue_keys = {c.key for c in cues}
        window = next((w for rx, w in WINDOWS if rx.search(text)), None)
        # "tier 1", "24 month contract": a value with a number in it, not a number to compare
        first_values = [r[0] for r in self.value_cues(text, [], cues)]
        value_spans = [(v.start, v.end) for v in first_values]
        coded = [(v.start, v.end) for v in first_values
                 if self.features[v.key].dtype in (DType.INT, DType.FLOAT)
                 or re.search(r"\d", text[v.start:v.end])]
        numbers: list[tuple[int, int, Op | None, list[float], str, str]] = []
        for n in self.numbers(text):
            if overlaps((n[0], n[1]), coded):
                continue
            # ">= 0.8 month-to-month": the unit word belongs to a value that follows, not to the number
            cut = next((vs for vs, _ in value_spans if n[0] < vs < n[1]), None)
            if cut is not None:
                n = (n[0], len(text[:cut].rstrip()), n[2], n[3], "", n[5])
            numbers.append(n)
        taken: list[tuple[int, int]] = [(s, e) for s, e, *_ in numbers]
        slots: list[Slot] = []

        # Numbers first: each attaches to the nearest compatible numeric key cue.
        used_keys: set[str] = set()
        counted = False  # a number became a condition (not just a time window)
        for s, e, op, nums, unit, words in numbers:
            is_window = bool(re.search(r"last|past|within", words)) and unit.rstrip("s") in ("day", "week", "month")
            # "big cities" names a code of a whole-number key; it is not that key waiting for a number
            number_cues = [c for c in cues if not overlaps((c.start, c.end), coded)]
            key_opts = self._number_keys(text, s, e, unit, number_cues, window, previous, is_window, nums, words)
            if not key_opts:
                if not is_window:
                    clause.leftover += " " + text[s:e]
                continue
            if self.percent and all(x <= 1.5 for x in nums):  # "under 60% of booked classes": a percent key first
                if not any(self.roles.units.get(k) == "percent" for k in key_opts):
                    key_opts = [*self._similar_keys(text, s, e, self._unit_pool("", False), window), *key_opts]
                key_opts = sorted(key_opts, key=lambda k: self.roles.units.get(k) != "percent")
            key = key_opts[0]
            if is_window and key not in self.roles.day_keys:
                continue  # "in the last 90 days" only names the feature's window
            if is_own_window(self.roles.window_of(key), self.features[key], nums, unit):
                continue  # "no orders in 30 days", "reviews over the same 90 days": orders_30d's own window
            if key in self.roles.day_keys and unit:
                factor = UNIT_DAYS.get(unit.split()[0], 1)
                nums = [x * factor for x in nums]
            elif key in self.roles.time_keys and unit:  # "tenure over 2 years" on a months key: 24
                nums = [convert_time(x, unit.split()[0], self.roles.time_keys[key]) for x in nums]
            if self.percent and self.roles.units.get(key) == "percent" and all(x <= 1.5 for x in nums):
                nums = [round(x * 100, 6) for x in nums]  # "80%" was read as 0.8; this key counts in percent
            if key == self.roles.age_key and unit.startswith("year") and not words:
                op = op or Op.EQUAL_TO
            op = self._number_op(op, words, key, text, negated, is_window)
            value = ",".join(format_number(x) for x in nums)
            if op == Op.BETWEEN and len(nums) != 2:
                continue
            options = tuple(Condition(k, op, value) for k in key_opts if self._fits(k, op, nums))
            defined = self.roles.defined_by_days.get(key)
            if defined is not None and nums == [float(defined[1])] and op in (
                    Op.LESS_THAN_OR_EQUAL_TO, Op.LESS_THAN, Op.GREATER_THAN, Op.GREATER_THAN_OR_EQUAL_TO):
                # a boolean the catalog defines by this window ("registered in the last 30 days")
                new = Condition(defined[0], Op.EQUAL_TO,
                                "true" if op in (Op.LESS_THAN_OR_EQUAL_TO, Op.LESS_THAN) else "false")
                options = (new, *options) if is_window else (*options, new)
            if options:
                slots.append(Slot(text[s:e], options, s))
                used_keys.update(k for k in key_opts[:1])
                counted = True

        # Values ("shanghai", "women", "gold members").
        values = self.value_cues(text, taken, cues)
        anchors = sorted([*taken, *((r[0].start, r[0].end) for r in values),
                          *((c.start, c.end) for c in cues if self.features[c.key].dtype == DType.BOOL
                            or c.key in self.roles.presence_keys)])
        negations = [m.start() for m in NEGATION.finditer(text)]

        def shared_cue(cue: Found) -> bool:
            """The cue's words also name another key ("ordered": a count of orders, or a bought category)."""
            return any(c.key != cue.key and c.start < cue.end and cue.start < c.end for c in cues)

        def head_noun(cue: Found) -> bool:
            """The cue ends another key's phrase ("live-stream shopping sessions") or a value's ("yoga and strength
            classes", "a pilates class"), so it is not a count here."""
            return any(c.key != cue.key and c.end <= cue.start and re.fullmatch(r"\s*(?:[a-z]+\s+)?", text[c.end:cue.start])
                       and not NEGATION.search(text[c.end:cue.start]) for c in cues) or any(  # not "has not logged in"
                r[0].key != cue.key and r[0].end <= cue.start and re.fullmatch(r"\s*", text[r[0].end:cue.start])
                for r in values)

        def negated_at(start: int) -> bool:
            """A negation word between the previous mention and this one ("non-android users in tier 1")."""
            before = max([e for s, e in anchors if e <= start], default=0)
            return any(before <= n < start for n in negations)  # "no loan" as a value's own words is the value

        # "$15,000 in checking": the value word is the cue of the money key that took the number
        number_spans = [(c.start, c.end) for c in cues if c.key in used_keys
                        and self.features[c.key].dtype in (DType.INT, DType.FLOAT)]
        number_names = {w for k in used_keys if self.features[k].dtype in (DType.INT, DType.FLOAT)
                        for w in re.split(r"_", k)}
        values = [r for r in values if not overlaps((r[0].start, r[0].end), number_spans)
                  and not set(re.split(r"_", r[0].value or "")) <= number_names]
        # "Liverpool's Baltic Triangle": the place named first only says where the second one is
        owner = {values[i + 1][0].start: r[0].start for i, r in enumerate(values)
                 if i + 1 < len(values) and possessive(text, r[0], values[i + 1][0])
                 and r[0].key != values[i + 1][0].key
                 and self.features[r[0].key].dtype == self.features[values[i + 1][0].key].dtype == DType.CATEGORY}
        values = [r for r in values if r[0].start not in owner.values()]
        for readings in values:
            readings = self._rank_values(readings, cue_keys, text, previous, context)
            s, e = readings[0].start, readings[0].end
            taken.append((s, e))
            neg = negated_at(s)
            options = tuple(ordinal_condition(self.features[r.key], r.value or "", text, s, e, neg)
                            or value_condition(self.features[r.key], r.value or "", neg) for r in readings)
            slots.append(Slot(text[s:e], options, owner.get(s, s)))  # the owner's place starts the mention
            used_keys.update({r.key for r in readings[:1]})

        # Booleans and presence words ("with kids", "used a coupon").
        value_spans = [(r[0].start, r[0].end) for r in values]
        for cue in cues:
            f = self.features[cue.key]
            # a boolean cue may share its word with a value ("moms": has children, and female)
            if cue.key in used_keys or overlaps((cue.start, cue.end), taken) and f.dtype != DType.BOOL:
                continue
            if f.dtype == DType.BOOL and (
                    # ... but not be a word inside a longer value ("solar" in "the solar saver plan")
                    any(s <= cue.start and cue.end <= e and e - s > cue.end - cue.start for s, e in value_spans)
                    # ... nor name the measure a number went to ("solar systems over 6.6kW": the system size)
                    or set(text[cue.start:cue.end].split()) <= number_names):
                continue
            phrase = text[cue.start:cue.end]
            neg = any(negated_at(c.start) for c in cues if c.key == cue.key)
            # "push notifications turned off": the negation may follow the feature.
            neg = neg or bool(re.match(r"\s*(?:[a-z]+ )?(?:is |are |was |were )?(?:turned off|switched off|disabled|off|"
                                       r"(?:equal to |= ?|set to )?(?:false|no))\b|\s*not\s*$|\s*(?:nothing|none)\b", text[cue.end:]))
            if f.dtype == DType.BOOL:
                # "childless": English -less is without, unless the key's own name says so ("paperless_statements")
                neg = neg or (bool(re.search(r"\w{3,}less$", phrase)) and phrase.split()[-1] not in cue.key.split("_"))
                neg = neg != says_privative_stem(text, cue.key)  # "paper bills" of paperless_billing
                neg = neg != bool(STATE_OFF.match(phrase))  # "opted out of email"; "did not opt out": opted in
                slots.append(Slot(phrase, (Condition(cue.key, Op.EQUAL_TO, "false" if neg else "true"),), cue.start))
            elif cue.key in self.roles.presence_keys and not counted and not head_noun(cue) and (
                    neg or not shared_cue(cue) or window == self.roles.window_of(cue.key)):
                op, v = (Op.EQUAL_TO, "0") if neg else (Op.GREATER_THAN, "0")  # "a claim in the last year": its sibling
                slots.append(Slot(phrase, (Condition(self.roles.over_window(cue.key, window), op, v),), cue.start))
            else:
                if neg and f.dtype in (DType.CATEGORY, DType.STRING_SET) and not any(
                        o.key == cue.key for sl in slots for o in sl.options):
                    # "not on any subscription": which of its values is "none" the catalog does not say
                    clause.unsure.append((text, cue.key))
                    taken.append((cue.start, cue.end))
                continue
            used_keys.add(cue.key)
            taken.append((cue.start, cue.end))
        # "big spenders", "active users": a numeric key without a threshold is reported, never guessed.
        if not counted:
            for cue in cues:
                if (self.features[cue.key].dtype in (DType.INT, DType.FLOAT) and cue.key not in used_keys
                        and not overlaps((cue.start, cue.end), taken)):
                    m = re.search(r"([a-z]+[ -])?$", text[:cue.start])
                    lead = m.group(1) if m and m.group(1) and not FILLER.fullmatch(m.group(1).strip()) else ""
                    clause.vague.append((lead + text[cue.start:cue.end], cue.key))
                    used_keys.add(cue.key)
        day_cued = [k for k in self.roles.day_keys if k in cue_keys]
        if not slots and day_cued and window and negated:
            slots.append(Slot(text, (Condition(day_cued[0], Op.GREATER_THAN, str(window)),)))
        slots = self._drop_unsure_negation(clause, text, slots, negations, taken + [(c.start, c.end) for c in cues])
        keep = [True] * len(text)
        for s, e in taken + [(c.start, c.end) for c in cues]:
            keep[s:e] = [False] * (e - s)
        rest = "".join(ch if k else " " for ch, k in zip(text, keep, strict=True))
        rest = NEGATION.sub(" ", FILLER.sub(" ", self.currency_rx.sub(" ", rest)))
        for marker in (AT_OR_ABOVE, AT_OR_BELOW, AT_OR_BETTER, AT_OR_WORSE):
            rest = rest.replace(marker, " ")
        clause.leftover = (clause.leftover + " " + re.sub(r"\s+", " ", rest)).strip()
        clause.slots = sorted(slots, key=lambda sl: sl.start)

    def _drop_unsure_negation(self, clause: LinkedClause, text: str, slots: list[Slot], negations: list[int],
                              spans: list[tuple[int, int]]) -> list[Slot]:
        """A negation word no condition took ("not" far from its key): the conditions it may cover are left out
        and the phrase reported, rather than guessing which of them it negates."""
        if clause.excluded or not slots:
            return slots
        for n in negations:
            if any(s <= n < e for s, e in spans):
                continue  # part of a comparator or a cue ("no more than", "non-smoker")
            after = [sl for sl in slots if sl.start > n]
            # a number's comparison already read the negation ("not logged in for 60 days": at least 60)
            if not after or is_negative(after[0].options[0]) or after[0].wrap_not or re.search(r"\d", after[0].phrase):
                continue
            if any(is_negative(sl.options[0]) for sl in slots):
                continue  # the negation went to a condition already (after the feature: "push turned off")
            clause.unsure.append((text[n:], after[0].options[0].key))
            return [sl for sl in slots if sl.start < n]
        return slots

    def _similar_keys(self, text: str, s: int, e: int, pool: list[str], window: int | None,
                      floor: float = _MIN_SIMILARITY) -> list[str]:
        """Keys of ``pool`` ranked by MiniLM similarity to the clause without its number (no cue named one)."""
        if self.similarity is None or not pool:
            return []
        # the clause without the number itself (its unit and comparison words say what is counted)
        phrase = re.sub(r"\s+", " ", f"{self.sep} {text[:s]} {re.sub(NUM, ' ', text[s:e])} {text[e:]}").strip()
        if not FILLER.sub(" ", NEGATION.sub(" ", phrase)).strip():
            return []
        if window is not None:
            same = [k for k in pool if self.roles.window_of(k) in (window, None)]
            pool = same or pool
        if floor >= _MIN_WINDOW_SIMILARITY:
            # a bare window ("with us in the last 12 months") says what happened only through its words: one
            # of them must share its first letters with the key's own text ("logged" ~ "login", "booking")
            said = {w[:3] for w in re.findall(r"[a-z]{4,}", FILLER.sub(" ", phrase))}
            pool = [k for k in pool if said & {w[:3] for w in re.findall(r"[a-z]{4,}", self._key_text(k))}]
        sims = dict(self.similarity(phrase))
        words = set(re.findall(r"[a-z]{3,}", phrase))
        for k in pool:  # a word of the key's own name in the phrase ("in checking" → checking_balance)
            sims[k] = sims.get(k, 0.0) + _NAME_WORD_BONUS * name_word_overlap(words, k)
        ranked = sorted(pool, key=lambda k: -sims.get(k, 0.0))
        return [k for k in ranked if sims.get(k, 0.0) >= floor][:2]

    def _key_text(self, key: str) -> str:
        f = self.features[key]
        return " ".join([key.replace("_", " "), f.description, *f.aliases]).lower()

    def _unit_pool(self, unit: str, is_window: bool) -> list[str]:
        """Numeric keys a number in ``unit`` can be about, from the catalog's units."""
        roles = self.roles
        u = unit.split()[0].rstrip("s") if unit else ""
        if unit and self.currency_rx.fullmatch(unit):
            return list(roles.money_keys)
        if u in ("day", "week", "month", "year"):
            return [*roles.day_keys, *(k for k in roles.time_keys if k not in roles.day_keys)]
        if u in ("time",) or any(re.fullmatch(_singular_or_plural(c), unit) for c in roles.count_unit_keys):
            return list(roles.presence_keys)
        if self.percent:
            return [k for k in self.features if self.roles.units.get(k) == "percent"]
        return []

    def _number_keys(self, text: str, s: int, e: int, unit: str, cues: list[Found], window: int | None,
                     previous: LinkedClause | None, is_window: bool, nums: list[float], words: str) -> list[str]:
        roles = self.roles
        numeric = [c for c in cues if self.features[c.key].dtype in (DType.INT, DType.FLOAT)]
        person = re.search(r"\b(?:wom[ae]n|m[ae]n|people|persons?|users?|customers?|ladies|guys|adults|folks|"
                           r"females?|males?|aged?|anyone|everyone|everybody|those|seniors|gamers|students)\b|^(?:is|are)\b",
                           f"{self.lead} {text}".strip())
        # any word for the people a catalog serves: "years old" or a bare number next to it is their age
        people = person or re.search(r"\b(?:members?|subscribers?|policyholders?|clients?|travell?ers?|drivers?|"
                                     r"viewers?|guests?|patients?|residents?|borrowers?|investors?)\b", text)
        # "been with us more than 2 years": how long someone has been a customer, the one duration key that is not
        # a days-since count
        spans_of_time = [k for k in roles.time_keys if k not in roles.day_keys and k != roles.age_key]
        if (re.search(r"\bwith us\b", text) and unit.rstrip("s") in ("year", "month", "week") and not numeric
                and len(spans_of_time) == 1):
            return spans_of_time
        if roles.age_key and unit.startswith("year") and ("old" in unit or not numeric):
            other = [k for k in self._similar_keys(text, s, e, self._unit_pool(unit, is_window), window)
                     if k != roles.age_key]
            apart = [c for c in numeric if not overlaps((c.start, c.end), [(s, e)])]  # "years old" is the unit
            # "with us for over 2 years", "phone is 4 years old": tenure or a device's age, not the person's
            subject = FILLER.sub(" ", re.sub(r"\b(?:old|age|aged|yo|years?|is|was|at)\b", " ", text[:s] + " " + text[e:]))
            named = people if "old" in unit else person
            if not apart and not named and other and ("old" not in unit or subject.strip()):
                return other
            ages = self.features[roles.age_key].range
            if other and ages is not None and not all(ages[0] <= x <= ages[1] for x in nums):
                return other  # "customers for 5+ years": no age, so the other years key
            if "old" in unit or not numeric:
                return [roles.age_key]
        if unit and self.currency_rx.fullmatch(unit) and roles.money_keys:
            numeric = [c for c in numeric if c.key in roles.money_keys] or [
                Found(k, s, e) for k in (self._similar_keys(text, s, e, list(roles.money_keys), window)
                                         or roles.money_keys[:1])]
        measured = next((keys for rx, keys in roles.measure_keys.items() if re.fullmatch(rx, unit)), None)
        if measured:  # "50GB", "300 Mbps", "20k miles": the keys measured in that unit
            numeric = [c for c in numeric if c.key in measured] or [
                Found(k, s, e) for k in (self._similar_keys(text, s, e, list(measured), window, 0.0)
                                         or measured[:1])]
        if unit.rstrip("s") in ("day", "week", "month") or (unit.startswith("year") and not is_window):
            day = [c for c in numeric if c.key in roles.day_keys or c.key in roles.time_keys] or self._event_days(
                text, numeric, nums, unit)
            if day or not is_window:
                numeric = day or numeric
        counted = next((k for u, k in roles.count_unit_keys.items() if re.fullmatch(_singular_or_plural(u), unit)),
                       None)
        if unit == "times" or counted:
            # "called care 3 times": the count closest to what the clause says, else the unit's own key
            default = counted or next(iter(self._similar_keys(text, s, e, list(roles.presence_keys), window)),
                                      next(iter(roles.count_unit_keys.values()), None))
            numeric = [c for c in numeric if c.key not in roles.day_keys] or (
                [Found(default, s, e)] if default else [])
        if not numeric:
            # "bought shoes 10 days ago": a windowed event named with a day count → its days-since key
            for c in cues:
                day_key = roles.related_day_key.get(c.key)
                own = roles.window_of(c.key)
                if (day_key and self.features[c.key].dtype == DType.STRING_SET
                        and unit.rstrip("s") in ("day", "week", "month") and
                        not (is_window and own is not None and nums[0] * UNIT_DAYS.get(unit.split()[0], 1) == own)):
                    return [day_key]
            # "logged in within the last 7 days": a window is a days-since threshold only when the clause has
            # nothing else ("5+ redeemed in the last 90 days" counts redemptions over that window)
            alone = not (self.key_cues(text) or self.value_cues(text, [], [])) and len(self.numbers(text)) == 1
            if unit and (alone or not is_window):
                similar = self._similar_keys(text, s, e, self._unit_pool(unit, is_window), window,
                                             _MIN_WINDOW_SIMILARITY if is_window else _MIN_SIMILARITY)
                if similar:
                    return similar
            bare = not FILLER.sub(" ", text[:s] + " " + text[e:]).strip()
            prev = [o.key for sl in (previous.slots if previous else []) for o in sl.options[:1]
                    if self.features[o.key].dtype in (DType.INT, DType.FLOAT)]
            age = self.features.get(roles.age_key or "")
            age_fits = (age is not None and not unit and age.range is not None
                        and all(max(16, age.range[0]) <= x <= min(90, age.range[1]) for x in nums))
            if age is not None and age_fits and people:  # "..., but skip anyone under 18": a person's age
                return [age.name]
            if prev and bare and not self._contradicts(previous, prev[-1], words, nums):
                return [prev[-1]]  # "spent over 500 but under 2000" (not "over 5000 MJ, under 60": an age)
            if age is not None and age_fits and words:
                return [age.name]
            return prev[-1:]
        # "10 titles on their watchlist": the items counted belong to the key named after "on/in/of their"
        held = re.compile(r"\s+(?:on|in|of)\s+(?:their|the|his|her|your|my)\s+$")
        numeric.sort(key=lambda c: (not (c.start >= e and held.fullmatch(text[e:c.start])),
                                    min(abs(c.start - e), abs(s - c.end))))
        keys = list(dict.fromkeys(c.key for c in numeric))
        if window is not None:  # "spent over 5000 in the last 6 months": the sibling sum over that window
            keys = [roles.over_window(k, window) for k in keys]
        return list(dict.fromkeys(keys))[:3]

    def _event_days(self, text: str, numeric: list[Found], nums: list[float], unit: str) -> list[Found]:
        """"haven't checked in for 60 days", "no club visit in the last fortnight": a period that is not an event
        count's own window is no threshold of the count; it is one of the event's days-since key, when the
        clause has no other number."""
        if len(self.numbers(text)) != 1 or len(nums) != 1:
            return []
        out = []
        for c in numeric:
            day_key = self.roles.related_day_key.get(c.key)
            own = self.roles.window_of(c.key)
            if (day_key is not None and c.key in self.roles.presence_keys
                    and name_word_overlap(set(c.key.split("_")), day_key)  # the same event ("visits" / "last visit")
                    and (own is None or nums[0] * UNIT_DAYS.get(unit.split()[0], 1) != own)):
                out.append(Found(day_key, c.start, c.end))
        return out

    @staticmethod
    def _contradicts(previous: LinkedClause | None, key: str, words: str, nums: list[float]) -> bool:
        """A bare bound that would leave the previous clause's range on ``key`` empty ("more than 5000" then
        "under 60") is about something else."""
        op = next((o for p, o in CMP_BEFORE if re.fullmatch(p, words)), None) if words else None
        for sl in previous.slots if previous else []:
            c = sl.options[0]
            if c.key != key or not nums:
                continue
            try:
                v = float(c.value.split(",")[-1])
            except ValueError:
                continue
            below = op in (Op.LESS_THAN, Op.LESS_THAN_OR_EQUAL_TO) and c.op in (
                Op.GREATER_THAN, Op.GREATER_THAN_OR_EQUAL_TO) and nums[0] <= v
            above = op in (Op.GREATER_THAN, Op.GREATER_THAN_OR_EQUAL_TO) and c.op in (
                Op.LESS_THAN, Op.LESS_THAN_OR_EQUAL_TO) and nums[0] >= v
            if below or above:
                return True
        return False

    def _number_op(self, op: Op | None, words: str, key: str, text: str, negated: bool, is_window: bool) -> Op:
        if op is None:
            op = Op.EQUAL_TO
        if "ago" in words and op == Op.EQUAL_TO:
            op = Op.GREATER_THAN_OR_EQUAL_TO
        if key in self.roles.day_keys:
            # "not logged in for 30 days", "inactive for over 2 weeks": the days-since count is at least that.
            if re.search(r"\bfor\b", text) and (negated or "inactive" in text or "dormant" in text) and not is_window:
                return Op.GREATER_THAN_OR_EQUAL_TO if op in (Op.EQUAL_TO, Op.GREATER_THAN_OR_EQUAL_TO) else op
            if is_window and negated:
                return Op.GREATER_THAN
        elif negated and not words.startswith("not") and op != Op.BETWEEN and re.search(
                r"\b(?:not|never)\b", text):
            flip = {Op.GREATER_THAN: Op.LESS_THAN_OR_EQUAL_TO, Op.GREATER_THAN_OR_EQUAL_TO: Op.LESS_THAN,
                    Op.LESS_THAN: Op.GREATER_THAN_OR_EQUAL_TO, Op.LESS_THAN_OR_EQUAL_TO: Op.GREATER_THAN,
                    Op.EQUAL_TO: Op.NOT_EQUAL_TO}
            return flip.get(op, op)
        return op

    def _fits(self, key: str, op: Op, nums: list[float]) -> bool:
        f = self.features[key]
        if f.dtype not in (DType.INT, DType.FLOAT):
            return False
        if f.dtype == DType.INT and any(x != int(x) for x in nums):
            return False
        return f.range is None or all(f.range[0] <= x <= f.range[1] for x in nums)

    def _rank_values(self, readings: list[Found], cue_keys: set[str], text: str,
                     previous: LinkedClause | None, context: str) -> list[Found]:
        """A value word several features allow ("pets"): the cued feature, then the one the previous clause
        used, then a standing trait (a set without a window: interests) over an event (bought in 90 days)
        when nothing cues an event, else the event."""
        prev_keys = [o.key for s in (previous.slots if previous else []) for o in s.options[:1]]
        near_keys = {c.key for c in self.key_cues(context)} if context else set()
        keys = {r.key for r in readings}
        # a word of the key's own name nearby ("business travelers" → travel_purpose, not the cabin)
        named = {k for k in keys if any(re.search(rf"\b{re.escape(w[:6])}", text) for w in k.split("_") if len(w) >= 4)}
        cued_keys = keys & cue_keys or named if len(named) < len(keys) else keys & cue_keys
        # "any pool class in the last 90 days": the one feature counted over the window the clause names
        window = next((w for rx, w in WINDOWS if rx.search(text)), None)
        windowed = {k for k in keys if window is not None and self.roles.window_of(k) == window}
        if not cued_keys and len(windowed) == 1:
            cued_keys = windowed
        # a category cue ("favourite") is more specific than a set's ("bought" inside "most bought")
        if any(self.features[k].dtype == DType.CATEGORY for k in cued_keys):
            cued_keys = {k for k in cued_keys if self.features[k].dtype == DType.CATEGORY}
        event_cued = any(self.roles.window_of(k) is not None or self.features[k].dtype == DType.CATEGORY
                         for k in cue_keys & {f for f in self.features if self._shares_values(f, keys)})

        def rank(r: Found) -> tuple[int, int, int]:
            f = self.features[r.key]
            trait = f.dtype == DType.STRING_SET and self.roles.window_of(r.key) is None
            event = f.dtype == DType.STRING_SET and not trait
            default = (0 if trait and not event_cued else 1 if event else 2 if trait else 3) if len(keys) > 1 else 0
            # "renters in California": a category's value in the plural names those people ("renters policy" is
            # the policy: its key's name word is cued)
            people = f.dtype == DType.CATEGORY and text[r.start:r.end] in (f"{r.value}s", f"{r.value}es")
            return (0 if r.key in cued_keys else 1 if r.key in prev_keys[-1:] or r.key in near_keys else 2,
                    0 if people else 1, default)

        return sorted(readings, key=rank)

    def _shares_values(self, key: str, keys: set[str]) -> bool:
        vals = set(self.features[key].values or ())
        return bool(vals) and any(vals & set(self.features[k].values or ()) for k in keys)
