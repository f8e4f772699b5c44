"""Plan a campaign: a budgeted, uplift-ranked selection and a stratified randomized holdout.

The design, per plan (all of it deterministic given the seed):

1. Every eligible user with cached features gets a predicted uplift; users fall into ten strata, the
   deciles of predicted uplift over the eligible audience.
2. The holdout is drawn first, inside the eligible audience: in every stratum exactly
   ``round(holdout_share * stratum size)`` users chosen at random. Stratifying keeps the holdout's
   uplift distribution identical to the audience's, so no decile is over- or under-represented.
3. The budget selects the treated users among the rest (``models.uplift.scoring.select_top``: by
   uplift for a count budget, by uplift per unit cost for a cost budget).
4. The same rule with the budget scaled by ``share / (1 - share)`` picks the holdout's *twin*: the
   holdout users the campaign would have treated. Treated and twin are random halves (in the
   designed proportion) of one targeted region, so their outcomes compare causally; the rest of the
   holdout is kept as a baseline.

The expected incremental outcome is the sum of predicted uplift over the treated users; its interval
treats each treated user as moved with probability equal to their predicted uplift (a Poisson-binomial
count, normal approximation), i.e. the spread of the realized count if the model is right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import InvalidArgument
from models.uplift.scoring import select_top

__all__ = ["Budget", "CampaignMembers", "MemberDraw", "draw_members", "check_holdout_share", "STRATA"]

STRATA = 10
_MIN_BIN_USERS = 20  # a read-out decile needs users in both arms; fewer bins for small campaigns
TREATED, HOLDOUT = 1, 0


@dataclass(frozen=True, slots=True)
class Budget:
    """Exactly one of ``max_users`` and ``max_cost``; ``cost_per_user`` prices users without their own cost."""

    max_users: int | None = None
    max_cost: float | None = None
    cost_per_user: float = 1.0

    def __post_init__(self) -> None:
        if (self.max_users is None) == (self.max_cost is None):
            raise InvalidArgument("give exactly one budget: max_users or max_cost", field="budget")
        if self.max_users is not None and self.max_users <= 0:
            raise InvalidArgument(f"max_users must be positive, got {self.max_users}", field="max_users")
        if self.max_cost is not None and not (math.isfinite(self.max_cost) and self.max_cost > 0):
            raise InvalidArgument(f"max_cost must be a positive number, got {self.max_cost}", field="max_cost")
        if not (math.isfinite(self.cost_per_user) and self.cost_per_user > 0):
            raise InvalidArgument(f"cost_per_user must be a positive number, got {self.cost_per_user}",
                                  field="cost_per_user")

    def scaled(self, factor: float) -> Budget:
        """The same kind of budget, ``factor`` times as large (the holdout twin's budget)."""
        if self.max_users is not None:
            return Budget(max_users=max(1, round(self.max_users * factor)), cost_per_user=self.cost_per_user)
        assert self.max_cost is not None
        return Budget(max_cost=self.max_cost * factor, cost_per_user=self.cost_per_user)


def check_holdout_share(share: float) -> float:
    if not (math.isfinite(share) and 0.0 < share <= 0.5):
        raise InvalidArgument(f"holdout_share must be in (0, 0.5], got {share}", field="holdout_share")
    return float(share)


@dataclass(frozen=True)
class CampaignMembers:
    """One row per campaign member (treated or held out), as columns.

    ``group``: 1 treated, 0 holdout. ``targeted``: treated, or the holdout twin. ``stratum``: decile of
    predicted uplift over the eligible audience (0 = lowest). ``bin``: decile of predicted uplift over
    the targeted region (-1 outside it), the read-out's "did the ranking hold" bins. ``rank``: 1 = the
    highest predicted uplift within the member's group.
    """

    user_id: np.ndarray
    group: np.ndarray
    uplift: np.ndarray
    cost: np.ndarray
    targeted: np.ndarray
    stratum: np.ndarray
    bin: np.ndarray
    rank: np.ndarray

    def __len__(self) -> int:
        return int(self.user_id.shape[0])

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "user_id": self.user_id.astype(object), "group": np.where(self.group == TREATED, "treated", "holdout"),
            "uplift": self.uplift, "cost": self.cost, "targeted": self.targeted,
            "stratum": self.stratum.astype(np.int16), "bin": self.bin.astype(np.int16),
            "rank": self.rank.astype(np.int64)})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> CampaignMembers:
        return cls(
            user_id=frame["user_id"].to_numpy(dtype=object),
            group=(frame["group"].to_numpy() == "treated").astype(np.int8),
            uplift=frame["uplift"].to_numpy(dtype=np.float64), cost=frame["cost"].to_numpy(dtype=np.float64),
            targeted=frame["targeted"].to_numpy(dtype=bool), stratum=frame["stratum"].to_numpy(dtype=np.int16),
            bin=frame["bin"].to_numpy(dtype=np.int16), rank=frame["rank"].to_numpy(dtype=np.int64))

    @property
    def treated(self) -> np.ndarray:
        return self.group == TREATED

    @property
    def twin(self) -> np.ndarray:
        return (self.group == HOLDOUT) & self.targeted


