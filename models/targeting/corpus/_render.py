"""Logic → varied English demands, with the four-step reasoning chain that leads back to the logic.

Rendering works for any logic over any catalog (reverse generation): each condition is said in its
feature's voice (``_voices``: the catalog's phrasebook, else generic English from the catalog entry).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from features import Catalog
from models.targeting.corpus._english import window_phrases
from models.targeting.corpus._numbers import cmp_phrase, say_number
from models.targeting.corpus._voices import CatalogVoices, Fixed, Voice, voices_for
from models.targeting.logic import And, Condition, Expr, Not, Op, Or, ReasoningChain, canonical

__all__ = ["Rendered", "render"]

_HEADS = ("users", "customers", "people", "shoppers", "buyers", "clients")
_LEADS = ("", "", "Find ", "Target ", "Select ", "I want to reach ", "Show me ", "Give me ", "Build an audience of ",
          "Looking for ", "Please find ", "We need ", "Get all ", "Send the campaign to ", "Pick ", "Reach ")
_TAILS = ("", "", "", ".", " for the next campaign", " please", " for a coupon push", ".")
_EXCLUDE = ("excluding those {m}", "but not those {m}", "except users {m}", "leaving out anyone {m}")
_UPPER = ("{v} or above", "{v} or higher", "{v}+", "at least {v}", "{v} and up")
_LOWER_NEXT = ("below {v}", "lower than {v}")
_LOWER_LAST = ("{v} or below", "at most {v}", "up to {v}")
_DECADES = {20: ("twenties", "20s"), 30: ("thirties", "30s"), 40: ("forties", "40s"), 50: ("fifties", "50s"),
            60: ("sixties", "60s"), 70: ("seventies", "70s")}


@dataclass
class Rendered:
    demand: str
    chain: ReasoningChain
    logic: str


@dataclass
class _Ctx:
    rng: random.Random
    voices: CatalogVoices
    brackets: bool = True
    mentions: list[tuple[str, str, str]] = field(default_factory=list)  # (phrase, key, condition text)

    def note(self, phrase: str, key: str, condition: str) -> str:
        self.mentions.append((phrase, key, condition))
        return phrase

    def voice(self, key: str) -> Voice:
        return self.voices.voices[key]

    def fixed(self, expr: Expr) -> Fixed | None:
        """A fixed phrase for a condition or NOT one: the phrasebook's, else a generic one (presence of a
        count, a decade of an age)."""
        text = canonical(expr)
        found = self.voices.fixed_by_logic.get(text)
        if found is not None:
            return found
        inner = expr.item if isinstance(expr, Not) else expr
        if not isinstance(inner, Condition) or inner.key not in self.voices.voices:
            return None
        voice = self.voice(inner.key)
        if not voice.generic:
            return None
        window = voice.window
        if inner.op == Op.GREATER_THAN and inner.value == "0" and (voice.presence or voice.absence):
            forms = voice.absence if isinstance(expr, Not) else voice.presence
            if forms:
                return Fixed(text, tuple(_fill_window(t, window, self.rng) for t in forms))
        if voice.decades and not isinstance(expr, Not) and inner.op == Op.BETWEEN:
            lo, hi = (int(float(x)) for x in inner.items)
            if lo in _DECADES and hi == lo + 9:
                word, digits = _DECADES[lo]
                return Fixed(text, (f"in their {word}", f"in their {digits}"))
        return None


def _fill_window(template: str, days: int | None, rng: random.Random) -> str:
    if "{w}" not in template:
        return template
    return template.replace("{w}", " " + rng.choice(window_phrases(days)) if days else "")


def _surface(voice: Voice, value: str, rng: random.Random) -> str:
    forms = voice.words.get(value)
    if voice.generic:
        word = rng.choice(forms) if forms else value.replace("_", " ")
        if voice.proper_nouns and word == value.replace("_", " ") and rng.random() < 0.5:
            return word.title()
        return word
    if forms:
        return rng.choice(forms)
    word = value.replace("_", " ")
    if voice.proper_nouns and rng.random() < 0.5:
        return word.title()
    return word


def _join(words: list[str], conj: str, rng: random.Random) -> str:
    if len(words) == 1:
        return words[0]
    if conj == ",":
        return ", ".join(words)
    if len(words) == 2:
        return f"{words[0]} {conj} {words[1]}"
    comma = "," if rng.random() < 0.5 else ""
    return ", ".join(words[:-1]) + f"{comma} {conj} {words[-1]}"


def _numbers(c: Condition) -> list[float]:
    return [float(i) for i in c.items]


def _ordinal(voice: Voice, c: Condition, rng: random.Random) -> str | None:
    """ "premier or above" / "below gold" for a contiguous run of an ordered category's levels."""
    levels = list(voice.feature.values or ())
    if not voice.ordinal or c.op != Op.BELONGS_TO or rng.random() < 0.2:
        return None
    chosen = set(c.items)
    for i in range(1, len(levels)):
        if chosen == set(levels[i:]):
            return rng.choice(_UPPER).format(v=_surface(voice, levels[i], rng))
        if chosen == set(levels[:i]):
            if rng.random() < 0.5:
                return rng.choice(_LOWER_NEXT).format(v=_surface(voice, levels[i], rng))
            return rng.choice(_LOWER_LAST).format(v=_surface(voice, levels[i - 1], rng))
    return None


