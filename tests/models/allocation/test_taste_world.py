"""The taste world: its truth is known (expected reward = sum of the top-k items' like
probabilities), the replay computes it exactly, and returns to compute differ by design."""

from __future__ import annotations

import numpy as np
import pytest

from features.demo_world.taste import generate_taste_world
from models.allocation import taste_data, taste_requests
from models.recommend import TOP_K, Cascade, TimeSplit, train_cascade


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
