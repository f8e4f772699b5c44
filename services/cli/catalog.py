"""``mds catalog check FILE``: every problem of a catalog YAML, each with its YAML path and line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from services.cli._options import catalog_option

__all__ = ["app"]

app = typer.Typer(help="Write and check the team's own feature catalog.", no_args_is_help=True)
console = Console()


@app.command("check")
def check_command(
    path: Annotated[Path, typer.Argument(help="catalog YAML to check", show_default=False)],
) -> None:
    """Report every problem of a catalog (exit 2), or a summary of a good one (exit 0)."""
    import yaml

    from features import check_catalog_file
    from features.catalog import Catalog

    problems = check_catalog_file(path)
    if problems:
        err = Console(stderr=True)
        err.print(f"[bold red]{path}: {len(problems)} problem{'s' if len(problems) > 1 else ''}[/]")
        for problem in problems:
            err.print(f"  {escape(str(problem))}", soft_wrap=True)
        raise typer.Exit(2)
    catalog = Catalog.model_validate(yaml.safe_load(path.read_text()))
    per_entity = ", ".join(f"{e} ({len(catalog.features_of(e))} features, key {catalog.entities[e].key})"
                           for e in catalog.entities)
    console.print(f"[green]{path}: OK[/] catalog {catalog.name!r}, fingerprint {catalog.fingerprint}: "
                  f"{len(catalog.features)} features in {len(catalog.groups)} groups; entities {per_entity}",
                  soft_wrap=True)


@app.command("population")
def population_command(
    source: Annotated[str | None, typer.Argument(
        help="user table: Parquet file, folder or glob, or a CSV (default: MDS_POPULATION)", show_default=False)] = None,
    catalog_path: Annotated[Path | None, typer.Option(
        "--catalog", help="catalog YAML (default: the configured MDS_CATALOG)")] = None,
) -> None:
    """Check a user table against the catalog as `mds serve` does: columns, types, null or repeated keys."""
    import time

    from core.errors import FailedPrecondition
    from core.settings import Settings
    from features.population import load_population

    settings = Settings() if source is None else Settings(population=source)
    catalog = catalog_option(catalog_path, settings)
    started = time.perf_counter()
    table = load_population(settings, catalog)
    if table is None:
        raise FailedPrecondition("no population: MDS_POPULATION is unset and the demo world was not seeded "
                                 "(`mds seed`)")
    console.print(f"[green]{escape(table.location)}: OK[/] {table.rows:,} {table.entity}s in {len(table.files)} "
                  f"{table.format} file{'s' if len(table.files) > 1 else ''}; key {table.key!r} and all "
                  f"{len(table.features)} catalog features of {catalog.name!r} present "
                  f"(checked in {time.perf_counter() - started:.2f} s)", soft_wrap=True)
