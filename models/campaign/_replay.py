"""Replay the campaign loop on the Hillstrom e-mail experiment (64,000 customers, three random thirds:
Mens E-Mail, Womens E-Mail, No E-Mail).

The campaign sends one e-mail (``email``: ``womens`` by default, the standard Hillstrom uplift task and
the one ``mds uplift evaluate`` uses; ``mens``; or ``any`` = either e-mail counts as treated). Customers
of the other e-mail arm got a different treatment and are left out. Outcome: visit.
The customers are shuffled once; the first ``train_share`` trains the first model (bag-regularized, on
the original experiment). The rest is cut into ``rounds`` fresh slices. Each round:

1. **Plan** on the slice with the current model: a stratified ``holdout_share`` holdout, then the
   budget (``target_share`` of the slice, less the holdout's part) treats the highest predicted uplift;
   treated plus the holdout twin form the *targeted region*, the policy's top ``target_share``.
2. **Deliver** by revealing what the original experiment recorded: a treated member's visit is
   revealed when that customer got an e-mail, a holdout member's when they did not. The experiment
   assigned e-mails at random, independently of everything else, so revealed members are random
   subsets of their arms: read-out *means* need no weighting, and a revealed *total* is scaled by the
   inverse of the reveal probability (``womens``/``mens``: x 2 for both arms; ``any``: x 3/2 treated,
   x 3 holdout).
3. **Read out** the revealed outcomes (treated vs holdout twin, deciles; the SRM design is the planned
   split times each arm's reveal probability).
4. **Score the policy** on the whole slice with the original randomization (every customer, both
   arms): incremental visits of the targeted region = |region| x (visit rate of its e-mailed customers -
   rate of its non-e-mailed ones); a random selection of the same size captures, in expectation,
   |region| x the slice's average effect. Their ratio gets a 95 % Poisson-bootstrap interval.
5. **Learn**: a new version is fit on the first training slice plus what every round revealed, with
   every round's decile effects as external bags (bag weight 1: each label counts as much as its noise
   allows), and plans the next round. By default (``training="balanced"``) a round adds its targeted
   region's revealed rows with the treated thinned by ``share / (1 - share)``, which restores the first
   slice's treatment propensity, so the whole training set stays one randomized experiment and the
   learner's own bags (raw treated-minus-control differences) stay unconfounded.

Each round also scores the *first* model on the same slice (``ratio_first_model``), which says whether
learning from the read-outs helped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from core.errors import InvalidArgument
from core.paths import hillstrom_csv
from models.campaign._learn import LEARN_BAG_WEIGHT, fit_with_bags
from models.campaign._plan import Budget, draw_members
from models.campaign._readout import Readout, read_out
from models.registry import ModelRegistry
from models.uplift import BagLabels, BagRegularizedUplift, UpliftPipeline
from models.uplift.evaluation import HILLSTROM_FEATURES

__all__ = ["RegionScore", "ReplayConfig", "ReplayResult", "RoundResult", "load_hillstrom", "score_region",
           "simulate_hillstrom"]

TRAINING: tuple[str, ...] = ("balanced", "region", "all")
EMAILS: dict[str, tuple[str, ...]] = {"womens": ("Womens E-Mail",), "mens": ("Mens E-Mail",),
                                      "any": ("Womens E-Mail", "Mens E-Mail")}


@dataclass(frozen=True)
class ReplayConfig:
    rounds: int = 3
    email: str = "womens"
    target_share: float = 0.3
    holdout_share: float = 0.2
    train_share: float = 0.3
    seed: int = 0
    bootstrap: int = 1000
    model_name: str = "hillstrom-replay"
    # What a round adds to the training data: "balanced" = the targeted region's revealed rows with the
    # treated thinned by share / (1 - share) (the data stays one randomized experiment with the first
    # slice's propensity); "region" = all of the targeted region's revealed rows; "all" = every revealed
    # row (the holdout outside the region too: control-only rows).
    training: str = "balanced"
    use_bags: bool = True
    learn_bag_weight: float | None = LEARN_BAG_WEIGHT  # None: the learner's default (5)
    early_stopping: bool | None = None  # None: the learner's default
    n_ensemble: int = 2


@dataclass
class RoundResult:
    round: int
    slice_users: int
    model_version: int
    targeted_users: int
    targeted_incremental: float
    random_incremental: float
    ratio: float
    ratio_ci: list[float]
    predicted_incremental: float
    readout_lift: float | None
    readout_lift_ci: list[float] | None
    readout_srm_ok: bool
    # The campaign's own read-out: treated users' incremental visits, realized (lift x treated) vs the plan's
    # prediction (sum of their predicted uplift).
    readout_realized_incremental: float | None
    readout_realized_ci: list[float] | None
    readout_predicted_incremental: float
    ratio_first_model: float
    revealed_rows: int
    bags: int


@dataclass
class ReplayResult:
    config: ReplayConfig
    rounds: list[RoundResult] = field(default_factory=list)
    boot_ratios: list[np.ndarray] = field(default_factory=list, repr=False)  # per round, bootstrap ratios

    @property
    def ratio_mean(self) -> float:
        return float(np.mean([r.ratio for r in self.rounds])) if self.rounds else float("nan")

    @property
    def ratio_mean_ci(self) -> list[float]:
        """95 % interval of the mean ratio: rounds are independent slices, so the b-th bootstrap ratios of
        every round average into one draw of the mean."""
        if not self.boot_ratios or not all(b.size for b in self.boot_ratios):
            return [float("nan"), float("nan")]
        draws = np.mean(np.vstack(self.boot_ratios), axis=0)
        lo, hi = np.percentile(draws, [2.5, 97.5])
        return [float(lo), float(hi)]

    def to_json(self) -> dict[str, Any]:
        return {"dataset": "hillstrom", "config": asdict(self.config),
                "rounds": [asdict(r) for r in self.rounds], "ratio_mean": self.ratio_mean,
                "ratio_mean_ci": self.ratio_mean_ci,
                "ratio_first_model_mean": float(np.mean([r.ratio_first_model for r in self.rounds]))
                if self.rounds else None,
                "weighting": "revealed means unweighted (the original e-mail assignment is random); revealed "
                             "totals x 1/P(reveal) (womens/mens: x 2 both arms; any: x 3/2 treated, x 3 "
                             "holdout); the policy is scored on every slice customer with the original "
                             "randomization"}


def load_hillstrom(email: str = "womens") -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Features, e-mailed (0/1), visit (0/1), spend: the customers of the campaign's e-mail arm(s) and of
    No E-Mail."""
    if email not in EMAILS:
        raise InvalidArgument(f"email must be one of {', '.join(EMAILS)}, got {email!r}", field="--email")
    df = pd.read_csv(hillstrom_csv())
    df = df[df["segment"].isin([*EMAILS[email], "No E-Mail"])].reset_index(drop=True)
    frame = df[list(HILLSTROM_FEATURES)].copy()
    emailed = (df["segment"] != "No E-Mail").to_numpy(dtype=np.int8)
    return frame, emailed, df["visit"].to_numpy(dtype=np.float64), df["spend"].to_numpy(dtype=np.float64)


