"""The logic language: grammar, canonical form, JSON, validator, SQL compiler and evaluator."""

from __future__ import annotations

import duckdb
import pytest
from _targeting_strategies import CATALOG, expressions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InvalidArgument
from features.catalog import Catalog
from features.demo_world import generate_users
from models.targeting.logic import (
    OPERATORS,
    And,
    Condition,
    Not,
    Op,
    Or,
    canonical,
    check,
    condition_outcomes,
    evaluate,
    evaluate3,
    from_json,
    normalize,
    operators_by_key,
    parse_logic,
    to_json,
    to_sql,
    validate,
)

EXAMPLE = "(gender#Equal To#female) AND (age#Between#25,35) AND NOT (coupon_used_90d#Greater Than#0)"


# -- grammar ---------------------------------------------------------------------------------------

def test_parses_the_issue_example_into_a_typed_ast() -> None:
    assert parse_logic(EXAMPLE) == And((
        Condition("gender", Op.EQUAL_TO, "female"),
        Condition("age", Op.BETWEEN, "25,35"),
        Not(Condition("coupon_used_90d", Op.GREATER_THAN, "0")),
    ))


def test_operator_words_are_exactly_the_issue_list() -> None:
    assert OPERATORS == (
        "Equal To", "Not Equal To", "Greater Than", "Greater Than Or Equal To", "Less Than",
        "Less Than Or Equal To", "Between", "Belongs To", "Not Belongs To", "Contains Any",
        "Contains All", "Contains None")
    for word in OPERATORS:  # each parses, also the ones that are prefixes of others
        assert parse_logic(f"(k#{word}#v)").op.value == word  # type: ignore[union-attr]


def test_precedence_not_over_and_over_or() -> None:
    expr = parse_logic("(a#Equal To#1) OR NOT (b#Equal To#2) AND (c#Equal To#3)")
    assert expr == Or((Condition("a", Op.EQUAL_TO, "1"),
                       And((Not(Condition("b", Op.EQUAL_TO, "2")), Condition("c", Op.EQUAL_TO, "3")))))


