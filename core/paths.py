"""Where the shared real data sets live (read in place, never copied into the repository)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["shared_data_dir", "hillstrom_csv", "movielens_100k_dir", "repo_root"]


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """``$MDS_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    env = os.environ.get("MDS_SHARED_DATA")
    return Path(env) if env else repo_root().parent / "shared" / "data"


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(
            f"{what} not found at {path}; put the shared data sets at ../shared/data beside the "
            f"repository or set MDS_SHARED_DATA"
        )
    return path


def hillstrom_csv() -> Path:
    return _require(shared_data_dir() / "hillstrom" / "hillstrom.csv", "Hillstrom e-mail data")


def movielens_100k_dir() -> Path:
    return _require(shared_data_dir() / "ml-100k", "MovieLens 100K (RecBole atomic files)")
