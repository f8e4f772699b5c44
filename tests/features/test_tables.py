"""Checking input tables against the catalog: every problem named with its column, rows and values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.errors import InvalidArgument
from features.catalog import Catalog
from features.loader import LoadRejected, bulk_load
from features.store import open_store
from features.tables import Problem, open_table, plan_table


def _as_csv_frame(users: pd.DataFrame) -> pd.DataFrame:
    """The demo users as a warehouse CSV export would hold them: sets joined by '|', all text."""
    out = users.copy()
    for column in ("purchased_categories_90d", "interests"):
        out[column] = out[column].map("|".join)
    return out.astype(str)


def test_every_bad_cell_is_reported_with_column_rows_and_samples_and_nothing_is_written(
        store, demo_users, tmp_path):
    users = _as_csv_frame(demo_users[0].iloc[:400])
    users.loc[3, "age"] = "200"  # row numbers are 1-based: index 3 is row 4
    users.loc[10, "age"] = "17"
    users.loc[5, "gender"] = "other"
    users.loc[7, "user_id"] = users.loc[8, "user_id"]
    users.loc[9, "orders_30d"] = "lots"
    users.loc[20, "orders_30d"] = "2.5"
    users.loc[11, "interests"] = "music|knitting"
    users.loc[12, "user_id"] = ""
    users.loc[13, "push_enabled"] = "maybe"
    users.loc[14, "user_id"] = "has space"
    path = tmp_path / "users.csv"
    users.to_csv(path, index=False)

    with pytest.raises(LoadRejected) as caught:
        bulk_load(store, "user", path, chunk_rows=100, progress=False)
    report = caught.value.report
    found = {(p.column, p.problem): p for p in report.problems.values()}
    assert set(found) == {
        ("age", Problem.OUT_OF_RANGE), ("gender", Problem.NOT_ALLOWED), ("user_id", Problem.DUPLICATE_KEY),
        ("orders_30d", Problem.TYPE_MISMATCH), ("interests", Problem.NOT_ALLOWED),
        ("user_id", Problem.MISSING_KEY), ("push_enabled", Problem.TYPE_MISMATCH),
        ("user_id", Problem.MALFORMED_KEY)}
    age = found[("age", Problem.OUT_OF_RANGE)]
    assert (age.count, age.rows, age.samples) == (2, [4, 11], ["'200'", "'17'"])
    assert found[("user_id", Problem.DUPLICATE_KEY)].rows == [8, 9]
    assert found[("orders_30d", Problem.TYPE_MISMATCH)].rows == [10, 21]
    assert found[("interests", Problem.NOT_ALLOWED)].samples == ["'knitting'"]
    assert found[("gender", Problem.NOT_ALLOWED)].samples == ["'other'"]
    assert report.rows_checked == 400 and report.rows_rejected == 11
    assert caught.value.field == report.first_column()
    text = report.render()
    assert "age: out of range" in text and "rows 4, 11" in text
    # fail checks the whole table first: not even the clean first chunk was written
    assert not store.read("user", users.user_id.iloc[:3].tolist(), ["age"]).found.any()


def test_column_problems_stop_the_load_before_any_row_is_read(store, catalog, demo_users, tmp_path):
    users = demo_users[0].iloc[:50].copy()
    users["lifetime_value"] = 1.0
    users["item_price"] = 9.5  # a feature, but of the item entity
    users = users.drop(columns=["gmv_30d"])
    path = tmp_path / "users.parquet"
    users.to_parquet(path, index=False)
    with pytest.raises(LoadRejected) as caught:
        bulk_load(store, "user", path, progress=False)
    kinds = {(p.column, p.problem) for p in caught.value.report.problems.values()}
    assert ("lifetime_value", Problem.UNKNOWN_COLUMN) in kinds
    assert ("gmv_30d", Problem.INCOMPLETE_GROUP) in kinds
    assert "entity 'item'" in caught.value.report.problems[("item_price", Problem.UNKNOWN_COLUMN)].detail
    assert caught.value.report.rows_checked == 0
    assert "no row was read" in caught.value.report.render()

    plan, report = plan_table(catalog, "user", open_table(path).columns, source="t", key_column="customer")
    assert ("customer", Problem.MISSING_KEY_COLUMN) in report.problems
    with pytest.raises(InvalidArgument, match="no column 'nope'") as bad_flag:
        plan_table(catalog, "user", open_table(path).columns, source="t", ignore=["nope"])
    assert bad_flag.value.field == "--ignore-columns"


def test_csv_text_becomes_typed_values_and_empty_cells_are_missing(store, demo_users, tmp_path):
    users = _as_csv_frame(demo_users[0].iloc[:6]).rename(columns={"user_id": "customer_id"})
    users.loc[0, "interests"] = ""  # a CSV has no null set: an empty cell is the empty set
    users.loc[2, "interests"] = " music | travel "
    users.loc[0, "push_enabled"] = "YES"
    users.loc[1, "push_enabled"] = "0"
    users.loc[2, "push_enabled"] = ""
    users.loc[3, "age"] = ""
    users.loc[4, "gmv_30d"] = "1e3"
    users.loc[5, "city"] = ""
    users.loc[0, "gender"] = " Female "  # padding and case are forgiven; the catalog's spelling is stored
    users.loc[1, "purchased_categories_90d"] = "Books| FOOD"
    path = tmp_path / "users.csv"
    users.to_csv(path, index=False, encoding="utf-8-sig")  # a spreadsheet export's byte-order mark

    result = bulk_load(store, "user", path, key_column="customer_id", progress=False)
    assert (result.written, result.rejected, result.rows) == (6, 0, 6)
    batch = store.read("user", users.customer_id.tolist(),
                       ["interests", "push_enabled", "age", "gmv_30d", "city", "gender", "purchased_categories_90d"])
    rows = [batch.row(i) for i in range(6)]
    assert rows[0]["interests"] == []
    assert rows[2]["interests"] == ["music", "travel"]
    assert [r["push_enabled"] for r in rows[:3]] == [True, False, None]
    assert rows[3]["age"] is None and rows[4]["gmv_30d"] == 1000.0 and rows[5]["city"] is None
    assert rows[0]["age"] == int(demo_users[0].age.iloc[0])
    assert rows[0]["gender"] == "female" and rows[1]["purchased_categories_90d"] == ["books", "food"]


def test_parquet_types_are_checked_too(store, demo_users, tmp_path):
    users = demo_users[0].iloc[:30].copy()
    users["age"] = users["age"].astype(float)
    users.loc[2, "age"] = 30.5  # not whole
    users.loc[4, "age"] = math.nan  # missing is fine
    users["has_loan"] = users["has_loan"].astype(int)
    users.loc[6, "has_loan"] = 2
    users["interests"] = users["interests"].astype(object)
    users.at[8, "interests"] = ["music", "knitting"]
    users.loc[9, "interests"] = None
    path = tmp_path / "users.parquet"
    users.to_parquet(path, index=False)
    with pytest.raises(LoadRejected) as caught:
        bulk_load(store, "user", path, progress=False)
    found = {(p.column, p.problem): p.rows for p in caught.value.report.problems.values()}
    assert found == {("age", Problem.TYPE_MISMATCH): [3], ("has_loan", Problem.TYPE_MISMATCH): [7],
                     ("interests", Problem.NOT_ALLOWED): [9]}

    fixed = users.drop(index=[2, 6, 8])
    fixed.to_parquet(path, index=False)
    assert bulk_load(store, "user", path, progress=False).written == 27
    batch = store.read("user", fixed.user_id.tolist(), ["age", "interests"])
    assert not batch.valid["age"][np.flatnonzero(fixed.user_id.to_numpy() == users.user_id[4])[0]]
    assert batch.valid["age"].sum() == 26 and batch.valid["interests"].sum() == 26


def test_bad_sources_name_the_flag(store, tmp_path):
    (tmp_path / "users.json").write_text("{}")
    for path, message in ((tmp_path / "missing.csv", "no such file"), (tmp_path / "users.json", "expected a .parquet")):
        with pytest.raises(InvalidArgument, match=message) as caught:
            bulk_load(store, "user", path, progress=False)
        assert caught.value.field == "--input"


def test_a_table_without_a_key_column_is_keyed_by_row_number(settings, tmp_path):
    """Hillstrom's real export has no customer id: rows are keyed 1, 2, 3, ... and values are matched
    to the catalog's spelling (its 'Surburban', 'Phone' load as 'surburban', 'phone')."""
    from core.paths import hillstrom_csv

    raw = pd.read_csv(hillstrom_csv(), nrows=300)
    path = tmp_path / "hillstrom_slice.csv"
    raw.to_csv(path, index=False)
    catalog = Catalog.model_validate({
        "name": "hillstrom_slice", "entities": {"user": {"key": "customer_id"}},
        "groups": [{"name": "history", "entity": "user", "ttl_seconds": 3600, "features": [
            {"name": "recency", "dtype": "int", "range": [1, 12]},
            {"name": "history", "dtype": "float", "range": [0, 5000]},
            {"name": "mens", "dtype": "bool"}, {"name": "womens", "dtype": "bool"},
            {"name": "zip_code", "dtype": "category", "values": ["urban", "surburban", "rural"]},
            {"name": "channel", "dtype": "category", "values": ["phone", "web", "multichannel"]}]}]})
    store = open_store(settings, catalog)
    ignore = ["history_segment", "newbie", "segment", "visit", "conversion", "spend"]
    with pytest.raises(LoadRejected, match="--key-col @row"):
        bulk_load(store, "user", path, ignore_columns=ignore, progress=False)
    result = bulk_load(store, "user", path, key_column="@row", ignore_columns=ignore, progress=False)
    assert (result.written, result.rejected) == (300, 0)
    batch = store.read("user", ["1", "300"], ["recency", "zip_code", "channel", "mens"])
    assert batch.row(0) == {"recency": int(raw.recency[0]), "zip_code": raw.zip_code[0].lower(),
                            "channel": raw.channel[0].lower(), "mens": bool(raw.mens[0])}
    assert batch.row(1)["recency"] == int(raw.recency[299])
