"""Learners that use the bag-regularized net only where its bag labels can carry signal.

``bag_gated``: the net, or the LightGBM S-learner where bags are too sparse. ``bag_blend`` (the default
for 0/1 outcomes): the mean of the bag-corrected S-learner's and the net's uplift, or, where bags are too
sparse, the corrected S-learner's stage 1 alone (a LightGBM S-learner with a fixed tree budget).

Why the bag net fails on rare outcomes: a bag's label is its observed ATE, treated rate minus control
rate over ``bag_size / 2`` users per arm. With a 0.9 % conversion rate a bag of 512 holds about two
responders per arm, so the label's standard error (≈ 0.6 points) is several times the effects the
model should rank by, and the per-arm log-loss of a neural net sees too few positives to learn heads
from. Both parts of the net then fit noise. The number of responders a bag can expect per arm is known
before any fit (``bag_size`` × arm share × the rarer outcome's rate), so the gate is decided from the
training data's shape alone: no holdout, no extra fit, no tuning.
"""

from __future__ import annotations

import numpy as np

from models.uplift._bag import BagRegularizedUplift
from models.uplift._bag_gbm import BagCorrectedSLearner
from models.uplift._meta import SLearner
from models.uplift.base import UpliftEstimator

__all__ = ["BlendedBagUplift", "GatedBagUplift", "expected_bag_responders"]


def expected_bag_responders(t: np.ndarray, y: np.ndarray, bag_size: int) -> float:
    """Fewest responders (or non-responders, whichever is rarer) a bag of ``bag_size`` users can expect
    in one arm: ``bag_size × arm share × min(rate, 1 − rate)``, minimized over the two arms."""
    counts = []
    for arm in (0, 1):
        in_arm = t == arm
        share = float(in_arm.mean())
        rate = float(y[in_arm].mean()) if in_arm.any() else 0.0
        counts.append(bag_size * share * min(rate, 1.0 - rate))
    return float(min(counts))


class GatedBagUplift(UpliftEstimator):
    """Bag-regularized net when a bag expects at least ``min_bag_responders`` responders per arm,
    otherwise the LightGBM S-learner (registry name ``bag_gated``).

    ``family_`` records which one was fitted (``"bag_regularized"`` or ``"s_learner"``) and
    ``bag_responders_`` the expected responders per bag and arm that decided it. 20 responders give a
    bag rate a relative standard error of about 22 %; the real experiments sit far from it on either
    side (Hillstrom visits ≈ 27 per bag and arm, conversions ≈ 1.5; the demo world ≈ 47, the generated
    experiments ≈ 38–40).
    """

    def __init__(self, min_bag_responders: float = 20.0, bag_size: int = 512, random_state: int | None = 0,
                 n_jobs: int = 1) -> None:
        self.min_bag_responders = min_bag_responders
        self.bag_size = bag_size
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        self.bag_responders_ = expected_bag_responders(t, y, int(self.bag_size))
        model: UpliftEstimator
        if self.bag_responders_ >= float(self.min_bag_responders):
            self.family_ = "bag_regularized"
            model = BagRegularizedUplift(bag_size=int(self.bag_size), random_state=self.random_state,
                                         n_threads=int(self.n_jobs))
        else:
            self.family_ = "s_learner"
            model = SLearner(random_state=self.random_state, n_jobs=int(self.n_jobs))
        self.model_ = model.fit(X, t, y)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict(X)


class BlendedBagUplift(UpliftEstimator):
    """Mean uplift of the bag-corrected S-learner and the bag-regularized net when a bag expects at least
    ``min_bag_responders`` responders per arm, otherwise the corrected S-learner's stage 1 alone: a LightGBM
    S-learner of 100 trees at learning rate 0.1, no early stopping (registry name ``bag_blend``; the
    ``default`` learner for 0/1 outcomes).

    Why a plain mean: both members estimate the same quantity in the same unit (a probability
    difference), so their mean keeps the uplift's scale for value- and cost-based selection, and the
    two make different errors (trees on the outcome with a bag-level fix; a two-headed net trained on
    bag ATEs of held-out rows). The gate is :class:`GatedBagUplift`'s: on rare outcomes the net fits noise.
    So does the correction stage there: its bags hold few responders per arm (one or two on Hillstrom's
    conversions) and are sorted by the S-learner's in-sample fit, whose selection bias the shrinkage reads
    as signal; on six rare-outcome experiments outside the suite the S-learner alone ranked better on all
    six, at under half the fit time (docs/uplift.md, "Robust default, fifth pass"). ``members_`` lists the
    fitted learners' registry names.

    ``net_members``: the net's own ensemble size. One net, not the standalone net's two: the S-learner is
    already the blend's second, more diverse member, and a second net cost about 40 % more net fit time
    without a better blend on the suite (docs/uplift.md, "Robust default, fourth pass").
    """

    def __init__(self, min_bag_responders: float = 20.0, bag_size: int = 512, net_members: int = 1,
                 random_state: int | None = 0, n_jobs: int = 1) -> None:
        self.min_bag_responders = min_bag_responders
        self.bag_size = bag_size
        self.net_members = net_members
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        self.bag_responders_ = expected_bag_responders(t, y, int(self.bag_size))
        corrected = BagCorrectedSLearner(bag_size=int(self.bag_size), random_state=self.random_state,
                                         n_jobs=int(self.n_jobs))
        models: list[UpliftEstimator]
        if self.bag_responders_ >= float(self.min_bag_responders):
            models = [corrected, BagRegularizedUplift(bag_size=int(self.bag_size), n_ensemble=int(self.net_members),
                                                      random_state=self.random_state, n_threads=int(self.n_jobs))]
            self.members_ = ["bag_corrected_s", "bag_regularized"]
        else:
            # The corrected S-learner's own stage 1 (same trees, same seed), without the correction.
            stage1 = {name: value for name, value in corrected.get_params().items()
                      if name in SLearner().get_params()}
            models = [SLearner(**stage1)]
            self.members_ = ["s_learner"]
        self.models_ = [model.fit(X, t, y) for model in models]

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.mean([model.predict(X) for model in self.models_], axis=0)
