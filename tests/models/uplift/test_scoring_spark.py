"""Spark engine (local mode): the same scores as the local streaming engine, model shipped as bytes.

One small local[1] session for the whole file: a JVM start is the slow part.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.errors import InvalidArgument
from features.catalog import Catalog
from models.registry import ModelRegistry
from models.uplift.demo import train_demo_pipeline
from models.uplift.scoring import partial_path, score_parquet, score_parquet_spark

pytestmark = pytest.mark.slow


def test_spark_local_mode_equals_local_engine(demo_users: tuple[pd.DataFrame, pd.DataFrame], catalog: Catalog,
                                              tmp_path: Path) -> None:
    users, truth = demo_users
    model = train_demo_pipeline(users, truth["treatment"].to_numpy(), truth["converted"].to_numpy(), catalog,
                                n_estimators=20)
    registry = ModelRegistry(tmp_path / "models")
    registry.save("coupon", model, catalog=catalog)
    manifest, payload = registry.payload("coupon")
    source = tmp_path / "users.parquet"
    users.iloc[:1_200].to_parquet(source, row_group_size=400)

    local_out = tmp_path / "local.parquet"
    score_parquet(registry.load("coupon").model, source, local_out, batch_rows=500, progress=False)
    spark_out = tmp_path / "spark.parquet"
    spark_out.mkdir()
    (spark_out / "stale-part.parquet").write_bytes(b"old run")  # replaced as a whole on success

    with pytest.raises(InvalidArgument) as err:  # checked before the JVM starts
        score_parquet_spark(payload, manifest.payload_sha256, [*manifest.features, "shoe_size"], source, spark_out)
    assert err.value.field == "shoe_size"

    result = score_parquet_spark(payload, manifest.payload_sha256, manifest.features, source, spark_out,
                                 master="local[1]", batch_rows=250)
    assert result.rows == 1_200 and result.engine == "spark"
    assert spark_out.is_dir() and not (spark_out / "stale-part.parquet").exists()
    assert not partial_path(spark_out).exists()

    local = pd.read_parquet(local_out).set_index("user_id")["uplift"]
    spark = pd.read_parquet(spark_out).set_index("user_id")["uplift"]
    assert sorted(spark.index) == sorted(local.index)
    np.testing.assert_allclose(spark.loc[local.index].to_numpy(), local.to_numpy(), rtol=1e-12, atol=1e-12)


def test_spark_scores_a_several_treatment_model_like_the_local_engine(
        demo_users: tuple[pd.DataFrame, pd.DataFrame], catalog: Catalog, tmp_path: Path) -> None:
    from models.uplift import MultiArmUplift
    from models.uplift.encoding import FeatureEncoder
    from models.uplift.pipeline import UpliftPipeline

    users, truth = demo_users
    rng = np.random.default_rng(0)
    # Two coupon arms (the demo experiment's treated users split at random) against no coupon.
    arm = np.where(truth["treatment"].to_numpy() == 1, rng.choice(["coupon_a", "coupon_b"], len(users)), "none")
    pipeline = UpliftPipeline(FeatureEncoder(catalog=catalog, exclude=()), MultiArmUplift("t_learner", "none"))
    pipeline.set_params(estimator__random_state=1).fit(users.drop(columns=["user_id"]), arm,
                                                        truth["converted"].to_numpy())
    registry = ModelRegistry(tmp_path / "models")
    registry.save("coupons", pipeline, catalog=catalog)
    manifest, payload = registry.payload("coupons")
    source = tmp_path / "users.parquet"
    users.iloc[:900].to_parquet(source, row_group_size=300)

    local_out, spark_out = tmp_path / "local.parquet", tmp_path / "spark.parquet"
    score_parquet(registry.load("coupons").model, source, local_out, batch_rows=400, progress=False)
    result = score_parquet_spark(payload, manifest.payload_sha256, manifest.features, source, spark_out,
                                 master="local[1]", batch_rows=200)
    assert result.rows == 900

    columns = ["user_id", "uplift", "uplift_coupon_a", "uplift_coupon_b", "chosen_arm"]
    local = pd.read_parquet(local_out).set_index("user_id")
    spark = pd.read_parquet(spark_out)
    assert list(spark.columns) == columns
    spark = spark.set_index("user_id").loc[local.index]
    np.testing.assert_allclose(spark[columns[1:4]].to_numpy(), local[columns[1:4]].to_numpy(), rtol=1e-12, atol=1e-12)
    assert spark["chosen_arm"].tolist() == local["chosen_arm"].tolist()
    # Both arms are chosen for someone and users no arm helps get none: the column carries a real choice.
    per_arm = spark[["uplift_coupon_a", "uplift_coupon_b"]].to_numpy()
    expected = np.where(per_arm.max(axis=1) > 0, np.array(["coupon_a", "coupon_b"])[per_arm.argmax(axis=1)], None)
    assert spark["chosen_arm"].tolist() == expected.tolist()
    assert {"coupon_a", "coupon_b"} <= set(spark["chosen_arm"].dropna())
