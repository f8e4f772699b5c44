"""The taste world: its truth is known (expected reward = sum of the top-k items' like
probabilities), the replay computes it exactly, and returns to compute differ by design."""

from __future__ import annotations

import numpy as np
import pytest

from features.demo_world.taste import generate_taste_world
from models.allocation import (
    ALLOCATION_CONTEXT,
    GainEstimator,
    chain_features,
    cross_fit,
    evaluate_budget,
    price_floor,
    request_context,
    simulate_traffic,
    taste_data,
    taste_requests,
)
from models.allocation._pipeline import efficient_chains, expand
from models.recommend import TOP_K, Cascade, TimeSplit, calibrate, train_cascade


@pytest.fixture(scope="module")
def taste() -> tuple:
    world, data = taste_data(400, seed=3, n_niches=25)     # ≈ 10 niche users per niche, as at full size
    split = TimeSplit.by_quantiles(data)
    cascade = train_cascade(data, split, max_requests_per_user=3, large_trees=40, progress=False)
    held = taste_requests(world, data, split.t_replay, 2**62, max_per_user=2, seed=5)
    return world, data, cascade, held


def test_world_is_deterministic_and_niche_users_like_their_niches() -> None:
    a, b = generate_taste_world(120, seed=1), generate_taste_world(120, seed=1)
    assert a.ratings.equals(b.ratings) and np.array_equal(a.relevance, b.relevance)
    assert not np.array_equal(a.relevance, generate_taste_world(120, seed=2).relevance)
    niche = a.items["niche"].to_numpy()
    for u in np.flatnonzero(a.users["kind"].to_numpy() == "niche")[:10]:
        mine = np.isin(niche, [a.users["niche_a"].iat[u], a.users["niche_b"].iat[u]])
        assert a.relevance[u, mine].min() > 4 * a.relevance[u, ~mine].max()
    main = np.flatnonzero(a.users["kind"].to_numpy() == "mainstream")[0]
    pop = a.items["popularity"].to_numpy()
    assert np.corrcoef(a.relevance[main], pop)[0, 1] > 0.9
    with pytest.raises(ValueError):
        generate_taste_world(5)


def test_expected_replay_equals_serving_each_chain(taste: tuple) -> None:
    world, data, cascade, held = taste
    reqs = held[:12]
    hits, expected = cascade.replay_expected(reqs, progress=False)
    assert np.array_equal(hits, cascade.replay(reqs, progress=False))
    rng = np.random.default_rng(0)
    for qi in range(len(reqs)):
        for ci in rng.choice(len(cascade.chains), 6, replace=False):
            req = reqs[qi]
            top, _ = cascade.recommend(cascade.context(req.history, req.ratings), cascade.chains[ci], TOP_K)
            assert expected[qi, ci] == pytest.approx(float(req.relevance[top].sum()), abs=1e-5)
            assert hits[qi, ci] == np.isin(top, req.targets).sum()
    # Realized hits are draws around the expectation (each like independent: variance ≤ the mean).
    all_hits, all_exp = cascade.replay_expected(held, progress=False)
    for ci in (0, len(cascade.chains) - 1):
        se = np.sqrt(all_exp[:, ci].sum()) / len(held)
        assert abs(all_hits[:, ci].mean() - all_exp[:, ci].mean()) < 4 * se


def test_returns_to_compute_differ_by_design(taste: tuple) -> None:
    world, data, cascade, held = taste
    _, expected = cascade.replay_expected(held, progress=False)
    kind = world.users.set_index("user_id").loc[[str(data.user_ids[q.user]) for q in held], "kind"].to_numpy()
    cheap = cascade.chain_index["popularity@100>linear@50>lr_rank"]
    gain = expected - expected[:, [cheap]]
    niche, main = gain[kind == "niche"].mean(axis=0), gain[kind == "mainstream"].mean(axis=0)
    best = int(np.argmax(niche))
    # Some richer chain pays for niche users; for mainstream users no chain pays much over the cheap one.
    assert niche[best] > 0.1 and niche[best] > 5 * max(main[best], 0.01), (niche[best], main[best])
    assert main.max() < 0.05 and cascade.chains[best].recall == "itemcf"
    assert isinstance(cascade, Cascade)


