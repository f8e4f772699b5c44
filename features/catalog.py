"""The typed feature catalog: what each feature is, how it is stored, and its content fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from enum import StrEnum
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.errors import InvalidArgument, UnknownFeature
from core.settings import Settings
from features._phrasebook import Phrasebook

__all__ = ["Catalog", "DType", "Entity", "Feature", "FeatureGroup", "configured_catalog", "demo_catalog",
           "load_catalog"]

MAX_SET_VOCABULARY = 64  # a set is stored as one uint64 bitmask
MAX_CATEGORY_VALUES = 65_535  # a category is stored as a uint16 code, 0 meaning missing
MAX_GROUP_FEATURES = 64  # the per-record null mask is one uint64


class DType(StrEnum):
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    CATEGORY = "category"
    STRING_SET = "string_set"


class Entity(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    key: str
    description: str = ""


MAX_CODED_INT_VALUES = 1000  # an int feature with at most this many whole numbers may name them


def aliasable_values(dtype: DType | str, values: Sequence[object] | None,
                     bounds: Sequence[float] | None) -> set[str]:
    """The values a feature's ``value_aliases`` may name: its allowed words, or an int feature's
    whole-number codes ("first-tier" for city_tier 1). One rule for the model and ``catalog check``."""
    allowed = {str(v) for v in values or ()}
    if dtype == DType.INT and bounds is not None and len(bounds) == 2 \
            and all(isinstance(b, int | float) for b in bounds) and bounds[1] - bounds[0] <= MAX_CODED_INT_VALUES:
        allowed |= {str(v) for v in range(int(bounds[0]), int(bounds[1]) + 1)}
    return allowed


class Feature(BaseModel):
    """One feature. ``values`` lists allowed words (category, string_set); ``range`` bounds numbers."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    dtype: DType
    description: str = ""
    values: tuple[str, ...] | None = None
    range: tuple[float, float] | None = None
    aliases: tuple[str, ...] = ()
    # What a marketer's words need to be read against this feature (none of it shapes storage):
    value_aliases: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="allowed value (or an int's code) -> other words for it ('sh' for shanghai)")
    ordered: bool = Field(False, description="category values are listed from lowest to highest")
    unit: str | None = Field(None, description="unit of a number: yuan, dollars, days, miles, ...")
    window_days: int | None = Field(None, gt=0, description="the time window a count or sum covers")
    # Filled in by the enclosing group so that a Feature stands alone once looked up.
    group: str = ""
    entity: str = ""
    ttl_seconds: int = 0

    @model_validator(mode="after")
    def _check_domain(self) -> Feature:
        if self.dtype in (DType.CATEGORY, DType.STRING_SET):
            if not self.values:
                raise ValueError(f"feature {self.name!r}: {self.dtype} needs a list of allowed values")
            if len(set(self.values)) != len(self.values):
                raise ValueError(f"feature {self.name!r}: duplicate allowed values")
            limit = MAX_SET_VOCABULARY if self.dtype == DType.STRING_SET else MAX_CATEGORY_VALUES
            if len(self.values) > limit:
                raise ValueError(f"feature {self.name!r}: at most {limit} allowed values")
        elif self.values is not None:
            raise ValueError(f"feature {self.name!r}: only category and string_set take values")
        if self.ordered and self.dtype != DType.CATEGORY:
            raise ValueError(f"feature {self.name!r}: only a category can be ordered")
        allowed = aliasable_values(self.dtype, self.values, self.range)
        unknown = [v for v in self.value_aliases if v not in allowed]
        if unknown:
            raise ValueError(f"feature {self.name!r}: value_aliases name values it does not allow: {unknown}")
        if self.range is not None:
            if self.dtype not in (DType.INT, DType.FLOAT):
                raise ValueError(f"feature {self.name!r}: only int and float take a range")
            if self.range[0] > self.range[1]:
                raise ValueError(f"feature {self.name!r}: range low is above high")
        return self

    @cached_property
    def value_index(self) -> dict[str, int]:
        """Allowed value → position (category code is position + 1; set bit is position)."""
        return {v: i for i, v in enumerate(self.values or ())}


