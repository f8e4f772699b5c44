"""The uplift CLI's data-set options, declared once: ``--dataset`` or ``--data`` with the column flags.

``evaluate``, ``train`` and ``arms`` take the same flags. A command declares one parameter
``source: DataSource`` and is decorated with :func:`data_options`; the decorator puts the flags in its
signature (so typer shows them, with one help text each) and hands the command the parsed
:class:`DataSource`. ``arms`` leaves out the flags it has no use for (``include``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from core.errors import InvalidArgument

if TYPE_CHECKING:  # the models import pandas and LightGBM: not at CLI start-up
    from models.uplift.evaluation import UpliftDataset

__all__ = ["DataSource", "data_options", "split_list"]

F = TypeVar("F", bound=Callable[..., Any])


def split_list(raw: str | None) -> list[str]:
    """A comma-separated flag value as a list of its non-empty, stripped items."""
    return [v.strip() for v in (raw or "").split(",") if v.strip()]


@dataclass(frozen=True)
class DataSource:
    """Where an experiment's rows come from: a preset (``dataset``) or a file and its columns."""

    dataset: str | None = None
    data: Path | None = None
    treatment_col: str | None = None
    treatment_value: str | None = None
    control_value: str | None = None
    outcome_col: str | None = None
    features: str | None = None
    demo_users: int = 20_000
    demo_seed: int = 0

    def check_one_source(self) -> None:
        if self.dataset is not None and self.data is not None:
            raise InvalidArgument("give either --dataset or --data, not both", field="--dataset")

    def require(self, *flags: str) -> None:
        """Refuse ``--data`` without the column flags it needs (named as on the command line)."""
        for flag in flags:
            if getattr(self, flag.lstrip("-").replace("-", "_")) is None:
                raise InvalidArgument(f"{flag} is required with --data", field=flag)

    def load(self, cost_col: str | None = None) -> UpliftDataset:
        """The two-arm data set named by ``--dataset`` or described by ``--data`` and the column flags."""
        from models.uplift.demo import demo_dataset
        from models.uplift.evaluation import file_dataset, hillstrom_dataset

        self.check_one_source()
        if self.dataset is not None:
            if self.dataset == "hillstrom":  # --treatment-value / --outcome-col pick the e-mail and the outcome
                return hillstrom_dataset(self.treatment_value or "Womens E-Mail", self.outcome_col or "visit")
            if self.dataset == "demo":
                return demo_dataset(self.demo_users, self.demo_seed)
            raise InvalidArgument(f"--dataset must be hillstrom or demo, not {self.dataset!r}", field="--dataset")
        if self.data is None:
            raise InvalidArgument("give --dataset hillstrom|demo or --data FILE", field="--data")
        self.require("--treatment-col", "--treatment-value", "--control-value", "--outcome-col")
        return file_dataset(self.data, treatment_col=str(self.treatment_col),
                            treatment_value=str(self.treatment_value), control_value=str(self.control_value),
                            outcome_col=str(self.outcome_col), features=split_list(self.features) or None,
                            cost_col=cost_col)


_OPTIONS: dict[str, tuple[Any, Any]] = {
    "dataset": (Annotated[str | None, typer.Option("--dataset", help="preset: hillstrom or demo")], None),
    "data": (Annotated[Path | None, typer.Option("--data", help="CSV or Parquet file, one row per user")], None),
    "treatment_col": (Annotated[str | None, typer.Option("--treatment-col", help="column holding the arm")], None),
    "treatment_value": (Annotated[str | None, typer.Option("--treatment-value", help="value marking treated rows")],
                        None),
    "control_value": (Annotated[str | None, typer.Option("--control-value", help="value marking control rows")], None),
    "outcome_col": (Annotated[str | None, typer.Option("--outcome-col", help="outcome column: 0/1, or revenue "
                                                                             "(money)")], None),
    "features": (Annotated[str | None, typer.Option("--features", help="comma-separated feature columns "
                                                                       "(default: all others)")], None),
    "demo_users": (Annotated[int, typer.Option("--demo-users", help="population size of --dataset demo")], 20_000),
    "demo_seed": (Annotated[int, typer.Option("--demo-seed", help="population seed of --dataset demo")], 0),
}
assert list(_OPTIONS) == [f.name for f in fields(DataSource)]  # one list of flags, one dataclass


def data_options(include: tuple[str, ...] = tuple(_OPTIONS)) -> Callable[[F], F]:
    """Give a command the data-set flags named in ``include`` in place of its ``source: DataSource``."""

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        params = list(signature.parameters.values())
        at = [p.name for p in params].index("source")
        flags = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=_OPTIONS[name][0],
                                   default=_OPTIONS[name][1]) for name in include]
        rest = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params if p.name != "source"]
        new_params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params[:at]] + flags + rest[at:]

        @functools.wraps(command)
        def run(**kwargs: Any) -> Any:
            source = DataSource(**{name: kwargs.pop(name) for name in include})
            return command(source=source, **kwargs)

        run.__signature__ = signature.replace(parameters=new_params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in new_params}
        return run  # type: ignore[return-value]

    return decorate
