"""RecommendService and AllocationService over real gRPC, with histories, user features and the
controller's budget state in the real Redis."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import numpy as np
import pytest
from _grpc_errors import first_violation

from core.errors import ArtifactError
from core.redis import connect
from core.settings import Settings
from features.catalog import demo_catalog
from features.demo_world import generate_users
from models.allocation import (
    AllocationPolicy,
    ControllerConfig,
    OnlineController,
    RedisBudgetState,
    WriteBehindBudgetState,
)
from models.allocation.demo import ensure_demo_allocation, fit_demo_policy, policy_path
from models.artifacts import save_artifact
from models.recommend import RecommenderBundle
from models.recommend.demo import build_demo_recommender, bundle_path, demo_ratings
from services.client import MDSClient
from services.recommend import RecommenderRuntime

USERS = 300


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One demo recommender and its allocation policy, trained for the module on the first users of
    the seeded world."""
    people = generate_users(demo_catalog(), 2_000, seed=7)[0].head(USERS)   # = seeded_settings' users
    folder = tmp_path_factory.mktemp("recommend")
    data = demo_ratings(people)[2]
    bundle = build_demo_recommender(data)
    bundle.save(folder / "demo.pkl")
    fit_demo_policy(bundle, data).save(folder / "demo_policy.pkl")
    return folder / "demo.pkl", folder / "demo_policy.pkl"


@pytest.fixture
def served(seeded_settings: Settings, bundle_file: tuple[Path, Path], grpc_server: Callable[..., str]) -> MDSClient:
    for src, target in zip(bundle_file, (bundle_path(seeded_settings), policy_path(seeded_settings)), strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, target)
    rec, _ = ensure_demo_allocation(seeded_settings, demo_catalog(), users=USERS)
    assert not rec.trained and rec.users_with_history > 0.9 * USERS
    client = MDSClient(grpc_server(["recommend", "allocation"]), timeout_s=10.0)
    yield client
    client.close()


def test_recommend_known_user_through_the_cascade(served: MDSClient, seeded_settings: Settings):
    r = served.recommend.recommend("u0000003", k=10)
    ids = [i.item_id for i in r.items]
    assert len(ids) == 10 and len(set(ids)) == 10 and all(i.startswith("i") for i in ids)
    assert ">" in r.chain and r.cost_us > 0 and r.lambda_value >= 0
    assert r.reason in ("lambda", "capped") and r.predicted_reward > 0
    scores = [i.score for i in r.items]
    assert scores == sorted(scores, reverse=True)
    # Never recommends what the user already rated (the history lives in Redis).
    from models.recommend.demo import demo_ratings as ratings_of
    people = generate_users(demo_catalog(), 2_000, seed=7)[0].head(USERS)
    seen = set(ratings_of(people)[1].query("user_id == 'u0000003'")["item_id"])
    assert seen and not seen & set(ids)
    assert len(served.recommend.recommend("u0000003", k=50).items) == 50


