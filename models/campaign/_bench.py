"""``mds campaign bench``: how long a Plan over a whole demo-world population takes.

Seeds ``users`` demo users into a throw-away Redis namespace and data directory, registers the demo
``coupon`` model, then times full plans (eligible audience from the snapshot, features from Redis,
uplift, stratified holdout, budgeted selection, Parquet + Redis write) whose logic selects everyone
(the whole range of the catalog's first ranged feature). A separate pass times each stage. Everything it
wrote is deleted afterwards. The configured catalog must be the demo world's: only its users can be
generated with a known uplift, and timing another catalog's plans on demo users would mislead.
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InvalidArgument
from core.settings import Settings
from features.catalog import Catalog

__all__ = ["PlanBench", "bench_plan"]


@dataclass
class PlanBench:
    namespace: str  # the throw-away Redis namespace it seeded (deleted at the end)
    users: int
    eligible: int
    treated: int
    holdout: int
    repeats: int
    plan_seconds: list[float]
    cpu_seconds: list[float]  # CPU time of this process per plan, all threads (wall time waits on a busy box)
    stages: dict[str, float]
    load_average: list[float]

    def to_json(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "users": self.users, "eligible": self.eligible, "treated": self.treated, "holdout": self.holdout,
                "repeats": self.repeats, "plan_seconds": self.plan_seconds,
                "plan_p50_s": statistics.median(self.plan_seconds), "plan_max_s": max(self.plan_seconds),
                "cpu_seconds": self.cpu_seconds, "cpu_p50_s": statistics.median(self.cpu_seconds),
                "stages_s": self.stages, "cpu_count": os.cpu_count(), "load_average": self.load_average}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_plan(base: Settings, catalog: Catalog, users: int = 100_000, repeats: int = 5,
               budget_share: float = 0.3, holdout_share: float = 0.1, progress: bool = True) -> PlanBench:
    """Time plans over ``users`` seeded demo users; ``catalog`` (the configured one) must be the demo's."""
    from features.demo_world import is_demo_catalog, seed
    from features.population import population_entity
    from features.store import CampaignStores, delete_namespace
    from models.campaign._campaigns import CampaignBook, PlanSpec
    from models.campaign._plan import Budget, draw_members
    from models.campaign._scoring import score_audience
    from models.targeting.logic import parse_logic, whole_range_logic
    from models.uplift.demo import ensure_demo_model

    if not is_demo_catalog(catalog):
        raise InvalidArgument(f"mds campaign bench seeds the demo world, whose users exist only for the demo "
                              f"catalog; the configured catalog (MDS_CATALOG) is {catalog.name!r}",
                              field="MDS_CATALOG")
    everyone = whole_range_logic(catalog, population_entity(catalog))
    assert everyone is not None  # the demo catalog has ranged features (age first)
    with tempfile.TemporaryDirectory() as tmp:
        settings = base.model_copy(update={"namespace": f"mdsbench-campaign-{uuid.uuid4().hex[:8]}",
                                           "data_dir": Path(tmp)})
        stores = CampaignStores.open(settings, catalog)
        try:
            seed(settings, users=users, seed=0, catalog=catalog, progress=progress)
            model = ensure_demo_model(settings, catalog).name
            book = CampaignBook(settings, catalog, stores)
            spec = PlanSpec(model=model, budget=Budget(max_users=int(users * budget_share)),
                            holdout_share=holdout_share, seed=1, logic=everyone)
            book.plan(spec)  # warm: model loaded, population opened
            seconds, cpu = [], []
            for i in range(repeats):
                started, cpu_started = time.perf_counter(), _cpu()
                plan, _ = book.plan(PlanSpec(**{**spec.__dict__, "seed": i}))
                seconds.append(time.perf_counter() - started)
                cpu.append(_cpu() - cpu_started)
            stages: dict[str, float] = {}
            t0 = time.perf_counter()
            ids = book._eligible(parse_logic(everyone))
            t1 = time.perf_counter()
            loaded = book._model(model, 0)
            scored = score_audience(book.features, loaded, catalog, ids,
                                    fast_predict=book._fast[(model, loaded.version)])
            t2 = time.perf_counter()
            draw_members(scored.user_ids, scored.uplift, None, spec.budget, holdout_share, 0)
            t3 = time.perf_counter()
            stages = {"eligible_duckdb": t1 - t0, "features_and_uplift": t2 - t1, "holdout_and_selection": t3 - t2}
            return PlanBench(settings.namespace, users, plan.eligible_count, plan.treated_count, plan.holdout_count,
                             repeats, seconds, cpu, stages, list(os.getloadavg()))
        finally:
            delete_namespace(stores.features.client, settings.namespace)
            stores.close()
