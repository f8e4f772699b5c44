"""``mds catalog check FILE``: every problem of a catalog YAML, each with its YAML path and line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

__all__ = ["app"]

app = typer.Typer(help="Write and check the team's own feature catalog.", no_args_is_help=True)
console = Console()


@app.command("check")
def check_command(
    path: Annotated[Path, typer.Argument(help="catalog YAML to check", show_default=False)],
) -> None:
    """Report every problem of a catalog (exit 2), or a summary of a good one (exit 0)."""
    import yaml

    from features._catalog_check import check_catalog_file
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
