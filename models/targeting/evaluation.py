"""How well a parser turns demands into logic: exact, execution and structure match, validity, latency.

* exact — the predicted canonical text equals the gold canonical text;
* execution — predicted and gold logic select the same users (DuckDB): a given population, else the demo
  world's 20,000 generated users for the demo catalog, else users drawn at random from the catalog's
  values and ranges; empty logic selects nobody;
* structure — ARALLM's structure accuracy: the same logical skeleton, i.e. the same keys combined by the
  same AND / OR / NOT tree, whatever the operators and values;
* valid — the parser answered (no exception) with logic that parses and passes the catalog validator,
  or with empty logic;
* inverted — the predicted audience is closer, by Jaccard similarity, to the complement of the gold
  audience than to the gold audience: the marketer would get the opposite of what was asked (this also
  counts an audience made too broad by a condition left out); ``inverted_unwarned`` counts only those
  where the parser reported no unresolved phrase, i.e. the marketer was not warned;
* p50_s / p95_s — wall-clock seconds per demand.

Any catalog can be evaluated: with a population file (Parquet or CSV, one column per feature) or, without
one, :func:`random_population` — users drawn at random from the catalog's values and ranges.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.errors import MDSError
from core.figures import save_figure
from core.settings import Settings, get_settings
from features.catalog import Catalog, configured_catalog
from features.demo_world import generate_users, is_demo_catalog
from features.population import population_entity
from models.targeting.audience import Population
from models.targeting.corpus import Case
from models.targeting.logic import Condition, Expr, Not, Op, ParseResult, canonical, normalize, validate

__all__ = ["CaseResult", "EvaluationReport", "VariantScore", "evaluate_parser", "evaluate_variants",
           "generated_users", "load_population", "plot_report", "random_population", "random_users",
           "skeleton"]

POPULATION_USERS = 20_000
POPULATION_SEED = 0


def generated_users(catalog: Catalog, n: int = POPULATION_USERS, seed: int = POPULATION_SEED
                    ) -> tuple[pd.DataFrame, str]:
    """Users to measure on when none are given, and where they come from: the demo world's generated
    users when ``catalog`` is the demo world's (``"demo"``), else users drawn at random in its domain
    (``"random"``)."""
    if is_demo_catalog(catalog):
        return generate_users(catalog, n, seed=seed)[0], "demo"
    return random_users(catalog, n, seed), "random"


def random_users(catalog: Catalog, n: int = POPULATION_USERS, seed: int = POPULATION_SEED,
                 entity: str | None = None) -> pd.DataFrame:
    """Users drawn at random from ``catalog``: numbers uniform over the range (a fifth of counts at the
    range's low end, so "none" and "at least one" differ), categories uniform, each set value with p=0.3."""
    from features.catalog import DType

    rng = np.random.default_rng(seed)
    entity = entity or population_entity(catalog)  # "user", or the catalog's only entity ("subscriber")
    key = catalog.entity(entity).key
    cols: dict[str, Any] = {key: [f"u{i:07d}" for i in range(n)]}
    for f in catalog.features_of(entity):
        lo, hi = f.range if f.range is not None else (0.0, 1000.0)
        if f.dtype == DType.INT:
            ints = rng.integers(int(lo), int(hi) + 1, n)
            cols[f.name] = np.where(rng.random(n) < 0.2, int(lo), ints).astype(np.int64)
        elif f.dtype == DType.FLOAT:
            vals = np.round(rng.uniform(lo, hi, n), 2 if hi - lo <= 10 else 0)
            cols[f.name] = np.where(rng.random(n) < 0.2, lo, vals)
        elif f.dtype == DType.BOOL:
            cols[f.name] = rng.random(n) < 0.5
        elif f.dtype == DType.CATEGORY:
            cols[f.name] = rng.choice(np.array(f.values, dtype=object), n)
        else:
            vocab = np.array(f.values, dtype=object)
            picks = rng.random((n, len(vocab))) < 0.3
            cols[f.name] = [list(vocab[row]) for row in picks]
    return pd.DataFrame(cols)


def random_population(catalog: Catalog, n: int = POPULATION_USERS, seed: int = POPULATION_SEED,
                      entity: str | None = None) -> Population:
    """:func:`random_users` as a population."""
    return Population.from_frame(random_users(catalog, n, seed, entity), catalog)


def load_population(path: str | Path, catalog: Catalog, *, field: str = "--population") -> Population:
    """A population file (Parquet, or CSV with ``|``-separated sets) with a column per catalog feature."""
    from core.errors import InvalidArgument
    from features.catalog import DType

    p = Path(path)
    if not p.is_file():
        raise InvalidArgument(f"population file {str(p)!r} does not exist", field=field)
    frame = pd.read_parquet(p) if p.suffix == ".parquet" else pd.read_csv(p)
    missing = [f.name for f in catalog.features_of(population_entity(catalog)) if f.name not in frame.columns]
    if missing:
        raise InvalidArgument(f"population file {p.name} lacks columns {missing}", field=field)
    for f in catalog.features_of(population_entity(catalog)):
        if f.dtype == DType.STRING_SET and frame[f.name].dtype == object and isinstance(frame[f.name].iloc[0], str):
            frame[f.name] = [[v for v in str(x).split("|") if v] for x in frame[f.name]]
    return Population.from_frame(frame, catalog)


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = int(np.count_nonzero(a | b))
    return int(np.count_nonzero(a & b)) / union if union else 1.0


def skeleton(expr: Expr | None, catalog: Catalog | None = None) -> str:
    """The logical skeleton: the canonical tree with each condition reduced to its key."""
    if expr is None:
        return ""

    def strip(e: Expr) -> Expr:
        if isinstance(e, Condition):
            return Condition(e.key, Op.EQUAL_TO, "_")
        if isinstance(e, Not):
            return Not(strip(e.item))
        return type(e)(tuple(strip(i) for i in e.items))

    return canonical(strip(normalize(expr, catalog))).replace("#Equal To#_", "")


@dataclass(frozen=True, slots=True)
class CaseResult:
    demand: str
    gold: str
    predicted: str
    exact: bool
    execution: bool
    structure: bool
    valid: bool
    seconds: float
    error: str = ""
    inverted: bool = False
    unresolved: tuple[str, ...] = ()  # phrases the parser said it left out (the marketer was warned)


@dataclass(frozen=True, slots=True)
class VariantScore:
    name: str
    n: int
    exact: float
    execution: float
    structure: float
    valid: float
    p50_s: float
    p95_s: float
    cases: list[CaseResult] = field(default_factory=list, repr=False)
    inverted: float = 0.0
    inverted_unwarned: float = 0.0  # inverted with no unresolved phrase reported: the silent, worst kind

    def summary(self) -> dict[str, float | int]:
        return {"exact": self.exact, "execution": self.execution, "structure": self.structure,
                "valid": self.valid, "inverted": self.inverted, "inverted_unwarned": self.inverted_unwarned,
                "p50_s": self.p50_s, "p95_s": self.p95_s, "n": self.n}


@dataclass
class EvaluationReport:
    variants: dict[str, VariantScore]
    cases_file: str = ""
    population: int = POPULATION_USERS
    catalog: str = ""
    population_source: str = "demo"

    def to_json(self, *, details: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "variants": {name: s.summary() for name, s in self.variants.items()},
            "cases_file": self.cases_file,
            "catalog": self.catalog,
            "population": {"users": self.population, "seed": POPULATION_SEED, "source": self.population_source},
        }
        if details:
            out["cases"] = {name: [asdict(c) for c in s.cases] for name, s in self.variants.items()}
        return out


def _valid(result: ParseResult, catalog: Catalog) -> bool:
    if result.logic is None:
        return result.canonical == ""
    return not validate(result.logic, catalog) and canonical(result.logic) == result.canonical


def evaluate_parser(name: str, parse: Callable[[str], ParseResult], cases: Iterable[Case],
                    population: Population, *, on_case: Callable[[], None] | None = None) -> VariantScore:
    """Score one parser (any ``demand -> ParseResult`` callable) on ``cases``."""
    catalog = population.catalog
    masks: dict[str, np.ndarray] = {}

    def mask(expr: Expr | None) -> np.ndarray:
        key = canonical(expr)
        if key not in masks:
            masks[key] = population.mask(expr)
        return masks[key]

    results: list[CaseResult] = []
    for case in cases:
        start = time.perf_counter()
        error = ""
        try:
            result: ParseResult | None = parse(case.demand)
        except MDSError as exc:
            result, error = None, f"{type(exc).__name__}: {exc.message}"
        except Exception as exc:  # a crashing parser is scored, not fatal to the evaluation
            result, error = None, f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - start
        valid = result is not None and _valid(result, catalog)
        predicted = result.canonical if result is not None else ""
        # Exact and structure compare conventional spellings (NOT (x = v) is x != v): meaning, not spelling.
        gold = canonical(case.logic, catalog)
        inverted = False
        if valid and result is not None:
            exact = canonical(result.logic, catalog) == gold
            got, want = mask(result.logic), mask(case.logic)
            execution = bool(np.array_equal(got, want))
            structure = skeleton(result.logic, catalog) == skeleton(case.logic, catalog)
            # the opposite audience: closer to everyone the marketer did not ask for than to the asked-for
            inverted = not execution and bool(got.any()) and _jaccard(got, ~want) > _jaccard(got, want)
        else:
            exact = execution = structure = False
        unresolved = tuple(u.phrase for u in result.unresolved) if result is not None else ()
        results.append(CaseResult(case.demand, gold, predicted, exact, execution, structure, valid, seconds, error,
                                  inverted, unresolved))
        if on_case:
            on_case()
    n = len(results)
    if n == 0:
        raise ValueError("no cases to evaluate")
    secs = np.array([r.seconds for r in results])
    return VariantScore(
        name=name, n=n,
        exact=sum(r.exact for r in results) / n,
        execution=sum(r.execution for r in results) / n,
        structure=sum(r.structure for r in results) / n,
        valid=sum(r.valid for r in results) / n,
        inverted=sum(r.inverted for r in results) / n,
        inverted_unwarned=sum(r.inverted and not r.unresolved for r in results) / n,
        p50_s=float(np.percentile(secs, 50)),
        p95_s=float(np.percentile(secs, 95)),
        cases=results,
    )


def evaluate_variants(cases: list[Case], variants: list[str], *, settings: Settings | None = None,
                      parser_for: Callable[[str], Callable[[str], ParseResult]] | None = None,
                      cases_file: str = "", progress: bool = True, catalog: Catalog | None = None,
                      population: Population | None = None, population_source: str = "") -> EvaluationReport:
    """Score each named parser variant on ``cases``. ``parser_for(name)`` gives a variant's parse
    function; by default the registry of :mod:`models.targeting.parser` (``get_parser(name).parse``)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    catalog = catalog or configured_catalog(settings or get_settings())
    if parser_for is None:
        from models.targeting.parser import get_parser

        def parser_for(name: str) -> Callable[[str], ParseResult]:
            return get_parser(name, settings, catalog=catalog).parse

    if population is None:
        users, population_source = generated_users(catalog)
        population = Population.from_frame(users, catalog)
    scores: dict[str, VariantScore] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  disable=not progress, transient=False) as bar:
        for name in variants:
            task = bar.add_task(f"{name:>16}", total=len(cases))
            parse = parser_for(name)  # loading (model weights) happens here, outside the timed calls
            if cases:  # one untimed warm-up so lazy initialisation does not count as latency
                with contextlib.suppress(Exception):  # the scored run reports any error
                    parse(cases[0].demand)
            def advance(task_id: TaskID = task) -> None:
                bar.advance(task_id)

            scores[name] = evaluate_parser(name, parse, cases, population, on_case=advance)
    return EvaluationReport(scores, cases_file=cases_file, population=population.size,
                            catalog=catalog.name,
                            population_source=population_source or "given")


def plot_report(report: EvaluationReport, path: str | Path) -> Path:
    """Grouped bars of exact / execution / structure / valid per variant, with p50 latency labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report.variants)
    metrics = ("exact", "execution", "structure", "valid")
    x = np.arange(len(names))
    width = 0.2
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(names) + 2), 4))
    for i, m in enumerate(metrics):
        ax.bar(x + (i - 1.5) * width, [getattr(report.variants[n], m) for n in names], width, label=m)
    ax.set_xticks(x, [f"{n}\np50 {report.variants[n].p50_s:.2f}s" for n in names])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of cases")
    ax.set_title(f"Demand → logic on {Path(report.cases_file).name or 'cases'} "
                 f"({next(iter(report.variants.values())).n} demands)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path, dpi=120)


