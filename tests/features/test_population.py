"""``load_population``: MDS_POPULATION as a Parquet file, folder, glob or CSV, checked against the catalog."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.errors import FailedPrecondition, InvalidArgument
from core.settings import Settings
from features.catalog import Catalog
from features.population import load_population, population_version, require_population

SHOP = Catalog.model_validate({
    "name": "shop", "entities": {"user": {"key": "customer_id"}},
    "groups": [{"name": "profile", "entity": "user", "ttl_seconds": 3600, "features": [
        {"name": "age", "dtype": "int", "range": [0, 120]},
        {"name": "spend", "dtype": "float"},
        {"name": "newbie", "dtype": "bool"},
        {"name": "zone", "dtype": "category", "values": ["urban", "rural", "10001"]},
        {"name": "bought", "dtype": "string_set", "values": ["mens", "womens", "kids"]},
    ]}],
})


def _customers(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": [1000 + i for i in range(n)],  # numeric ids: every engine still sees text keys
        "age": [20 + i % 50 for i in range(n)],
        "spend": [round(10.5 * i, 2) for i in range(n)],
        "newbie": [i % 3 == 0 for i in range(n)],
        "zone": [("urban", "rural", "10001")[i % 3] for i in range(n)],
        "bought": [[w for j, w in enumerate(["mens", "womens", "kids"]) if (i >> j) & 1] for i in range(n)],
        "unused_extra": ["x"] * n,
    })


def _settings(tmp_path: Path, population: str | None) -> Settings:
    return Settings(data_dir=tmp_path / "var", population=population)


def _rows(table_sql: str, where: str = "TRUE") -> list[tuple[object, ...]]:
    return duckdb.connect().execute(f"SELECT user_id, age, zone, bought FROM ({table_sql}) WHERE {where} "
                                    f"ORDER BY _row").fetchall()


def test_parquet_file_folder_and_glob_read_the_same_rows(tmp_path: Path) -> None:
    frame = _customers()
    single = tmp_path / "customers.parquet"
    frame.to_parquet(single, index=False)
    parts = tmp_path / "export" / "day=1"
    parts.mkdir(parents=True)
    frame.iloc[:15].to_parquet(parts / "part-0.parquet", index=False)
    frame.iloc[15:].to_parquet(parts / "part-1.parquet", index=False)

    tables = [load_population(_settings(tmp_path, p), SHOP)
              for p in (str(single), str(tmp_path / "export"), str(tmp_path / "export" / "**" / "*.parquet"))]
    assert [t.rows for t in tables if t] == [40, 40, 40]
    assert [len(t.files) for t in tables if t] == [1, 2, 2]
    expected = _rows(tables[0].duckdb_select())  # type: ignore[union-attr]
    assert expected[1] == ("1001", 21, "rural", ["mens"])
    for table in tables[1:]:
        assert sorted(_rows(table.duckdb_select())) == sorted(expected)  # type: ignore[union-attr]


def test_csv_holds_sets_as_words_joined_by_a_bar_and_categories_as_text(tmp_path: Path) -> None:
    frame = _customers()
    csv = frame.assign(bought=["|".join(b) for b in frame["bought"]])
    path = tmp_path / "customers.csv"
    csv.to_csv(path, index=False)
    table = load_population(_settings(tmp_path, str(path)), SHOP)
    assert table is not None and table.format == "csv" and table.rows == 40
    rows = _rows(table.duckdb_select())
    assert rows[0] == ("1000", 20, "urban", [])  # empty cell: an empty set
    assert rows[7] == ("1007", 27, "rural", ["mens", "womens", "kids"])
    # '10001' stays a word, not a number
    assert _rows(table.duckdb_select(), "zone = '10001'")[0][0] == "1002"
    assert len(_rows(table.duckdb_select(), "list_has_any(bought, ['kids'])")) == 20


def test_missing_files_and_columns_are_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"population .*nowhere.parquet \(MDS_POPULATION\) does not exist") as e:
        load_population(_settings(tmp_path, str(tmp_path / "nowhere.parquet")), SHOP)
    assert e.value.field == "MDS_POPULATION"

    path = tmp_path / "thin.parquet"
    _customers().drop(columns=["zone", "spend"]).to_parquet(path, index=False)
    with pytest.raises(InvalidArgument, match=r"thin.parquet \(MDS_POPULATION\) lacks catalog columns "
                                              r"\['spend', 'zone'\]") as e:
        load_population(_settings(tmp_path, str(path)), SHOP)
    assert e.value.field == "spend"

    parts = tmp_path / "parts"
    parts.mkdir()
    _customers().to_parquet(parts / "a.parquet", index=False)
    _customers().drop(columns=["customer_id"]).to_parquet(parts / "b.parquet", index=False)
    with pytest.raises(InvalidArgument, match=r"b.parquet .* lacks catalog columns \['customer_id'\] "
                                              r"\(the user key column\)"):
        load_population(_settings(tmp_path, str(parts)), SHOP)

    odd = tmp_path / "customers.json"
    odd.write_text("{}")
    with pytest.raises(InvalidArgument, match="neither Parquet nor CSV"):
        load_population(_settings(tmp_path, str(odd)), SHOP)


def test_wrong_types_and_bad_keys_are_named(tmp_path: Path) -> None:
    path = tmp_path / "typed.parquet"
    _customers().assign(age=[f"{20 + i}y" for i in range(40)]).to_parquet(path, index=False)
    with pytest.raises(InvalidArgument, match="column 'age' is VARCHAR but the catalog's age needs numbers"):
        load_population(_settings(tmp_path, str(path)), SHOP)

    frame = _customers().assign(bought=["mens"] * 40)  # a plain string, not a list, in Parquet
    frame.to_parquet(path, index=False)
    with pytest.raises(InvalidArgument, match="column 'bought' is VARCHAR .* needs lists of words"):
        load_population(_settings(tmp_path, str(path)), SHOP)

    frame = _customers().astype({"customer_id": "Int64"})
    frame.loc[[4, 9], "customer_id"] = pd.NA
    frame.to_parquet(path, index=False)
    with pytest.raises(InvalidArgument, match=r"key column 'customer_id' is empty in 2 rows \(rows 5, 10"):
        load_population(_settings(tmp_path, str(path)), SHOP)

    frame = _customers()
    frame.loc[3, "customer_id"] = 1007
    frame.to_parquet(path, index=False)
    with pytest.raises(InvalidArgument, match=r"repeats 1 keys, e.g. '1007' \(2 times\)"):
        load_population(_settings(tmp_path, str(path)), SHOP)


def test_default_is_the_demo_snapshot_and_its_version_tracks_rewrites(tmp_path: Path) -> None:
    settings = _settings(tmp_path, None)
    assert load_population(settings, SHOP) is None and population_version(settings) is None
    with pytest.raises(FailedPrecondition, match="run `mds seed` first, or set MDS_POPULATION"):
        require_population(settings, SHOP)
    snapshot = tmp_path / "var" / "demo" / "users.parquet"
    snapshot.parent.mkdir(parents=True)
    _customers(10).to_parquet(snapshot, index=False)
    before = population_version(settings)
    assert require_population(settings, SHOP).rows == 10
    _customers(12).to_parquet(snapshot, index=False)
    assert population_version(settings) != before
    assert require_population(settings, SHOP).rows == 12
    _customers(12).drop(columns=["zone"]).to_parquet(snapshot, index=False)
    with pytest.raises(InvalidArgument, match=r"users.parquet \(the demo snapshot: MDS_POPULATION is unset\) "
                                              r"lacks catalog columns \['zone'\]"):
        load_population(settings, SHOP)
