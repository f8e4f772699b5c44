"""Uplift on the demo world: its randomized coupon experiment as a data set (:func:`demo_dataset`, with the
known true uplift) and the coupon model trained once on the seeded population and served by ``make serve``
(:func:`ensure_demo_model`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from core.errors import ArtifactError
from core.settings import Settings
from features.catalog import Catalog
from features.demo_world import demo_catalog, demo_dir, generate_users
from models.registry import ModelRegistry
from models.uplift._meta import TLearner
from models.uplift.encoding import FeatureEncoder
from models.uplift.evaluation import UpliftDataset
from models.uplift.metrics import qini_auc
from models.uplift.pipeline import UpliftPipeline

__all__ = ["DEMO_MODEL", "DemoModel", "demo_dataset", "ensure_demo_model", "train_demo_pipeline"]

log = logging.getLogger(__name__)

DEMO_MODEL = "coupon"


@dataclass(frozen=True, slots=True)
class DemoModel:
    name: str
    version: int
    trained: bool  # False when an existing version was kept


def demo_dataset(n: int = 20_000, seed: int = 0, *, signal: float = 1.0) -> UpliftDataset:
    """The synthetic demo world's randomized coupon experiment, with the known true uplift.

    ``signal`` scales every user's true effect (1.0 = the world as generated); outcomes are then
    redrawn from the scaled probabilities, so 0.5 is an experiment with half the effect.
    """
    users, truth = generate_users(demo_catalog(), n, seed)
    treatment = truth["treatment"].to_numpy(dtype=np.int8)
    outcome = truth["converted"].to_numpy(dtype=np.float64)
    true_uplift = truth["true_uplift"].to_numpy(dtype=np.float64)
    name = "demo"
    if signal != 1.0:
        p_control = truth["p_control"].to_numpy(dtype=np.float64)
        p_treated = np.clip(p_control + signal * true_uplift, 0.0, 1.0)
        true_uplift = p_treated - p_control
        draw = np.random.default_rng([seed, 7]).random(n)
        outcome = (draw < np.where(treatment == 1, p_treated, p_control)).astype(np.float64)
        name = f"demo_signal_{signal:g}"
    return UpliftDataset(name=name, frame=users.drop(columns=["user_id"]), treatment=treatment, outcome=outcome,
                         true_uplift=true_uplift, catalog=demo_catalog())


def train_demo_pipeline(users: pd.DataFrame, treatment: np.ndarray, converted: np.ndarray, catalog: Catalog,
                        *, n_estimators: int = 150, random_state: int = 0) -> UpliftPipeline:
    """A LightGBM T-learner over every user feature of ``catalog``, as one :class:`UpliftPipeline`."""
    encoder = FeatureEncoder(features=[f.name for f in catalog.features_of("user")], catalog=catalog)
    estimator = TLearner(n_estimators=n_estimators, random_state=random_state)
    return UpliftPipeline(encoder, estimator).fit(users, treatment, converted)


def ensure_demo_model(settings: Settings, catalog: Catalog, *, name: str = DEMO_MODEL,
                      users: int = 20_000, seed: int = 0, n_estimators: int = 150) -> DemoModel:
    """Register a coupon uplift model trained on the demo world unless ``name``'s latest version loads.

    Trains on the seeded snapshot (``<data_dir>/demo/users.parquet`` + ``truth.parquet``; a sample of
    ``users`` rows) when there is one, else on a freshly generated population. 70 % trains, 30 %
    measures Qini AUC and the Spearman correlation with the known true uplift (stored as the
    version's training metrics). A latest version that no longer loads (corrupt, or trained for
    another catalog) gets a fresh version trained beside it.
    """
    registry = ModelRegistry.from_settings(settings)
    if name in registry.list_models():
        try:
            return DemoModel(name, registry.load(name, catalog=catalog).version, trained=False)
        except ArtifactError as exc:  # e.g. trained before the catalog changed: train a compatible version
            log.warning("%s; training a new version", exc.message)
    demo = demo_dir(settings)
    if (demo / "users.parquet").exists() and (demo / "truth.parquet").exists():
        frame = pd.read_parquet(demo / "users.parquet")
        truth = pd.read_parquet(demo / "truth.parquet")
        source = str(demo / "users.parquet")
    else:
        frame, truth = generate_users(catalog, users, seed)
        source = f"generate_users(n={users}, seed={seed})"
    rng = np.random.default_rng(seed)
    if len(frame) > users:  # a large seeded world: a sample trains as well and keeps `make serve` quick
        frame = frame.iloc[np.sort(rng.choice(len(frame), users, replace=False))].reset_index(drop=True)
    truth = truth.set_index("user_id").loc[frame["user_id"]]
    train = rng.random(len(frame)) < 0.7
    t = truth["treatment"].to_numpy()
    y = truth["converted"].to_numpy()
    started = time.perf_counter()
    model = train_demo_pipeline(frame[train], t[train], y[train], catalog, n_estimators=n_estimators,
                                random_state=seed)
    fit_seconds = time.perf_counter() - started
    test = ~train
    predicted = model.predict(frame[test])
    metrics = {
        "qini_auc": qini_auc(y[test], predicted, t[test]),
        "spearman_true_uplift": float(spearmanr(predicted, truth["true_uplift"].to_numpy()[test]).statistic),
        "fit_seconds": fit_seconds,
        "train_rows": float(train.sum()),
    }
    version = registry.save(name, model, catalog=catalog, metrics=metrics,
                            notes={"trained_on": source, "learner": "t_learner", "outcome": "converted"})
    log.info("registered demo model %s version %d: %s", name, version, metrics)
    return DemoModel(name, version, trained=True)
