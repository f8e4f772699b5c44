"""How each feature of a catalog is said: its :class:`Voice`, from the catalog's phrasebook or its own entry.

A feature with phrasebook templates (``phrasebook.features.<name>`` in the catalog YAML) is said only
the phrasebook's ways; every other feature gets a voice derived by :mod:`._english` from its name,
description, aliases, value_aliases, unit, window and range. Nothing here names a feature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from string import Formatter

from core.errors import InvalidArgument
from features import Catalog, DType, Feature
from features.population import population_entity
from models.targeting.corpus._english import generic_voice, nice_numbers, number_style, window_of
from models.targeting.corpus._numbers import currency_forms
from models.targeting.logic import Condition, Expr, Not, Op, canonical, check, conditions_of, parse_logic

__all__ = ["CatalogVoices", "Fixed", "Voice", "voices_for"]

G, GE, L, LE, B, EQ = (Op.GREATER_THAN, Op.GREATER_THAN_OR_EQUAL_TO, Op.LESS_THAN, Op.LESS_THAN_OR_EQUAL_TO,
                       Op.BETWEEN, Op.EQUAL_TO)
_DEFAULT_OPS: dict[DType, tuple[Op, ...]] = {
    DType.CATEGORY: (Op.EQUAL_TO, Op.NOT_EQUAL_TO, Op.BELONGS_TO, Op.NOT_BELONGS_TO),
}


@dataclass(frozen=True)
class Voice:
    """Everything the renderer needs to say conditions on one feature (templates as in the phrasebook)."""

    feature: Feature
    templates: tuple[str, ...]
    negated: tuple[str, ...] = ()
    all_of: tuple[str, ...] = ()
    by_operator: dict[Op, tuple[str, ...]] = field(default_factory=dict)
    heads: dict[str, tuple[str, ...]] = field(default_factory=dict)
    list_heads: tuple[str, ...] = ()
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    numbers: tuple[float, ...] = ()
    operators: tuple[Op, ...] = ()
    style: str = "plain"
    currency: tuple[str, ...] = ()
    proper_nouns: bool = False
    window: int | None = None  # days a {w} placeholder speaks of
    generic: bool = True  # derived from the catalog entry (False: the team's phrasebook)
    # counts from 0 said as presence / absence and decades of an age (generic voices only); level ranges
    # of an ordered category
    presence: tuple[str, ...] = ()
    absence: tuple[str, ...] = ()
    ordinal: bool = False
    decades: bool = False


@dataclass(frozen=True)
class Fixed:
    """A fixed phrase for one condition (or NOT one condition)."""

    logic: str
    phrases: tuple[str, ...]
    heads: tuple[str, ...] = ()


@dataclass(frozen=True)
class CatalogVoices:
    catalog: Catalog
    entity: str
    voices: dict[str, Voice]
    fixed: tuple[tuple[str, Expr, Fixed], ...]  # (key, logic, phrases) from the phrasebook
    fixed_by_logic: dict[str, Fixed] = field(default_factory=dict)


# The placeholders each kind of phrasebook template may use (anything else is a typo that would only
# surface as a KeyError half-way through a corpus).
_PLACEHOLDERS: dict[tuple[DType, str], set[str]] = {
    **{(d, "templates"): {"cmp", "w"} for d in (DType.INT, DType.FLOAT)},
    **{(d, "by_operator"): {"n", "w"} for d in (DType.INT, DType.FLOAT)},
    (DType.CATEGORY, "templates"): {"v"}, (DType.CATEGORY, "negated"): {"v"},
    (DType.CATEGORY, "list_heads"): {"vs_or"},
    (DType.STRING_SET, "templates"): {"vs_or", "w"}, (DType.STRING_SET, "negated"): {"vs_or", "w"},
    (DType.STRING_SET, "all_of"): {"vs_and", "w"},
}


def _check_placeholders(feature: Feature, part: str, templates: tuple[str, ...], where: str) -> None:
    allowed = _PLACEHOLDERS.get((feature.dtype, part), set())
    for i, template in enumerate(templates):
        try:
            used = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
        except ValueError as exc:
            raise InvalidArgument(f"{where}.{part}[{i}]: {exc}", field="phrasebook") from None
        unknown = sorted(used - allowed)
        if unknown:
            raise InvalidArgument(
                f"{where}.{part}[{i}]: {template!r} uses {', '.join('{' + u + '}' for u in unknown)}; a "
                f"{feature.dtype} feature's {part} may use {', '.join('{' + a + '}' for a in sorted(allowed)) or 'none'}",
                field="phrasebook")


def _ops(names: tuple[str, ...], where: str) -> tuple[Op, ...]:
    out: list[Op] = []
    for name in names:
        try:
            out.append(Op(name))
        except ValueError:
            raise InvalidArgument(f"{where}: unknown operator {name!r}", field="phrasebook") from None
    return tuple(out)


def _from_phrasebook(feature: Feature, catalog: Catalog) -> Voice | None:
    entry = catalog.phrasebook.features.get(feature.name)
    if entry is None or not entry.templates:
        return None
    where = f"phrasebook.features.{feature.name}"
    for part in ("templates", "negated", "all_of", "list_heads"):
        _check_placeholders(feature, part, getattr(entry, part), where)
    for forms in entry.by_operator.values():
        _check_placeholders(feature, "by_operator", forms, where)
    generic = generic_voice(feature)  # what the entry leaves out (a negated form, say) is said generically
    style = entry.number_style or number_style(feature)
    ops = _ops(entry.operators, f"{where}.operators") or _DEFAULT_OPS.get(feature.dtype, ())
    return Voice(
        feature, entry.templates, entry.negated or generic.negated, entry.all_of or generic.all_of,
        {op: forms for op, forms in zip(_ops(tuple(entry.by_operator), f"{where}.by_operator"),
                                        entry.by_operator.values(), strict=True)},
        dict(entry.heads), entry.list_heads, dict(entry.words),
        entry.numbers or nice_numbers(feature), ops or generic.operators, style,
        currency_forms(feature.unit) or (), entry.proper_nouns, window_of(feature),
        generic=False, ordinal=feature.ordered)


_CACHE: dict[int, CatalogVoices] = {}


def voices_for(catalog: Catalog) -> CatalogVoices:
    """Every feature's voice and the phrasebook's fixed phrases (validated against the catalog)."""
    hit = _CACHE.get(id(catalog))
    if hit is not None and hit.catalog is catalog:
        return hit
    entity = population_entity(catalog)
    voices = {f.name: _from_phrasebook(f, catalog) or generic_voice(f) for f in catalog.features_of(entity)}
    fixed: list[tuple[str, Expr, Fixed]] = []
    for i, item in enumerate(catalog.phrasebook.fixed):
        field_ = f"phrasebook.fixed[{i}].logic"
        expr = check(parse_logic(item.logic, field=field_), catalog, field=field_)
        inner = expr.item if isinstance(expr, Not) else expr
        if not isinstance(inner, Condition):
            raise InvalidArgument(f"{field_}: a fixed phrase means one condition or NOT one condition",
                                  field="phrasebook")
        fixed.append((conditions_of(expr)[0].key, expr, Fixed(canonical(expr), item.phrases, item.heads)))
    out = CatalogVoices(catalog, entity, voices, tuple(fixed), {f.logic: f for _, _, f in fixed})
    if len(_CACHE) >= 16:  # a process generating for many catalogs (tests) keeps the latest ones
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(catalog)] = out
    return out
