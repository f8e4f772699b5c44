from __future__ import annotations

import pytest

from core.settings import Settings
from features.demo_world import demo_catalog


@pytest.fixture
def campaign_settings(seeded_settings: Settings) -> Settings:
    """A seeded demo world (2,000 users in Redis and the snapshot) with the demo ``coupon`` model."""
    from models.uplift.demo import ensure_demo_model

    ensure_demo_model(seeded_settings, demo_catalog(), users=2_000, n_estimators=40)
    return seeded_settings