def _region_incremental(y: np.ndarray, t: np.ndarray, region: np.ndarray, w: np.ndarray) -> np.ndarray:
    """|region| x (treated rate - control rate) inside ``region``, per bootstrap weight row of ``w``."""
    wr = w[:, region]
    yr, tr = y[region], t[region].astype(bool)
    n = wr.sum(axis=1)
    rate_t = (wr[:, tr] * yr[tr]).sum(axis=1) / wr[:, tr].sum(axis=1)
    rate_c = (wr[:, ~tr] * yr[~tr]).sum(axis=1) / wr[:, ~tr].sum(axis=1)
    return n * (rate_t - rate_c)


class RegionScore(NamedTuple):
    """A targeted region scored on randomized data: its incremental outcome, a random pick's of the same
    size, their ratio, the ratio's 95 % Poisson-bootstrap interval (NaN without bootstrap draws) and the
    bootstrap ratios."""

    targeted: float
    random: float
    ratio: float
    ratio_ci: list[float]
    bootstrap_ratios: np.ndarray


def score_region(y: np.ndarray, t: np.ndarray, region: np.ndarray, bootstrap: int, rng: np.random.Generator
                 ) -> RegionScore:
    """Score the policy that treats ``region`` on an experiment (outcome ``y``, random treatment ``t``)."""
    everyone = np.ones(y.shape[0], dtype=bool)
    w = np.vstack([np.ones(y.shape[0]), rng.poisson(1.0, (bootstrap, y.shape[0]))]).astype(np.float64)
    targeted = _region_incremental(y, t, region, w)
    share = w[:, region].sum(axis=1) / w.sum(axis=1)
    random = _region_incremental(y, t, everyone, w) * share  # a random pick of the same size
    ratio = targeted / random
    lo, hi = np.percentile(ratio[1:], [2.5, 97.5]) if bootstrap else (float("nan"), float("nan"))
    return RegionScore(float(targeted[0]), float(random[0]), float(ratio[0]), [float(lo), float(hi)], ratio[1:])


