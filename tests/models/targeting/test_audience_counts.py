"""Sizing several readings in one pass gives exactly what counting each one alone gives."""

from __future__ import annotations

import pandas as pd
import pytest

from features.catalog import Catalog
from models.targeting.audience import Population, logic_features
from models.targeting.logic import evaluate, parse_logic


@pytest.fixture(scope="module")
def population_and_users(catalog: Catalog, demo_users: tuple[pd.DataFrame, pd.DataFrame]
                         ) -> tuple[Population, pd.DataFrame]:
    users = demo_users[0].copy()
    users["age"] = users["age"].astype("Int64")
    users.loc[users.index % 4 == 0, "age"] = pd.NA  # missing values: three-valued logic inside each FILTER
    users.loc[users.index % 5 == 0, "city"] = None
    return Population.from_frame(users, catalog), users


@pytest.mark.parametrize("logics", [
    # readings of one demand sharing conditions (they go into the WHERE clause)
    ["(city#Equal To#beijing) AND (interests#Contains Any#pets)",
     "(city#Equal To#beijing) AND (purchased_categories_90d#Contains Any#pets)",
     "(city#Equal To#beijing) AND (favorite_category#Equal To#pets)"],
    # nothing shared, NOT and OR at the top
    ["NOT (age#Greater Than#40)", "(age#Greater Than#40) OR (city#Equal To#wuhan)", "(gender#Equal To#male)"],
    # a shared NOT item and a shared OR group
    ["NOT (city#Equal To#beijing) AND ((age#Less Than#30) OR (has_children#Equal To#true)) AND (gender#Equal To#female)",
     "NOT (city#Equal To#beijing) AND ((age#Less Than#30) OR (has_children#Equal To#true)) AND (gender#Equal To#male)"],
])
def test_one_pass_counts_equal_counting_each_reading(population_and_users: tuple[Population, pd.DataFrame],
                                                     logics: list[str]) -> None:
    population, users = population_and_users
    exprs = [parse_logic(text) for text in logics]
    counted = population.counts([*exprs, None])
    assert counted[-1] == 0  # empty logic selects nobody
    rows = users.to_dict("records")
    direct = [sum(evaluate(e, r) for r in rows) for e in exprs]
    assert counted[:-1] == direct == [population.count(e) for e in exprs]
    assert len(set(direct)) > 1


def test_sample_users_carry_the_logics_feature_values(population_and_users: tuple[Population, pd.DataFrame]) -> None:
    population, users = population_and_users
    expr = parse_logic("(age#Greater Than#60) OR (city#Equal To#beijing)")
    assert logic_features(expr) == ["age", "city"]
    sample = population.sample_users(expr, 50, seed=1)
    assert [u.user_id for u in sample] == population.sample(expr, 50, seed=1)
    rows = users.set_index("user_id")
    for u in sample:
        assert evaluate(expr, {"user_id": u.user_id, **rows.loc[u.user_id].to_dict()})
        age, city = rows.loc[u.user_id, "age"], rows.loc[u.user_id, "city"]
        assert u.values == {"age": None if pd.isna(age) else int(age), "city": None if pd.isna(city) else city}
    assert any(u.values["age"] is None for u in sample)
