"""``mds recommend``: train a recommender on a real rating log and deploy it for ``RecommendService``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from core.errors import InvalidArgument

app = typer.Typer(help="The cascade recommender on a real rating log: train, deploy, ask.", no_args_is_help=True)
console = Console()


@app.command("train")
def train_command(
    dataset: Annotated[str, typer.Option("--dataset", help="rating log: ml-100k (../shared/data/ml-100k)")] = "ml-100k",
    data: Annotated[Path | None, typer.Option("--data", help="folder of the RecBole atomic files "
                                              "(default: the dataset's shared copy)")] = None,
    name: Annotated[str | None, typer.Option("--name", help="deployment name (default: the dataset); "
                                             "serve it with MDS_RECOMMENDER=<name>")] = None,
    users: Annotated[int | None, typer.Option("--users", help="train on this many random users only (a slice)")] = None,
    large_trees: Annotated[int, typer.Option("--large-trees", min=10, help="trees of the large ranker")] = 120,
    logged_requests: Annotated[int, typer.Option("--logged-requests", min=50,
                                                 help="replayed requests the allocation policy learns from")] = 400,
    seed: Annotated[int, typer.Option("--seed", help="random seed of training and sampling")] = 0,
) -> None:
    """Train the cascade and its allocation policy on a rating log, save them under ``--name`` and write
    every user's history into the Redis history cache: one command, then ``MDS_RECOMMENDER=<name> mds serve``."""
    from core.settings import Settings
    from features.catalog import configured_catalog
    from features.store import open_store
    from models.allocation import fit_policy
    from models.allocation.deployment import save_deployment
    from models.recommend.demo import write_histories
    from models.recommend.movielens import (
        USER_FEATURES,
        history_frame,
        load_movielens,
        movielens_users,
        train_movielens,
    )

    settings = Settings()
    deployment = name or dataset
    try:  # the same rule MDS_RECOMMENDER obeys
        Settings(recommender=deployment)
    except ValueError:
        raise InvalidArgument(f"--name {deployment!r}: use 1-64 letters, digits, '_', '-' or '.'",
                              field="--name") from None
    if data is not None and not data.is_dir():
        raise InvalidArgument(f"--data {data} is not a folder", field="--data")
    start = time.perf_counter()
    with console.status(f"loading {dataset}"):
        ratings = load_movielens(dataset, path=data, users=users, seed=seed)
    console.print(f"{dataset}: {len(ratings.ratings):,} ratings of {ratings.ratings['user'].nunique():,} users "
                  f"on {ratings.n_items:,} films")
    console.print("training the cascade (recall, pre-rank, rank) and measuring its stage costs")
    bundle = train_movielens(ratings, large_trees=large_trees, seed=seed, progress=True)
    console.print(f"fitting the allocation policy on {logged_requests} replayed requests")
    policy = fit_policy(bundle, ratings, max_logged=logged_requests, seed=seed, progress=True)
    bundle_file, policy_file = save_deployment(settings, deployment, bundle, policy)
    with console.status("writing histories to Redis"):
        written = write_histories(settings, history_frame(ratings), bundle.item_code)
    # The users' own features, when the configured catalog carries them (examples/movielens/catalog.yaml).
    catalog = configured_catalog(settings)
    profiled = 0
    if "user" in catalog.entities and all(f in catalog.features for f in USER_FEATURES):
        rated = ratings.user_ids[ratings.ratings["user"].unique()]
        profiled = open_store(settings, catalog).write_frame("user", movielens_users(dataset, path=data,
                                                                                     user_ids=rated))
    console.print(f"saved {bundle_file} and {policy_file}; {written:,} user histories"
                  + (f" and {profiled:,} user profiles" if profiled else "") + " in Redis "
                  f"({time.perf_counter() - start:.0f} s); {len(bundle.cascade.chains)} chains, "
                  f"full chain {bundle.full_cost:.0f} µs")
    console.print(f"serve it: MDS_RECOMMENDER={deployment} mds serve")


@app.command("get")
def get_command(
    user_id: Annotated[str, typer.Argument(help="the user to recommend to")],
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="items to return")] = 10,
    address: Annotated[str, typer.Option("--address", help="host:port of a running server")] = "127.0.0.1:50051",
    token: Annotated[str | None, typer.Option("--token", help="bearer token (MDS_AUTH_TOKENS)")] = None,
) -> None:
    """Ask a running ``RecommendService`` for a user's top-k items (with their titles)."""
    import grpc

    from core.errors import NotFound, Unavailable
    from services.client import MDSClient

    try:
        with MDSClient(address, token=token, timeout_s=10) as mds:
            reply = mds.recommend.recommend(user_id, k)
    except grpc.RpcError as exc:  # one line naming the server's answer, no traceback
        code, details = exc.code(), exc.details()  # type: ignore[attr-defined]
        if code == grpc.StatusCode.NOT_FOUND:
            raise NotFound(details) from None
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            raise InvalidArgument(details, field="USER_ID") from None
        raise Unavailable(f"--address {address}: {code.name}: {details}") from None
    console.print(f"user {user_id}: chain {reply.chain} ({reply.cost_us:.0f} µs, {reply.reason})")
    for rank, item in enumerate(reply.items, 1):
        console.print(f"{rank:>3}. {item.title} [dim](item {item.item_id}, score {item.score:.3f})[/]")