def _fit(frame: pd.DataFrame, t: np.ndarray, y: np.ndarray, bags: BagLabels | None, config: ReplayConfig,
         seed: int) -> UpliftPipeline:
    params: dict[str, Any] = {"random_state": seed, "n_ensemble": config.n_ensemble}
    if config.early_stopping is not None:
        params["early_stopping"] = config.early_stopping
    if bags is not None and config.learn_bag_weight is not None:
        params["bag_weight"] = config.learn_bag_weight
    estimator = BagRegularizedUplift(**params)
    return fit_with_bags(frame, t, y, bags, features=None, catalog=None, seed=seed, estimator=estimator)


def simulate_hillstrom(config: ReplayConfig, registry: ModelRegistry,
                       on_round: Callable[[RoundResult], None] | None = None,
                       on_readout: Callable[[int, Readout], None] | None = None) -> ReplayResult:
    """Run the loop (see the module docstring); ``on_readout(round, readout)`` sees each round's read-out."""
    if config.rounds < 1:
        raise InvalidArgument("rounds must be at least 1", field="--rounds")
    for name, value, low, high in (("target_share", config.target_share, 0.0, 1.0),
                                   ("train_share", config.train_share, 0.0, 0.9)):
        if not low < value <= high:
            raise InvalidArgument(f"{name} must be in ({low}, {high}]", field=f"--{name.replace('_', '-')}")
    if config.training not in TRAINING:
        raise InvalidArgument(f"training must be one of {', '.join(TRAINING)}", field="--training")
    frame, emailed, visit, spend = load_hillstrom(config.email)
    reveal_treated = float(emailed.mean())  # P(a treated member's e-mailed outcome exists)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(frame))
    n_train = int(len(frame) * config.train_share)
    slices = np.array_split(order[n_train:], config.rounds)
    # Everything the loop may train on: (row, treated, outcome, external bag id or -1).
    rows, treat, outcome, bag_ids = [order[:n_train]], [emailed[order[:n_train]]], [visit[order[:n_train]]], \
        [np.full(n_train, -1, np.int64)]
    bag_ate: list[float] = []
    bag_var: list[float] = []
    model = _fit(frame.iloc[order[:n_train]], emailed[order[:n_train]], visit[order[:n_train]], None, config,
                 config.seed)
    first_model = model
    version = registry.save(config.model_name, model, notes={"replay": "hillstrom", "round": 0})
    result = ReplayResult(config)
    for r, idx in enumerate(slices, start=1):
        x, t, y = frame.iloc[idx], emailed[idx], visit[idx]
        uplift = model.predict(x)
        n = len(idx)
        budget = Budget(max_users=max(1, round(n * config.target_share * (1 - config.holdout_share))))
        draw = draw_members(idx.astype(object), uplift, None, budget, config.holdout_share, config.seed + r)
        m = draw.members
        member_rows = m.user_id.astype(np.int64)
        member_t = emailed[member_rows]
        revealed = np.where(m.treated, member_t == 1, member_t == 0)  # the experiment recorded this arm
        # The SRM design is reveal-adjusted: treated members are revealed with the e-mail arm's share.
        readout = read_out(f"hillstrom-round-{r}", m, revealed, visit[member_rows], spend[member_rows],
                           predicted_ci=draw.expected_ci, expected_incremental=draw.expected_incremental,
                           design=(m.treated.sum() * reveal_treated, m.twin.sum() * (1 - reveal_treated)))
        if on_readout is not None:
            on_readout(r, readout)
        in_slice = {int(u): i for i, u in enumerate(idx)}
        region = np.zeros(n, dtype=bool)
        region[[in_slice[int(u)] for u in m.user_id[m.targeted]]] = True
        targeted, random_inc, ratio, ratio_ci, boot_ratios = score_region(y, t, region, config.bootstrap, rng)
        result.boot_ratios.append(boot_ratios)
        first_region = _top(first_model.predict(x), region.sum())
        ratio_first = score_region(y, t, first_region, 0, rng).ratio
        # Learn: revealed rows join the training data; the round's decile effects become bags.
        rev = np.flatnonzero(revealed & (m.targeted | (config.training == "all")))
        if config.training == "balanced":  # treated kept with prob share/(1-share): the first slice's propensity
            keep_treated = rng.random(rev.size) < config.holdout_share / (1 - config.holdout_share)
            rev = rev[~m.treated[rev] | keep_treated]
        bins = np.where(m.targeted[rev], m.bin[rev], -1).astype(np.int64)
        offset = len(bag_ate)
        for b in readout.bins:
            if b.lift is not None and b.ci_high is not None and b.ci_low is not None:
                bag_ate.append(b.lift)
                bag_var.append(max(((b.ci_high - b.ci_low) / (2 * 1.96)) ** 2, 1e-6))
            else:
                bag_ate.append(0.0)
                bag_var.append(1e6)  # a decile missing an arm: no weight
        rows.append(member_rows[rev])
        treat.append(m.group[rev].astype(np.int8))
        outcome.append(visit[member_rows[rev]])
        bag_ids.append(np.where(bins >= 0, bins + offset, -1))
        predicted = float(uplift[region].sum())
        round_result = RoundResult(
            round=r, slice_users=n, model_version=version, targeted_users=int(region.sum()),
            targeted_incremental=targeted, random_incremental=random_inc, ratio=ratio, ratio_ci=ratio_ci,
            predicted_incremental=predicted,
            readout_lift=readout.lifts[0].estimate if readout.lifts else None,
            readout_lift_ci=[readout.lifts[0].ci_low, readout.lifts[0].ci_high] if readout.lifts else None,
            readout_srm_ok=readout.srm_ok, readout_realized_incremental=readout.realized_incremental,
            readout_realized_ci=list(readout.realized_ci) if readout.realized_ci else None,
            readout_predicted_incremental=readout.predicted_incremental, ratio_first_model=ratio_first, revealed_rows=int(rev.size),
            bags=len(bag_ate))
        if r < config.rounds:  # the last round's lesson would plan nothing: skip the fit
            all_rows = np.concatenate(rows)
            bags = BagLabels(bag_id=np.concatenate(bag_ids), ate=np.asarray(bag_ate),
                             variance=np.asarray(bag_var)) if config.use_bags else None
            model = _fit(frame.iloc[all_rows], np.concatenate(treat), np.concatenate(outcome), bags, config,
                         config.seed + r)
            version = registry.save(config.model_name, model, notes={"replay": "hillstrom", "round": r})
        result.rounds.append(round_result)
        if on_round is not None:
            on_round(round_result)
    return result


def _top(uplift: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(uplift.shape[0], dtype=bool)
    out[np.argsort(-uplift, kind="stable")[:int(k)]] = True
    return out
