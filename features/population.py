"""The user table audience selection and size estimates run on: ``MDS_POPULATION``, checked against the catalog.

``MDS_POPULATION`` names a Parquet file, a folder of Parquet files (read recursively), a glob of
Parquet files, or a CSV file (header row; a ``string_set`` cell holds its words joined by ``|``, empty: no words).
Unset, it is the demo snapshot ``mds seed`` writes (``<data_dir>/demo/users.parquet``).

:func:`load_population` resolves the files, then checks — before anything is served — that the
table has the entity's key column and every catalog feature of that entity, with a type that can
hold it, and that no key is null or repeated; each problem names the file and the column. The
result, :class:`PopulationTable`, says how DuckDB or Spark read the table, so both engines see the
same columns: keys and category columns as text, set columns as lists of words.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb
from sqlglot import exp

from core.errors import FailedPrecondition, InvalidArgument
from core.settings import Settings
from features.catalog import Catalog, DType, Feature

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["KEY_COLUMN", "PopulationTable", "demo_population_path", "load_population", "population_entity",
           "population_version", "require_population", "resolve_population"]

SETTING = "MDS_POPULATION"
KEY_COLUMN = "user_id"  # every engine sees the entity key under this name, whatever the table calls it
SET_SEPARATOR = "|"
_INTEGER = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT"}
_NUMBER = _INTEGER | {"FLOAT", "DOUBLE", "REAL"}


def demo_population_path(settings: Settings) -> Path:
    """The demo snapshot ``mds seed`` writes: the population when ``MDS_POPULATION`` is unset."""
    return settings.data_dir / "demo" / "users.parquet"


def population_entity(catalog: Catalog) -> str:
    """The entity whose rows the population holds: ``user``, or the catalog's only entity."""
    if "user" in catalog.entities:
        return "user"
    if len(catalog.entities) == 1:
        return next(iter(catalog.entities))
    raise InvalidArgument(f"catalog {catalog.name!r} defines no 'user' entity (it has {sorted(catalog.entities)}); "
                          f"the population is a table of users", field="entities")


def _quote(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql("duckdb")


def _literal(text: str) -> str:
    return exp.Literal.string(text).sql("duckdb")


@dataclass(frozen=True, slots=True)
class PopulationTable:
    """A resolved, checked population: its files, format, key column and the catalog features it holds."""

    location: str                 # as configured: a file, folder or glob (for messages)
    files: tuple[Path, ...]
    format: Literal["parquet", "csv"]
    entity: str
    key: str                      # the entity's key column in the files
    features: tuple[Feature, ...]  # the entity's catalog features, all present
    rows: int = 0
    configured: bool = True        # False: MDS_POPULATION unset, the demo snapshot stands in

    @property
    def source(self) -> str:
        """Short name for segment metadata: the file, or the folder/glob as configured."""
        return self.files[0].name if len(self.files) == 1 else self.location

    # -- DuckDB ------------------------------------------------------------------------------------

    def _read_sql(self) -> str:
        files = "[" + ", ".join(_literal(str(f.resolve())) for f in self.files) + "]"
        if self.format == "parquet":
            return f"read_parquet({files}, file_row_number = true, union_by_name = true)"
        text = [self.key] + [f.name for f in self.features if f.dtype in (DType.CATEGORY, DType.STRING_SET)]
        types = "{" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in text) + "}"
        return f"read_csv({files}, header = true, types = {types})"

    def duckdb_select(self) -> str:
        """A SELECT with ``_row`` (row order), ``user_id`` (text key) and every column of the files."""
        key = _quote(self.key)
        replace = [f"CAST({key} AS VARCHAR) AS {key}"]
        if self.format == "csv":
            for f in self.features:
                if f.dtype == DType.STRING_SET:
                    col = _quote(f.name)
                    # A CSV has no null set: an empty cell is a set with no words.
                    replace.append(f"CASE WHEN coalesce({col}, '') = '' THEN []::VARCHAR[] "
                                   f"ELSE string_split({col}, {_literal(SET_SEPARATOR)}) END AS {col}")
        row = "file_row_number" if self.format == "parquet" else "row_number() OVER () - 1"
        exclude = ["file_row_number"] if self.format == "parquet" else []
        star = f"* {'EXCLUDE (' + ', '.join(exclude) + ') ' if exclude else ''}REPLACE ({', '.join(replace)})"
        alias = f", CAST({key} AS VARCHAR) AS {KEY_COLUMN}" if self.key != KEY_COLUMN else ""
        return f"SELECT {row} AS _row, {star}{alias} FROM {self._read_sql()}"

    def head_keys(self, limit: int) -> list[str]:
        """The first ``limit`` keys of the table, in row order (example calls, load generators)."""
        con = duckdb.connect()
        try:
            rows = con.execute(f"SELECT {KEY_COLUMN} FROM ({self.duckdb_select()}) ORDER BY _row LIMIT {int(limit)}"
                               ).fetchall()
        finally:
            con.close()
        return [str(r[0]) for r in rows if r[0] is not None]

    # -- Spark -------------------------------------------------------------------------------------

    def spark_frame(self, spark: SparkSession) -> DataFrame:
        """The same table as a Spark DataFrame (text key under ``user_id``, set columns as arrays)."""
        from pyspark.sql import functions as F  # noqa: N812

        paths = [str(f.resolve()) for f in self.files]
        if self.format == "parquet":
            frame = spark.read.parquet(*paths)
        else:
            frame = spark.read.csv(paths, header=True, inferSchema=True)
            for f in self.features:
                if f.dtype == DType.CATEGORY:
                    frame = frame.withColumn(f.name, F.col(f"`{f.name}`").cast("string"))
                elif f.dtype == DType.STRING_SET:
                    col = F.col(f"`{f.name}`").cast("string")
                    frame = frame.withColumn(f.name, F.when(F.coalesce(col, F.lit("")) == "", F.array()
                                                            .cast("array<string>"))
                                             .otherwise(F.split(col, "\\" + SET_SEPARATOR)))
        frame = frame.withColumn(self.key, F.col(f"`{self.key}`").cast("string"))
        if self.key != KEY_COLUMN:
            frame = frame.withColumn(KEY_COLUMN, F.col(f"`{self.key}`"))
        return frame


