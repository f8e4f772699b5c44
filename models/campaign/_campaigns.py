"""The campaign book: plan, launch, export, record outcomes and read out, over Redis and the registry.

Synchronous and thread-safe; the gRPC servicer calls it from worker threads, the CLI directly.
"""

from __future__ import annotations

import builtins
import io
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from core.errors import FailedPrecondition, InvalidArgument, ModelNotFound, NotFound
from core.settings import Settings
from features.catalog import Catalog
from features.store import CampaignStores
from models.campaign._fast_trees import compile_uplift_predictor
from models.campaign._learn import LearnResult, learn_from_rows
from models.campaign._outcomes import Outcome, RecordSummary, outcome_arrays, sort_outcomes
from models.campaign._plan import Budget, CampaignMembers, check_holdout_share, draw_members
from models.campaign._readout import Readout, read_out
from models.campaign._scoring import check_cost_feature, score_audience
from models.registry import LoadedModel, ModelRegistry
from models.targeting.logic import Expr, canonical, check, parse_logic

__all__ = ["CampaignBook", "CampaignPlan", "PlanSpec", "STATUSES"]

STATUSES: tuple[str, ...] = ("draft", "launched")
MAX_LIST = 1000
_OUTSIDE_SAMPLE = 20


@dataclass(frozen=True)
class PlanSpec:
    """What a campaign manager asks for. Give ``demand`` (plain English) or ``logic`` (the logic language)."""

    model: str
    budget: Budget
    holdout_share: float
    seed: int = 0
    demand: str = ""
    logic: str = ""
    model_version: int = 0  # 0: the newest version
    cost_feature: str = ""  # a numeric feature holding each user's cost; "" prices by budget.cost_per_user
    name: str = ""


@dataclass(frozen=True)
class CampaignPlan:
    """A stored plan's summary (the members live beside it)."""

    campaign_id: str
    name: str
    status: str
    created_at: str
    launched_at: str
    demand: str
    logic: str
    model: str
    model_version: int
    max_users: int | None
    max_cost: float | None
    cost_per_user: float
    cost_feature: str
    holdout_share: float
    seed: int
    eligible_count: int
    unscored_count: int
    treated_count: int
    holdout_count: int
    twin_count: int
    total_cost: float
    expected_incremental: float
    expected_ci_low: float
    expected_ci_high: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CampaignPlan:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _check_id(campaign_id: str, field: str = "campaign_id") -> str:
    if not campaign_id or len(campaign_id) > 64 or not all(c.isalnum() or c in "-_" for c in campaign_id):
        raise InvalidArgument(f"campaign id {campaign_id!r} is not a valid id", field=field)
    return campaign_id


