"""Uplift models: one estimator interface, catalog-aware encoding, baselines and the bag-regularized learner.

Serving code needs only :class:`UpliftPipeline` (encoder + estimator, picklable). Research code uses
the learners (:data:`LEARNERS`), the metrics and the evaluation protocol.
"""

from models.uplift._bag import BagLabels, BagRegularizedUplift, bag_ate_labels
from models.uplift._bag_gbm import (
    BagCorrectedSLearner,
    BagCorrectedTLearner,
    bag_shrinkage,
    fit_bag_correction,
)
from models.uplift._gated import BlendedBagUplift, GatedBagUplift, expected_bag_responders
from models.uplift._meta import ClassTransformation, SLearner, TLearner, XLearner
from models.uplift.base import UpliftEstimator, check_features, check_uplift_data
from models.uplift.encoding import FeatureEncoder
from models.uplift.learners import BASELINES, LEARNERS, make_learner
from models.uplift.metrics import (
    UpliftScores,
    perfect_qini_curve,
    perfect_uplift_curve,
    qini_auc,
    qini_curve,
    score_uplift,
    uplift_at_k,
    uplift_auc,
    uplift_curve,
)
from models.uplift.pipeline import UpliftPipeline

__all__ = [
    "BASELINES",
    "LEARNERS",
    "BagCorrectedSLearner",
    "BagCorrectedTLearner",
    "BagLabels",
    "BagRegularizedUplift",
    "BlendedBagUplift",
    "ClassTransformation",
    "FeatureEncoder",
    "GatedBagUplift",
    "SLearner",
    "TLearner",
    "UpliftEstimator",
    "UpliftPipeline",
    "UpliftScores",
    "XLearner",
    "bag_ate_labels",
    "bag_shrinkage",
    "fit_bag_correction",
    "check_features",
    "check_uplift_data",
    "expected_bag_responders",
    "make_learner",
    "perfect_qini_curve",
    "perfect_uplift_curve",
    "qini_auc",
    "qini_curve",
    "score_uplift",
    "uplift_at_k",
    "uplift_auc",
    "uplift_curve",
]