def test_keywords_and_operators_are_case_and_blank_tolerant() -> None:
    loose = "( gender # equal   to # female )and not(age#between#25 , 35)"
    assert canonical(parse_logic(loose)) == "(gender#Equal To#female) AND NOT (age#Between#25,35)"


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "empty"),
    ("   ", "empty"),
    ("(age#Equal To#30", "ends early"),
    ("(age#Equals#30)", "unknown operator"),
    ("(age#Equal To#30) AND", "ends early"),
    ("(age#Equal To#)", "column 15"),
    ("(age#Equal To#30) (city#Equal To#wuhan)", "column 19"),
    ("(age#Equal To#30); DROP TABLE users", "column 18: unexpected '; DROP TABLE users'"),
])
def test_syntax_errors_are_invalid_argument_with_position(text: str, fragment: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        parse_logic(text)
    assert fragment in err.value.message
    assert err.value.field == "logic"


# -- canonical form and JSON -----------------------------------------------------------------------

def test_canonical_sorts_flattens_and_dedupes() -> None:
    a = parse_logic("(city#Belongs To#wuhan, beijing) AND ((age#Greater Than#30.0) AND (gender#Equal To#male))")
    b = parse_logic("(gender#Equal To#male) AND (age#Greater Than#30) AND (city#Belongs To#beijing,wuhan)"
                    " AND (gender#Equal To#male)")
    assert canonical(a) == canonical(b) == \
        "(age#Greater Than#30) AND (city#Belongs To#beijing,wuhan) AND (gender#Equal To#male)"


def test_canonical_drops_double_negation_and_parenthesises_nested_groups() -> None:
    expr = parse_logic("NOT NOT ((age#Less Than#20) OR (age#Greater Than#60) AND (has_loan#Equal To#TRUE))")
    assert canonical(expr) == "((age#Greater Than#60) AND (has_loan#Equal To#true)) OR (age#Less Than#20)"
    assert canonical(None) == ""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_canonical_round_trips(expr: object) -> None:
    text = canonical(expr)  # type: ignore[arg-type]
    again = parse_logic(text)
    assert canonical(again) == text
    assert normalize(again) == again  # the canonical text parses to the canonical AST
    assert canonical(from_json(to_json(expr))) == text  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(expressions(max_leaves=5), st.randoms(use_true_random=False))
def test_canonical_ignores_item_order(expr: object, rnd: object) -> None:
    def shuffle(e: object) -> object:
        if isinstance(e, And | Or):
            items = [shuffle(i) for i in e.items]
            rnd.shuffle(items)  # type: ignore[attr-defined]
            return type(e)(tuple(items))
        if isinstance(e, Not):
            return Not(shuffle(e.item))  # type: ignore[arg-type]
        assert isinstance(e, Condition)
        items = e.value.split(",")
        if e.op.value.startswith(("Belongs", "Not Belongs", "Contains")):
            rnd.shuffle(items)  # type: ignore[attr-defined]
        return Condition(e.key, e.op, ", ".join(items))

    assert canonical(shuffle(expr)) == canonical(expr)  # type: ignore[arg-type]


def test_json_form_has_typed_values() -> None:
    data = to_json(parse_logic(
        "(age#Between#25,35) AND (has_loan#Equal To#true) AND (interests#Contains Any#music,gaming)"))
    assert data == {"type": "and", "items": [
        {"type": "condition", "key": "age", "op": "Between", "value": [25, 35]},
        {"type": "condition", "key": "has_loan", "op": "Equal To", "value": True},
        {"type": "condition", "key": "interests", "op": "Contains Any", "value": ["gaming", "music"]},
    ]}


@pytest.mark.parametrize(("data", "field"), [
    ('{"type": "xor", "items": []}', "logic.type"),
    ('{"type": "and", "items": [{"type": "condition", "key": "age", "op": "Equal To", "value": 3}]}',
     "logic.items"),
    ('{"type": "condition", "key": "age", "op": "Same As", "value": 3}', "logic.op"),
    ('{"type": "not", "item": {"type": "condition", "key": "a b", "op": "Equal To", "value": 3}}',
     "logic.item.key"),
    ('{"type": "condition", "key": "city", "op": "Equal To", "value": "x) OR (1=1"}', "logic.value"),
    ("{not json", "logic"),
])
def test_from_json_rejects_malformed_input_naming_the_field(data: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        from_json(data)
    assert err.value.field == field


# -- validator -------------------------------------------------------------------------------------

def test_valid_logic_has_no_violations() -> None:
    assert validate(parse_logic(EXAMPLE), CATALOG) == []
    assert check(parse_logic(EXAMPLE), CATALOG) == parse_logic(EXAMPLE)


@pytest.mark.parametrize(("text", "field", "fragment"), [
    ("(gendr#Equal To#female)", "logic.key", "did you mean gender"),
    ("(interests#Equal To#music)", "logic.op", "use Contains Any, Contains All, Contains None"),
    ("(has_loan#Greater Than#0)", "logic.op", "use Equal To"),
    ("(has_loan#Equal To#yes)", "logic.value", "true or false"),
    ("(age#Between#35,25)", "logic.value", "low 35 is above high 25"),
    ("(age#Between#25)", "logic.value", "low,high"),
    ("(age#Greater Than#200)", "logic.value", "outside age's range [18, 80]"),
    ("(age#Greater Than#thirty)", "logic.value", "is not"),
    ("(coupon_used_90d#Greater Than#0.5)", "logic.value", "whole numbers"),
    ("(city#Belongs To#beijing,paris)", "logic.value", "'paris' not among city's values"),
    ("(city#Belongs To#beijing,beijing)", "logic.value", "repeats"),
    ("(city#Equal To#beijing,wuhan)", "logic.value", "takes one value"),
    ("(gender#Equal To#Female)", "logic.value", "not one of gender's values"),
])
def test_validator_names_field_and_problem(text: str, field: str, fragment: str) -> None:
    (violation,) = validate(parse_logic(text), CATALOG)
    assert violation.field == field
    assert fragment in violation.description


def test_validator_paths_follow_the_tree_and_check_collects_all() -> None:
    expr = parse_logic("(age#Greater Than#30) AND ((city#Equal To#paris) OR NOT (foo#Equal To#1))")
    found = validate(expr, CATALOG)
    assert [v.field for v in found] == ["logic.items[1].items[0].value", "logic.items[1].items[1].item.key"]
    with pytest.raises(InvalidArgument) as err:
        check(expr, CATALOG)
    assert [v.field for v in err.value.violations] == [v.field for v in found]


def test_operators_by_key_covers_every_user_feature() -> None:
    ops = operators_by_key(CATALOG)
    assert set(ops) == {f.name for f in CATALOG.features_of("user")}
    assert ops["has_children"] == (Op.EQUAL_TO,)
    assert Op.CONTAINS_ALL in ops["purchased_categories_90d"] and Op.BETWEEN in ops["churn_risk"]


# -- SQL and evaluator -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def population() -> duckdb.DuckDBPyConnection:
    users, _ = generate_users(CATALOG, 2000, seed=7)
    con = duckdb.connect()
    con.register("users_df", users)
    con.execute("CREATE TABLE users AS SELECT * FROM users_df")
    # A few missing values, so the three-valued logic is exercised too.
    con.execute("UPDATE users SET age = NULL, interests = NULL, city = NULL, coupon_used_90d = NULL, "
                "has_children = NULL WHERE user_id < 'u0000100'")
    return con


@pytest.fixture(scope="module")
def population_rows(population: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    return population.execute("SELECT * FROM users").df().to_dict("records")  # type: ignore[no-any-return]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expressions(max_leaves=6))
def test_sql_in_duckdb_matches_the_in_memory_evaluator(
        population: duckdb.DuckDBPyConnection, population_rows: list[dict[str, object]], expr: object) -> None:
    sql = to_sql(expr, CATALOG, "duckdb")  # type: ignore[arg-type]
    selected = {r[0] for r in population.execute(f"SELECT user_id FROM users WHERE {sql}").fetchall()}
    expected = {row["user_id"] for row in population_rows if evaluate(expr, row)}  # type: ignore[arg-type]
    assert selected == expected


def test_sql_selects_what_the_logic_says(population: duckdb.DuckDBPyConnection) -> None:
    expr = parse_logic("(gender#Equal To#female) AND (age#Between#25,35) AND "
                       "(purchased_categories_90d#Contains Any#baby) AND NOT (coupon_used_90d#Greater Than#0)")
    rows = population.execute(f"SELECT * FROM users WHERE {to_sql(expr, CATALOG)}").df()
    assert len(rows) > 0
    assert (rows.gender == "female").all() and rows.age.between(25, 35).all()
    assert (rows.coupon_used_90d == 0).all()
    assert all("baby" in list(s) for s in rows.purchased_categories_90d)


def test_spark_sql_uses_spark_functions_and_parses_as_spark() -> None:
    import sqlglot

    expr = parse_logic("(interests#Contains All#music,tech) OR (purchased_categories_90d#Contains None#baby)")
    sql = to_sql(expr, CATALOG, "spark")
    assert "ARRAY_INTERSECT(`interests`, ARRAY('music', 'tech'))" in sql
    assert "ARRAYS_OVERLAP(`purchased_categories_90d`, ARRAY('baby'))" in sql
    sqlglot.parse_one(f"SELECT * FROM users WHERE {sql}", read="spark")


def test_unknown_dialect_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument) as err:
        to_sql(parse_logic(EXAMPLE), CATALOG, "mysql")  # type: ignore[arg-type]
    assert err.value.field == "dialect"


@pytest.mark.parametrize("payload", [
    "beijing') OR 1=1 --",
    "x' OR '1'='1",
    "beijing'; DROP TABLE users; --",
    "\\' OR 1=1",
])
def test_injection_in_values_cannot_escape_literals(population: duckdb.DuckDBPyConnection, payload: str) -> None:
    # The validator refuses the value ...
    expr = Condition("city", Op.EQUAL_TO, payload)
    with pytest.raises(InvalidArgument):
        to_sql(expr, CATALOG)
    # ... and a catalog that allows it as a city (catalogs are user files) gets it as one string literal.
    allowing = Catalog.model_validate({"name": "hostile", "entities": {"user": {"key": "user_id"}}, "groups": [
        {"name": "profile", "entity": "user", "ttl_seconds": 60, "features": [
            {"name": "city", "dtype": "category", "values": ["beijing", payload]}]}]})
    for logic in (expr, Condition("city", Op.BELONGS_TO, f"beijing,{payload}")):
        sql = f"SELECT count(*) FROM users WHERE {to_sql(logic, allowing)} AND city <> 'beijing'"
        assert population.execute(sql).fetchone()[0] == 0  # type: ignore[index]
    assert population.execute("SELECT count(*) FROM users").fetchone()[0] == 2000  # type: ignore[index]


def test_injection_in_keys_is_rejected() -> None:
    with pytest.raises(InvalidArgument):
        parse_logic('(age" OR 1=1 --#Equal To#3)')
    with pytest.raises(InvalidArgument) as err:
        to_sql(Condition("users", Op.EQUAL_TO, "3"), CATALOG)
    assert err.value.field == "logic.key"


def test_evaluator_is_three_valued_like_sql() -> None:
    expr = parse_logic("NOT (age#Greater Than#30)")
    assert evaluate(expr, {"age": 25}) is True
    assert evaluate(expr, {"age": None}) is False
    assert evaluate(expr, {}) is False
    assert evaluate(expr, {"age": float("nan")}) is False
    either = parse_logic("(age#Greater Than#30) OR (has_loan#Equal To#true)")
    assert evaluate(either, {"has_loan": True}) is True  # unknown OR true is true


def test_condition_outcomes_explain_a_rejection() -> None:
    outcomes = condition_outcomes(parse_logic(EXAMPLE), {"gender": "female", "age": 40, "coupon_used_90d": 2})
    assert [(str(o.condition), o.satisfied) for o in outcomes] == [
        ("(gender#Equal To#female)", True),
        ("(age#Between#25,35)", False),
        ("(coupon_used_90d#Greater Than#0)", False),
    ]
    assert outcomes[2].negated and outcomes[2].actual == 2


# -- conventions: one spelling per meaning ----------------------------------------------------------

@pytest.mark.parametrize(("text", "conventional"), [
    ("NOT (gender#Equal To#male)", "(gender#Not Equal To#male)"),
    # the two items become one only once spelled conventionally, and that one is then negated
    ("NOT ((gender#Equal To#female) AND (gender#Belongs To#female))", "(gender#Not Equal To#female)"),
    ("NOT (city#Belongs To#beijing,shanghai)", "(city#Not Belongs To#beijing,shanghai)"),
    ("(city#Belongs To#wuhan)", "(city#Equal To#wuhan)"),
    ("NOT (city#Not Belongs To#wuhan)", "(city#Equal To#wuhan)"),
    ("NOT (interests#Contains Any#music,movies)", "(interests#Contains None#movies,music)"),
    ("(interests#Contains All#music)", "(interests#Contains Any#music)"),
    ("NOT (has_children#Equal To#true)", "(has_children#Equal To#false)"),
    ("(coupon_used_90d#Equal To#0)", "NOT (coupon_used_90d#Greater Than#0)"),
    ("(coupon_used_90d#Less Than#1)", "NOT (coupon_used_90d#Greater Than#0)"),
    ("NOT (coupon_used_90d#Less Than Or Equal To#0)", "(coupon_used_90d#Greater Than#0)"),
    ("(orders_30d#Greater Than Or Equal To#1)", "(orders_30d#Greater Than#0)"),
    ("(age#Equal To#18)", "(age#Equal To#18)"),
    ("NOT (city_tier#Equal To#1)", "(city_tier#Not Equal To#1)"),
    ("NOT (orders_30d#Not Equal To#0)", "NOT (orders_30d#Greater Than#0)"),
    ("(age#Greater Than Or Equal To#21) AND (gender#Equal To#male) AND (age#Less Than Or Equal To#60)",
     "(age#Between#21,60) AND (gender#Equal To#male)"),
    ("(age#Greater Than Or Equal To#21) AND (age#Less Than Or Equal To#60)", "(age#Between#21,60)"),
    ("(age#Greater Than Or Equal To#61) AND (age#Less Than Or Equal To#60)",
     "(age#Greater Than Or Equal To#61) AND (age#Less Than Or Equal To#60)"),  # empty range: left as written
    ("(city#Equal To#wuhan) OR (gender#Equal To#male) OR (city#Belongs To#xian,hefei)",
     "(city#Belongs To#hefei,wuhan,xian) OR (gender#Equal To#male)"),  # age starts at 18, not 0: not a count, left alone
    ("NOT ((gender#Equal To#male) OR (city#Equal To#wuhan))",
     "NOT ((city#Equal To#wuhan) OR (gender#Equal To#male))"),  # groups keep their NOT
])
def test_catalog_conventions_spell_each_meaning_one_way(text: str, conventional: str) -> None:
    assert canonical(parse_logic(text), CATALOG) == conventional
    assert canonical(parse_logic(text)) == canonical(parse_logic(text))  # without the catalog: spelling kept


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expressions(max_leaves=6))
def test_conventional_spelling_selects_the_same_users(
        population: duckdb.DuckDBPyConnection, population_rows: list[dict[str, object]], expr: object) -> None:
    conventional = normalize(expr, CATALOG)  # type: ignore[arg-type]
    for e in (expr, Not(expr)):  # type: ignore[arg-type]
        c = normalize(e, CATALOG)  # type: ignore[arg-type]
        assert [evaluate3(e, r) for r in population_rows] == [evaluate3(c, r) for r in population_rows]  # type: ignore[arg-type]
    assert canonical(conventional, CATALOG) == canonical(conventional)  # applying twice changes nothing
