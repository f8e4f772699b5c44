"""The allocation policy a recommender replica serves beside its ``RecommenderBundle``: the reward
estimator over the efficient chains and the offline λ for a default budget, in one checked artifact."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ArtifactError
from models.allocation._context import ContextExtractor, request_context
from models.allocation._estimator import RewardEstimator
from models.allocation._pipeline import chain_features, cross_fit, efficient_chains, expand
from models.allocation._price import price_floor
from models.allocation._solver import LambdaMix, solve_mix
from models.artifacts import load_artifact, save_artifact
from models.recommend import RatingData, RecommenderBundle, build_requests

__all__ = ["AllocationPolicy", "fit_policy"]

POLICY_VERSION = 3   # 2: the item-CF novelty context features; 3: the item-CF score profile


@dataclass
class AllocationPolicy:
    estimator: RewardEstimator
    frontier: np.ndarray            # the chains that may be served (indices into the cascade's chains)
    n_chains: int
    default_fraction: float
    default_mix: LambdaMix
    requests_per_window: float
    lam_floor: float = 0.0          # the price below which compute does not pay (``price_floor``)

    def predict(self, bundle: RecommenderBundle, items: np.ndarray, ratings: np.ndarray, times: np.ndarray,
                now: int) -> np.ndarray:
        """Predicted reward of every chain (−inf off the frontier) for one request."""
        return self.predict_context(self.context(bundle, items, ratings, times, now))

    def context(self, bundle: RecommenderBundle, items: np.ndarray, ratings: np.ndarray, times: np.ndarray,
                now: int) -> np.ndarray:
        """The request's ``ALLOCATION_CONTEXT`` (the first half of :meth:`predict`)."""
        extract: ContextExtractor | None = getattr(self, "_extract", None)
        if extract is None or extract.base is not bundle.cascade.base:
            extract = self._extract = ContextExtractor(bundle.cascade.base)
        return extract(items, ratings, times, now)

    def predict_context(self, ctx: np.ndarray) -> np.ndarray:
        """Every chain's predicted reward from one request's context (the second half of :meth:`predict`)."""
        return expand(self.estimator.predict(ctx[None, :]), self.frontier, self.n_chains)[0]

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("_extract", None)      # rebuilt from the bundle's cascade after loading
        return state

    def save(self, path: Path) -> None:
        save_artifact(path, "policy", self, POLICY_VERSION)

    @staticmethod
    def load(path: Path, bundle: RecommenderBundle | None = None) -> AllocationPolicy:
        """Load; with ``bundle``, also check that the policy was fitted for that cascade."""
        policy = load_artifact(path, "policy", AllocationPolicy, POLICY_VERSION, "allocation policy")
        if bundle is not None and policy.n_chains != len(bundle.cascade.chains):
            raise ArtifactError(f"allocation policy {path} has {policy.n_chains} chains, the recommender "
                                f"{len(bundle.cascade.chains)}: retrain the policy")
        return policy


def fit_policy(bundle: RecommenderBundle, data: RatingData, *, default_fraction: float = 0.5,
               max_logged: int = 400, requests_per_window: float = 600.0, seed: int = 0,
               progress: bool = False) -> AllocationPolicy:
    """Replay every chain on logged requests after the bundle's stage cut and fit the estimator."""
    cascade = bundle.cascade
    logged = build_requests(data, bundle.split.t_stage, np.iinfo(np.int64).max, max_per_user=3)
    if not logged:
        raise ArtifactError("no logged requests to fit the reward estimator on")
    rng = np.random.default_rng(seed)
    if len(logged) > max_logged:
        logged = [logged[i] for i in sorted(rng.choice(len(logged), max_logged, replace=False))]
    true = cascade.replay(logged, progress=progress)
    frontier = efficient_chains(true.mean(axis=0), bundle.costs)
    ctx = request_context(cascade, logged)
    chains = chain_features(cascade, bundle.calibration)[frontier]
    est = RewardEstimator(random_state=seed).fit(ctx, chains, true[:, frontier])
    pred = expand(est.predict(ctx), frontier, len(cascade.chains))
    mix = solve_mix(pred, bundle.costs, default_fraction * bundle.full_cost)
    oof = expand(cross_fit("reward", ctx, chains, true[:, frontier].astype(np.float64), seed=seed,
                           groups=np.array([q.user for q in logged])), frontier, len(cascade.chains))
    floor = price_floor(oof, true, bundle.costs).lam
    return AllocationPolicy(est, frontier, len(cascade.chains), default_fraction, mix, requests_per_window, floor)
