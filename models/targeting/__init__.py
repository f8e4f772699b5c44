"""Demand-to-logic targeting: the logic language (``logic``), the training corpus (``corpus``), the
LLM parser (``parser``), evaluation and audience selection. Import the sub-packages directly; this
package re-exports only the logic language so that importing it stays light."""

from models.targeting.logic import (
    And,
    Condition,
    Expr,
    Not,
    Op,
    Or,
    ParseResult,
    ReasoningChain,
    UnresolvedPhrase,
    canonical,
    check,
    evaluate,
    from_json,
    parse_logic,
    to_json,
    to_sql,
    validate,
)

__all__ = [
    "And",
    "Condition",
    "Expr",
    "Not",
    "Op",
    "Or",
    "ParseResult",
    "ReasoningChain",
    "UnresolvedPhrase",
    "canonical",
    "check",
    "evaluate",
    "from_json",
    "parse_logic",
    "to_json",
    "to_sql",
    "validate",
]
