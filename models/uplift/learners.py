"""Every uplift learner by its registry name, so commands and tests iterate over one list."""

from __future__ import annotations

from collections.abc import Callable

from core.errors import InvalidArgument
from models.uplift._anchors import ANCHORS, AnchorLearner
from models.uplift._bag import BagRegularizedUplift
from models.uplift._bag_gbm import BagCorrectedSLearner, BagCorrectedTLearner
from models.uplift._gated import BlendedBagUplift, GatedBagUplift
from models.uplift._meta import ClassTransformation, SLearner, TLearner, XLearner
from models.uplift.base import UpliftEstimator

__all__ = ["BASELINES", "DEFAULT_LEARNER", "DEFAULT_REVENUE_LEARNER", "LEARNERS", "make_learner"]

LEARNERS: dict[str, Callable[..., UpliftEstimator]] = {
    "t_learner": TLearner,
    "s_learner": SLearner,
    "x_learner": XLearner,
    "class_transformation": ClassTransformation,
    "bag_regularized": BagRegularizedUplift,
    "bag_regularized_gbm": BagCorrectedTLearner,
    "bag_corrected_s": BagCorrectedSLearner,
    "bag_gated": GatedBagUplift,
    "bag_blend": BlendedBagUplift,
}

BASELINES: tuple[str, ...] = ("t_learner", "s_learner", "x_learner", "class_transformation")

# The learner a user gets when naming none (``default`` in reports and on the command line), for 0/1
# outcomes and for continuous (revenue) outcomes. ``bag_blend`` (the mean uplift of ``bag_corrected_s`` and the
# bag net ``bag_regularized``; the corrected S-learner's stage 1 alone where bags expect too few responders) met the anchor
# target on the most suite data sets: the corrected S-learner alone trails the anchors on Hillstrom visits and
# on many features, the net alone fails on rare outcomes, many-feature and strong-signal sets (docs/uplift.md,
# "Robust default, fourth pass").
DEFAULT_LEARNER = "bag_blend"
DEFAULT_REVENUE_LEARNER = "x_learner"


def make_learner(name: str, random_state: int = 0, *, field: str = "--learner") -> UpliftEstimator:
    """A fresh learner with its default parameters and the given seed.

    ``name`` is a key of :data:`LEARNERS`, ``default`` (:data:`DEFAULT_LEARNER`) or an anchor
    ``anchor:<package>.<Learner>`` (scikit-uplift's or causalml's learner with the shared base LightGBM).
    """
    if name == "default":
        name = DEFAULT_LEARNER
    if name in ANCHORS:
        return AnchorLearner(name, random_state=random_state)
    try:
        factory = LEARNERS[name]
    except KeyError:
        raise InvalidArgument(f"unknown learner {name!r}; choose from {sorted(LEARNERS)}, default or an anchor "
                              f"({', '.join(sorted(ANCHORS))})", field=field) from None
    return factory(random_state=random_state)