@dataclass(frozen=True)
class MemberDraw:
    members: CampaignMembers
    total_cost: float
    expected_incremental: float
    expected_ci: tuple[float, float]


def _deciles(values: np.ndarray, bins: int) -> np.ndarray:
    """Rank-based equal-count bins (0 = lowest values); ties broken by position, so sizes differ by <= 1."""
    n = values.shape[0]
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(values, kind="stable")] = np.arange(n)
    return (rank * bins // max(n, 1)).astype(np.int16)


def _stratified_holdout(strata: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``round(share * n_s)`` random users of each stratum ``s``."""
    n = strata.shape[0]
    order = np.lexsort((np.asarray(rng.random(n)), strata))  # random order inside each stratum
    sorted_strata = strata[order]
    starts = np.searchsorted(sorted_strata, sorted_strata, side="left")
    position = np.arange(n) - starts  # position inside its stratum
    sizes = np.bincount(strata, minlength=int(strata.max(initial=0)) + 1)
    quota = np.rint(sizes * share).astype(np.int64)
    held = np.zeros(n, dtype=bool)
    held[order] = position < quota[sorted_strata]
    return held


def _ranks_within(uplift: np.ndarray, group: np.ndarray) -> np.ndarray:
    rank = np.zeros(uplift.shape[0], dtype=np.int64)
    for g in (TREATED, HOLDOUT):
        idx = np.flatnonzero(group == g)
        rank[idx[np.argsort(-uplift[idx], kind="stable")]] = np.arange(1, idx.size + 1)
    return rank


def draw_members(user_ids: np.ndarray, uplift: np.ndarray, costs: np.ndarray | None, budget: Budget,
                 holdout_share: float, seed: int, z: float = 1.959963984540054) -> MemberDraw:
    """The plan's members from the scored eligible audience (see the module docstring)."""
    share = check_holdout_share(holdout_share)
    ids = np.asarray(user_ids, dtype=object)
    uplift = np.asarray(uplift, dtype=np.float64)
    n = ids.shape[0]
    cost = np.full(n, budget.cost_per_user) if costs is None else np.asarray(costs, dtype=np.float64)
    if n == 0:
        empty = CampaignMembers(ids, np.zeros(0, np.int8), uplift, cost, np.zeros(0, bool), np.zeros(0, np.int16),
                                np.zeros(0, np.int16), np.zeros(0, np.int64))
        return MemberDraw(empty, 0.0, 0.0, (0.0, 0.0))
    rng = np.random.default_rng(seed)
    strata = _deciles(uplift, min(STRATA, n))
    held = _stratified_holdout(strata, share, rng)
    pool, holdout = np.flatnonzero(~held), np.flatnonzero(held)

    def pick(idx: np.ndarray, b: Budget) -> np.ndarray:
        if idx.size == 0:
            return idx
        s = select_top(uplift[idx], costs=cost[idx], max_users=b.max_users, max_cost=b.max_cost)
        return idx[s.indices]

    treated = pick(pool, budget)
    twin = pick(holdout, budget.scaled(share / (1.0 - share)))
    members = np.concatenate([treated, holdout])
    group = np.r_[np.full(treated.size, TREATED, np.int8), np.full(holdout.size, HOLDOUT, np.int8)]
    targeted = np.zeros(n, dtype=bool)
    targeted[treated] = True
    targeted[twin] = True
    region = np.flatnonzero(targeted)
    bins = np.full(n, -1, dtype=np.int16)
    if region.size:
        bins[region] = _deciles(uplift[region], max(1, min(STRATA, region.size // _MIN_BIN_USERS)))
    m_uplift = uplift[members]
    out = CampaignMembers(
        user_id=ids[members], group=group, uplift=m_uplift, cost=cost[members], targeted=targeted[members],
        stratum=strata[members], bin=bins[members], rank=_ranks_within(m_uplift, group))
    u = uplift[treated]
    p = np.clip(u, 0.0, 1.0)
    half = z * math.sqrt(float((p * (1.0 - p)).sum()))
    expected = float(u.sum())
    return MemberDraw(out, float(cost[treated].sum()), expected, (expected - half, expected + half))
