"""FeatureEncoder (catalog-typed frames → float32 matrix) and UpliftPipeline (encoder + learner)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from core.errors import InvalidArgument
from features.catalog import demo_catalog
from features.demo_world import generate_users
from models.uplift import BagLabels, BagRegularizedUplift, FeatureEncoder, TLearner, UpliftPipeline


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [20, 30, np.nan, 50],
        "vip": [True, False, True, False],
        "city": ["paris", "rome", None, "paris"],
        "tags": [["a", "b"], [], None, ["b", "zzz"]],
    })


def test_encodes_numeric_category_and_sets_by_hand() -> None:
    enc = FeatureEncoder(exclude=()).fit(frame())
    assert list(enc.feature_names_in_) == ["age", "vip", "city", "tags"]
    assert enc.columns_ == ["age", "vip", "city=paris", "city=rome", "tags:a", "tags:b", "tags:zzz"]
    X = enc.transform(frame())
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, np.array([
        [20, 1, 1, 0, 1, 1, 0],
        [30, 0, 0, 1, 0, 0, 0],
        [30, 1, 0, 0, 0, 0, 0],  # missing age → training median 30; missing category/set → zeros
        [50, 0, 1, 0, 0, 1, 1],
    ], dtype=np.float32))


def test_unseen_values_are_ignored_and_missing_columns_named() -> None:
    enc = FeatureEncoder(exclude=()).fit(frame())
    new = pd.DataFrame({"age": [40], "vip": [False], "city": ["tokyo"], "tags": [["new", "a"]]})
    np.testing.assert_array_equal(enc.transform(new), [[40, 0, 0, 0, 1, 0, 0]])
    with pytest.raises(InvalidArgument) as err:
        enc.transform(new.drop(columns=["city"]))
    assert err.value.field == "city"
    with pytest.raises(InvalidArgument) as err:
        enc.transform(new.assign(age=["old"]))
    assert err.value.field == "age"


def test_catalog_vocabularies_and_large_frames_match_small_ones() -> None:
    users, _ = generate_users(demo_catalog(), 6000, seed=1)
    enc = FeatureEncoder(catalog=demo_catalog()).fit(users)
    assert "user_id" not in enc.feature_names_in_
    # Every allowed city is a column even if a sample lacks it; the catalog fixes the layout.
    assert [c for c in enc.columns_ if c.startswith("city=")] == [f"city={c}" for c in demo_catalog().features["city"].values]
    big = enc.transform(users)  # vectorized path (> 5000 rows)
    small = enc.transform(users.iloc[:100])  # per-row path
    np.testing.assert_array_equal(big[:100], small)
    assert np.isfinite(big).all()


def test_pipeline_fits_predicts_pickles_and_exposes_features() -> None:
    users, truth = generate_users(demo_catalog(), 3000, seed=2)
    pipe = UpliftPipeline(FeatureEncoder(catalog=demo_catalog()),
                          TLearner(n_estimators=30, min_child_samples=40))
    assert pipe.fit(users, truth["treatment"], truth["converted"]) is pipe
    assert pipe.features == [f.name for f in demo_catalog().features_of("user")]
    pred = pipe.predict(users.iloc[:200])
    assert pred.shape == (200,) and np.isfinite(pred).all()
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict(users.iloc[:200]), pred)
    # Column order in the request does not matter; names do.
    np.testing.assert_array_equal(pipe.predict(users.iloc[:200, ::-1]), pred)


def test_bag_regularized_accepts_external_segment_bags() -> None:
    """Bag labels from an experiment analysis (segment → ATE) steer the learner: claiming a strong
    effect for one segment and none for the other raises that segment's predicted uplift."""
    rng = np.random.default_rng(0)
    n = 2000
    X = rng.normal(size=(n, 3))
    t = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.3).astype(int)  # no real effect anywhere
    segment = (X[:, 0] > 0).astype(int)
    params = dict(epochs=8, bag_size=200, warmup_epochs=1, bag_weight=20.0, bag_holdout=0.0, random_state=0)
    labels = BagLabels(bag_id=segment, ate=np.array([0.0, 0.4]), variance=np.array([1e-4, 1e-4]))
    steered = BagRegularizedUplift(**params).fit(X, t, y, bag_labels=labels).predict(X)
    plain = BagRegularizedUplift(**params).fit(X, t, y).predict(X)
    gap_steered = steered[segment == 1].mean() - steered[segment == 0].mean()
    gap_plain = plain[segment == 1].mean() - plain[segment == 0].mean()
    assert gap_steered > 0.08 and gap_steered > gap_plain + 0.08
    with pytest.raises(InvalidArgument) as err:
        BagRegularizedUplift(**params).fit(X, t, y, bag_labels=BagLabels(segment[:10], np.array([0.0, 0.1])))
    assert err.value.field == "bag_labels"


def test_bag_labels_from_an_experiment_analysis() -> None:
    """Segment effects measured by ``models.experiments.segment_effects`` on one experiment become bags."""
    from models.experiments import segment_effects

    rng = np.random.default_rng(1)
    n = 4000
    plan = rng.choice(["basic", "pro", "trial"], n)
    arm = rng.choice(["coupon", "none"], n)
    p = 0.2 + (arm == "coupon") * np.where(plan == "pro", 0.3, 0.0)
    df = pd.DataFrame({"plan": plan, "arm": arm, "bought": (rng.random(n) < p).astype(float)})
    effects = segment_effects(df, "arm", "none", "coupon", "bought", "plan")
    labels = BagLabels.from_segment_effects(np.array(["pro", "basic", "gold"]), effects)
    by_name = {e.segment: e for e in effects}
    np.testing.assert_array_equal(labels.ate[labels.bag_id[:2]], [by_name["pro"].ate, by_name["basic"].ate])
    assert labels.bag_id[2] == -1  # a segment the analysis did not cover
    assert labels.ate[labels.bag_id[0]] > 0.2
    np.testing.assert_allclose(labels.variance[labels.bag_id[0]], by_name["pro"].se ** 2)


@pytest.mark.parametrize("param, value", [("bag_size", 0), ("bag_weight", -1.0), ("architecture", "deep"),
                                          ("bag_holdout", 1.0)])
def test_bag_regularized_rejects_bad_parameters(param: str, value: object) -> None:
    X = np.random.default_rng(0).normal(size=(300, 2))
    t = np.arange(300) % 2
    with pytest.raises(InvalidArgument) as err:
        BagRegularizedUplift(**{param: value}).fit(X, t, t)
    assert err.value.field == param