def test_gain_estimator_ranks_who_gains_and_the_replay_stays_in_budget(taste: tuple) -> None:
    """On the allocator's own context (history + item-CF novelty), the cross-chain gain estimator ranks
    the requests that gain from compute (niche users) above those that do not, stays monotone in
    compute, and the online controller with its price floor never overspends a window by more than
    1 % while beating the cheapest chain."""
    world, data, cascade, held = taste
    split = TimeSplit.by_quantiles(data)
    logged = taste_requests(world, data, split.t_stage, split.t_replay, max_per_user=3, seed=6)
    calibration = calibrate(cascade, logged, n_requests=2, progress=False)
    costs = calibration.chain_costs(cascade.chains)
    logged_true, _ = cascade.replay_expected(logged, progress=False)
    held_true, held_expected = cascade.replay_expected(held, progress=False)
    frontier = efficient_chains(logged_true.mean(axis=0), costs)
    chains = chain_features(cascade, calibration)[frontier]
    logged_ctx, held_ctx = request_context(cascade, logged), request_context(cascade, held)
    assert logged_ctx.shape == (len(logged), len(ALLOCATION_CONTEXT))
    est = GainEstimator(random_state=0).fit(logged_ctx, chains, logged_true[:, frontier])
    gain = est.gain(held_ctx)
    stages = chains[:, [0, 2, 4]]
    for a in range(len(frontier)):
        for b in range(len(frontier)):
            if np.all(stages[a] <= stages[b]):
                assert np.all(gain[:, b] >= gain[:, a] - 1e-9)
    kind = world.users.set_index("user_id").loc[[str(data.user_ids[q.user]) for q in held], "kind"].to_numpy()
    rich = int(np.argmax(stages.sum(axis=1)))
    niche, main = gain[kind == "niche", rich], gain[kind == "mainstream", rich]
    auc = (niche[:, None] > main[None, :]).mean() + 0.5 * (niche[:, None] == main[None, :]).mean()
    assert auc > 0.85, auc
    n = len(cascade.chains)
    pred = expand(est.predict(held_ctx), frontier, n)
    logged_pred = expand(cross_fit("gain", logged_ctx, chains, logged_true[:, frontier].astype(float)), frontier, n)
    floor = price_floor(logged_pred, logged_true, costs)
    stream = simulate_traffic(len(held), n_windows=8, mean_per_window=60, seed=2)
    res, _ = evaluate_budget(0.4, stream, held_true, pred, logged_pred, costs, [c.name for c in cascade.chains],
                             columns=frontier, logged_true=logged_true, expected=held_expected, lam_floor=floor.lam,
                             progress=False)
    assert res.online.overuse <= 0.01
    cheap = int(np.argmin(costs))
    served = np.concatenate(stream.index)
    assert res.extra["expected_online"] > 1.1 * float(held_expected[served, cheap].mean())


def test_item_cf_score_profile_carries_how_much_a_niche_request_gains(taste: tuple) -> None:
    """Among niche requests (all of whom gain from item-CF recall and the large ranker), how much each
    gains follows how many strong unseen candidates the item-CF recall has: the profile's score at rank
    10 ranks the gains of the best niche chain, where the neighbourhood's total unseen mass does less."""
    world, data, cascade, held = taste
    _, expected = cascade.replay_expected(held, progress=False)
    kind = world.users.set_index("user_id").loc[[str(data.user_ids[q.user]) for q in held], "kind"].to_numpy()
    niche = kind == "niche"
    cheap = cascade.chain_index["popularity@100>linear@50>lr_rank"]
    gain = expected[niche] - expected[niche][:, [cheap]]
    best = gain[:, int(np.argmax(gain.mean(axis=0)))]
    ctx = request_context(cascade, [q for q, m in zip(held, niche, strict=True) if m])
    names = list(ALLOCATION_CONTEXT)

    def rank_corr(x: np.ndarray) -> float:
        rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(best))
        return float(np.corrcoef(rx, ry)[0, 1])

    at_10 = rank_corr(ctx[:, names.index("cf_score_at_10")])
    assert at_10 > 0.3, at_10
    assert at_10 > rank_corr(ctx[:, names.index("log_cf_unseen_per_liked")]), at_10
