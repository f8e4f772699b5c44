"""gRPC servicer for the compute-allocation controller (``AllocationService``, package
``mds.allocation.v1``); the recommender it allocates for is served by ``services.recommend``."""
