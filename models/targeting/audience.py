"""Audience selection: which users a logic selects in the population, and named segments.

The population is ``MDS_POPULATION`` (a Parquet file, folder or glob, or a CSV; default the demo
snapshot ``<data_dir>/demo/users.parquet``), resolved and checked against the catalog by
:func:`features.population.load_population`. DuckDB reads it in place; ``engine="spark"``
runs the same validated predicate (compiled for Spark SQL) on a Spark session for snapshots beyond
one machine. Segments (the selected user ids plus the logic that chose them) live in Redis
(:mod:`features.store.segments`, re-exported here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
from sqlglot import exp

from core.errors import FailedPrecondition, InvalidArgument
from core.settings import Settings
from features.catalog import Catalog
from features.population import PopulationTable, demo_population_path, require_population
from features.store.segments import AsyncSegmentStore, Segment, check_segment_name  # where segments live
from models.targeting.logic import And, Expr, canonical, check, conditions_of, to_sql

__all__ = ["AsyncSegmentStore", "Audience", "Engine", "ENGINES", "MAX_SAMPLE", "Population", "SampledUser", "Segment",
           "SparkPopulation", "check_segment_name", "logic_features", "open_population", "snapshot_path",
           "value_text"]

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")
MAX_SAMPLE = 1000


def snapshot_path(settings: Settings) -> Path:
    """The population snapshot ``mds seed`` writes (the population when ``MDS_POPULATION`` is unset)."""
    return demo_population_path(settings)


@dataclass(frozen=True, slots=True)
class Audience:
    """What a logic selects: how many of how many users, a sample of ids, and the SQL that ran."""

    logic: str
    sql: str
    count: int
    population: int
    sample: list[str]
    engine: str

    @property
    def share(self) -> float:
        return self.count / self.population if self.population else 0.0


@dataclass(frozen=True, slots=True)
class SampledUser:
    """One selected user and its values of the features a logic tests (None: the user has no value)."""

    user_id: str
    values: dict[str, Any]


def value_text(value: Any) -> str:
    """A user's feature value as text: sets as a sorted comma list, booleans as true / false, a missing
    value (None or NaN) as the empty string."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, list | tuple | set):
        return ",".join(sorted(str(v) for v in value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def logic_features(expr: Expr) -> list[str]:
    """The features ``expr`` tests, in reading order, each once."""
    return list(dict.fromkeys(c.key for c in conditions_of(expr)))


def _plain(value: Any) -> Any:
    """A value as plain Python (lists for sets, None for missing), whichever engine read it."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _shared_conditions(exprs: list[Expr]) -> list[Expr]:
    """The top-level AND items every logic has: a row any of them selects satisfies all of these."""
    items = [list(e.items) if isinstance(e, And) else [e] for e in exprs]
    others = [{canonical(i) for i in its} for its in items[1:]]
    return [i for i in items[0] if all(canonical(i) in texts for texts in others)]


def _check_sample(n: int) -> int:
    if not 0 <= n <= MAX_SAMPLE:
        raise InvalidArgument(f"sample size must be 0..{MAX_SAMPLE}; got {n}", field="sample_size")
    return n


class Population:
    """A user table queried with DuckDB. Thread-safe: each query runs on its own cursor."""

    def __init__(self, con: duckdb.DuckDBPyConnection, catalog: Catalog, *, source: str) -> None:
        self._con = con
        self.catalog = catalog
        self.source = source
        self.size = int(con.execute("SELECT count(*) FROM users").fetchone()[0])  # type: ignore[index]

    @classmethod
    def from_frame(cls, users: pd.DataFrame, catalog: Catalog) -> Population:
        con = duckdb.connect()
        con.register("users_frame", users)
        con.execute("CREATE TABLE users AS SELECT row_number() OVER () - 1 AS _row, * FROM users_frame")
        con.unregister("users_frame")
        return cls(con, catalog, source="frame")

    @classmethod
    def from_parquet(cls, path: str | Path, catalog: Catalog) -> Population:
        p = Path(path)
        if not p.is_file():
            raise FailedPrecondition(f"no population snapshot at {p}; run `mds seed` first")
        con = duckdb.connect()
        source = exp.Literal.string(str(p.resolve())).sql("duckdb")  # DDL takes no parameters; quoted literal
        con.execute("CREATE VIEW users AS SELECT file_row_number AS _row, * EXCLUDE (file_row_number) "
                    f"FROM read_parquet({source}, file_row_number = true)")
        return cls(con, catalog, source=str(p))

    @classmethod
    def from_table(cls, table: PopulationTable, catalog: Catalog) -> Population:
        """The configured population (checked by :func:`features.population.load_population`)."""
        con = duckdb.connect()
        con.execute(f"CREATE VIEW users AS {table.duckdb_select()}")
        return cls(con, catalog, source=table.source)

    def _query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self._con.cursor()
        try:
            return cursor.execute(sql, params or []).fetchall()
        finally:
            cursor.close()

    def predicate(self, expr: Expr) -> str:
        return to_sql(check(expr, self.catalog), self.catalog, "duckdb")

    def count(self, expr: Expr | None) -> int:
        if expr is None:
            return 0
        return int(self._query(f"SELECT count(*) FROM users WHERE {self.predicate(expr)}")[0][0])

    def ids(self, expr: Expr | None) -> list[str]:
        if expr is None:
            return []
        return [r[0] for r in self._query(f"SELECT user_id FROM users WHERE {self.predicate(expr)} ORDER BY _row")]

    def sample(self, expr: Expr | None, n: int, seed: int = 0) -> list[str]:
        """``n`` selected ids, a deterministic pseudo-random pick (same logic and seed, same sample)."""
        if expr is None or _check_sample(n) == 0:
            return []
        sql = (f"SELECT user_id FROM users WHERE {self.predicate(expr)} "
               f"ORDER BY hash(user_id || ?), user_id LIMIT {n}")
        return [r[0] for r in self._query(sql, [str(seed)])]

    def sample_users(self, expr: Expr | None, n: int, seed: int = 0) -> list[SampledUser]:
        """The users :meth:`sample` picks (same order), with their values of the features ``expr`` tests."""
        if expr is None or _check_sample(n) == 0:
            return []
        keys = logic_features(expr)
        columns = ", ".join(exp.to_identifier(k, quoted=True).sql("duckdb") for k in keys)  # catalog keys, quoted
        sql = (f"SELECT user_id, {columns} FROM users WHERE {self.predicate(expr)} "
               f"ORDER BY hash(user_id || ?), user_id LIMIT {n}")
        return [SampledUser(r[0], {k: _plain(v) for k, v in zip(keys, r[1:], strict=True)})
                for r in self._query(sql, [str(seed)])]

    def counts(self, exprs: list[Expr | None]) -> list[int]:
        """How many users each logic selects, all in one pass over the population (None selects nobody).

        Readings of one demand usually share most conditions: those go into the WHERE clause, which DuckDB
        pushes into the scan, so each reading's own predicate runs only on the rows they leave.
        """
        live = [(i, e) for i, e in enumerate(exprs) if e is not None]
        out = [0] * len(exprs)
        if not live:
            return out
        filters = ", ".join(f"count(*) FILTER (WHERE {self.predicate(e)})" for _, e in live)
        shared = _shared_conditions([e for _, e in live])
        where = (" WHERE " + " AND ".join(f"({self.predicate(c)})" for c in shared)) if shared else ""
        row = self._query(f"SELECT {filters} FROM users{where}")[0]
        for (i, _), n in zip(live, row, strict=True):
            out[i] = int(n)
        return out

    def mask(self, expr: Expr | None) -> np.ndarray:
        """Selected or not, per row in snapshot order (for comparing two logics' audiences)."""
        out = np.zeros(self.size, dtype=bool)
        if expr is None:
            return out
        rows = self._query(f"SELECT _row FROM users WHERE {self.predicate(expr)}")
        out[np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))] = True
        return out

    def select(self, expr: Expr | None, sample_size: int = 20) -> Audience:
        return _audience(self, "duckdb", expr, sample_size)


class SparkPopulation:
    """The same queries on Spark (local mode here; point ``master`` at a cluster for big snapshots)."""

    def __init__(self, table: PopulationTable, catalog: Catalog, *, master: str = "local[2]") -> None:
        from core.spark import local_spark

        self._spark = local_spark(master, app="mds-targeting")
        self.catalog = catalog
        self.source = table.source
        self._users = table.spark_frame(self._spark)
        self._users.createOrReplaceTempView("users")
        self.size = int(self._users.count())

    def predicate(self, expr: Expr) -> str:
        return to_sql(check(expr, self.catalog), self.catalog, "spark")

    def count(self, expr: Expr | None) -> int:
        if expr is None:
            return 0
        return int(self._users.where(self.predicate(expr)).count())

    def ids(self, expr: Expr | None) -> list[str]:
        if expr is None:
            return []
        return [r[0] for r in self._users.where(self.predicate(expr)).select("user_id").collect()]

    def sample(self, expr: Expr | None, n: int, seed: int = 0) -> list[str]:
        if expr is None or _check_sample(n) == 0:
            return []
        from pyspark.sql import functions as F  # noqa: N812

        rows = (self._users.where(self.predicate(expr))
                .orderBy(F.xxhash64(F.concat(F.col("user_id"), F.lit(str(seed)))), "user_id")
                .limit(n).select("user_id").collect())
        return [r[0] for r in rows]

    def sample_users(self, expr: Expr | None, n: int, seed: int = 0) -> list[SampledUser]:
        """The users :meth:`sample` picks (same order), with their values of the features ``expr`` tests."""
        if expr is None or _check_sample(n) == 0:
            return []
        from pyspark.sql import functions as F  # noqa: N812

        keys = logic_features(expr)
        rows = (self._users.where(self.predicate(expr))
                .orderBy(F.xxhash64(F.concat(F.col("user_id"), F.lit(str(seed)))), "user_id")
                .limit(n).select("user_id", *[F.col(f"`{k}`") for k in keys]).collect())
        return [SampledUser(r[0], {k: _plain(v) for k, v in zip(keys, r[1:], strict=True)}) for r in rows]

    def counts(self, exprs: list[Expr | None]) -> list[int]:
        """How many users each logic selects, in one aggregation over the population."""
        from pyspark.sql import functions as F  # noqa: N812

        live = [(i, e) for i, e in enumerate(exprs) if e is not None]
        out = [0] * len(exprs)
        if live:
            users = self._users
            for c in _shared_conditions([e for _, e in live]):
                users = users.where(self.predicate(c))
            row = users.agg(*[F.count(F.when(F.expr(self.predicate(e)), 1)) for _, e in live]).collect()[0]
            for (i, _), n in zip(live, row, strict=True):
                out[i] = int(n)
        return out

    def select(self, expr: Expr | None, sample_size: int = 20) -> Audience:
        return _audience(self, "spark", expr, sample_size)

    def stop(self) -> None:
        self._spark.stop()


def _audience(population: Population | SparkPopulation, engine: Engine, expr: Expr | None,
              sample_size: int) -> Audience:
    """What ``select`` answers on either engine: empty logic selects nobody."""
    if expr is None:
        return Audience("", "FALSE", 0, population.size, [], engine)
    return Audience(canonical(expr), population.predicate(expr), population.count(expr), population.size,
                    population.sample(expr, sample_size), engine)


def open_population(settings: Settings, catalog: Catalog, engine: str = "duckdb") -> Population | SparkPopulation:
    """The configured population (``MDS_POPULATION``, else the demo snapshot) with the chosen engine."""
    if engine not in ENGINES:
        raise InvalidArgument(f"unknown engine {engine!r}; use {' or '.join(ENGINES)}", field="engine")
    table = require_population(settings, catalog)
    return Population.from_table(table, catalog) if engine == "duckdb" else SparkPopulation(table, catalog)