def _files_of(location: str) -> tuple[list[Path], str]:
    """(files, 'parquet' | 'csv') named by a file, a folder or a glob; no files → empty list."""
    path = Path(location).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
        return files, "parquet"
    if glob.has_magic(location):
        files = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
    else:
        files = [path] if path.is_file() else []
    suffixes = {p.suffix.lower() for p in files}
    if suffixes <= {".csv"} and files:
        if len(files) > 1:
            raise InvalidArgument(f"population {location} ({SETTING}) names {len(files)} CSV files; "
                                  f"name one CSV, or Parquet files", field=SETTING)
        return files, "csv"
    if suffixes <= {".parquet", ".pq"}:
        return files, "parquet"
    odd = sorted(str(p) for p in files if p.suffix.lower() not in (".parquet", ".pq"))
    raise InvalidArgument(f"population {location} ({SETTING}): {odd[0]} is neither Parquet nor CSV "
                          f"(name .parquet files, a folder of them, or one .csv)", field=SETTING)


def resolve_population(settings: Settings) -> tuple[str, list[Path], str] | None:
    """(location, files, format) of the configured population; None when the demo snapshot is absent.

    A configured location with no file behind it is an InvalidArgument (field ``MDS_POPULATION``).
    """
    if settings.population is None:
        demo = demo_population_path(settings)
        return (str(demo), [demo], "parquet") if demo.is_file() else None
    files, kind = _files_of(settings.population)
    if not files:
        raise InvalidArgument(f"population {settings.population} ({SETTING}) does not exist or holds no "
                              f"Parquet or CSV file", field=SETTING)
    return settings.population, files, kind


