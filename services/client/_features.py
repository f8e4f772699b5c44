"""FeatureService client."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mds.features.v1 import features_pb2 as pb
from mds.features.v1 import features_pb2_grpc as pb_grpc
from services.client._base import CallOptions

__all__ = ["FeaturesClient"]


def _column_values(column: pb.FeatureColumn) -> list[Any]:
    kind = column.WhichOneof("values")
    if kind == "set_values":
        raw: list[Any] = [list(v.values) for v in column.set_values.values]
    elif kind is None:
        raw = [None] * len(column.valid)
    else:
        raw = list(getattr(column, kind).values)
    return [v if ok else None for v, ok in zip(raw, column.valid, strict=True)]


class FeaturesClient:
    def __init__(self, options: CallOptions) -> None:
        self._o = options
        self._stub = pb_grpc.FeatureServiceStub(options.channel)

    def get(self, keys: list[str], features: list[str] | None = None, *, entity: str = "",
            timeout_s: float | None = None) -> pd.DataFrame:
        """Features as a DataFrame indexed by key (missing values are None).

        ``entity`` "" reads the server catalog's population entity ("user", or its only entity)."""
        response = self.get_raw(keys, features, entity=entity, timeout_s=timeout_s)
        data = {c.name: _column_values(c) for c in response.columns}
        return pd.DataFrame(data, index=pd.Index(list(response.keys), name=entity or None))

    def get_raw(self, keys: list[str], features: list[str] | None = None, *, entity: str = "",
                timeout_s: float | None = None) -> pb.GetFeaturesResponse:
        request = pb.GetFeaturesRequest(entity=entity, keys=keys, features=features or [])
        return self._stub.GetFeatures(request, timeout=self._o.deadline(timeout_s), metadata=self._o.metadata)

    def catalog(self, entity: str = "", *, timeout_s: float | None = None) -> pb.GetCatalogResponse:
        return self._stub.GetCatalog(pb.GetCatalogRequest(entity=entity), timeout=self._o.deadline(timeout_s),
                                     metadata=self._o.metadata)
