"""The online-store interface every backend implements (one module per backend beside this one)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence

import pandas as pd

from core.errors import InvalidArgument, preview
from features.catalog import Catalog
from features.store._batch import FeatureBatch

__all__ = ["OnlineStore", "AsyncOnlineStore", "validate_keys", "KEY_PATTERN"]

# \A...\Z, not ^...$: '$' also matches before a trailing newline, and "u1\n" is not a key.
KEY_PATTERN = re.compile(r"\A[A-Za-z0-9_.\-]{1,64}\Z")


def validate_keys(keys: Sequence[str], max_batch: int, *, field: str = "keys", unique: bool = False) -> None:
    """Raise :class:`InvalidArgument` naming ``field`` (or ``field[i]``) unless every key is well formed.

    ``unique``: also reject a repeated key (where a repeat would be counted twice, e.g. a selection).
    """
    if not keys:
        raise InvalidArgument("at least one entity key is needed", field=field)
    if len(keys) > max_batch:
        raise InvalidArgument(f"{len(keys):,} keys is more than the limit of {max_batch:,} per request", field=field)
    match = KEY_PATTERN.match
    try:
        well_formed = all(map(match, keys))  # the fast path: one C-level loop
    except TypeError:
        well_formed = False
    if not well_formed:
        for i, key in enumerate(keys):
            if not isinstance(key, str) or match(key) is None:
                raise InvalidArgument(f"malformed key {preview(key)}: use 1-64 letters, digits, '_', '.' or '-'",
                                      field=f"{field}[{i}]")
    if unique and len(set(keys)) != len(keys):
        seen: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key in seen:
                raise InvalidArgument(f"key {preview(key)} appears twice (at {seen[key]} and {i}); each key may "
                                      "appear once", field=f"{field}[{i}]")
            seen[key] = i


class _StoreContract:
    catalog: Catalog
    max_batch: int
    namespace: str


class OnlineStore(_StoreContract, ABC):
    """Synchronous online store: batched typed reads and writes of entity features."""

    @abstractmethod
    def read(self, entity: str, keys: Sequence[str], features: Sequence[str] | None = None) -> FeatureBatch:
        """Features of ``keys`` (all of the entity's features when ``features`` is empty)."""

    @abstractmethod
    def write_frame(self, entity: str, frame: pd.DataFrame) -> int:
        """Write every complete feature group found in ``frame`` (keyed by the entity's key column)."""

    @abstractmethod
    def clear(self) -> int:
        """Delete every key of this store's namespace (all catalog versions); return the count."""


class AsyncOnlineStore(_StoreContract, ABC):
    """The asyncio twin of :class:`OnlineStore`, used by the gRPC servers."""

    @abstractmethod
    async def read(self, entity: str, keys: Sequence[str], features: Sequence[str] | None = None) -> FeatureBatch: ...

    @abstractmethod
    async def ping(self) -> bool: ...
