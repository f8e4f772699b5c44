"""Text → AST with a lark LALR grammar (``logic.lark``); syntax errors name the position."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from lark.exceptions import UnexpectedToken

from core.errors import InvalidArgument
from models.targeting.logic._ast import And, Condition, Expr, Not, Op, Or

__all__ = ["MAX_LOGIC_CHARS", "MAX_TEXT_NESTING", "parse_logic"]

MAX_LOGIC_CHARS = 20_000
# Brackets plus NOTs open at any point of the text. Generous next to the AST limit (validate's
# MAX_DEPTH = 16) so that moderately deep logic still gets validate's precise message, and far below
# what lark's recursive tree transform survives (hundreds of levels end in a RecursionError).
MAX_TEXT_NESTING = 40
# A whole condition "(key#operator#value)": its brackets and operator words (Not Equal To) are not nesting.
_CONDITION = re.compile(r"\([^#()]*#[^#()]*#[^#()]*\)")
_NESTING_TOKEN = re.compile(r"[()!]|&&|\|\||\b(?:not|and|or)\b", re.IGNORECASE)
_OP_BY_WORDS = {op.value.lower(): op for op in Op}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "logic.lark").read_text()
    return Lark(grammar, parser="lalr", lexer="contextual", maybe_placeholders=False)


def _normalise_value(raw: str) -> str:
    return ",".join(part.strip() for part in raw.split(","))


class _ToAst(Transformer[Token, Expr]):
    def condition(self, children: list[Token]) -> Condition:
        key, op, value = children
        words = re.sub(r"\s+", " ", str(op)).lower()
        return Condition(str(key), _OP_BY_WORDS[words], _normalise_value(str(value)))

    # ``?rule -> alias`` still builds a node for one child; a one-item group is just that item.
    def and_(self, children: list[Expr]) -> Expr:
        return children[0] if len(children) == 1 else And(tuple(children))

    def or_(self, children: list[Expr]) -> Expr:
        return children[0] if len(children) == 1 else Or(tuple(children))

    def not_(self, children: list[Expr]) -> Expr:
        return Not(children[0])


def _describe(exc: UnexpectedInput, text: str) -> str:
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    where = f"line {line}, column {column}" if line not in (None, -1) else "the end"
    expected = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END" or isinstance(exc, UnexpectedEOF):
        where, what = "the end", "the logic ends early"
    elif "OPERATOR" in expected:
        what = f"unknown operator; use one of {', '.join(op.value for op in Op)}"
    elif isinstance(exc, UnexpectedToken):
        what = f"unexpected {str(exc.token)!r}"
    elif isinstance(exc, UnexpectedCharacters):
        what = f"unexpected character {text[exc.pos_in_stream or 0]!r}"
    else:
        what = "syntax error"
    pos = getattr(exc, "pos_in_stream", None)
    near = f" near {text[max(0, pos - 20):pos + 20]!r}" if isinstance(pos, int) and pos >= 0 else ""
    hint = "; a condition looks like (key#Operator#value), joined by AND / OR / NOT"
    return f"invalid logic at {where}: {what}{near}{hint}"


def _text_nesting(text: str) -> int:
    """The deepest nesting of brackets and NOTs in ``text``: a linear scan, no recursion."""
    deepest = 0
    open_nots: list[int] = []  # NOTs waiting in front of each open bracket
    nots = 0  # NOTs since the last bracket or AND/OR
    for token in _NESTING_TOKEN.findall(_CONDITION.sub(" c ", text)):
        word = token.lower()
        if word in ("not", "!"):
            nots += 1
        elif word == "(":
            open_nots.append(nots)
            nots = 0
        elif word == ")":
            if open_nots:
                open_nots.pop()
            nots = 0
        else:  # AND / OR end a NOT chain
            nots = 0
        deepest = max(deepest, len(open_nots) + sum(open_nots) + nots)
    return deepest


def parse_logic(text: str, *, field: str = "logic") -> Expr:
    """Parse the text form, e.g. ``(gender#Equal To#female) AND NOT (coupon_used_90d#Greater Than#0)``.

    Raises :class:`InvalidArgument` (naming ``field`` and the line/column) on a syntax error. Keys,
    operators' fit and values are checked against a catalog separately by :func:`validate`.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("logic is empty", field=field)
    if len(text) > MAX_LOGIC_CHARS:
        raise InvalidArgument(f"logic is longer than {MAX_LOGIC_CHARS} characters", field=field)
    nesting = _text_nesting(text)
    if nesting > MAX_TEXT_NESTING:  # checked before lark: its tree transform recurses once per level
        raise InvalidArgument(f"logic nests brackets and NOTs {nesting} levels deep; at most {MAX_TEXT_NESTING} "
                              "are allowed", field=field)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise InvalidArgument(_describe(exc, text), field=field) from None
    result = _ToAst().transform(tree)
    assert isinstance(result, Condition | And | Or | Not)
    return result
