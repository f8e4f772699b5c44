"""Logic → SQL predicate via sqlglot, for DuckDB and Spark SQL.

Identifiers come only from the catalog (the logic is validated first) and are quoted; values become
sqlglot literals, which escape quotes, so no value can leave its literal. ``string_set`` features
are list columns (Parquet ``list<string>``), compared with each dialect's list functions.
"""

from __future__ import annotations

from typing import Literal

from sqlglot import exp

from core.errors import InvalidArgument
from features.catalog import Catalog, DType, Feature
from models.targeting.logic._ast import And, Condition, Expr, Not, Op
from models.targeting.logic._canonical import normalize
from models.targeting.logic._validate import check

__all__ = ["Dialect", "DIALECTS", "to_sql", "to_sql_expression"]

Dialect = Literal["duckdb", "spark"]
DIALECTS: tuple[str, ...] = ("duckdb", "spark")

_COMPARE: dict[Op, type[exp.Binary]] = {
    Op.EQUAL_TO: exp.EQ, Op.NOT_EQUAL_TO: exp.NEQ, Op.GREATER_THAN: exp.GT,
    Op.GREATER_THAN_OR_EQUAL_TO: exp.GTE, Op.LESS_THAN: exp.LT, Op.LESS_THAN_OR_EQUAL_TO: exp.LTE,
}


def _literal(feature: Feature, item: str) -> exp.Expr:
    item = item.strip()
    if feature.dtype == DType.BOOL:
        return exp.true() if item.lower() == "true" else exp.false()
    if feature.dtype in (DType.INT, DType.FLOAT):
        x = float(item)  # validated: finite, in range
        return exp.Literal.number(str(int(x)) if x == int(x) else repr(x))
    return exp.Literal.string(item)


def _array(items: list[exp.Expr], dialect: str) -> exp.Expr:
    if dialect == "spark":
        return exp.Anonymous(this="array", expressions=items)
    return exp.Array(expressions=items)


def _set_predicate(column: exp.Expr, op: Op, items: list[exp.Expr], dialect: str) -> exp.Expr:
    wanted = _array(items, dialect)
    if dialect == "spark":
        if op == Op.CONTAINS_ALL:
            # Items are distinct (validated), so all are present iff the intersection keeps all of them;
            # a NULL column gives size -1 or NULL, never a match.
            common = exp.Anonymous(this="array_intersect", expressions=[column, wanted])
            return exp.EQ(this=exp.Anonymous(this="size", expressions=[common]),
                          expression=exp.Literal.number(len(items)))
        overlap: exp.Expr = exp.Anonymous(this="arrays_overlap", expressions=[column, wanted])
    else:
        if op == Op.CONTAINS_ALL:
            return exp.Anonymous(this="list_has_all", expressions=[column, wanted])
        overlap = exp.Anonymous(this="list_has_any", expressions=[column, wanted])
    return exp.Not(this=overlap) if op == Op.CONTAINS_NONE else overlap


def _condition(c: Condition, catalog: Catalog, dialect: str) -> exp.Expr:
    feature = catalog.features[c.key]
    column = exp.column(feature.name, quoted=True)
    items = [_literal(feature, i) for i in c.items]
    if c.op in _COMPARE:
        return _COMPARE[c.op](this=column, expression=items[0])
    if c.op == Op.BETWEEN:
        return exp.Between(this=column, low=items[0], high=items[1])
    if c.op == Op.BELONGS_TO:
        return column.isin(*items)
    if c.op == Op.NOT_BELONGS_TO:
        return exp.Not(this=exp.paren(column.isin(*items)))
    return _set_predicate(column, c.op, items, dialect)


def _compile(expr: Expr, catalog: Catalog, dialect: str) -> exp.Expr:
    if isinstance(expr, Condition):
        return _condition(expr, catalog, dialect)
    if isinstance(expr, Not):
        return exp.Not(this=exp.paren(_compile(expr.item, catalog, dialect)))
    parts = [_compile(i, catalog, dialect) for i in expr.items]  # and_/or_ parenthesise nested groups
    return exp.and_(*parts) if isinstance(expr, And) else exp.or_(*parts)


def to_sql_expression(expr: Expr, catalog: Catalog, dialect: Dialect = "duckdb") -> exp.Expr:
    """The sqlglot expression of the predicate (validated against ``catalog`` first)."""
    if dialect not in DIALECTS:
        raise InvalidArgument(f"unknown SQL dialect {dialect!r}; use {' or '.join(DIALECTS)}", field="dialect")
    check(expr, catalog)
    return _compile(normalize(expr), catalog, dialect)  # equal logic compiles to equal SQL


def to_sql(expr: Expr, catalog: Catalog, dialect: Dialect = "duckdb") -> str:
    """A SQL boolean predicate (a WHERE clause body) selecting the users ``expr`` describes."""
    return to_sql_expression(expr, catalog, dialect).sql(dialect=dialect)