class CampaignBook:
    """Campaigns over ``stores``: the server passes its context's :class:`CampaignStores` resource, the
    CLI uses :meth:`open`; both come from :meth:`CampaignStores.open`, and whoever built them closes them."""

    def __init__(self, settings: Settings, catalog: Catalog, stores: CampaignStores) -> None:
        self.settings = settings
        self.catalog = catalog
        self.campaigns = stores.campaigns
        self.features = stores.features
        self.registry = ModelRegistry.from_settings(settings)
        self._lock = threading.Lock()
        self._models: dict[tuple[str, int], LoadedModel] = {}
        self._fast: dict[tuple[str, int], Callable[[np.ndarray], np.ndarray] | None] = {}
        self._members: dict[str, CampaignMembers] = {}  # plans never change: safe to keep
        self._groups: dict[str, dict[str, int]] = {}  # user → planned arm, per campaign
        self._population: tuple[tuple[str | None, float], Any] | None = None

    @classmethod
    def open(cls, settings: Settings, catalog: Catalog) -> CampaignBook:
        """A book on stores of its own (the CLI: one book per command, closed with the process)."""
        return cls(settings, catalog, CampaignStores.open(settings, catalog))

    # -- planning ------------------------------------------------------------------------------------

    def _model(self, name: str, version: int) -> LoadedModel:
        if not name:
            raise InvalidArgument("an uplift model name is required", field="model")
        ModelRegistry.check_name(name, field="model")
        if version < 0:
            raise InvalidArgument("model_version must be 0 (the newest) or positive", field="model_version")
        try:
            version = version or self.registry.latest_version(name)
        except ModelNotFound as exc:
            raise InvalidArgument(f"unknown uplift model {name!r}", field="model") from exc
        key = (name, version)
        with self._lock:
            hit = self._models.get(key)
        if hit is None:
            try:
                hit = self.registry.load(name, version, catalog=self.catalog)
            except ModelNotFound as exc:
                raise InvalidArgument(f"model {name!r} has no version {version}", field="model_version") from exc
            fast = compile_uplift_predictor(getattr(hit.model, "estimator", None))
            with self._lock:
                self._models[key] = hit
                self._fast[key] = fast
        return hit

    def _audience(self, spec: PlanSpec) -> tuple[str, Expr]:
        if spec.demand and spec.logic:
            raise InvalidArgument("give a demand or a logic, not both", field="logic")
        if spec.logic:
            return "", check(parse_logic(spec.logic, field="logic"), self.catalog, field="logic")
        if not spec.demand.strip():
            raise InvalidArgument("give a demand (plain English) or a logic", field="demand")
        from models.targeting.parser import get_parser

        result = get_parser("default", self.settings, catalog=self.catalog).parse(spec.demand)
        if result.logic is None:
            raise InvalidArgument(f"the demand names no audience: {result.explanation}", field="demand")
        return spec.demand, check(result.logic, self.catalog, field="demand")

    def _eligible(self, expr: Expr) -> list[str]:
        """Users the logic selects in the configured population (``MDS_POPULATION``, else the demo snapshot;
        reopened when ``mds seed`` rewrites the snapshot)."""
        from models.targeting.audience import open_population, snapshot_path

        path = snapshot_path(self.settings)
        key = (self.settings.population, path.stat().st_mtime if path.is_file() else 0.0)
        with self._lock:
            cached = self._population
        if cached is None or cached[0] != key:
            cached = (key, open_population(self.settings, self.catalog))  # FailedPrecondition when there is none
            with self._lock:
                self._population = cached
        return list(cached[1].ids(expr))

    def plan(self, spec: PlanSpec) -> tuple[CampaignPlan, CampaignMembers]:
        """Validate everything, score the eligible audience, draw the members, store the plan (as a draft)."""
        check_holdout_share(spec.holdout_share)
        if spec.name and len(spec.name) > 200:
            raise InvalidArgument("name is longer than 200 characters", field="name")
        loaded = self._model(spec.model, spec.model_version)
        cost_feature = check_cost_feature(spec.cost_feature, self.catalog) if spec.cost_feature else None
        demand, expr = self._audience(spec)
        eligible = self._eligible(expr)
        scored = score_audience(self.features, loaded, self.catalog, eligible, cost_feature,
                                fast_predict=self._fast.get((loaded.name, loaded.version)))
        draw = draw_members(scored.user_ids, scored.uplift, scored.costs, spec.budget, spec.holdout_share, spec.seed)
        m = draw.members
        plan = CampaignPlan(
            campaign_id=f"cmp-{uuid.uuid4().hex[:12]}", name=spec.name, status="draft", created_at=_now(),
            launched_at="", demand=demand, logic=canonical(expr), model=loaded.name, model_version=loaded.version,
            max_users=spec.budget.max_users, max_cost=spec.budget.max_cost, cost_per_user=spec.budget.cost_per_user,
            cost_feature=spec.cost_feature, holdout_share=spec.holdout_share, seed=spec.seed,
            eligible_count=len(eligible), unscored_count=len(scored.unscored), treated_count=int(m.treated.sum()),
            holdout_count=int((~m.treated).sum()), twin_count=int(m.twin.sum()), total_cost=draw.total_cost,
            expected_incremental=draw.expected_incremental, expected_ci_low=draw.expected_ci[0],
            expected_ci_high=draw.expected_ci[1])
        buffer = io.BytesIO()
        m.to_frame().to_parquet(buffer, index=False)
        self.campaigns.create(plan.campaign_id, plan.to_json(), buffer.getvalue(), time.time())
        with self._lock:
            self._members[plan.campaign_id] = m
        return plan, m

    # -- reading -------------------------------------------------------------------------------------

    def get(self, campaign_id: str) -> CampaignPlan:
        return CampaignPlan.from_json(self.campaigns.plan(_check_id(campaign_id)))

    def members(self, campaign_id: str) -> CampaignMembers:
        with self._lock:
            hit = self._members.get(campaign_id)
        if hit is None:
            hit = CampaignMembers.from_frame(pd.read_parquet(io.BytesIO(self.campaigns.members(_check_id(campaign_id)))))
            with self._lock:
                self._members[campaign_id] = hit
        return hit

    def list(self, limit: int = 50, offset: int = 0) -> tuple[list[CampaignPlan], int]:
        if not 0 < limit <= MAX_LIST:
            raise InvalidArgument(f"limit must be 1..{MAX_LIST}", field="limit")
        if offset < 0:
            raise InvalidArgument("offset must be 0 or more", field="offset")
        plans = []
        for campaign_id in self.campaigns.ids(limit, offset):
            try:
                plans.append(self.get(campaign_id))
            except NotFound:  # discarded between the two reads
                continue
        return plans, self.campaigns.count()

    def export(self, campaign_id: str, *, include_holdout: bool = False) -> pd.DataFrame:
        """The delivery list: treated users best first (and, on request, the holdout, marked as such)."""
        frame = self.members(campaign_id).to_frame()
        if not include_holdout:
            frame = frame[frame["group"] == "treated"]
        frame = frame.sort_values(["group", "rank"], ascending=[False, True], kind="stable").reset_index(drop=True)
        frame.insert(0, "campaign_id", campaign_id)
        return frame

    # -- lifecycle -----------------------------------------------------------------------------------

    def launch(self, campaign_id: str) -> CampaignPlan:
        """Freeze the plan (idempotent). Outcomes are accepted only for launched campaigns."""
        data = self.campaigns.update_plan(_check_id(campaign_id), {"status": "launched", "launched_at": _now()},
                                      only_if_status="draft")
        return CampaignPlan.from_json(data)

    def discard(self, campaign_id: str) -> None:
        """Delete a draft; a launched campaign is immutable and stays."""
        plan = self.get(campaign_id)
        if plan.status != "draft":
            raise FailedPrecondition(f"campaign {campaign_id!r} is launched; launched campaigns are never deleted")
        self.campaigns.delete(campaign_id)
        with self._lock:
            self._members.pop(campaign_id, None)
            self._groups.pop(campaign_id, None)

    # -- outcomes ------------------------------------------------------------------------------------

    def record(self, campaign_id: str, outcomes: Sequence[Outcome], *, field: str = "outcomes") -> RecordSummary:
        plan = self.get(campaign_id)
        if plan.status != "launched":
            raise FailedPrecondition(f"campaign {campaign_id!r} is a draft; launch it before recording outcomes")
        members = self.members(campaign_id)
        planned = self._planned_groups(campaign_id, members)
        batch = sort_outcomes(outcomes, planned, field=field)
        new_inside, new_outside = self.campaigns.record(campaign_id, batch.inside, batch.outside)
        return RecordSummary(received=batch.received, recorded=len(batch.inside),
                             replaced=len(batch.inside) - new_inside, outside=len(batch.outside),
                             group_mismatches=batch.group_mismatches,
                             outside_sample=sorted(batch.outside)[:_OUTSIDE_SAMPLE])

    def _planned_groups(self, campaign_id: str, members: CampaignMembers) -> dict[str, int]:
        with self._lock:
            hit = self._groups.get(campaign_id)
        if hit is None:
            hit = dict(zip(members.user_id.tolist(), members.group.tolist(), strict=True))
            with self._lock:
                self._groups[campaign_id] = hit
        return hit

    def outcome_arrays(self, campaign_id: str) -> tuple[CampaignMembers, np.ndarray, np.ndarray, np.ndarray]:
        members = self.members(campaign_id)
        return (members, *outcome_arrays(members.user_id.tolist(), self.campaigns.outcomes(campaign_id)))

    def readout(self, campaign_id: str, *, alpha: float = 0.05) -> Readout:
        if not (math.isfinite(alpha) and 0 < alpha < 1):
            raise InvalidArgument("alpha must be in (0, 1)", field="alpha")
        plan = self.get(campaign_id)
        members = self.members(campaign_id)
        records = self.campaigns.outcomes(campaign_id)
        recorded, outcome, value = outcome_arrays(members.user_id.tolist(), records)
        mismatches = sum(1 for user, g in zip(members.user_id.tolist(), members.group.tolist(), strict=True)
                         if user in records and records[user].startswith("treated") != (g == 1))
        return read_out(campaign_id, members, recorded, outcome, value,
                        predicted_ci=(plan.expected_ci_low, plan.expected_ci_high),
                        expected_incremental=plan.expected_incremental,
                        outside_outcomes=self.campaigns.outcome_count(campaign_id, "outside"),
                        group_mismatches=mismatches, alpha=alpha)

    # -- learning ------------------------------------------------------------------------------------

    def _feature_frame(self, user_ids: Sequence[str], features: Sequence[str], entity: str
                       ) -> tuple[pd.DataFrame, np.ndarray]:
        """Cached features of ``user_ids`` and which of them were found."""
        frames: builtins.list[pd.DataFrame] = []
        found: builtins.list[np.ndarray] = []
        chunk = self.features.max_batch
        for start in range(0, len(user_ids), chunk):
            batch = self.features.read(entity, builtins.list(user_ids[start:start + chunk]), features)
            ok = np.asarray(batch.found, dtype=bool)
            frames.append(batch.to_pandas()[ok])
            found.append(ok)
        return pd.concat(frames), np.concatenate(found)

    def learn(self, campaign_id: str, *, model: str = "", seed: int = 0) -> LearnResult:
        """Retrain on the campaign's recorded members with its decile effects as bags; register a version."""
        plan = self.get(campaign_id)
        if model:
            ModelRegistry.check_name(model, field="model")
        members = self.members(campaign_id)
        recorded, outcome, _ = outcome_arrays(members.user_id.tolist(), self.campaigns.outcomes(campaign_id))
        if not recorded.any():
            raise FailedPrecondition(f"campaign {campaign_id!r} has no outcomes recorded: nothing to learn from")
        previous = self._model(plan.model, plan.model_version)
        features = list(previous.manifest.features)
        entity = previous.manifest.entity(self.catalog)
        # The targeted region only: there treated and twin share one propensity (1 - holdout share), so the
        # learner's own bags (raw treated-minus-control differences) stay unconfounded; the rest of the
        # holdout is control-only and would tie the control share to the old model's score.
        rows = np.flatnonzero(recorded & members.targeted)
        if rows.size == 0:
            raise FailedPrecondition(f"campaign {campaign_id!r} has no outcomes from its targeted users")
        frame, found = self._feature_frame(members.user_id[rows].tolist(), features, entity)
        rows = rows[found]
        return learn_from_rows(
            self.registry, previous, frame.reset_index(drop=True), members.group[rows].astype(np.int8),
            outcome[rows], np.where(members.targeted, members.bin, -1)[rows].astype(np.int64),
            catalog=self.catalog, seed=seed, name=model or None, notes={"campaign_id": campaign_id})
