"""The cascade recommender on a subsample of MovieLens 100K: loaders, time split, stage instances,
the replay's agreement with live serving, and measured costs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import ArtifactError, InvalidArgument
from models.recommend import (
    TOP_K,
    Cascade,
    Chain,
    CostCalibration,
    LightGBMRanker,
    LinearPreRanker,
    MLPPreRanker,
    calibrate,
    load_ratings,
    reward_of,
    time_split,
)


def test_recbole_loader_reads_movielens(ml_small):
    full = load_ratings(ml_small_dir(), "recbole")
    assert (full.n_users, full.n_items, len(full.ratings)) == (943, 1682, 100_000)
    assert "Comedy" in full.genre_names and full.genres.sum(axis=1).min() >= 0
    assert full.item_titles[full.item_ids.tolist().index("1")] == "Toy Story"
    assert np.all(np.diff(full.ratings["ts"].to_numpy()) >= 0)
    assert ml_small.ratings["user"].nunique() == 300


def ml_small_dir() -> Path:
    from core.paths import movielens_100k_dir
    return movielens_100k_dir()


def test_grouplens_csv_layout(tmp_path: Path):
    pd.DataFrame({"userId": [1, 1, 2, 2, 3], "movieId": [10, 20, 10, 30, 20],
                  "rating": [4.0, 3.5, 5.0, 2.0, 4.5], "timestamp": [5, 3, 9, 1, 7]}).to_csv(tmp_path / "ratings.csv",
                                                                                      index=False)
    pd.DataFrame({"movieId": [10, 20, 30, 40], "title": ["A (1999)", "B (2001)", "C (2010)", "D (2020)"],
                  "genres": ["Comedy|Drama", "Drama", "(no genres listed)", "Action|Comedy"]}).to_csv(
        tmp_path / "movies.csv", index=False)
    data = load_ratings(tmp_path, "grouplens")
    assert data.n_users == 3 and data.n_items == 4          # an unrated movie still gets a code
    assert list(data.ratings["ts"]) == [1, 3, 5, 7, 9]
    assert data.genre_names == ("Action", "Comedy", "Drama")
    a = data.item_ids.tolist().index("10")
    assert data.genres[a].tolist() == [0.0, 1.0, 1.0] and data.item_titles[a] == "A (1999)"
    c = data.item_ids.tolist().index("30")
    assert data.genres[c].sum() == 0
    (tmp_path / "ratings.csv").write_text("userId,movieId,stars,timestamp\n1,10,4,5\n")
    with pytest.raises(InvalidArgument) as err:
        load_ratings(tmp_path, "grouplens")
    assert err.value.field == "rating"
    with pytest.raises(InvalidArgument) as err:
        load_ratings(tmp_path, "parquet")
    assert err.value.field == "--format"


def test_time_split_never_leaks_the_future(ml_small, ml_split, ml_requests):
    assert time_split(ml_small, ml_split)["ts"].max() < ml_split.t_base
    assert ml_requests and all(q.ts >= ml_split.t_stage for q in ml_requests)
    r = ml_small.ratings
    for q in ml_requests[:50]:
        assert np.all(q.times <= q.ts) and len(q.history) >= 5
        assert not set(q.targets) & set(q.history)
        later = r[(r["user"] == q.user) & (r["ts"] >= q.ts) & (r["rating"] >= 4)]["item"]
        assert set(q.targets) <= set(later)


def test_chains_cover_every_stage_choice(ml_cascade: Cascade):
    assert len(ml_cascade.chains) == 4 * 3 * 2 * 2 * 3
    assert {c.ranker for c in ml_cascade.chains} == {"lr_rank", "gbdt_small", "gbdt_large"}
    assert {c.recall for c in ml_cascade.chains} == {"popularity", "emb16", "emb64", "itemcf"}
    for c in ml_cascade.chains[:5]:
        assert Chain.parse(c.name) == c
    with pytest.raises(InvalidArgument):
        Chain.parse("itemcf>mlp")


def test_recommend_returns_unseen_items_best_first(ml_cascade: Cascade, ml_requests):
    q = ml_requests[0]
    ctx = ml_cascade.context(q.history, q.ratings)
    for chain in (ml_cascade.chains[0], ml_cascade.chains[-1]):
        items, scores = ml_cascade.recommend(ctx, chain, 10)
        assert len(items) == 10 and len(set(items.tolist())) == 10
        assert not set(items.tolist()) & set(q.history.tolist())
        assert np.all(np.diff(scores) <= 1e-9)


def test_replay_agrees_with_live_serving(ml_cascade: Cascade, ml_requests):
    """The vectorized all-chains replay must score exactly what serving one chain would return."""
    reqs = ml_requests[:6]
    hits = ml_cascade.replay(reqs, progress=False)
    ndcg = ml_cascade.replay(reqs, progress=False, reward="ndcg")
    assert hits.shape == ndcg.shape == (len(reqs), len(ml_cascade.chains))
    assert np.all((ndcg >= 0) & (ndcg <= 1 + 1e-6)) and np.array_equal(ndcg > 0, hits > 0)
    for qi, q in enumerate(reqs):
        for ci in range(0, len(ml_cascade.chains), 7):
            items, _ = ml_cascade.recommend(ml_cascade.context(q.history, q.ratings), ml_cascade.chains[ci], TOP_K)
            assert hits[qi, ci] == len(set(items.tolist()) & set(q.targets.tolist())) == reward_of(items, q.targets)
            assert ndcg[qi, ci] == pytest.approx(reward_of(items, q.targets, "ndcg"), abs=1e-6)


def test_ndcg_rewards_rank_position():
    targets = np.array([7, 9])
    best, worst = reward_of(np.array([7, 9, 1, 2]), targets, "ndcg"), reward_of(np.array([1, 2, 7, 9]), targets, "ndcg")
    assert best == pytest.approx(1.0) and 0 < worst < best
    assert reward_of(np.array([1, 2]), targets, "ndcg") == 0.0
    with pytest.raises(InvalidArgument) as err:
        Cascade.replay(None, [], reward="mrr")  # type: ignore[arg-type]
    assert err.value.field == "reward"


def test_learned_chains_beat_random_items(ml_cascade: Cascade, ml_requests, ml_small):
    hits = ml_cascade.replay(ml_requests[:80], progress=False)
    random_hits = np.mean([TOP_K * len(q.targets) / ml_small.n_items for q in ml_requests[:80]])
    assert hits.mean(axis=0).max() > 3 * random_hits


@pytest.mark.parametrize("make", [LinearPreRanker, MLPPreRanker,
                                  lambda: LightGBMRanker(("log_pop", "item_mean"), n_estimators=20, num_leaves=7)])
def test_scorer_contract(make):
    rng = np.random.default_rng(0)
    model = make()
    x = rng.normal(size=(1500, len(model.features))).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(size=1500) > 0).astype(np.int32)
    assert model.fit(x, y) is model
    s = model.score_matrix(x)
    assert s.shape == (1500,) and np.all(np.isfinite(s))
    assert np.array_equal(s, model.score_matrix(x))
    assert np.corrcoef(s, x[:, 0])[0, 1] > 0.5          # it learned the signal


def test_calibration_measures_real_costs(ml_cascade: Cascade, ml_requests, tmp_path: Path):
    cal = calibrate(ml_cascade, ml_requests, n_requests=4, repeats=2, progress=False)
    inst = cal.instances
    assert set(inst) == {"popularity", "emb16", "emb64", "itemcf", "linear", "mlp", "lr_rank", "gbdt_small",
                         "gbdt_large"}
    assert inst["gbdt_large"].cost(100) > inst["gbdt_small"].cost(100) > inst["lr_rank"].cost(100)
    assert inst["mlp"].per_item_us > inst["linear"].per_item_us
    assert inst["itemcf"].cost(100) > inst["popularity"].cost(100)
    costs = cal.chain_costs(ml_cascade.chains)
    by_name = dict(zip([c.name for c in ml_cascade.chains], costs, strict=True))
    assert by_name["emb64@400>mlp@100>gbdt_large"] >= by_name["emb64@100>mlp@100>gbdt_large"]
    assert by_name["emb64@400>mlp@100>gbdt_large"] > by_name["emb64@400>mlp@50>gbdt_large"]
    path = tmp_path / "cal.json"
    cal.save(path)
    assert CostCalibration.load(path) == cal
    assert json.loads(path.read_text())["instances"]["mlp"]["stage"] == "prerank"
    path.write_text("{not json")
    with pytest.raises(ArtifactError):
        CostCalibration.load(path)


def test_cascade_artifact_roundtrip_and_corruption(ml_cascade: Cascade, ml_requests, tmp_path: Path):
    path = tmp_path / "cascade.pkl"
    ml_cascade.save(path)
    loaded = Cascade.load(path)
    q = ml_requests[1]
    chain = ml_cascade.chains[-1]
    a, _ = ml_cascade.recommend(ml_cascade.context(q.history, q.ratings), chain)
    b, _ = loaded.recommend(loaded.context(q.history, q.ratings), chain)
    assert np.array_equal(a, b)
    path.write_bytes(b"garbage")
    with pytest.raises(ArtifactError):
        Cascade.load(path)


def test_calibration_survives_a_load_burst(ml_cascade: Cascade, ml_requests, monkeypatch: pytest.MonkeyPatch):
    """A burst of load during the first third of the timing calls (30 ms added to every call) must not
    price any instance out: timings are interleaved across instances request by request, so the burst
    hits the first requests of *every* instance and the median over requests drops it. Timing one
    instance after another put the whole burst on the first instances (their cost read ≥ 30 ms)."""
    import time as _time

    calls = {"n": 0}
    n_requests, repeats = 6, 2
    sizes = len({*ml_cascade.recall_sizes, *ml_cascade.prerank_sizes, 25})
    models = [*ml_cascade.recalls.values(), *ml_cascade.preranks.values(), *ml_cascade.rankers.values()]
    burst = n_requests * len(models) * sizes * repeats // 3

    def slowed(fn):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            if calls["n"] <= burst:
                _time.sleep(0.03)
            return fn(*args, **kwargs)
        return call

    for model in models:
        name = "recall" if hasattr(model, "recall") else "score"
        monkeypatch.setattr(model, name, slowed(getattr(model, name)))
    cal = calibrate(ml_cascade, ml_requests, n_requests=n_requests, repeats=repeats, progress=False)
    assert calls["n"] > burst                                  # the burst ended within the calibration
    worst = max(inst.cost(100) for inst in cal.instances.values())
    assert worst < 15_000, {k: round(v.cost(100)) for k, v in cal.instances.items()}
