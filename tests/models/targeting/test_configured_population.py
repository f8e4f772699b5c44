"""Audience selection on the team's own user table (MDS_POPULATION): DuckDB and Spark agree with pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from core.settings import Settings
from features.catalog import Catalog
from models.targeting.audience import Population, open_population
from models.targeting.logic import parse_logic

SHOP = Catalog.model_validate({
    "name": "shop", "entities": {"user": {"key": "customer_id"}},
    "groups": [{"name": "profile", "entity": "user", "ttl_seconds": 3600, "features": [
        {"name": "recency", "dtype": "int", "range": [1, 12]},
        {"name": "newbie", "dtype": "bool"},
        {"name": "zone", "dtype": "category", "values": ["urban", "rural", "surburban"]},
        {"name": "bought", "dtype": "string_set", "values": ["mens", "womens"]},
    ]}],
})
LOGIC = "(zone#Belongs To#urban,surburban) AND (bought#Contains Any#womens) AND NOT (recency#Greater Than#9)"


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    n = 600
    return pd.DataFrame({
        "customer_id": [50_000 + i for i in range(n)],
        "recency": [1 + i % 12 for i in range(n)],
        "newbie": [i % 2 for i in range(n)],  # 0/1 as exported by many warehouses
        "zone": [("urban", "rural", "surburban")[i % 3] for i in range(n)],
        "bought": ["|".join(w for j, w in enumerate(["mens", "womens"]) if (i // 3 >> j) & 1) for i in range(n)],
    })


def _expected(customers: pd.DataFrame) -> list[str]:
    chosen = (customers.zone.isin(["urban", "surburban"]) & customers.bought.str.split("|").map(lambda b: "womens" in b)
              & ~(customers.recency > 9))
    return [str(k) for k in customers.customer_id[chosen]]


def test_duckdb_selects_from_a_configured_csv_with_its_own_key_column(customers: pd.DataFrame,
                                                                      tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    customers.to_csv(path, index=False)
    population = open_population(Settings(data_dir=tmp_path, population=str(path)), SHOP)
    assert isinstance(population, Population) and population.size == 600
    expr = parse_logic(LOGIC)
    assert population.ids(expr) == _expected(customers)
    audience = population.select(expr, sample_size=5)
    assert audience.count == len(_expected(customers)) and set(audience.sample) <= set(_expected(customers))
    assert population.count(parse_logic("(newbie#Equal To#true)")) == 300


@pytest.mark.slow
def test_spark_reads_the_same_configured_population(customers: pd.DataFrame, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    parquet = customers.assign(bought=[[w for w in b.split("|") if w] for b in customers.bought])
    parquet.iloc[:250].to_parquet(folder / "part-0.parquet", index=False)
    parquet.iloc[250:].to_parquet(folder / "part-1.parquet", index=False)
    csv = tmp_path / "customers.csv"
    customers.to_csv(csv, index=False)
    expr = parse_logic(LOGIC)
    buys_mens = sum("mens" in b.split("|") for b in customers.bought)
    populations = [open_population(Settings(data_dir=tmp_path, population=source), SHOP, "spark")
                   for source in (str(folder), str(csv))]
    try:
        for population in populations:
            assert population.size == 600
            assert sorted(population.ids(expr)) == sorted(_expected(customers)), population.source
            assert population.count(parse_logic("(bought#Contains Any#mens)")) == buys_mens
    finally:
        populations[-1].stop()  # type: ignore[union-attr]  # one Spark session serves both
