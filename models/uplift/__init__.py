"""Uplift models: one estimator interface, catalog-aware encoding, baselines and the bag-regularized learner.

Serving code needs only :class:`UpliftPipeline` (encoder + estimator, picklable). Research code uses
the learners (:data:`LEARNERS`), the metrics, the evaluation protocol (``models.uplift.evaluation``, its
suite of data sets in ``models.uplift.suite``) and what it is built from: generated experiments, tuning,
bootstrap intervals, calibration, profit curves, the third-party anchor learners and several-treatment
(arms) models.
"""

from models.uplift._anchors import available_anchors
from models.uplift._arms import ArmsReport, MultiArmUplift, choose_arms, evaluate_arms
from models.uplift._bag import BagLabels, BagRegularizedUplift, bag_ate_labels
from models.uplift._bag_gbm import (
    BagCorrectedSLearner,
    BagCorrectedTLearner,
    bag_shrinkage,
    fit_bag_correction,
)
from models.uplift._gated import BlendedBagUplift, GatedBagUplift, expected_bag_responders
from models.uplift._intervals import Calibration, bootstrap_intervals, calibration_by_decile
from models.uplift._meta import ClassTransformation, SLearner, TLearner, XLearner
from models.uplift._profit import ProfitCurve, check_costs, profit_curve
from models.uplift._synthetic import SIGNAL_LEVELS, synthetic_experiment
from models.uplift._tuning import SEARCH_SPACES, TuningResult, tune_learner
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
    "SEARCH_SPACES",
    "SIGNAL_LEVELS",
    "ArmsReport",
    "BagCorrectedSLearner",
    "BagCorrectedTLearner",
    "BagLabels",
    "BagRegularizedUplift",
    "BlendedBagUplift",
    "Calibration",
    "ClassTransformation",
    "FeatureEncoder",
    "GatedBagUplift",
    "MultiArmUplift",
    "ProfitCurve",
    "SLearner",
    "TLearner",
    "TuningResult",
    "UpliftEstimator",
    "UpliftPipeline",
    "UpliftScores",
    "XLearner",
    "available_anchors",
    "bag_ate_labels",
    "bag_shrinkage",
    "bootstrap_intervals",
    "calibration_by_decile",
    "check_costs",
    "check_features",
    "check_uplift_data",
    "choose_arms",
    "evaluate_arms",
    "expected_bag_responders",
    "fit_bag_correction",
    "make_learner",
    "perfect_qini_curve",
    "perfect_uplift_curve",
    "profit_curve",
    "qini_auc",
    "qini_curve",
    "score_uplift",
    "synthetic_experiment",
    "tune_learner",
    "uplift_at_k",
    "uplift_auc",
    "uplift_curve",
]
