"""The synthetic demo world that `mds seed` writes and `make serve` serves."""

from features.catalog import Catalog, demo_catalog
from features.demo_world.items import (
    demo_people,
    demo_recommendation_frames,
    generate_interactions,
    generate_items,
)
from features.demo_world.seeding import SeedResult, demo_dir, demo_seeded, seed
from features.demo_world.users import TIER_BY_CITY, generate_users

__all__ = ["TIER_BY_CITY", "SeedResult", "demo_catalog", "demo_dir", "demo_people", "demo_recommendation_frames", "demo_seeded",
           "generate_interactions", "generate_items", "generate_users", "is_demo_catalog", "seed"]


def is_demo_catalog(catalog: Catalog) -> bool:
    """Whether ``catalog`` is the demo world's, whose users this package can generate."""
    return catalog.fingerprint == demo_catalog().fingerprint
