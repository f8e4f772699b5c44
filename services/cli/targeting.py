"""``mds targeting``: parse demands into logic, evaluate parsers, select audiences, write the corpus."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.errors import InvalidArgument
from core.settings import get_settings
from services.cli._options import catalog_option
from services.cli._output import write_json

__all__ = ["app"]

app = typer.Typer(help="Demand-to-logic targeting: parse demands, evaluate parsers, select audiences.",
                  no_args_is_help=True)
_out = Console()


def _variants(raw: str, flag: str = "--variants") -> list[str]:
    names = [v.strip() for v in raw.split(",") if v.strip()]
    if not names:
        raise InvalidArgument(f"{flag} needs a variant name", field=flag)
    from models.targeting.parser import VARIANTS

    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise InvalidArgument(f"{flag}: unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}",
                              field=flag)
    return names


@app.command()
def parse(
    demand: Annotated[str, typer.Argument(help="The demand in plain English, in quotes.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a report.")] = False,
    variant: Annotated[str, typer.Option(help="Parser variant.")] = "default",
    dialect: Annotated[str, typer.Option(help="SQL dialect: duckdb or spark.")] = "duckdb",
    sizes: Annotated[bool, typer.Option("--sizes", help="Also count each alternative reading's audience "
                                                        "(one pass over the population).")] = False,
) -> None:
    """Turn a demand into targeting logic, with reasoning, SQL, the estimated audience, the phrase behind each
    condition, the other readings and the unresolved phrases."""
    from features.population import load_population
    from models.targeting.audience import Population
    from models.targeting.logic import DIALECTS, canonical, to_json, to_sql, validate
    from models.targeting.parser import get_parser

    if dialect not in DIALECTS:
        raise InvalidArgument(f"unknown dialect {dialect!r}; use {' or '.join(DIALECTS)}", field="--dialect")
    settings = get_settings()
    parser = get_parser(_variants(variant, "--variant")[0], settings)
    if not demand.strip():
        raise InvalidArgument("the demand is empty", field="DEMAND")
    result = parser.parse(demand)
    logic = result.logic if result.logic is not None and not validate(result.logic, parser.catalog) else None
    alternatives = [a for a in result.alternatives if not validate(a.logic, parser.catalog)] if logic else []
    out: dict[str, Any] = {
        "demand": demand, "logic": canonical(logic), "logic_json": to_json(logic),
        "reasoning": result.reasoning if logic is not None else [],
        "sql": to_sql(logic, parser.catalog, dialect) if logic is not None else "",  # type: ignore[arg-type]
        "conditions": [{"condition": str(c.condition), "negated": c.negated, "phrase": c.phrase, "start": c.start,
                        "end": c.end} for c in result.conditions] if logic is not None else [],
        "alternatives": [{"logic": a.canonical, "added": list(a.added), "removed": list(a.removed),
                          "summary": a.summary} for a in alternatives],
        "unresolved": [{"phrase": u.phrase, "candidates": list(u.candidates), "scores": list(u.scores),
                        "start": u.start, "end": u.end} for u in result.unresolved],
        "explanation": result.explanation, "variant": variant,
    }
    table = load_population(settings, parser.catalog)  # MDS_POPULATION, else the demo snapshot when seeded
    if table is not None:
        population = Population.from_table(table, parser.catalog)
        out["population_size"] = population.size
        if sizes and alternatives:  # the chosen logic and every reading in one pass
            counted = population.counts([logic, *(a.logic for a in alternatives)])
            out["estimated_audience_size"] = counted[0]
            for alt, n in zip(out["alternatives"], counted[1:], strict=True):
                alt["audience_size"] = n
        else:
            out["estimated_audience_size"] = population.count(logic)
    if as_json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return
    _out.print(f"[bold]logic[/]  {out['logic'] or '(empty)'}")
    for step in out["reasoning"]:
        _out.print(f"  [dim]{step}[/]")
    if out["sql"]:
        _out.print(f"[bold]sql[/]    {out['sql']}")
    for c in out["conditions"]:
        where = f"{c['phrase']!r} at {c['start']}-{c['end']}" if c["start"] is not None else "(no phrase)"
        _out.print(f"  {'NOT ' if c['negated'] else ''}{c['condition']}  [dim]← {escape(where)}[/]")
    for i, a in enumerate(out["alternatives"], 1):
        size = f"  [bold]{a['audience_size']:,}[/] users" if "audience_size" in a else ""
        _out.print(f"[cyan]reading {i + 1}[/] {a['logic']}{size}\n  [dim]{escape(a['summary'])}[/]")
    for u in out["unresolved"]:
        closest = ", ".join(f"{k} {s:.2f}" for k, s in zip(u["candidates"], u["scores"], strict=False)) \
            or ", ".join(u["candidates"])
        _out.print(f"[yellow]unresolved[/] {u['phrase']!r} (closest: {closest})")
    if out["explanation"]:
        _out.print(f"[bold]why[/]    {out['explanation']}")
    if "estimated_audience_size" in out:
        _out.print(f"[bold]audience[/] {out['estimated_audience_size']:,} of {out['population_size']:,} users")


@app.command()
def evaluate(
    cases: Annotated[Path, typer.Option("--cases", help="JSONL file: {\"demand\": ..., \"logic\": ...} per line.")],
    json_path: Annotated[Path, typer.Option("--json", help="Where to write the JSON report.")],
    variants: Annotated[str, typer.Option(help="Comma-separated parser variants.")] = "default",
    plot: Annotated[Path | None, typer.Option(help="PNG of the scores (default: beside --json).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate only the first N cases.")] = None,
    catalog_path: Annotated[Path | None, typer.Option("--catalog", help="Catalog YAML the cases are written "
                                                                        "against (default: MDS_CATALOG).")] = None,
    population_path: Annotated[Path | None, typer.Option("--population", help="Users to execute logic on (Parquet, "
                                                         "or CSV with |-separated sets); default: the demo "
                                                         "world's users for the demo catalog, else random "
                                                         "users from the catalog.")] = None,
) -> None:
    """Exact / execution / structure accuracy, valid rate, inverted audiences and latency per parser variant."""
    from models.targeting.corpus import load_cases
    from models.targeting.evaluation import evaluate_variants, load_population, plot_report

    catalog = catalog_option(catalog_path, get_settings())
    population = None
    if population_path is not None:
        population = load_population(population_path, catalog, field="--population")
    loaded = load_cases(cases, catalog, field="--cases")[:limit]
    names = _variants(variants)
    report = evaluate_variants(loaded, names, settings=get_settings(), cases_file=str(cases), catalog=catalog,
                               population=population,
                               population_source=str(population_path) if population_path else "")
    write_json(json_path, report.to_json())
    png = plot_report(report, plot or json_path.with_suffix(".png"))
    table = Table("variant", "exact", "execution", "structure", "valid", "inverted", "unwarned", "p50 s", "p95 s",
                  title=f"{len(loaded)} cases, catalog {report.catalog}, population {report.population_source}")
    for name, s in report.variants.items():
        table.add_row(name, f"{s.exact:.3f}", f"{s.execution:.3f}", f"{s.structure:.3f}", f"{s.valid:.3f}",
                      f"{s.inverted:.3f}", f"{s.inverted_unwarned:.3f}", f"{s.p50_s:.3f}", f"{s.p95_s:.3f}")
    _out.print(table)
    _out.print(f"wrote {png}")


@app.command()
def select(
    logic: Annotated[str, typer.Argument(help="Logic text, e.g. \"(gender#Equal To#female) AND (age#Between#25,35)\".")],
    segment: Annotated[str | None, typer.Option(help="Store the selected users as this named segment.")] = None,
    sample: Annotated[int, typer.Option(min=0, max=1000, help="Sampled users to print, with the values of the "
                                                              "features the logic tests.")] = 10,
    engine: Annotated[str, typer.Option(help="duckdb or spark.")] = "duckdb",
    seed: Annotated[int, typer.Option(help="Seed of the deterministic sample.")] = 0,
) -> None:
    """Count the users a logic selects in the population snapshot; optionally store them as a segment."""
    from core.redis import connect_async
    from features.catalog import configured_catalog
    from models.targeting.audience import (
        AsyncSegmentStore,
        check_segment_name,
        logic_features,
        open_population,
        value_text,
    )
    from models.targeting.logic import check, parse_logic

    settings = get_settings()
    catalog = configured_catalog(settings)
    try:
        expr = check(parse_logic(logic, field="LOGIC"), catalog, field="LOGIC")
    except InvalidArgument as exc:
        raise InvalidArgument(exc.message, field="LOGIC") from None
    if segment:
        check_segment_name(segment, field="--segment")
    population = open_population(settings, catalog, engine)
    start = time.perf_counter()
    audience = population.select(expr, 0)
    elapsed = time.perf_counter() - start
    _out.print(f"[bold]{audience.count:,}[/] of {audience.population:,} users ({100 * audience.share:.1f}%) "
               f"in {elapsed:.3f} s with {engine}")
    _out.print(f"[dim]{escape(audience.sql)}[/]")
    users = population.sample_users(expr, sample, seed)
    if users:
        keys = logic_features(expr)
        rows = Table("user", *keys, title=f"sample of {len(users)} (seed {seed})")
        for u in users:
            rows.add_row(u.user_id, *("–" if u.values[k] is None else value_text(u.values[k]) for k in keys))
        _out.print(rows)
    if segment:
        async def save() -> str:
            client = connect_async(settings)
            try:
                store = AsyncSegmentStore(client, settings.namespace)
                await store.save(segment, audience.logic, population.ids(expr), engine=engine,
                                 source=population.source)
                return store.key(segment)
            finally:
                await client.aclose()

        _out.print(f"stored segment {segment!r} at {asyncio.run(save())}")


@app.command("bench-edit")
def bench_edit(
    cases: Annotated[Path, typer.Option("--cases", help="JSONL file of demands ({\"demand\": ...} per line).")],
    json_path: Annotated[Path, typer.Option("--json", help="Where to write the timings.")],
    users: Annotated[int, typer.Option(min=100, max=1_000_000, help="Users to size readings on (the demo world's "
                                                                    "for the demo catalog, else random).")] = 20_000,
    catalog_path: Annotated[Path | None, typer.Option("--catalog", help="Catalog YAML the demands are written "
                                                                        "against (default: MDS_CATALOG).")] = None,
    population_path: Annotated[Path | None, typer.Option("--population", help="Parquet user table to size "
                                                         "readings on (default: generated users).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N demands.")] = None,
    repeats: Annotated[int, typer.Option(min=1, max=20, help="Best of N per timing.")] = 3,
) -> None:
    """Time what the editing additions of Parse cost: condition provenance, and sizing the readings in one pass."""
    from models.targeting.audience import Population
    from models.targeting.corpus import load_cases
    from models.targeting.edit_bench import bench_editing
    from models.targeting.evaluation import generated_users
    from models.targeting.parser import get_parser

    catalog = catalog_option(catalog_path, get_settings())
    demands = [c.demand for c in load_cases(cases, catalog, field="--cases")][:limit]
    with tempfile.TemporaryDirectory() as tmp:
        if population_path is not None:
            population, source = Population.from_parquet(population_path, catalog), str(population_path)
        else:  # a snapshot on disk, as the service reads it
            frame, drawn = generated_users(catalog, users, seed=0)
            path = Path(tmp) / "users.parquet"
            frame.to_parquet(path)
            population, source = Population.from_parquet(path, catalog), f"generated {drawn} users, Parquet"
        report = bench_editing(demands, get_parser("linker", get_settings(), catalog=catalog), population,
                               repeats=repeats)
    report["population_source"] = source
    report["cases_file"] = str(cases)
    table = Table("measure", "p50 ms", "p95 ms", "mean ms",
                  title=f"{report['demands']} demands, {report['population']:,} users, "
                        f"{report['with_readings']} with other readings ({report['readings_per_demand']} per demand)")
    for name in ("parse_ms", "provenance_ms", "provenance_cpu_ms", "sizes_one_pass_ms", "sizes_query_per_reading_ms"):
        t = report[name]
        table.add_row(name.removesuffix("_ms"), f"{t['p50']:.3f}", f"{t['p95']:.3f}", f"{t['mean']:.3f}")
    _out.print(table)
    write_json(json_path, report)


@app.command()
def corpus(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write.")],
    n: Annotated[int, typer.Option("--n", min=1, max=1_000_000, help="How many triples.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same corpus).")] = 0,
    catalog_path: Annotated[Path | None, typer.Option("--catalog", help="Catalog YAML to generate for "
                                                      "(default: the configured catalog, MDS_CATALOG).")] = None,
    empty_share: Annotated[float, typer.Option("--empty-share", min=0.0, max=0.5,
                                               help="Share of requests for no audience (empty logic).")] = 0.02,
) -> None:
    """Write the generated (demand, reasoning chain, logic) training corpus for a catalog."""
    from models.targeting.corpus import generate_corpus, write_jsonl

    catalog = catalog_option(catalog_path, get_settings())
    count = write_jsonl(generate_corpus(n, seed=seed, catalog=catalog, empty_share=empty_share), out)
    _out.print(f"wrote {count:,} triples for catalog {catalog.name!r} to {out}")


def _mount_distill() -> None:
    """``mds targeting distill`` is the parser's command (``models.targeting.parser.distill``)."""
    try:
        from models.targeting.parser.distill import distill_command
    except ImportError:  # the parser package is not installed in this build
        return
    app.command("distill", help="Distil the SmolLM2 student (LoRA) for a catalog from a corpus generated from "
                                "it (--catalog FILE; default: the configured catalog).")(distill_command)


_mount_distill()
