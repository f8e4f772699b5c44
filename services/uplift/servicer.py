"""``mds.uplift.v1.UpliftService``: online uplift scoring, budgeted selection and model management.

Unknown user ids do not fail a request: they are listed in ``missing_user_ids`` and get no score, so
one uncached user cannot block a campaign. Unknown models are NOT_FOUND; malformed requests are
INVALID_ARGUMENT naming the field (``user_ids[3]``, ``rows[0].features[age]``, ``max_cost``, ...);
a corrupt or incompatible artifact is FAILED_PRECONDITION and the previous version keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import grpc
import numpy as np

from core.errors import InvalidArgument
from core.settings import Settings
from features.store import validate_keys
from mds.uplift.v1 import uplift_pb2, uplift_pb2_grpc
from models.registry import ModelRegistry
from models.uplift.scoring import select_top, single_threaded_worker
from services.server.context import ServiceContext
from services.uplift._rows import batch_to_frame, rows_to_frame
from services.uplift._serving import ServedModel, ServingModels

if TYPE_CHECKING:
    from services.registry import ExampleData

__all__ = ["MAX_SELECT_CANDIDATES", "UpliftServicer", "example_call", "prepare_demo", "register"]

log = logging.getLogger(__name__)

MAX_SELECT_CANDIDATES = 100_000
# Predictions up to this many rows run single-threaded; larger ones in the default executor.
_ONLINE_PREDICT_ROWS = 2_000
# Up to this many rows, a model whose predictors run single-threaded (ServedModel.on_event_loop) predicts on
# the event loop: ~1-2 ms, less than the hand-off to a worker thread and back costs on busy cores.
_LOOP_PREDICT_ROWS = 200


class UpliftServicer(uplift_pb2_grpc.UpliftServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.models = ServingModels(ModelRegistry(ctx.models_dir), ctx.catalog)
        # Online-sized predictions the event loop does not take run here: single-threaded torch/OpenMP.
        self._predict_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="uplift-predict",
                                                initializer=single_threaded_worker)
        ctx.on_shutdown(self._close)
        # Health: NOT_SERVING while no model loads (Redis is watched by the server itself).
        service = uplift_pb2.DESCRIPTOR.services_by_name["UpliftService"].full_name
        ctx.add_health_probe(service, self._model_probe)
        self._probe_retry_at = 0.0
        self._probe_reason: str | None = None

    async def _model_probe(self) -> str | None:
        """None when some model serves or loads; failing loads are retried at most every 10 s."""
        names = await asyncio.to_thread(self.models.names)
        if not names:
            return "no model is registered"
        if any(self.models.serving_version(name) for name in names):
            return None
        if time.monotonic() < self._probe_retry_at:
            return self._probe_reason
        for name in names:
            if not await self.models.load_error(name):
                return None
        self._probe_retry_at = time.monotonic() + 10.0
        self._probe_reason = f"no version of {', '.join(names[:5])} loads"
        return self._probe_reason

    async def _close(self) -> None:
        self._predict_pool.shutdown(wait=False, cancel_futures=True)

    # -- helpers -----------------------------------------------------------------------------------

    async def _predict(self, served: ServedModel, predict: Callable[[Any], Any], data: Any, rows: int
                       ) -> np.ndarray:
        if rows == 0:
            return np.empty(0, dtype=np.float64)
        if rows <= _LOOP_PREDICT_ROWS and served.on_event_loop:
            return np.asarray(predict(data), dtype=np.float64)
        if rows > _ONLINE_PREDICT_ROWS:  # big batches may use every core
            return np.asarray(await asyncio.to_thread(predict, data), dtype=np.float64)
        result = await asyncio.get_running_loop().run_in_executor(self._predict_pool, predict, data)
        return np.asarray(result, dtype=np.float64)

    async def _score_cached(self, served: ServedModel, user_ids: list[str], *, arms: bool = False
                            ) -> tuple[list[str], np.ndarray, list[str]]:
        """The found users' ids and uplift (request order), and the ids with nothing cached.

        ``arms``: a several-treatment model's ``(users, arms)`` matrix instead of one uplift per user.
        """
        chunk = self.ctx.settings.max_batch
        keys: list[str] = []
        parts: list[np.ndarray] = []
        missing: list[str] = []
        for start in range(0, len(user_ids), chunk):
            batch = await self.ctx.store.read(served.entity, user_ids[start:start + chunk],
                                              served.manifest.features)
            found = np.asarray(batch.found, dtype=bool)
            if not found.all():
                missing.extend(k for k, ok in zip(batch.keys, found, strict=True) if not ok)
                keys.extend(k for k, ok in zip(batch.keys, found, strict=True) if ok)
            else:
                keys.extend(batch.keys)
            rows = int(found.sum())
            if served.cache_encoder is not None:  # straight from the cached arrays (no pandas)
                matrix = served.cache_encoder.transform(batch)[found]
                estimator = served.loaded.model.estimator
                parts.append(await self._predict(served, estimator.predict_arms if arms else estimator.predict, matrix,
                                                 rows))
            else:
                frame = batch_to_frame(batch)[found]
                model = served.loaded.model
                parts.append(await self._predict(served, model.predict_arms if arms else model.predict, frame, rows))
        if arms:
            parts = [p.reshape(-1, len(served.loaded.model.arms)) for p in parts]
        return keys, (np.concatenate(parts) if len(parts) > 1 else parts[0]), missing

    # -- RPCs --------------------------------------------------------------------------------------

    async def Score(self, request: uplift_pb2.ScoreRequest, context: grpc.aio.ServicerContext
                    ) -> uplift_pb2.ScoreResponse:
        served = await self.models.get(request.model, request.version)
        if len(request.user_ids) > self.ctx.settings.max_batch:  # before copying a huge list into Python
            validate_keys(request.user_ids, self.ctx.settings.max_batch, field="user_ids")
        ids = list(request.user_ids)
        if ids and len(request.rows):
            raise InvalidArgument("give user_ids or rows, not both", field="rows")
        missing: list[str] = []
        arms: list[str] | None = getattr(served.loaded.model, "arms", None)
        if ids:
            validate_keys(ids, self.ctx.settings.max_batch, field="user_ids")
            keys, uplift, missing = await self._score_cached(served, ids, arms=arms is not None)
        elif len(request.rows):
            if len(request.rows) > self.ctx.settings.max_batch:
                raise InvalidArgument(
                    f"{len(request.rows)} rows is more than the limit of {self.ctx.settings.max_batch}",
                    field="rows")
            frame = rows_to_frame(request.rows, self.ctx.catalog, served.manifest.features)
            model = served.loaded.model
            uplift = await self._predict(served, model.predict_arms if arms else model.predict, frame, len(frame))
            keys = [str(k) for k in frame.index]
        else:
            raise InvalidArgument("give user_ids (read from the feature cache) or inline rows", field="user_ids")
        response = uplift_pb2.ScoreResponse(model=served.manifest.name, version=served.manifest.version,
                                             missing_user_ids=missing)
        add = response.scores.add  # filled in place: half the time of building each message, then copying it in
        if arms is None:
            for k, u in zip(keys, uplift.tolist(), strict=True):
                add(user_id=k, uplift=u)
        else:
            for k, row in zip(keys, uplift.reshape(len(keys), -1).tolist(), strict=True):
                add(**_arm_score(k, row, arms))
        return response

    async def SelectTop(self, request: uplift_pb2.SelectTopRequest, context: grpc.aio.ServicerContext
                        ) -> uplift_pb2.SelectTopResponse:
        if len(request.user_ids) > MAX_SELECT_CANDIDATES:  # before copying a huge list into Python
            validate_keys(request.user_ids, MAX_SELECT_CANDIDATES, field="user_ids")
        ids = list(request.user_ids)
        # A repeated id would be selected (and paid for) more than once.
        validate_keys(ids, MAX_SELECT_CANDIDATES, field="user_ids", unique=True)
        budget = request.WhichOneof("budget")
        if budget is None:
            raise InvalidArgument("give a budget: max_users or max_cost", field="budget")
        costs = np.asarray(request.costs, dtype=np.float64)
        if costs.size and costs.size != len(ids):
            raise InvalidArgument(f"costs has {costs.size} values for {len(ids)} user_ids", field="costs")
        if request.cost_per_user < 0 or not np.isfinite(request.cost_per_user):
            raise InvalidArgument("cost_per_user must be a positive number", field="cost_per_user")
        if costs.size:
            bad = np.flatnonzero(~np.isfinite(costs) | (costs <= 0))
            if bad.size:
                raise InvalidArgument(f"cost {costs[bad[0]]!r} is not a positive number", field=f"costs[{bad[0]}]")
        value = request.value_per_conversion
        if not np.isfinite(value) or value < 0:
            raise InvalidArgument("value_per_conversion must be a positive number (0 = rank by uplift)",
                                  field="value_per_conversion")
        min_uplift = request.min_uplift if request.HasField("min_uplift") else 0.0
        if not np.isfinite(min_uplift):
            raise InvalidArgument("min_uplift must be a finite number", field="min_uplift")
        if budget == "max_users" and request.max_users <= 0:
            raise InvalidArgument("max_users must be positive", field="max_users")
        if budget == "max_cost" and not (np.isfinite(request.max_cost) and request.max_cost > 0):
            raise InvalidArgument("max_cost must be a positive number", field="max_cost")

        served = await self.models.get(request.model, request.version)  # after the cheap checks
        keys, uplift, missing = await self._score_cached(served, ids)
        if costs.size:
            position = {k: i for i, k in enumerate(ids)}
            cand_costs = costs[[position[k] for k in keys]]
        else:
            cand_costs = np.full(len(keys), request.cost_per_user or 1.0)
        selection = select_top(
            uplift, costs=cand_costs, min_uplift=min_uplift,
            max_users=request.max_users if budget == "max_users" else None,
            max_cost=request.max_cost if budget == "max_cost" else None,
            value_per_unit=value if value > 0 else None,
        )
        return uplift_pb2.SelectTopResponse(
            model=served.manifest.name, version=served.manifest.version,
            selected=[uplift_pb2.SelectedUser(user_id=keys[i], uplift=float(uplift[i]), cost=float(c))
                      for i, c in zip(selection.indices.tolist(), selection.costs.tolist(), strict=True)],
            total_cost=selection.total_cost,
            expected_incremental_conversions=selection.expected_incremental,
            scored_count=len(keys), missing_user_ids=missing,
            expected_profit=selection.expected_profit or 0.0,
        )

    async def ListModels(self, request: uplift_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
                         ) -> uplift_pb2.ListModelsResponse:
        names = await asyncio.to_thread(self.models.names)
        # A model no version of which loads says why (its holder never loaded, so it kept no error).
        errors = {name: await self.models.load_error(name) for name in names}
        return uplift_pb2.ListModelsResponse(models=[
            uplift_pb2.ModelSummary(name=name, versions=self.models.versions(name),
                                    serving_version=self.models.serving_version(name),
                                    last_error=errors[name])
            for name in names
        ])

    async def GetModel(self, request: uplift_pb2.GetModelRequest, context: grpc.aio.ServicerContext
                       ) -> uplift_pb2.GetModelResponse:
        m = await self.models.manifest(request.name, request.version)
        return uplift_pb2.GetModelResponse(
            name=m.name, version=m.version, created_at=m.created_at, kind=m.kind,
            parameters_json=json.dumps(m.parameters, sort_keys=True), features=m.features,
            catalog_fingerprint=m.catalog_fingerprint or "", metrics=m.metrics,
            payload_sha256=m.payload_sha256, serving=self.models.serving_version(m.name) == m.version,
        )

    async def ReloadModel(self, request: uplift_pb2.ReloadModelRequest, context: grpc.aio.ServicerContext
                          ) -> uplift_pb2.ReloadModelResponse:
        previous, serving = await self.models.reload(request.name, request.version)
        log.info("model %s: serving version %d (was %d)", request.name, serving, previous)
        return uplift_pb2.ReloadModelResponse(name=request.name, previous_version=previous,
                                              serving_version=serving)


def _arm_score(user_id: str, per_arm: list[float], arms: list[str]) -> dict[str, Any]:
    """A several-treatment user's ``UserScore`` fields: the best arm's uplift, every arm's, and the arm to
    give (none when no arm is predicted to help)."""
    best = int(np.argmax(per_arm))
    return {"user_id": user_id, "uplift": per_arm[best],
            "arm_uplift": [uplift_pb2.ArmUplift(arm=a, uplift=u) for a, u in zip(arms, per_arm, strict=True)],
            "chosen_arm": arms[best] if per_arm[best] > 0 else ""}


def register(server: grpc.aio.Server, ctx: ServiceContext) -> str:
    uplift_pb2_grpc.add_UpliftServiceServicer_to_server(UpliftServicer(ctx), server)
    return uplift_pb2.DESCRIPTOR.services_by_name["UpliftService"].full_name


def example_call(data: ExampleData) -> tuple[str, str]:
    return ("mds.uplift.v1.UpliftService/SelectTop",
            json.dumps({"model": data.model(), "user_ids": data.some_keys(4), "max_users": 2}))


def prepare_demo(settings: Settings) -> None:
    """Register the demo ``coupon`` model unless one exists (run by ``make serve`` after seeding); a
    deployment whose catalog is not the demo world's gets none (it could not serve it)."""
    from features.catalog import configured_catalog
    from features.demo_world import is_demo_catalog
    from models.uplift.demo import ensure_demo_model

    catalog = configured_catalog(settings)
    if not is_demo_catalog(catalog):
        log.info("catalog %s is not the demo world's: no demo uplift model (register one with mds uplift train)",
                 catalog.name)
        return
    result = ensure_demo_model(settings, catalog)
    log.info("demo uplift model %s version %d (%s)", result.name, result.version,
             "trained now" if result.trained else "already registered")
