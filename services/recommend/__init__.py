"""gRPC servicer for the cascade recommender (``RecommendService``, proto package ``mds.allocation.v1``)
and the per-process runtime it shares with the allocation servicer."""

from services.recommend._runtime import SYNC_EVERY, WINDOW_S, RecommenderRuntime, get_runtime

__all__ = ["RecommenderRuntime", "SYNC_EVERY", "WINDOW_S", "get_runtime"]
