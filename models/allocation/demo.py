"""The allocation policy ``make serve`` serves beside the demo recommender (``models.recommend.demo``):
fitted on the demo world's logged requests, cached under ``<data_dir>/models/allocation/``."""

from __future__ import annotations

import logging
from pathlib import Path

from core.settings import Settings
from features.catalog import Catalog
from models.allocation._policy import AllocationPolicy, fit_policy
from models.recommend import RatingData, RecommenderBundle
from models.recommend.demo import DEMO_USERS, DemoRecommender, ensure_demo_recommender

__all__ = ["ensure_demo_allocation", "fit_demo_policy", "policy_path"]

log = logging.getLogger(__name__)


def policy_path(settings: Settings) -> Path:
    return settings.models_dir / "allocation" / "demo_policy.pkl"


def ensure_demo_allocation(settings: Settings, catalog: Catalog, *, users: int = DEMO_USERS, force: bool = False
                           ) -> tuple[DemoRecommender, AllocationPolicy]:
    """The demo recommender (see ``ensure_demo_recommender``) and its policy, each trained unless cached;
    a retrained recommender always gets a fresh policy."""
    rec = ensure_demo_recommender(settings, catalog, users=users, force=force)
    path = policy_path(settings)
    policy = None
    if path.exists() and not (force or rec.trained):
        try:
            policy = AllocationPolicy.load(path, rec.bundle)
        except Exception as exc:  # a corrupt or stale cache is refitted, never served
            log.warning("refitting the demo allocation policy: %s", exc)
    if policy is None:
        policy = fit_demo_policy(rec.bundle, rec.data)
        policy.save(path)
    return rec, policy


def fit_demo_policy(bundle: RecommenderBundle, data: RatingData) -> AllocationPolicy:
    """Few logged requests: seconds, not minutes."""
    return fit_policy(bundle, data, max_logged=150)