def test_unknown_user_is_not_found_unless_fallback_requested(served: MDSClient):
    with pytest.raises(grpc.RpcError) as err:
        served.recommend.recommend("nobody_here", k=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND and "nobody_here" in err.value.details()
    r = served.recommend.recommend("nobody_here", k=5, allow_popular_fallback=True)
    assert r.chain == "popularity_fallback" and r.reason == "fallback:unknown_user" and len(r.items) == 5
    # A seeded user without any interactions is known: served by the cascade, not the fallback.
    assert served.recommend.recommend("u0001500", k=5).chain != "popularity_fallback"


def test_request_value_buys_compute(served: MDSClient):
    """At the same λ a valuable request gets at least the compute of an average one, a worthless
    one the cheapest chain; a negative or infinite value is refused naming the field."""
    served.allocation.set_budget(0.3)
    costs = {v: served.recommend.recommend("u0000005", k=10, value=v).cost_us for v in (0.001, 1.0, 50.0)}
    assert costs[0.001] <= costs[1.0] <= costs[50.0] and costs[0.001] < costs[50.0]
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(grpc.RpcError) as err:
            served.recommend.recommend("u0000001", k=5, value=bad)
        assert first_violation(err.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "value")


def test_bad_requests_name_the_field(served: MDSClient):
    for user, k, field in [("u0000001", 0, "k"), ("u0000001", 51, "k"), ("u0000001", -3, "k"),
                           ("bad id!", 5, "user_id"), ("", 5, "user_id")]:
        with pytest.raises(grpc.RpcError) as err:
            served.recommend.recommend(user, k=k)
        assert first_violation(err.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, field), (user, k)


def test_status_budget_and_traffic_shares(served: MDSClient):
    for u in range(20):
        served.recommend.recommend(f"u{u:07d}", k=10)
    status = served.allocation.status()
    assert status.window_requests >= 1 and status.full_chain_cost_us > status.cheapest_chain_cost_us > 0
    assert sum(t.requests for t in status.traffic) == 20
    assert sum(t.share for t in status.traffic) == pytest.approx(1.0)
    assert status.budget_fraction == pytest.approx(0.5, rel=1e-6)       # the bundle's default budget

    with pytest.raises(grpc.RpcError) as err:
        served.allocation.set_budget(-0.1)
    assert first_violation(err.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "budget_fraction")
    with pytest.raises(grpc.RpcError) as err:
        served.allocation.set_budget(0.4, requests_per_window=-5)
    assert first_violation(err.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "requests_per_window")
    assert served.allocation.status().budget_fraction == pytest.approx(0.5, rel=1e-6)   # nothing changed

    done = served.allocation.set_budget(0.25, requests_per_window=100)
    assert done.budget_us_per_window == pytest.approx(0.25 * status.full_chain_cost_us * 100)
    after = served.allocation.status()
    assert after.budget_fraction == pytest.approx(0.25) and after.requests_per_window == 100
    # A zero budget: every request degrades to the cheap fallback chain instead of failing.
    served.allocation.set_budget(0.0)
    r = served.recommend.recommend("u0000004", k=10)
    assert r.reason == "fallback:over_budget" and r.cost_us == pytest.approx(status.cheapest_chain_cost_us)
    assert len(r.items) == 10



def test_redis_down_degrades_to_popular_items(served: MDSClient, seeded_settings: Settings,
                                              grpc_server: Callable[..., str]):
    """A replica whose Redis is unreachable still answers: the most popular items, flagged."""
    dead = seeded_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0", "redis_timeout_s": 0.05})
    with MDSClient(grpc_server(["recommend"], settings_override=dead), timeout_s=10.0) as client:
        r = client.recommend.recommend("u0000003", k=7)
    assert r.reason == "fallback:unavailable" and r.chain == "popularity_fallback" and len(r.items) == 7
    # ... while the healthy replica keeps serving the cascade.
    assert served.recommend.recommend("u0000003", k=7).chain != "popularity_fallback"


def test_policy_artifact_is_checked_on_load(bundle_file: tuple[Path, Path], tmp_path: Path) -> None:
    """The policy file round-trips; garbage, another format version and a policy fitted for a cascade
    with other chains are refused with ``ArtifactError`` (the demo then refits)."""
    bundle = RecommenderBundle.load(bundle_file[0])
    policy = AllocationPolicy.load(bundle_file[1], bundle)
    again = tmp_path / "again.pkl"
    policy.save(again)
    reloaded = AllocationPolicy.load(again, bundle)
    assert np.array_equal(reloaded.frontier, policy.frontier) and reloaded.lam_floor == policy.lam_floor
    garbage = tmp_path / "garbage.pkl"
    garbage.write_bytes(b"not a pickle")
    old = tmp_path / "old.pkl"
    save_artifact(old, "policy", policy, version=1)
    other = tmp_path / "other.pkl"
    policy.n_chains += 1
    policy.save(other)
    for path, says in ((garbage, "cannot load"), (old, "version"), (other, "retrain")):
        with pytest.raises(ArtifactError, match=says):
            AllocationPolicy.load(path, bundle)


def test_hung_redis_never_blocks_a_decision(bundle_file: tuple[Path, Path], settings: Settings):
    """A Redis that accepts connections but never answers: decisions never wait for it (the
    write-behind thread does, for the socket timeout) and get the fallback chain at once; the event
    loop keeps running other work throughout."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)   # connections complete in the kernel backlog; nothing ever replies
        cfg = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{hung.getsockname()[1]}/0",
                                          "redis_timeout_s": 2.0})
        bundle = RecommenderBundle.load(bundle_file[0])
        policy = AllocationPolicy.load(bundle_file[1], bundle)
        state = WriteBehindBudgetState(RedisBudgetState(connect(cfg), cfg.namespace, "recommend"), retry_s=0.05)
        ctl = OnlineController(bundle.costs, state, lam0=policy.default_mix, columns=policy.frontier,
                               config=ControllerConfig(window_s=60.0, sync_in_decide=False, sync_every=1))
        pred = np.linspace(1.0, 2.0, len(bundle.costs))

        async def serve_while_ticking() -> tuple[list[str], int, int]:
            rt = RecommenderRuntime(bundle, policy, state, ctl, policy.requests_per_window, asyncio.Lock())
            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            task = asyncio.create_task(ticker())
            await asyncio.sleep(0)
            reasons = [(await rt.decide(pred, time.time(), None)).reason for _ in range(20)]
            failures_while_deciding = state.failures   # the background read is still waiting on Redis
            await asyncio.sleep(0.3)
            task.cancel()
            return reasons, failures_while_deciding, ticks

        reasons, failures, ticks = asyncio.run(serve_while_ticking())
        state.close()
    assert set(reasons) == {"fallback:unavailable"}
    # 20 decisions came back before the first read had even timed out (2 s): none waited for Redis.
    assert failures == 0
    assert ticks >= 5, ticks


def test_set_budget_is_shared_with_other_replicas(served: MDSClient, seeded_settings: Settings):
    """SetBudget stores the budget and the requests per window together in Redis: another replica
    (a fresh runtime on the same namespace) reports the same fraction of the same traffic."""
    served.allocation.set_budget(0.4, requests_per_window=250)
    other = RedisBudgetState(connect(seeded_settings), seeded_settings.namespace, "recommend")
    snap = other.flush(int(time.time() // 60), 0.0, 0, {})
    assert snap.requests_per_window == 250
    status = served.allocation.status()
    assert snap.budget == pytest.approx(0.4 * status.full_chain_cost_us * 250)
