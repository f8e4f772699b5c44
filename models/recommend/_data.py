"""Rating logs: RecBole atomic files (``ml-100k.inter/.item``) and the GroupLens CSV layout
(``ratings.csv``/``movies.csv``), normalized to one integer-coded frame."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from core.errors import InvalidArgument

__all__ = ["RatingData", "load_ratings", "load_recbole", "load_grouplens", "from_frames"]

DataFormat = Literal["recbole", "grouplens"]


@dataclass(frozen=True)
class RatingData:
    """``ratings`` has int columns ``user``, ``item`` (codes), float ``rating`` and int ``ts`` (seconds),
    sorted by ``ts``. ``item_ids``/``user_ids`` map codes back to the source ids; ``genres`` is an
    (n_items, n_genres) 0/1 matrix."""

    ratings: pd.DataFrame
    user_ids: np.ndarray
    item_ids: np.ndarray
    genres: np.ndarray
    genre_names: tuple[str, ...]
    item_titles: np.ndarray

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def subsample_users(self, n_users: int, seed: int = 0) -> RatingData:
        """Keep the ratings of ``n_users`` random users (items keep their codes)."""
        rng = np.random.default_rng(seed)
        users = np.unique(self.ratings["user"].to_numpy())
        keep = rng.choice(users, size=min(n_users, len(users)), replace=False)
        r = self.ratings[self.ratings["user"].isin(keep)]
        return RatingData(r.reset_index(drop=True), self.user_ids, self.item_ids, self.genres,
                          self.genre_names, self.item_titles)


def from_frames(ratings: pd.DataFrame, items: pd.DataFrame | None) -> RatingData:
    """``ratings``: user_id, item_id, rating, timestamp; ``items``: item_id, title, genres (list of str)."""
    for col in ("user_id", "item_id", "rating", "timestamp"):
        if col not in ratings.columns:
            raise InvalidArgument(f"ratings lack column {col!r}", field=col)
    if ratings.empty:
        raise InvalidArgument("no ratings in the data", field="--data")
    ratings = ratings.dropna(subset=["user_id", "item_id", "rating", "timestamp"])
    item_ids = np.asarray(sorted(set(ratings["item_id"].astype(str)) | (
        set(items["item_id"].astype(str)) if items is not None else set())), dtype=object)
    user_ids = np.asarray(sorted(set(ratings["user_id"].astype(str))), dtype=object)
    item_code = {v: i for i, v in enumerate(item_ids)}
    user_code = {v: i for i, v in enumerate(user_ids)}
    frame = pd.DataFrame({
        "user": ratings["user_id"].astype(str).map(user_code).to_numpy(np.int64),
        "item": ratings["item_id"].astype(str).map(item_code).to_numpy(np.int64),
        "rating": pd.to_numeric(ratings["rating"], errors="raise").to_numpy(np.float32),
        "ts": pd.to_numeric(ratings["timestamp"], errors="raise").to_numpy(np.int64),
    }).sort_values(["ts", "user"], kind="stable").reset_index(drop=True)
    names: list[str] = []
    titles = np.asarray([""] * len(item_ids), dtype=object)
    if items is not None and "genres" in items.columns:
        names = sorted({g for gs in items["genres"] for g in gs if g})
    genres = np.zeros((len(item_ids), max(len(names), 1)), dtype=np.float32)
    if items is not None:
        gidx = {g: j for j, g in enumerate(names)}
        for iid, title, gs in zip(items["item_id"].astype(str), items.get("title", [""] * len(items)),
                                  items["genres"] if "genres" in items.columns else [[]] * len(items),
                                  strict=True):
            code = item_code[iid]
            titles[code] = str(title)
            for g in gs:
                if g in gidx:
                    genres[code, gidx[g]] = 1.0
    return RatingData(frame, user_ids, item_ids, genres, tuple(names) or ("none",), titles)


def load_recbole(path: Path) -> RatingData:
    """A RecBole atomic data set directory: ``<name>.inter`` (+ optional ``<name>.item``)."""
    inter = sorted(path.glob("*.inter"))
    if not inter:
        raise InvalidArgument(f"no *.inter file in {path}", field="--data")
    r = pd.read_csv(inter[0], sep="\t")
    r.columns = [c.split(":")[0] for c in r.columns]
    items = None
    item_file = inter[0].with_suffix(".item")
    if item_file.exists():
        it = pd.read_csv(item_file, sep="\t")
        it.columns = [c.split(":")[0] for c in it.columns]
        genre_col = "class" if "class" in it.columns else ("genre" if "genre" in it.columns else None)
        items = pd.DataFrame({
            "item_id": it["item_id"],
            "title": it.get("movie_title", it["item_id"]),
            "genres": [str(g).split() if isinstance(g, str) else [] for g in it[genre_col]]
            if genre_col else [[] for _ in range(len(it))],
        })
    return from_frames(r, items)


def load_grouplens(path: Path) -> RatingData:
    """The GroupLens CSV layout (ml-latest-small): ``ratings.csv`` (userId,movieId,rating,timestamp)
    and ``movies.csv`` (movieId,title,genres with ``|`` separators)."""
    ratings_csv = path / "ratings.csv"
    if not ratings_csv.exists():
        raise InvalidArgument(f"{ratings_csv} does not exist", field="--data")
    r = pd.read_csv(ratings_csv)
    missing = {"userId", "movieId", "rating", "timestamp"} - set(r.columns)
    if missing:
        raise InvalidArgument(f"ratings.csv lacks column(s) {sorted(missing)}", field=sorted(missing)[0])
    r = r.rename(columns={"userId": "user_id", "movieId": "item_id"})
    items = None
    if (path / "movies.csv").exists():
        m = pd.read_csv(path / "movies.csv")
        items = pd.DataFrame({
            "item_id": m["movieId"], "title": m.get("title", m["movieId"]),
            "genres": [[g for g in str(s).split("|") if g and g != "(no genres listed)"] for s in m["genres"]],
        })
    return from_frames(r, items)


def load_ratings(path: str | Path, fmt: str) -> RatingData:
    p = Path(path)
    if not p.is_dir():
        raise InvalidArgument(f"--data {p} is not a directory", field="--data")
    if fmt == "recbole":
        return load_recbole(p)
    if fmt == "grouplens":
        return load_grouplens(p)
    raise InvalidArgument(f"unknown --format {fmt!r}; use recbole or grouplens", field="--format")
