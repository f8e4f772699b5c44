"""Audience selection: which users a logic selects in a population snapshot, and named segments.

DuckDB reads the snapshot Parquet (``<data_dir>/demo/users.parquet``) in place; ``engine="spark"``
runs the same validated predicate (compiled for Spark SQL) on a Spark session for snapshots beyond
one machine. Segments (the selected user ids plus the logic that chose them) live in Redis under
``<namespace>:targeting:segment:<name>``.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pandas as pd
import redis
import redis.asyncio
from sqlglot import exp

from core.errors import FailedPrecondition, InvalidArgument, NotFound, StoreUnavailable
from core.redis import is_cluster
from core.settings import Settings
from features.catalog import Catalog
from models.targeting.logic import Expr, canonical, check, to_sql

__all__ = ["AsyncSegmentStore", "Audience", "Engine", "ENGINES", "Population", "Segment", "SparkPopulation",
           "check_segment_name",
           "open_population", "snapshot_path"]

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = ("duckdb", "spark")
MAX_SAMPLE = 1000
_SEGMENT_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_\-]{0,63}\Z")  # \Z: '$' would accept a trailing newline
_ID_CHUNK = 10_000


def snapshot_path(settings: Settings) -> Path:
    """The population snapshot ``mds seed`` writes."""
    return settings.data_dir / "demo" / "users.parquet"


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

    def mask(self, expr: Expr | None) -> np.ndarray:
        """Selected or not, per row in snapshot order (for comparing two logics' audiences)."""
        out = np.zeros(self.size, dtype=bool)
        if expr is None:
            return out
        rows = self._query(f"SELECT _row FROM users WHERE {self.predicate(expr)}")
        out[np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))] = True
        return out

    def select(self, expr: Expr | None, sample_size: int = 20) -> Audience:
        if expr is None:
            return Audience("", "FALSE", 0, self.size, [], "duckdb")
        return Audience(canonical(expr), self.predicate(expr), self.count(expr), self.size,
                        self.sample(expr, sample_size), "duckdb")


class SparkPopulation:
    """The same queries on Spark (local mode here; point ``master`` at a cluster for big snapshots)."""

    _lock = threading.Lock()

    def __init__(self, path: str | Path, catalog: Catalog, *, master: str = "local[2]") -> None:
        p = Path(path)
        if not p.exists():
            raise FailedPrecondition(f"no population snapshot at {p}; run `mds seed` first")
        from pyspark.sql import SparkSession

        with self._lock:
            self._spark = (SparkSession.builder.master(master).appName("mds-targeting")
                           .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                           .config("spark.sql.shuffle.partitions", "4")
                           .getOrCreate())
        self._spark.sparkContext.setLogLevel("ERROR")
        self.catalog = catalog
        self.source = str(p)
        self._users = self._spark.read.parquet(str(p))
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

    def select(self, expr: Expr | None, sample_size: int = 20) -> Audience:
        if expr is None:
            return Audience("", "FALSE", 0, self.size, [], "spark")
        return Audience(canonical(expr), self.predicate(expr), self.count(expr), self.size,
                        self.sample(expr, sample_size), "spark")

    def stop(self) -> None:
        self._spark.stop()


def open_population(settings: Settings, catalog: Catalog, engine: str = "duckdb") -> Population | SparkPopulation:
    """The snapshot of ``settings`` with the chosen engine."""
    if engine not in ENGINES:
        raise InvalidArgument(f"unknown engine {engine!r}; use {' or '.join(ENGINES)}", field="engine")
    path = snapshot_path(settings)
    return Population.from_parquet(path, catalog) if engine == "duckdb" else SparkPopulation(path, catalog)


# -- named segments in Redis -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    logic: str
    count: int
    created_at: float
    engine: str
    source: str


def check_segment_name(name: str, *, field: str = "segment_name") -> str:
    if not _SEGMENT_NAME.match(name or ""):
        raise InvalidArgument("segment name must be 1-64 letters, digits, '_' or '-', starting with a letter "
                              "or digit", field=field)
    return name


# KEYS: staging set, segment set, meta hash. ARGV: "1" when there are members, TTL (0: none), meta pairs.
_REPLACE_SEGMENT = """
if ARGV[1] == '1' then redis.call('RENAME', KEYS[1], KEYS[2]) else redis.call('DEL', KEYS[2]) end
redis.call('DEL', KEYS[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 3))
if ARGV[2] ~= '0' then
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
return 1
"""


class AsyncSegmentStore:
    """Segments under ``<namespace>:targeting:segment:<name>`` (a set of user ids) and ``...:meta``."""

    def __init__(self, client: redis.asyncio.Redis, namespace: str) -> None:
        self._r = client
        self._prefix = f"{namespace}:targeting:segment:"
        # On a Redis Cluster a segment's set, staging set and meta hash must share a slot (one script).
        self._tagged = is_cluster(client)
        self._replace = client.register_script(_REPLACE_SEGMENT)

    def key(self, name: str) -> str:
        return f"{self._prefix}{{{name}}}" if self._tagged else self._prefix + name

    async def save(self, name: str, logic: str, ids: list[str], *, engine: str, source: str,
                   ttl_s: int | None = None) -> Segment:
        """Replace segment ``name`` atomically: readers see the old members or the new, never a mix."""
        check_segment_name(name)
        key, staging = self.key(name), f"{self.key(name)}:staging:{time.time_ns()}"
        segment = Segment(name, logic, len(ids), time.time(), engine, source)
        meta = {"logic": logic, "count": str(len(ids)), "created_at": repr(segment.created_at),
                "engine": engine, "source": source}
        try:
            for i in range(0, len(ids), _ID_CHUNK):
                await self._r.sadd(staging, *ids[i:i + _ID_CHUNK])
            # One script on keys of one slot: atomic on a single Redis and on a Redis Cluster alike.
            await self._replace(keys=[staging, key, f"{key}:meta"],
                                args=["1" if ids else "0", int(ttl_s or 0),
                                      *(x for pair in meta.items() for x in pair)])
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreUnavailable(f"Redis unavailable while saving segment {name!r}: {exc}") from exc
        finally:
            with contextlib.suppress(redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                await self._r.delete(staging)
        return segment

    async def get(self, name: str) -> Segment:
        check_segment_name(name)
        try:
            meta = await self._r.hgetall(f"{self.key(name)}:meta")
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreUnavailable(f"Redis unavailable while reading segment {name!r}: {exc}") from exc
        if not meta:
            raise NotFound(f"no segment named {name!r}")
        m = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
             for k, v in meta.items()}
        return Segment(name, m["logic"], int(m["count"]), float(m["created_at"]), m["engine"], m["source"])

    async def sample(self, name: str, n: int) -> list[str]:
        """The first ``n`` members in sorted order (deterministic)."""
        if _check_sample(n) == 0:
            return []
        return sorted(await self.members(name))[:n]

    async def members(self, name: str) -> set[str]:
        try:
            raw = await self._r.smembers(self.key(check_segment_name(name)))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise StoreUnavailable(f"Redis unavailable while reading segment {name!r}: {exc}") from exc
        return {m.decode() if isinstance(m, bytes) else m for m in raw}
