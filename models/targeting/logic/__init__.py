"""The targeting logic language: ``(key#Operator#value)`` conditions joined by AND / OR / NOT.

>>> from features.catalog import Catalog
>>> catalog = Catalog.model_validate({"name": "shop", "entities": {"user": {"key": "user_id"}}, "groups": [
...     {"name": "profile", "entity": "user", "ttl_seconds": 86400, "features": [
...         {"name": "age", "dtype": "int", "range": [0, 120]},
...         {"name": "gender", "dtype": "category", "values": ["female", "male"]}]}]})
>>> expr = parse_logic("(gender#Equal To#female) AND (age#Between#25, 35)")
>>> canonical(expr)
'(age#Between#25,35) AND (gender#Equal To#female)'
>>> print(to_sql(expr, catalog))
"age" BETWEEN 25 AND 35 AND "gender" = 'female'
>>> evaluate(expr, {"gender": "female", "age": 30})
True
"""

from models.targeting.logic._ast import (
    LIST_OPERATORS,
    OPERATORS,
    OPERATORS_BY_DTYPE,
    And,
    Condition,
    Expr,
    Not,
    Op,
    Or,
    conditions_of,
    operators_by_key,
    operators_for,
    signed_conditions,
)
from models.targeting.logic._canonical import canonical, from_json, normalize, to_json
from models.targeting.logic._catalog_logic import whole_range_logic
from models.targeting.logic._evaluate import ConditionOutcome, condition_outcomes, evaluate, evaluate3
from models.targeting.logic._parse import MAX_LOGIC_CHARS, parse_logic
from models.targeting.logic._result import (
    AlternativeReading,
    ConditionSource,
    ParseResult,
    ReasoningChain,
    UnresolvedPhrase,
)
from models.targeting.logic._sql import DIALECTS, Dialect, to_sql, to_sql_expression
from models.targeting.logic._validate import MAX_CONDITIONS, MAX_DEPTH, check, closest_keys, validate

__all__ = [
    "DIALECTS",
    "LIST_OPERATORS",
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "MAX_LOGIC_CHARS",
    "OPERATORS",
    "OPERATORS_BY_DTYPE",
    "AlternativeReading",
    "And",
    "Condition",
    "ConditionOutcome",
    "ConditionSource",
    "Dialect",
    "Expr",
    "Not",
    "Op",
    "Or",
    "ParseResult",
    "ReasoningChain",
    "UnresolvedPhrase",
    "canonical",
    "check",
    "closest_keys",
    "condition_outcomes",
    "conditions_of",
    "signed_conditions",
    "evaluate",
    "evaluate3",
    "from_json",
    "normalize",
    "operators_by_key",
    "operators_for",
    "parse_logic",
    "to_json",
    "to_sql",
    "to_sql_expression",
    "validate",
    "whole_range_logic",
]

