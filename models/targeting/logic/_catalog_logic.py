"""Logic built from a catalog alone, for examples and benchmarks that must not name a demo feature."""

from __future__ import annotations

from features.catalog import Catalog

__all__ = ["whole_range_logic"]


def whole_range_logic(catalog: Catalog, entity: str) -> str | None:
    """``(feature#Between#low, high)`` over the whole range of ``entity``'s first ranged feature, which
    every row with a value of that feature meets; None when no feature of ``entity`` has a range."""
    for f in catalog.features_of(entity):
        if f.range is not None:
            return f"({f.name}#Between#{f.range[0]:g}, {f.range[1]:g})"
    return None