def _number_phrase(c: Condition, voice: Voice, rng: random.Random) -> str:
    style = voice.style if voice.style != "money" or voice.currency else "plain"
    currency = voice.currency or ("",)
    extra = voice.by_operator.get(c.op, ())
    if extra and rng.random() < 0.5:
        template = rng.choice(extra)
        window = _fill_window("{w}", voice.window, rng) if "{w}" in template else ""
        return template.format(n=say_number(_numbers(c)[0], style, rng, bare=True, currency=currency), w=window)
    template = rng.choice(voice.templates)
    window = _fill_window("{w}", voice.window, rng) if "{w}" in template else ""
    text = template.format(cmp=cmp_phrase(c.op.value, _numbers(c), style, rng, currency=currency), w=window)
    return text.replace(" of from ", " of ").replace(" is from ", " is ")


def _condition_phrase(c: Condition, ctx: _Ctx, *, head: bool = False) -> str | None:
    """A modifier ("aged 25 to 35") or, with ``head``, a noun phrase ("women"); None if no head form."""
    rng, voice = ctx.rng, ctx.voice(c.key)
    fixed = ctx.fixed(c)
    dtype = voice.feature.dtype.value
    if head:
        if fixed and fixed.heads:
            return rng.choice(fixed.heads)
        if dtype == "category":
            if c.op == Op.EQUAL_TO and c.value in voice.heads:
                return rng.choice(voice.heads[c.value])
            if c.op == Op.BELONGS_TO and voice.list_heads:
                words = [_surface(voice, v, rng) for v in c.items]
                return rng.choice(voice.list_heads).format(vs_or=_join(words, "or", rng))
        if dtype == "bool":
            forms = voice.heads.get(c.value, ())
            return rng.choice(forms) if forms else None
        return None
    if fixed and rng.random() < 0.85:
        return rng.choice(fixed.phrases)
    if dtype in ("int", "float"):
        return _number_phrase(c, voice, rng)
    if dtype == "bool":
        return rng.choice(voice.templates if c.value == "true" else voice.negated)
    if dtype == "category":
        ordinal = _ordinal(voice, c, rng)
        words = [ordinal] if ordinal else [_surface(voice, v, rng) for v in c.items]
        if c.op in (Op.EQUAL_TO, Op.BELONGS_TO):
            return rng.choice(voice.templates).format(v=_join(words, "or", rng))
        return rng.choice(voice.negated).format(v=_join(words, "or", rng))
    words = [_surface(voice, v, rng) for v in c.items]
    if c.op == Op.CONTAINS_ALL:
        templates = voice.all_of
        if len(words) > 2:
            templates = tuple(t.replace("both ", "all of ") for t in templates)
    elif c.op == Op.CONTAINS_NONE:
        templates = voice.negated
    else:
        templates = voice.templates
    text = rng.choice(templates)
    return _fill_window(text, voice.window, rng).format(vs_or=_join(words, "or", rng),
                                                       vs_and=_join(words, "and", rng))


