"""gRPC servicers for the cascade recommender (``RecommendService``) and its compute-allocation
controller (``AllocationService``), package ``mds.allocation.v1``."""
