"""FeatureService: batched online reads of the shared cache, and catalog introspection."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import grpc

from features.catalog import DType
from features.population import population_entity
from features.store import FeatureBatch, check_feature_list, validate_keys
from mds.features.v1 import features_pb2 as pb
from mds.features.v1 import features_pb2_grpc as pb_grpc
from services.server.context import ServiceContext

if TYPE_CHECKING:
    from services.registry import ExampleData

__all__ = ["FeatureServicer", "batch_to_proto", "example_call", "register"]


def batch_to_proto(batch: FeatureBatch, fingerprint: str) -> pb.GetFeaturesResponse:
    """Column-wise response: one typed repeated field per feature plus its validity mask."""
    columns = []
    for f in batch.features:
        raw = batch.values[f.name]
        column = pb.FeatureColumn(name=f.name, dtype=f.dtype.value, valid=batch.valid[f.name].tolist())
        if f.dtype == DType.INT:
            column.int_values.values.extend(raw.tolist())
        elif f.dtype == DType.FLOAT:
            column.float_values.values.extend(raw.tolist())
        elif f.dtype == DType.BOOL:
            column.bool_values.values.extend(raw.tolist())
        elif f.dtype == DType.CATEGORY:
            column.category_values.values.extend(v or "" for v in raw.tolist())
        else:
            column.set_values.values.extend(pb.StringList(values=v or []) for v in batch.column(f.name))
        columns.append(column)
    return pb.GetFeaturesResponse(keys=batch.keys, found=batch.found.tolist(), columns=columns,
                                  catalog_fingerprint=fingerprint)


class FeatureServicer(pb_grpc.FeatureServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    async def GetFeatures(self, request: pb.GetFeaturesRequest, context: grpc.aio.ServicerContext
                          ) -> pb.GetFeaturesResponse:
        # Count before copying: turning 100,000 names into Python strings alone holds the loop 30 ms.
        if len(request.keys) > self.ctx.store.max_batch:
            validate_keys(request.keys, self.ctx.store.max_batch)  # raises, naming keys and the limit
        check_feature_list(request.features, self.ctx.catalog)
        entity = request.entity or population_entity(self.ctx.catalog)
        batch = await self.ctx.store.read(entity, list(request.keys), list(request.features))
        return batch_to_proto(batch, self.ctx.catalog.fingerprint)

    async def GetCatalog(self, request: pb.GetCatalogRequest, context: grpc.aio.ServicerContext
                         ) -> pb.GetCatalogResponse:
        catalog = self.ctx.catalog
        features = catalog.features_of(request.entity) if request.entity else list(catalog.features.values())
        return pb.GetCatalogResponse(
            name=catalog.name, fingerprint=catalog.fingerprint, entities=sorted(catalog.entities),
            features=[
                pb.FeatureSpec(
                    name=f.name, entity=f.entity, dtype=f.dtype.value, description=f.description,
                    allowed_values=list(f.values or ()), has_range=f.range is not None,
                    range_min=f.range[0] if f.range else 0.0, range_max=f.range[1] if f.range else 0.0,
                    group=f.group, ttl_seconds=f.ttl_seconds, aliases=list(f.aliases))
                for f in features
            ])


def register(server: grpc.aio.Server, ctx: ServiceContext) -> str:
    pb_grpc.add_FeatureServiceServicer_to_server(FeatureServicer(ctx), server)
    return pb.DESCRIPTOR.services_by_name["FeatureService"].full_name


def example_call(data: ExampleData) -> tuple[str, str]:
    return ("mds.features.v1.FeatureService/GetFeatures",
            json.dumps({"entity": data.entity, "keys": data.some_keys(1), "features": data.features(3)}))
