"""The ``mds`` command. Each domain adds its sub-command group in its own module here."""

from __future__ import annotations

import os
import sys

# An OpenMP thread pool racing interpreter exit aborts a few percent of short commands that read
# Parquet with pandas ("terminate called without an active exception", exit 134; measured 4/80 runs,
# 0/80 with one OpenMP thread). LightGBM and torch get their thread counts explicitly, so one default
# thread costs nothing; it must be set before the first OpenMP library loads, hence here, first.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from core.errors import MDSError
from services.cli._output import write_json

__all__ = ["app", "main", "write_json"]

app = typer.Typer(
    name="mds",
    help="Marketing Decision Service: targeting, uplift and compute-allocation decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register_groups() -> None:
    # Imported here so `mds --help` stays quick and one broken group cannot hide the others.
    from services.cli import platform

    platform.register(app)
    for module_name in ("catalog", "experiments", "uplift", "targeting", "allocation", "campaign", "bench", "recommend"):
        try:
            module = __import__(f"services.cli.{module_name}", fromlist=["app"])
        except ModuleNotFoundError as exc:
            if exc.name != f"services.cli.{module_name}":
                raise
            continue
        app.add_typer(module.app, name=module_name)


def main() -> None:
    _register_groups()
    err = Console(stderr=True)
    try:
        app()
    except MDSError as exc:
        err.print(f"[bold red]error:[/] {escape(exc.message)}", soft_wrap=True)  # one line, brackets kept
        sys.exit(2)
    except FileNotFoundError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        sys.exit(2)
    except ValidationError as exc:  # an MDS_* setting that does not parse (MDS_PORT=abc)
        if exc.title != "Settings":
            raise
        problems = "; ".join(f"MDS_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors())
        err.print(f"[bold red]error:[/] bad setting {escape(problems)}", soft_wrap=True)
        sys.exit(2)
