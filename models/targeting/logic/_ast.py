"""The typed AST of targeting logic: conditions ``(key#operator#value)`` joined by AND / OR / NOT."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from features.catalog import Catalog, DType
from features.population import population_entity

__all__ = [
    "And",
    "Condition",
    "Expr",
    "LIST_OPERATORS",
    "Not",
    "OPERATORS",
    "OPERATORS_BY_DTYPE",
    "Op",
    "Or",
    "conditions_of",
    "operators_by_key",
    "operators_for",
]


class Op(StrEnum):
    """The fixed operator words (ARALLM's form), so logic written elsewhere parses here."""

    EQUAL_TO = "Equal To"
    NOT_EQUAL_TO = "Not Equal To"
    GREATER_THAN = "Greater Than"
    GREATER_THAN_OR_EQUAL_TO = "Greater Than Or Equal To"
    LESS_THAN = "Less Than"
    LESS_THAN_OR_EQUAL_TO = "Less Than Or Equal To"
    BETWEEN = "Between"
    BELONGS_TO = "Belongs To"
    NOT_BELONGS_TO = "Not Belongs To"
    CONTAINS_ANY = "Contains Any"
    CONTAINS_ALL = "Contains All"
    CONTAINS_NONE = "Contains None"


OPERATORS: tuple[str, ...] = tuple(op.value for op in Op)

# Operators whose value is a comma-separated list whose order does not matter.
LIST_OPERATORS: frozenset[Op] = frozenset(
    {Op.BELONGS_TO, Op.NOT_BELONGS_TO, Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE})

_NUMERIC_OPS = (Op.EQUAL_TO, Op.NOT_EQUAL_TO, Op.GREATER_THAN, Op.GREATER_THAN_OR_EQUAL_TO,
                Op.LESS_THAN, Op.LESS_THAN_OR_EQUAL_TO, Op.BETWEEN)

# One way to say each thing: booleans only take ``Equal To true|false``; sets only the Contains family.
OPERATORS_BY_DTYPE: dict[DType, tuple[Op, ...]] = {
    DType.INT: _NUMERIC_OPS,
    DType.FLOAT: _NUMERIC_OPS,
    DType.BOOL: (Op.EQUAL_TO,),
    DType.CATEGORY: (Op.EQUAL_TO, Op.NOT_EQUAL_TO, Op.BELONGS_TO, Op.NOT_BELONGS_TO),
    DType.STRING_SET: (Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE),
}


def operators_for(dtype: DType | str) -> tuple[Op, ...]:
    """The operators valid for a feature of ``dtype``."""
    return OPERATORS_BY_DTYPE[DType(dtype)]


def operators_by_key(catalog: Catalog, entity: str | None = None) -> dict[str, tuple[Op, ...]]:
    """Catalog key → the operators valid for it (for grammar-constrained decoding)."""
    return {f.name: operators_for(f.dtype) for f in catalog.features_of(entity or population_entity(catalog))}


@dataclass(frozen=True, slots=True)
class Condition:
    """``(key#op#value)``. ``value`` is the text after the second ``#`` with blanks around commas removed."""

    key: str
    op: Op
    value: str

    @property
    def items(self) -> tuple[str, ...]:
        """The comma-separated parts of the value (one part for scalar operators)."""
        return tuple(self.value.split(","))

    def __str__(self) -> str:
        return f"({self.key}#{self.op.value}#{self.value})"


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Expr


Expr = Condition | And | Or | Not


def conditions_of(expr: Expr) -> list[Condition]:
    """Every condition of ``expr`` in reading order."""
    if isinstance(expr, Condition):
        return [expr]
    if isinstance(expr, Not):
        return conditions_of(expr.item)
    return [c for item in expr.items for c in conditions_of(item)]


def signed_conditions(expr: Expr, negated: bool = False, path: tuple[int, ...] = ()
                      ) -> list[tuple[Condition, bool, tuple[int, ...]]]:
    """Every condition in reading order: whether it sits under NOT, and its path of AND/OR item indices
    (a NOT adds no index)."""
    if isinstance(expr, Condition):
        return [(expr, negated, path)]
    if isinstance(expr, Not):
        return signed_conditions(expr.item, not negated, path)
    return [found for i, item in enumerate(expr.items) for found in signed_conditions(item, negated, (*path, i))]
