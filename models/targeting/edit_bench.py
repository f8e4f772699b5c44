"""What the editing additions of Parse cost: condition provenance per demand, and sizing the readings.

``bench_editing`` parses each demand with a parser, times the provenance step on its own (aligning the
demand with the linker's text and tracing every condition and reading, :func:`explain_parse`), and, for
demands with other readings, counts the chosen logic and every reading once in one pass over the
population (what ``Parse(with_sizes=true)`` runs) and once with one query per reading, for comparison.
Times are wall-clock and CPU seconds of this process (DuckDB's own threads are not in the CPU column).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import numpy as np

from models.targeting.audience import Population
from models.targeting.logic import Expr, ParseResult
from models.targeting.parser import (
    Candidate,
    DemandParser,
    DemandSpans,
    Linking,
    candidates,
    explain_parse,
    link_demand,
)

__all__ = ["bench_editing"]


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "mean": 0.0}
    arr = np.array(values) * 1000
    return {"p50": round(float(np.percentile(arr, 50)), 3), "p95": round(float(np.percentile(arr, 95)), 3),
            "mean": round(float(arr.mean()), 3)}


def _provenance(parser: DemandParser, demand: str, linking: Linking, cands: list[Candidate],
                result: ParseResult) -> ParseResult:
    spans = DemandSpans(demand, linking.text)
    return explain_parse(result, spans, linking, cands, parser.catalog, parser.config.alternatives)


def _one_by_one(population: Population, exprs: list[Expr | None]) -> list[int]:
    return [population.count(e) for e in exprs]


def bench_editing(demands: Iterable[str], parser: DemandParser, population: Population,
                  repeats: int = 3) -> dict[str, Any]:
    """Per-demand timings (best of ``repeats``) of a parse, its provenance step and sizing its readings."""
    parse_s: list[float] = []
    provenance_s: list[float] = []
    provenance_cpu_s: list[float] = []
    one_pass_s: list[float] = []
    separate_s: list[float] = []
    readings: list[int] = []
    demands = list(demands)
    parser.parse(demands[0])  # warm-up: embeddings and lexicon load once
    for demand in demands:
        parses = [_timed(partial(parser.parse, demand)) for _ in range(repeats)]
        result: ParseResult = parses[0][0]
        parse_s.append(min(t[1] for t in parses))
        text = " ".join(demand.split())
        linking = link_demand(text, parser.catalog)
        cands = candidates(linking, parser.config.candidates)
        timings = [_timed(partial(_provenance, parser, demand, linking, cands, result)) for _ in range(repeats)]
        provenance_s.append(min(t[1] for t in timings))
        provenance_cpu_s.append(min(t[2] for t in timings))
        if result.logic is None or not result.alternatives:
            continue
        exprs: list[Expr | None] = [result.logic, *(a.logic for a in result.alternatives)]
        readings.append(len(exprs))
        one_pass_s.append(min(_timed(partial(population.counts, exprs))[1] for _ in range(repeats)))
        separate_s.append(min(_timed(partial(_one_by_one, population, exprs))[1] for _ in range(repeats)))
    return {
        "demands": len(demands), "population": population.size, "repeats": repeats,
        "parse_ms": _ms(parse_s), "provenance_ms": _ms(provenance_s), "provenance_cpu_ms": _ms(provenance_cpu_s),
        "with_readings": len(readings), "readings_per_demand": round(float(np.mean(readings)), 2) if readings else 0,
        "sizes_one_pass_ms": _ms(one_pass_s), "sizes_query_per_reading_ms": _ms(separate_s),
    }
