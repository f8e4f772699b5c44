"""Uplift models: one estimator interface, catalog-aware encoding, baselines and the bag-regularized learner."""

from models.uplift.base import UpliftEstimator, check_features, check_uplift_data
from models.uplift.encoding import FeatureEncoder
from models.uplift.pipeline import UpliftPipeline

__all__ = [
    "FeatureEncoder",
    "UpliftEstimator",
    "UpliftPipeline",
    "check_features",
    "check_uplift_data",
]
