"""The MovieLens worked example on a slice: ONE training command (`mds recommend train`, a subprocess),
then a real server serves the real ml-100k users and films under the allocation controller, with the
users' histories read from Redis."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import grpc
import pandas as pd
import pytest
from _mds_cli import run_mds

from core.paths import movielens_100k_dir, repo_root
from core.redis import connect
from core.settings import Settings
from features.catalog import load_catalog
from features.store import history_key, open_store
from models.allocation.demo import policy_path
from models.allocation.deployment import budget_scope, deployment_paths
from models.recommend import HISTORY_LIMIT, decode_history
from models.recommend.demo import bundle_path
from models.recommend.movielens import load_movielens
from services.client import MDSClient

USERS = 120
CATALOG = repo_root() / "examples" / "movielens" / "catalog.yaml"


def _mds(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return run_mds(settings, *args, timeout=600, MDS_CATALOG=str(CATALOG))


def _titles() -> dict[str, str]:
    items = pd.read_csv(movielens_100k_dir() / "ml-100k.item", sep="\t", dtype=str)
    return dict(zip(items["item_id:token"], items["movie_title:token_seq"], strict=True))


def test_one_training_command_then_the_real_users_and_films_are_served(
        settings: Settings, grpc_server: Callable[..., str]) -> None:
    trained = _mds(settings, "recommend", "train", "--dataset", "ml-100k", "--users", str(USERS),
                   "--large-trees", "20", "--logged-requests", "60")
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-2000:]
    assert f"{USERS} user histories and {USERS} user profiles in Redis" in trained.stdout.replace("\n", " ")
    deployed = settings.model_copy(update={"recommender": "ml-100k", "catalog": CATALOG})
    assert all(p.is_file() for p in deployment_paths(deployed))

    # The slice the command trained on (same seed): its users' histories are in Redis, newest last.
    data = load_movielens("ml-100k", users=USERS, seed=0)
    user_ids = sorted({str(data.user_ids[u]) for u in data.ratings["user"].unique()})
    client = connect(settings)
    try:
        blobs = client.mget([history_key(settings.namespace, u) for u in user_ids])
    finally:
        client.close()
    assert all(b is not None for b in blobs)
    per_user = data.ratings.assign(user_id=data.user_ids[data.ratings["user"]].astype(str)).groupby("user_id").size()
    histories = {u: decode_history(b) for u, b in zip(user_ids, blobs, strict=True)}
    assert all(len(histories[u][0]) == min(int(per_user[u]), HISTORY_LIMIT) for u in user_ids)
    # ... and their profiles (ml-100k.user) in the feature store under the MovieLens catalog.
    profiles = pd.read_csv(movielens_100k_dir() / "ml-100k.user", sep="\t", dtype=str).set_index("user_id:token")
    stored = open_store(deployed, load_catalog(CATALOG)).read("user", user_ids[:20], ["age", "occupation"])
    assert bool(stored.found.all())
    assert [stored.row(i)["occupation"] for i in range(20)] == profiles.loc[user_ids[:20], "occupation:token"].tolist()

    titles = _titles()
    address = grpc_server(["recommend", "allocation"], settings_override=deployed)
    with MDSClient(address, timeout_s=30) as mds:
        lists = {}
        for user in user_ids[:8]:
            reply = mds.recommend.recommend(user, 10)
            assert len(reply.items) == 10 and reply.chain != "popularity_fallback", reply
            seen = {str(data.item_ids[i]) for i in histories[user][0]}
            for item in reply.items:
                assert item.title == titles[item.item_id]          # real films, titled from the item file
                assert item.item_id not in seen                     # never a film the user already rated
            lists[user] = [i.item_id for i in reply.items]
        assert len({tuple(v) for v in lists.values()}) > 1         # personal, not one global list
        status = mds.allocation.status()
        assert status.window_requests >= 8 and status.budget_fraction == pytest.approx(0.5)
        assert status.full_chain_cost_us > status.cheapest_chain_cost_us > 0
        with pytest.raises(grpc.RpcError) as unknown:
            mds.recommend.recommend("u0000001", 5)                  # a demo user: not in this deployment
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND

    # The CLI's view of the same server: titled films; an unknown user is one line and exit 2.
    first = user_ids[0]
    got = _mds(settings, "recommend", "get", first, "--k", "3", "--address", address)
    assert got.returncode == 0, got.stderr
    assert all(titles[i] in got.stdout for i in lists[first][:3])
    missing = _mds(settings, "recommend", "get", "nobody", "--address", address)
    assert missing.returncode == 2 and "unknown user 'nobody'" in missing.stderr and "Traceback" not in missing.stderr


def test_the_demo_deployment_keeps_its_paths_and_budget_scope(settings: Settings) -> None:
    assert deployment_paths(settings) == (bundle_path(settings), policy_path(settings))
    assert budget_scope(settings) == "recommend"
    assert budget_scope(settings.model_copy(update={"recommender": "ml-100k"})) == "recommend-ml-100k"


def test_bad_flags_exit_2_naming_the_flag(settings: Settings, tmp_path) -> None:
    for args, flag in ((["--dataset", "ml-25m"], "--dataset"), (["--name", "../x"], "--name"),
                       (["--data", str(tmp_path / "nope")], "--data"), (["--users", "3"], "--users")):
        run = _mds(settings, "recommend", "train", *args)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert flag in run.stderr and "Traceback" not in run.stderr
