"""Logic → varied English demands, with the four-step reasoning chain that leads back to the logic.

Rendering works for any logic over the catalog (reverse generation): conditions the lexicon knows are
phrased its ways, the rest generically from the feature's description.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from features.catalog import Catalog, DType, Feature
from models.targeting.corpus._lexicon import BOOLS, CATEGORIES, NUMBERS, SETS, SPECIALS, CatSpec, Special
from models.targeting.corpus._numbers import cmp_phrase, say_number
from models.targeting.logic import And, Condition, Expr, Not, Op, Or, ReasoningChain, canonical

__all__ = ["Rendered", "render"]

_HEADS = ("users", "customers", "people", "shoppers", "buyers", "clients")
_LEADS = ("", "", "Find ", "Target ", "Select ", "I want to reach ", "Show me ", "Give me ", "Build an audience of ",
          "Looking for ", "Please find ", "We need ", "Get all ", "Send the campaign to ", "Pick ", "Reach ")
_TAILS = ("", "", "", ".", " for the next campaign", " please", " for a coupon push", ".")
_EXCLUDE = ("excluding those {m}", "but not those {m}", "except users {m}", "leaving out anyone {m}")
_SPECIAL_BY_LOGIC: dict[str, Special] = {s.logic: s for s in SPECIALS}


@dataclass
class Rendered:
    demand: str
    chain: ReasoningChain
    logic: str


@dataclass
class _Ctx:
    rng: random.Random
    catalog: Catalog
    mentions: list[tuple[str, str, str]] = field(default_factory=list)  # (phrase, key, condition text)

    def note(self, phrase: str, key: str, condition: str) -> str:
        self.mentions.append((phrase, key, condition))
        return phrase


def _surface(feature: Feature, value: str, table: dict[str, tuple[str, ...]], rng: random.Random) -> str:
    forms = table.get(value)
    if forms:
        return rng.choice(forms)
    word = value.replace("_", " ")
    if feature.name == "city" and rng.random() < 0.5:
        return word.title()
    return word


def _join(words: list[str], conj: str, rng: random.Random) -> str:
    if len(words) == 1:
        return words[0]
    if len(words) == 2:
        return f"{words[0]} {conj} {words[1]}"
    comma = "," if rng.random() < 0.5 else ""
    return ", ".join(words[:-1]) + f"{comma} {conj} {words[-1]}"


def _numbers(c: Condition) -> list[float]:
    return [float(i) for i in c.items]


def _condition_phrase(c: Condition, ctx: _Ctx, *, head: bool = False) -> str | None:
    """A modifier ("aged 25 to 35") or, with ``head``, a noun phrase ("women"); None if no head form."""
    rng, feature = ctx.rng, ctx.catalog.features[c.key]
    special = _SPECIAL_BY_LOGIC.get(str(c))
    if head:
        if special and special.heads:
            return rng.choice(special.heads)
        if feature.name in CATEGORIES:
            spec = CATEGORIES[feature.name]
            if c.op == Op.EQUAL_TO and c.value in spec.head:
                return rng.choice(spec.head[c.value])
            if c.op == Op.BELONGS_TO and spec.head_list:
                words = [_surface(feature, v, spec.surface, rng) for v in c.items]
                return rng.choice(spec.head_list).format(vs_or=_join(words, "or", rng))
        if feature.name in BOOLS:
            spec_b = BOOLS[feature.name]
            forms = spec_b.head_pos if c.value == "true" else spec_b.head_neg
            return rng.choice(forms) if forms else None
        return None
    if special and rng.random() < 0.85:
        return rng.choice(special.phrases)
    if feature.dtype in (DType.INT, DType.FLOAT):
        spec_n = NUMBERS.get(feature.name)
        unit = spec_n.unit if spec_n else ""
        extra = spec_n.extra.get(c.op, ()) if spec_n else ()
        if extra and rng.random() < 0.5:
            return rng.choice(extra).format(n=say_number(_numbers(c)[0], unit, rng, bare=True))
        templates = spec_n.templates if spec_n else (f"with {feature.description.lower() or feature.name} {{cmp}}",)
        text = rng.choice(templates).format(cmp=cmp_phrase(c.op.value, _numbers(c), unit, rng))
        return text.replace(" of from ", " of ").replace(" is from ", " is ")
    if feature.dtype == DType.BOOL:
        known = BOOLS.get(feature.name)
        if known:
            return rng.choice(known.pos if c.value == "true" else known.neg)
        label = feature.description.lower() or feature.name.replace("_", " ")
        return f"where {label}" if c.value == "true" else f"where not {label}"
    if feature.dtype == DType.CATEGORY:
        spec = CATEGORIES.get(feature.name) or _default_cat_spec(feature)
        words = [_surface(feature, v, spec.surface, rng) for v in c.items]
        if c.op in (Op.EQUAL_TO, Op.BELONGS_TO):
            return rng.choice(spec.eq).format(v=_join(words, "or", rng))
        templates = spec.neq or (f"whose {feature.name.replace('_', ' ')} is not {{v}}",)
        return rng.choice(templates).format(v=_join(words, "or", rng))
    spec_s = SETS.get(feature.name)
    label = feature.description.lower() or feature.name
    words = [_surface(feature, v, spec_s.surface if spec_s else {}, rng) for v in c.items]
    if c.op == Op.CONTAINS_ALL:
        templates = spec_s.all if spec_s else (f"whose {label} include all of {{vs_and}}",)
        if len(words) > 2:
            templates = tuple(t.replace("both ", "all of ") for t in templates)
    elif c.op == Op.CONTAINS_NONE:
        templates = spec_s.none if spec_s else (f"whose {label} include none of {{vs_or}}",)
    else:
        templates = spec_s.any if spec_s else (f"whose {label} include {{vs_or}}",)
    return rng.choice(templates).format(vs_or=_join(words, "or", rng), vs_and=_join(words, "and", rng))


def _default_cat_spec(feature: Feature) -> CatSpec:
    """Phrasings of a category the lexicon does not know, from its name."""
    label = feature.name.replace("_", " ")
    return CatSpec(eq=(f"whose {label} is {{v}}",), neq=(f"whose {label} is not {{v}}",))


def _mod(expr: Expr, ctx: _Ctx, *, either: bool = True) -> str:
    """A modifier phrase for ``expr`` (follows a head noun)."""
    if isinstance(expr, Condition):
        text = _condition_phrase(expr, ctx)
        assert text is not None
        return ctx.note(text, expr.key, str(expr))
    if isinstance(expr, Not):
        special = _SPECIAL_BY_LOGIC.get(canonical(expr))
        if special is not None and isinstance(expr.item, Condition):
            return ctx.note(ctx.rng.choice(special.phrases), expr.item.key, canonical(expr))
        return "not " + _mod(expr.item, ctx)
    parts = [_mod(i, ctx) for i in expr.items]
    if isinstance(expr, And):
        return _join(parts, "and", ctx.rng)
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
        special = _SPECIAL_BY_LOGIC.get(canonical(expr))
        if special is not None and isinstance(expr.item, Condition):
            return f"{head_word} " + _mod(expr, ctx)
        return rng.choice(("all users except those {m}", "everyone except users {m}",
                           "users other than those {m}")).format(m=_mod(expr.item, ctx))
    items = list(expr.items) if isinstance(expr, And) else [expr]
    positives = [i for i in items if not isinstance(i, Not) or _SPECIAL_BY_LOGIC.get(canonical(i))]
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


def render(expr: Expr, catalog: Catalog, rng: random.Random) -> Rendered:
    """One demand for ``expr`` and the reasoning chain from that demand back to it."""
    ctx = _Ctx(rng, catalog)
    body = _noun_phrase(expr, ctx, head_word=rng.choice(_HEADS))
    lead = rng.choice(_LEADS)
    demand = lead + body + rng.choice(_TAILS)
    if not lead or rng.random() < 0.3:
        demand = demand[0].upper() + demand[1:] if rng.random() < 0.7 else demand
    logic = canonical(expr)
    chain = ReasoningChain(
        key_phrases=tuple(p for p, _, _ in ctx.mentions),
        mapping=tuple((p, k) for p, k, _ in ctx.mentions),
        conditions=tuple(c for _, _, c in ctx.mentions),
        combination=logic,
    )
    return Rendered(demand, chain, logic)
