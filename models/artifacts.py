"""Versioned pickle artifacts outside the model registry (recommender bundles, cascades, policies).

A file holds ``{"version": N, key: object}``, written to a temporary file and renamed into place, so a
reader never sees half a file; loading checks the version and the object's type and turns anything
unpicklable into :class:`core.errors.ArtifactError` (a missing file stays ``FileNotFoundError``).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import TypeVar

from core.errors import ArtifactError

__all__ = ["load_artifact", "save_artifact"]

T = TypeVar("T")


def save_artifact(path: Path, key: str, obj: object, version: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump({"version": version, key: obj}, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def load_artifact(path: Path, key: str, kind: type[T], version: int, what: str) -> T:
    """The ``kind`` stored under ``key`` in a version-``version`` artifact (``what`` names it in errors)."""
    try:
        with path.open("rb") as fh:
            blob = pickle.load(fh)
    except FileNotFoundError:
        raise
    except Exception as exc:  # unpickling garbage raises anything
        raise ArtifactError(f"cannot load {what} {path}: {exc}") from exc
    if not isinstance(blob, dict) or blob.get("version") != version or not isinstance(blob.get(key), kind):
        raise ArtifactError(f"{path} is not a version-{version} {what}")
    return blob[key]  # type: ignore[no-any-return]