def population_version(settings: Settings) -> tuple[tuple[str, int, int], ...] | None:
    """Cheap identity (file, size, mtime) of the configured population's files; None when there is none.

    Long-lived engines compare it to reopen the table after a rewrite (``mds seed``, a new export).
    """
    resolved = resolve_population(settings)
    if resolved is None:
        return None
    out = []
    for f in resolved[1]:
        stat = f.stat()
        out.append((str(f), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def _type_problem(feature: Feature, duck_type: str) -> str | None:
    """Why a column of DuckDB type ``duck_type`` cannot hold ``feature``; None when it can."""
    base = duck_type.upper()
    if feature.dtype == DType.INT and base not in _INTEGER:
        return "whole numbers" if base in _NUMBER else "numbers"
    if feature.dtype == DType.FLOAT and base not in _NUMBER and not base.startswith("DECIMAL"):
        return "numbers"
    if feature.dtype == DType.BOOL and base != "BOOLEAN" and base not in _INTEGER:
        return "true/false (or 0/1)"
    if feature.dtype == DType.CATEGORY and base not in ("VARCHAR",) and not base.startswith("ENUM"):
        return "text"
    if feature.dtype == DType.STRING_SET and base not in ("VARCHAR[]",):
        return "lists of words" + (f" (in a CSV: words joined by {SET_SEPARATOR!r})" if base == "VARCHAR" else "")
    return None


def load_population(settings: Settings, catalog: Catalog, *, check_keys: bool = True) -> PopulationTable | None:
    """The configured population, checked against ``catalog``; None when unset and not seeded.

    Raises InvalidArgument (field ``MDS_POPULATION``) naming the file and column when the table is
    missing, lacks catalog columns, holds a column of the wrong type, or has null or repeated keys.
    """
    resolved = resolve_population(settings)
    if resolved is None:
        return None
    location, files, kind = resolved
    entity = population_entity(catalog)
    key = catalog.entity(entity).key
    features = tuple(catalog.features_of(entity))
    configured = settings.population is not None
    table = PopulationTable(location, tuple(files), kind, entity, key, features,  # type: ignore[arg-type]
                            configured=configured)
    con = duckdb.connect()
    try:
        _check_columns(con, table)
        rows = _check_keys(con, table) if check_keys else 0
    finally:
        con.close()
    return PopulationTable(location, tuple(files), kind, entity, key, features, rows,  # type: ignore[arg-type]
                           configured)


def _where(table: PopulationTable, file: Path | None = None) -> str:
    if table.configured:
        return f"population {file or table.location} ({SETTING})"
    return f"population {file or table.location} (the demo snapshot: {SETTING} is unset)"


def _check_columns(con: duckdb.DuckDBPyConnection, table: PopulationTable) -> None:
    # Each Parquet file on its own, so the one lacking a column is named; CSV: the one file.
    needed = [table.key, *(f.name for f in table.features)]
    for file in table.files:
        single = PopulationTable(table.location, (file,), table.format, table.entity, table.key, table.features,
                                 configured=table.configured)
        try:
            raw = {str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {single._read_sql()}").fetchall()}
        except duckdb.Error as exc:
            raise InvalidArgument(f"{_where(table, file)} cannot be read: {str(exc).splitlines()[0]}",
                                  field=SETTING) from None
        missing = [c for c in needed if c not in raw]
        if missing:
            key_note = f" (the {table.entity} key column)" if missing[0] == table.key else ""
            raise InvalidArgument(
                f"{_where(table, file)} lacks catalog columns {missing}{key_note}",
                field=missing[0])
        types = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {single.duckdb_select()}").fetchall()}
        wrong = [(f.name, types[f.name], why) for f in table.features if (why := _type_problem(f, types[f.name]))]
        if wrong:
            listed = "; ".join(f"column {n!r} is {t} but the catalog's {n} needs {why}" for n, t, why in wrong)
            raise InvalidArgument(f"{_where(table, file)}: {listed}", field=wrong[0][0])


def _check_keys(con: duckdb.DuckDBPyConnection, table: PopulationTable) -> int:
    key = _quote(table.key)
    rows, nulls, distinct = con.execute(
        f"SELECT count(*), count(*) - count({key}), count(DISTINCT {key}) FROM ({table.duckdb_select()})"
    ).fetchone() or (0, 0, 0)
    if nulls:
        first = con.execute(f"SELECT _row FROM ({table.duckdb_select()}) WHERE {key} IS NULL ORDER BY _row LIMIT 5"
                            ).fetchall()
        raise InvalidArgument(f"{_where(table)}: key column {table.key!r} is empty in {nulls:,} rows "
                              f"(rows {', '.join(str(r[0] + 1) for r in first)}...)", field=table.key)
    if distinct != rows - nulls:
        repeated = con.execute(f"SELECT {key}, count(*) AS n FROM ({table.duckdb_select()}) GROUP BY 1 "
                               f"HAVING n > 1 ORDER BY n DESC, 1 LIMIT 3").fetchall()
        listed = ", ".join(f"{r[0]!r} ({r[1]} times)" for r in repeated)
        raise InvalidArgument(f"{_where(table)}: key column {table.key!r} repeats {rows - distinct:,} keys, "
                              f"e.g. {listed}", field=table.key)
    if rows == 0:
        raise InvalidArgument(f"{_where(table)} has no rows", field=SETTING)
    return int(rows)


def require_population(settings: Settings, catalog: Catalog) -> PopulationTable:
    """:func:`load_population`, or FailedPrecondition when the demo snapshot was never seeded."""
    table = load_population(settings, catalog)
    if table is None:
        raise FailedPrecondition(f"no population snapshot at {demo_population_path(settings)}; run `mds seed` "
                                 f"first, or set {SETTING} to the team's user table")
    return table