def _mod(expr: Expr, ctx: _Ctx, *, either: bool = True) -> str:
    """A modifier phrase for ``expr`` (follows a head noun)."""
    if isinstance(expr, Condition):
        text = _condition_phrase(expr, ctx)
        assert text is not None
        return ctx.note(text, expr.key, str(expr))
    if isinstance(expr, Not):
        fixed = ctx.fixed(expr)
        if fixed is not None and isinstance(expr.item, Condition):
            return ctx.note(ctx.rng.choice(fixed.phrases), expr.item.key, canonical(expr))
        return "not " + _mod(expr.item, ctx)
    parts = [_mod(i, ctx) for i in expr.items]
    if isinstance(expr, And):
        return _join(parts, "and", ctx.rng)
    if either and ctx.brackets and ctx.rng.random() < 0.25:  # "users in NYC and (premier or private clients)"
        return "(" + _join(parts, "or", ctx.rng) + ")"
    return ("either " if either and ctx.rng.random() < 0.6 else "") + _join(parts, "or", ctx.rng)


def _noun_phrase(expr: Expr, ctx: _Ctx, *, head_word: str) -> str:
    rng = ctx.rng
    if isinstance(expr, Or):
        if all(isinstance(i, Condition) for i in expr.items) and rng.random() < 0.5:
            return f"{head_word} " + _mod(expr, ctx, either=False)
        sep = rng.choice((", or ", " or ", "; or "))
        parts = [_noun_phrase(i, ctx, head_word=head_word) for i in expr.items]
        return ("either " if rng.random() < 0.3 else "") + sep.join(parts)
    if isinstance(expr, Not):
        if ctx.fixed(expr) is not None and isinstance(expr.item, Condition):
            return f"{head_word} " + _mod(expr, ctx)
        return rng.choice(("all users except those {m}", "everyone except users {m}",
                           "users other than those {m}")).format(m=_mod(expr.item, ctx))
    items = list(expr.items) if isinstance(expr, And) else [expr]
    positives = [i for i in items if not isinstance(i, Not) or ctx.fixed(i) is not None]
    negatives = [i for i in items if i not in positives]
    rng.shuffle(positives)
    head = head_word
    if rng.random() < 0.65:
        for i, item in enumerate(positives):
            if isinstance(item, Condition):
                noun = _condition_phrase(item, ctx, head=True)
                if noun is not None:
                    head = ctx.note(noun, item.key, str(item))
                    positives.pop(i)
                    break
    mods = [_mod(i, ctx) for i in positives]
    text = head
    if mods:
        text += " " + _join(mods, rng.choice(("and", "and", "and", ",")), rng).replace(" , ", ", ")
    for neg in negatives:
        assert isinstance(neg, Not)
        text += ", " if rng.random() < 0.5 else " "
        phrase = rng.choice(_EXCLUDE).format(m=_mod(neg.item, ctx))
        text += phrase
        if isinstance(neg.item, Condition):  # the chain shows the exclusion as one negated condition
            ctx.mentions[-1] = (phrase, neg.item.key, f"NOT {neg.item}")
    return text


def _tidy(text: str) -> str:
    """Articles and counts that templates cannot know: "a online login" → "an online login", "1 times" → "1 time"."""
    text = re.sub(r"\b([Aa]) (?=[aeioAEIO])", r"\1n ", text)
    return re.sub(r"\b(1|one) times\b", r"\1 time", text)


def render(expr: Expr, catalog: Catalog, rng: random.Random, *, brackets: bool = True) -> Rendered:
    """One demand for ``expr`` and the reasoning chain from that demand back to it."""
    ctx = _Ctx(rng, voices_for(catalog), brackets)
    body = _noun_phrase(expr, ctx, head_word=rng.choice(_HEADS))
    lead = rng.choice(_LEADS)
    demand = lead + body + rng.choice(_TAILS)
    if not lead or rng.random() < 0.3:
        demand = demand[0].upper() + demand[1:] if rng.random() < 0.7 else demand
    logic = canonical(expr)
    demand = _tidy(demand)
    chain = ReasoningChain(
        key_phrases=tuple(_tidy(p) for p, _, _ in ctx.mentions),
        mapping=tuple((p, k) for p, k, _ in ctx.mentions),
        conditions=tuple(c for _, _, c in ctx.mentions),
        combination=logic,
    )
    return Rendered(demand, chain, logic)
