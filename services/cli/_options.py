"""Options several ``mds`` commands share."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings
    from features.catalog import Catalog

__all__ = ["catalog_option"]


def catalog_option(path: Path | None, settings: Settings) -> Catalog:
    """The catalog a ``--catalog FILE`` flag names (checked first; a problem names ``--catalog``), else the
    configured one (``MDS_CATALOG``, else the demo catalog)."""
    from features import load_checked_catalog
    from features.catalog import configured_catalog

    if path is not None:
        return load_checked_catalog(path, setting="--catalog")
    return configured_catalog(settings)
