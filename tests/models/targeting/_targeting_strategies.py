"""Hypothesis strategies: random valid logic over the demo catalog."""

from __future__ import annotations

from hypothesis import strategies as st

from features.catalog import DType, Feature, demo_catalog
from models.targeting.logic import And, Condition, Expr, Not, Op, Or, operators_for

CATALOG = demo_catalog()
USER_FEATURES = CATALOG.features_of("user")


def _number(feature: Feature) -> st.SearchStrategy[str]:
    lo, hi = feature.range or (0, 100)
    if feature.dtype == DType.INT:
        return st.integers(int(lo), int(hi)).map(str)
    return st.floats(lo, hi, allow_nan=False).map(lambda x: repr(round(x, 3)))


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    feature = draw(st.sampled_from(USER_FEATURES))
    op = draw(st.sampled_from(operators_for(feature.dtype)))
    if feature.dtype == DType.BOOL:
        value = draw(st.sampled_from(["true", "false"]))
    elif feature.dtype in (DType.CATEGORY, DType.STRING_SET):
        values = feature.values or ()
        if op in (Op.EQUAL_TO, Op.NOT_EQUAL_TO):
            value = draw(st.sampled_from(values))
        else:
            value = ",".join(draw(st.lists(st.sampled_from(values), min_size=1, max_size=4, unique=True)))
    elif op == Op.BETWEEN:
        a, b = draw(_number(feature)), draw(_number(feature))
        lo, hi = sorted((a, b), key=float)
        value = f"{lo},{hi}"
    else:
        value = draw(_number(feature))
    return Condition(feature.name, op, value)


def expressions(max_leaves: int = 8) -> st.SearchStrategy[Expr]:
    return st.recursive(
        conditions(),
        lambda inner: st.one_of(
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: And(tuple(xs))),
            st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or(tuple(xs))),
            inner.map(Not),
        ),
        max_leaves=max_leaves,
    )
