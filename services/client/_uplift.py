"""UpliftService client: scores as DataFrames, budgeted selection, model management."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mds.uplift.v1 import uplift_pb2 as pb
from mds.uplift.v1 import uplift_pb2_grpc as pb_grpc
from services.client._base import CallOptions

__all__ = ["UpliftClient", "feature_value"]


def feature_value(value: Any) -> pb.FeatureValue:
    """A Python value as a typed ``FeatureValue`` (None/NaN → missing; lists → string sets)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return pb.FeatureValue()
    if isinstance(value, bool | np.bool_):
        return pb.FeatureValue(bool_value=bool(value))
    if isinstance(value, int | np.integer):
        return pb.FeatureValue(int_value=int(value))
    if isinstance(value, float | np.floating):
        return pb.FeatureValue(float_value=float(value))
    if isinstance(value, str):
        return pb.FeatureValue(string_value=value)
    if isinstance(value, Iterable):
        return pb.FeatureValue(set_value=pb.StringList(values=[str(v) for v in value]))
    raise TypeError(f"cannot send {type(value).__name__} as a feature value")


def _rows(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> list[pb.FeatureRow]:
    if isinstance(rows, pd.DataFrame):
        ids = [str(i) for i in rows.index]
        records: Sequence[Mapping[str, Any]] = rows.to_dict(orient="records")
    else:
        ids = [str(r.get("user_id", "")) for r in rows]
        records = rows
    return [pb.FeatureRow(user_id=uid, features={k: feature_value(v) for k, v in rec.items() if k != "user_id"})
            for uid, rec in zip(ids, records, strict=True)]


class UpliftClient:
    def __init__(self, options: CallOptions) -> None:
        self._o = options
        self._stub = pb_grpc.UpliftServiceStub(options.channel)

    def _call(self, method: str, request: Any, timeout_s: float | None) -> Any:
        return getattr(self._stub, method)(request, timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)

    def score(self, model: str, user_ids: Sequence[str] | None = None, *,
              rows: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None, version: int = 0,
              timeout_s: float | None = None) -> pb.ScoreResponse:
        """Uplift of cached users (``user_ids``) or of inline feature ``rows`` (a frame indexed by id)."""
        request = pb.ScoreRequest(model=model, version=version, user_ids=list(user_ids or []),
                                  rows=_rows(rows) if rows is not None else [])
        return self._call("Score", request, timeout_s)

    def score_frame(self, model: str, user_ids: Sequence[str], *, version: int = 0,
                    timeout_s: float | None = None) -> pd.Series:
        """Uplift per found user as a Series indexed by user id (missing users are left out)."""
        response = self.score(model, user_ids, version=version, timeout_s=timeout_s)
        return pd.Series([s.uplift for s in response.scores], index=pd.Index([s.user_id for s in response.scores],
                         name="user_id"), name="uplift", dtype=np.float64)

    def select_top(self, model: str, user_ids: Sequence[str], *, max_users: int | None = None,
                   max_cost: float | None = None, costs: Sequence[float] | None = None,
                   cost_per_user: float = 0.0, min_uplift: float | None = None, version: int = 0,
                   value_per_conversion: float = 0.0, timeout_s: float | None = None) -> pb.SelectTopResponse:
        """The users to treat under a count (``max_users``) or cost (``max_cost``) budget.

        ``value_per_conversion`` > 0 selects by net value (uplift x value - cost) instead of uplift.
        """
        request = pb.SelectTopRequest(model=model, version=version, user_ids=list(user_ids),
                                      costs=list(costs or []), cost_per_user=cost_per_user,
                                      value_per_conversion=value_per_conversion)
        if max_users is not None:
            request.max_users = max_users
        if max_cost is not None:
            request.max_cost = max_cost
        if min_uplift is not None:
            request.min_uplift = min_uplift
        return self._call("SelectTop", request, timeout_s)

    def list_models(self, *, timeout_s: float | None = None) -> pb.ListModelsResponse:
        return self._call("ListModels", pb.ListModelsRequest(), timeout_s)

    def get_model(self, name: str, version: int = 0, *, timeout_s: float | None = None) -> pb.GetModelResponse:
        return self._call("GetModel", pb.GetModelRequest(name=name, version=version), timeout_s)

    def reload(self, name: str, version: int = 0, *, timeout_s: float | None = None) -> pb.ReloadModelResponse:
        return self._call("ReloadModel", pb.ReloadModelRequest(name=name, version=version), timeout_s)
