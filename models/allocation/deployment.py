"""Where a deployed recommender lives: the cascade bundle and its allocation policy, saved under one
name (``MDS_RECOMMENDER``) and loaded by ``RecommendService``. The demo world's (``make serve``) is
the name ``demo``; ``mds recommend train --dataset ml-100k`` saves ``ml-100k``."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from models.allocation._policy import AllocationPolicy
from models.recommend import RecommenderBundle

__all__ = ["budget_scope", "deployment_paths", "save_deployment"]


def deployment_paths(settings: Settings, name: str | None = None) -> tuple[Path, Path]:
    """(bundle, policy) paths of recommender ``name`` (default: the configured ``MDS_RECOMMENDER``)."""
    name = name or settings.recommender
    return settings.models_dir / "recommend" / f"{name}.pkl", settings.models_dir / "allocation" / f"{name}_policy.pkl"


def budget_scope(settings: Settings) -> str:
    """The Redis scope of the controller's shared budget state: one per deployed recommender, so a
    budget set for one (in its chains' microseconds) is never applied to another."""
    return "recommend" if settings.recommender == "demo" else f"recommend-{settings.recommender}"


def save_deployment(settings: Settings, name: str, bundle: RecommenderBundle, policy: AllocationPolicy
                    ) -> tuple[Path, Path]:
    """Save both artifacts under ``name``, the policy last (a server loads the pair only once both exist,
    and each file is written to a temporary name and moved into place)."""
    bundle_file, policy_file = deployment_paths(settings, name)
    policy_file.unlink(missing_ok=True)  # never pair a new bundle with the old policy
    bundle.save(bundle_file)
    policy.save(policy_file)
    return bundle_file, policy_file