class FeatureGroup(BaseModel):
    """Features stored together and expiring together."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    entity: str
    ttl_seconds: int = Field(gt=0)
    features: tuple[Feature, ...]

    @field_validator("features")
    @classmethod
    def _not_empty(cls, v: tuple[Feature, ...]) -> tuple[Feature, ...]:
        if not v:
            raise ValueError("a feature group needs at least one feature")
        if len(v) > MAX_GROUP_FEATURES:
            raise ValueError(f"a feature group holds at most {MAX_GROUP_FEATURES} features")
        return v

    @model_validator(mode="after")
    def _stamp_features(self) -> FeatureGroup:
        stamped = tuple(
            f.model_copy(update={"group": self.name, "entity": self.entity, "ttl_seconds": self.ttl_seconds})
            for f in self.features
        )
        object.__setattr__(self, "features", stamped)
        return self


class Catalog(BaseModel):
    """The whole catalog. Immutable; its :attr:`fingerprint` versions every stored key."""

    model_config = ConfigDict(frozen=True)

    name: str
    entities: dict[str, Entity]
    groups: tuple[FeatureGroup, ...]
    # How this team's marketers phrase conditions, for the corpus generator only (not in the fingerprint).
    phrasebook: Phrasebook = Field(default_factory=Phrasebook)

    @model_validator(mode="before")
    @classmethod
    def _entity_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("entities"), dict):
            data = dict(data)
            data["entities"] = {
                name: {"name": name, **(spec or {})} for name, spec in data["entities"].items()
            }
            data.pop("vocabularies", None)  # YAML anchors only
        return data

    @model_validator(mode="after")
    def _check(self) -> Catalog:
        seen: set[str] = set()
        for group in self.groups:
            if group.entity not in self.entities:
                raise ValueError(f"group {group.name!r}: unknown entity {group.entity!r}")
            for f in group.features:
                if f.name in seen:
                    raise ValueError(f"feature {f.name!r} is defined twice")
                seen.add(f.name)
        for name, phrases in self.phrasebook.features.items():
            if name not in seen:
                raise ValueError(f"phrasebook.features: {name!r} is not a feature of the catalog")
            feature = self.features[name]
            allowed = aliasable_values(feature.dtype, feature.values, feature.range) | (
                {"true", "false"} if feature.dtype == DType.BOOL else set())
            unknown = sorted(v for v in (*phrases.words, *phrases.heads) if v not in allowed)
            if unknown:
                raise ValueError(f"phrasebook.features.{name}: words or heads for values it does not allow: {unknown}")
        return self

    # -- lookups -----------------------------------------------------------------------------------

    @cached_property
    def features(self) -> dict[str, Feature]:
        return {f.name: f for g in self.groups for f in g.features}

    @cached_property
    def group_by_name(self) -> dict[str, FeatureGroup]:
        return {g.name: g for g in self.groups}

    def features_of(self, entity: str) -> list[Feature]:
        self.entity(entity)
        return [f for f in self.features.values() if f.entity == entity]

    def groups_of(self, entity: str) -> list[FeatureGroup]:
        return [g for g in self.groups if g.entity == entity]

    def entity(self, name: str) -> Entity:
        try:
            return self.entities[name]
        except KeyError:
            raise InvalidArgument(
                f"unknown entity {name!r}; the catalog defines {sorted(self.entities)}", field="entity"
            ) from None

    def feature(self, name: str, *, field: str = "feature") -> Feature:
        try:
            return self.features[name]
        except KeyError:
            raise UnknownFeature(f"unknown feature {name!r}", field=field) from None

    def resolve(self, entity: str, names: list[str] | None, *, field: str = "features") -> list[Feature]:
        """Features of ``entity`` by name (all of them when ``names`` is empty), validated."""
        if not names:
            return self.features_of(entity)
        self.entity(entity)
        out: list[Feature] = []
        for i, name in enumerate(names):
            f = self.feature(name, field=f"{field}[{i}]")
            if f.entity != entity:
                raise InvalidArgument(
                    f"feature {name!r} belongs to entity {f.entity!r}, not {entity!r}", field=f"{field}[{i}]"
                )
            out.append(f)
        return out

    # -- identity ----------------------------------------------------------------------------------

    @cached_property
    def fingerprint(self) -> str:
        """12 hex digits of a hash of everything that shapes storage (not descriptions or aliases)."""
        layout = [
            {
                "group": g.name,
                "entity": g.entity,
                "ttl": g.ttl_seconds,
                "features": [[f.name, f.dtype.value, list(f.values or ())] for f in g.features],
            }
            for g in self.groups
        ]
        blob = json.dumps(layout, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def describe(self) -> list[dict[str, Any]]:
        """Plain rows for tables, prompts and the introspection RPC."""
        return [f.model_dump(mode="json") for f in self.features.values()]


def load_catalog(path: str | Path) -> Catalog:
    """Load a catalog from a YAML file."""
    data = yaml.safe_load(Path(path).read_text())
    return Catalog.model_validate(data)


DEMO_CATALOG_PATH = Path(__file__).parent / "catalogs" / "demo.yaml"


@lru_cache(maxsize=1)
def demo_catalog() -> Catalog:
    """The catalog of the synthetic demo world, shipped with the package.

    Only the demo world (``features.demo_world``, ``mds seed``) and tests may name it; everything
    else asks :func:`configured_catalog`.
    """
    return load_catalog(DEMO_CATALOG_PATH)


@lru_cache(maxsize=8)
def _cached_catalog(path: str, mtime_ns: int) -> Catalog:
    from features._catalog_check import load_checked_catalog  # the checker imports this module

    return load_checked_catalog(path)


def configured_catalog(settings: Settings) -> Catalog:
    """The catalog this deployment serves: ``MDS_CATALOG`` when set, else the demo catalog.

    A missing or broken file is an InvalidArgument (field ``MDS_CATALOG``) naming the file and every
    problem ``mds catalog check`` would list; nothing is served from half a catalog.
    """
    path = Path(settings.catalog) if settings.catalog is not None else DEMO_CATALOG_PATH
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError as exc:
        raise InvalidArgument(f"catalog {path} (MDS_CATALOG) cannot be read: {exc.strerror or exc}",
                              field="MDS_CATALOG") from None
    return _cached_catalog(str(path.resolve()), mtime_ns)
