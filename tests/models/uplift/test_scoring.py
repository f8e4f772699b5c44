"""Batch scoring (streamed, atomic), budgeted selection and the `mds uplift score` command."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from core.errors import InvalidArgument
from core.settings import Settings
from features.catalog import Catalog
from models.registry import ModelRegistry
from models.uplift.demo import train_demo_pipeline
from models.uplift.pipeline import UpliftPipeline
from models.uplift.scoring import partial_path, score_parquet, select_top

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def model(demo_users: tuple[pd.DataFrame, pd.DataFrame], catalog: Catalog) -> UpliftPipeline:
    users, truth = demo_users
    return train_demo_pipeline(users, truth["treatment"].to_numpy(), truth["converted"].to_numpy(), catalog,
                               n_estimators=20)


@pytest.fixture(scope="module")
def users_file(demo_users: tuple[pd.DataFrame, pd.DataFrame], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scoring") / "users.parquet"
    demo_users[0].to_parquet(path, row_group_size=700)
    return path


class _Recording:
    """Wraps a model and records the size of every frame it is asked to score."""

    def __init__(self, inner: UpliftPipeline, fail_on_call: int | None = None) -> None:
        self.inner, self.sizes, self.fail_on_call = inner, [], fail_on_call

    @property
    def features(self) -> list[str]:
        return self.inner.features

    def predict(self, df: pd.DataFrame) -> np.ndarray:
        self.sizes.append(len(df))
        if self.fail_on_call is not None and len(self.sizes) == self.fail_on_call:
            raise RuntimeError("scoring failed half-way")
        return self.inner.predict(df)


def test_streamed_output_equals_direct_predict(model: UpliftPipeline, users_file: Path,
                                               demo_users: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    recording = _Recording(model)
    out = tmp_path / "scores.parquet"
    result = score_parquet(recording, users_file, out, batch_rows=300, progress=False,
                           metadata={"mds.model": "coupon"})
    users = demo_users[0]
    assert result.rows == len(users) and max(recording.sizes) <= 300 and len(recording.sizes) >= 7
    scores = pd.read_parquet(out)
    assert list(scores.columns) == ["user_id", "uplift"]
    assert scores["user_id"].tolist() == users["user_id"].tolist()
    np.testing.assert_allclose(scores["uplift"].to_numpy(), model.predict(users), rtol=1e-12, atol=1e-12)
    assert pq.read_schema(out).metadata[b"mds.model"] == b"coupon"
    assert not partial_path(out).exists()


def test_failed_job_keeps_previous_output_and_leaves_no_partial(model: UpliftPipeline, users_file: Path,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    out.write_bytes(b"yesterday's scores")
    with pytest.raises(RuntimeError, match="half-way"):
        score_parquet(_Recording(model, fail_on_call=3), users_file, out, batch_rows=300, progress=False)
    assert out.read_bytes() == b"yesterday's scores"
    assert not partial_path(out).exists()


def test_killed_job_never_leaves_a_final_file(model: UpliftPipeline, users_file: Path, tmp_path: Path) -> None:
    model_file = tmp_path / "model.joblib"
    import joblib

    joblib.dump(model, model_file)
    out = tmp_path / "scores.parquet"
    script = textwrap.dedent(f"""
        import os, signal, joblib
        from models.uplift.scoring import score_parquet
        inner = joblib.load({str(model_file)!r})
        class DiesMidway:
            features = inner.features
            calls = 0
            def predict(self, df):
                DiesMidway.calls += 1
                if DiesMidway.calls == 3:  # two batches already written to the partial file
                    os.kill(os.getpid(), signal.SIGKILL)
                return inner.predict(df)
        score_parquet(DiesMidway(), {str(users_file)!r}, {str(out)!r}, batch_rows=300, progress=False)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO)
    assert proc.returncode == -9
    assert not out.exists()
    assert partial_path(out).exists()  # the evidence of the killed run, under a hidden name
    # A rerun starts over and replaces the leftover.
    result = score_parquet(model, users_file, out, batch_rows=300, progress=False)
    assert result.rows == pq.ParquetFile(out).metadata.num_rows == 2_000
    assert not partial_path(out).exists()


def test_bad_inputs_name_the_column_or_flag(model: UpliftPipeline, users_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    without_age = tmp_path / "no_age.parquet"
    pd.read_parquet(users_file).drop(columns=["age"]).to_parquet(without_age)
    with pytest.raises(InvalidArgument) as err:
        score_parquet(model, without_age, out, progress=False)
    assert err.value.field == "age" and "'age'" in err.value.message
    with pytest.raises(InvalidArgument) as err:
        score_parquet(model, users_file, out, id_column="customer", progress=False)
    assert err.value.field == "--id-column"
    with pytest.raises(InvalidArgument) as err:
        score_parquet(model, tmp_path / "missing.parquet", out, progress=False)
    assert err.value.field == "--input"
    not_parquet = tmp_path / "users.csv"
    not_parquet.write_text("user_id,age\nu1,30\n")
    with pytest.raises(InvalidArgument) as err:
        score_parquet(model, not_parquet, out, progress=False)
    assert err.value.field == "--input"
    with pytest.raises(InvalidArgument) as err:
        score_parquet(model, users_file, out, batch_rows=0, progress=False)
    assert err.value.field == "--batch-rows"
    assert not out.exists()


def test_select_top_hand_computed() -> None:
    uplift = np.array([0.125, 0.375, -0.05, 0.25, 0.00, 0.3125])  # exact in binary: ties stay ties
    top = select_top(uplift, max_users=3)
    assert top.indices.tolist() == [1, 5, 3] and top.total_cost == 3.0
    assert top.expected_incremental == pytest.approx(0.9375)
    # Only positive uplift is eligible, however large the budget.
    assert select_top(uplift, max_users=100).indices.tolist() == [1, 5, 3, 0]
    # Cost budget 5: ratios .125/1, .375/3=.125, .25/1, .3125/5 → user 3 (1), then ties .125: larger
    # uplift first → user 1 (3, total 4), user 0 (1, total 5); user 5 (5) no longer fits.
    costs = np.array([1.0, 3.0, 1.0, 1.0, 1.0, 5.0])
    by_cost = select_top(uplift, max_cost=5.0, costs=costs)
    assert by_cost.indices.tolist() == [3, 1, 0] and by_cost.total_cost == pytest.approx(5.0)
    # Greedy fill: a cheaper user further down the ranking still gets the leftover budget.
    fill = select_top(np.array([0.5, 0.4, 0.01]), max_cost=2.5, costs=np.array([1.0, 2.0, 0.5]))
    assert fill.indices.tolist() == [0, 2]
    with pytest.raises(InvalidArgument) as err:
        select_top(uplift, max_cost=5.0, costs=np.array([1, 1, 1, 1, -1, 1.0]))
    assert err.value.field == "costs[4]"
    with pytest.raises(InvalidArgument) as err:
        select_top(uplift, max_users=2, max_cost=3.0)
    assert err.value.field == "budget"


def test_score_command_writes_output_and_bench_json(model: UpliftPipeline, catalog: Catalog, users_file: Path,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.cli.uplift import app

    data_dir = tmp_path / "var"
    ModelRegistry.from_settings(Settings(data_dir=data_dir)).save("coupon", model, catalog=catalog)
    monkeypatch.setenv("MDS_DATA_DIR", str(data_dir))
    out, report = tmp_path / "scores.parquet", tmp_path / "score.json"
    result = CliRunner().invoke(app, ["score", "--model", "coupon", "--input", str(users_file), "--output", str(out),
                                      "--batch-rows", "500", "--bench", "--json", str(report)])
    assert result.exit_code == 0, result.output
    numbers = json.loads(report.read_text())
    assert numbers["rows"] == 2_000 and numbers["version"] == 1
    assert numbers["rows_per_s"] > 0 and numbers["bare_predict"]["rows_per_s"] > 0
    assert pd.read_parquet(out)["uplift"].to_numpy() == pytest.approx(model.predict(pd.read_parquet(users_file)))

    bad = CliRunner().invoke(app, ["score", "--model", "coupon", "--input", str(users_file), "--output", str(out),
                                   "--engine", "dask"])
    assert isinstance(bad.exception, InvalidArgument) and bad.exception.field == "--engine"


def test_ensure_demo_model_trains_once_and_replaces_incompatible(tmp_path: Path, catalog: Catalog,
                                                                 model: UpliftPipeline) -> None:
    from models.uplift.demo import ensure_demo_model

    settings = Settings(data_dir=tmp_path / "var")
    first = ensure_demo_model(settings, catalog, users=1_500, n_estimators=20)
    assert (first.version, first.trained) == (1, True)
    manifest = ModelRegistry.from_settings(settings).manifest("coupon")
    assert set(manifest.metrics) >= {"qini_auc", "spearman_true_uplift", "fit_seconds"}
    assert all(np.isfinite(v) for v in manifest.metrics.values())
    assert manifest.features == [f.name for f in catalog.features_of("user")]
    again = ensure_demo_model(settings, catalog, users=1_500, n_estimators=20)
    assert (again.version, again.trained) == (1, False)
    # A newest version from another catalog would be refused by the server: a compatible one is trained.
    ModelRegistry.from_settings(settings).save("coupon", model, catalog_fingerprint="000000000000")
    replaced = ensure_demo_model(settings, catalog, users=1_500, n_estimators=20)
    assert (replaced.version, replaced.trained) == (3, True)


def test_serving_tuning_keeps_predictions_identical(demo_users: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    import copy

    from models.uplift import BagCorrectedSLearner, TLearner, XLearner
    from models.uplift.scoring import prefer_single_thread

    users, truth = demo_users
    X = np.random.default_rng(0).normal(size=(len(users), 6))
    t, y = truth["treatment"].to_numpy(), truth["converted"].to_numpy()
    for learner in (TLearner(n_estimators=15), XLearner(n_estimators=15),
                    BagCorrectedSLearner(n_estimators=15, correction_rounds=3)):
        learner.fit(X, t, y)
        tuned = copy.deepcopy(learner)
        assert prefer_single_thread(tuned) >= 2
        for rows in (X[:100], X[:1]):
            np.testing.assert_array_equal(tuned.predict(rows), learner.predict(rows))
        # Calls with options still take LightGBM's own path.
        if isinstance(learner, BagCorrectedSLearner):  # its correction stage is a bare Booster
            name, inner = "correction_", tuned.correction_
            assert type(inner).__name__ == "_ServingBooster"
        else:
            name, inner = next((k, v) for k, v in vars(tuned).items() if type(v).__name__.startswith("_Serving"))
            assert inner.n_jobs == 1
        np.testing.assert_array_equal(inner.predict(X[:50], raw_score=True),
                                      getattr(learner, name).predict(X[:50], raw_score=True))


def test_only_single_threaded_models_predict_on_the_event_loop(model: UpliftPipeline) -> None:
    from types import SimpleNamespace

    import torch

    from models.uplift.scoring import predicts_on_event_loop

    assert predicts_on_event_loop(model)  # a LightGBM T-learner
    assert not predicts_on_event_loop(SimpleNamespace(weights=np.ones(3)))  # nothing known to be cheap
    with_net = SimpleNamespace(trees=model, net=torch.nn.Linear(3, 1))
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)  # a torch pool would fan a request out over the cores: worker threads
        assert not predicts_on_event_loop(with_net)
        torch.set_num_threads(1)
        assert predicts_on_event_loop(with_net)
    finally:
        torch.set_num_threads(threads)


def test_a_bag_corrected_artifact_saved_before_shrinkage_existed_loads(tmp_path: Path) -> None:
    """Artifacts pickled before the ``shrinkage`` parameter lack the attribute: they load, predict as
    before and describe themselves as fitted without shrinkage (parameters, clones)."""
    from sklearn.base import clone

    from models.uplift import BagCorrectedSLearner, FeatureEncoder

    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"recency": rng.normal(size=2_000), "channel": rng.choice(["web", "phone"], 2_000)})
    t = rng.integers(0, 2, 2_000)
    y = (rng.random(2_000) < 0.2 + 0.1 * t * (frame["recency"] > 0)).astype(int)
    old = UpliftPipeline(FeatureEncoder(exclude=()), BagCorrectedSLearner(n_estimators=10, correction_rounds=3))
    old.fit(frame, t, y)
    expected = old.predict(frame)
    del old.estimator.shrinkage  # what an older version of the class pickled
    registry = ModelRegistry.from_settings(Settings(data_dir=tmp_path / "var"))
    registry.save("mail", old, parameters={})
    loaded = registry.load("mail").model
    np.testing.assert_array_equal(loaded.predict(frame), expected)
    assert loaded.estimator.get_params()["shrinkage"] is False
    assert clone(loaded.estimator).shrinkage is False


def test_score_command_scores_a_model_trained_on_a_plain_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model without a catalog fingerprint (e.g. trained on Hillstrom) only needs its columns in the input."""
    from models.uplift import FeatureEncoder, TLearner
    from services.cli.uplift import app

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"recency": rng.integers(1, 12, 600), "channel": rng.choice(["web", "phone"], 600)})
    t = rng.integers(0, 2, 600)
    y = (rng.random(600) < 0.2 + 0.1 * t * (frame["channel"] == "web")).astype(int)
    model = UpliftPipeline(FeatureEncoder(exclude=()), TLearner(n_estimators=5, min_child_samples=20)).fit(frame, t, y)
    data_dir = tmp_path / "var"
    ModelRegistry.from_settings(Settings(data_dir=data_dir)).save("mail", model)
    source, out = tmp_path / "customers.parquet", tmp_path / "scores.parquet"
    frame.assign(user_id=[f"c{i}" for i in range(600)]).to_parquet(source)
    monkeypatch.setenv("MDS_DATA_DIR", str(data_dir))
    result = CliRunner().invoke(app, ["score", "--model", "mail", "--input", str(source), "--output", str(out)])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(pd.read_parquet(out)["uplift"].to_numpy(), model.predict(frame))


def test_single_threaded_worker_limits_only_its_own_thread() -> None:
    from concurrent.futures import ThreadPoolExecutor

    import torch

    from models.uplift.scoring import single_threaded_worker

    before = torch.get_num_threads()
    with ThreadPoolExecutor(1, initializer=single_threaded_worker) as pool:
        assert pool.submit(torch.get_num_threads).result() == 1
    assert torch.get_num_threads() == before


def test_a_directory_of_parquet_files_streams_like_one_file(model: UpliftPipeline, tmp_path: Path,
                                                            demo_users: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    users = demo_users[0]
    table_dir = tmp_path / "users_table"  # e.g. a Spark or Hive table directory
    table_dir.mkdir()
    users.iloc[:1_000].to_parquet(table_dir / "part-00000.parquet")
    users.iloc[1_000:].to_parquet(table_dir / "part-00001.parquet")
    (table_dir / "_SUCCESS").write_text("")
    (table_dir / ".part-00002.parquet.crc").write_text("checksum")  # hidden and marker files are ignored
    out = tmp_path / "scores.parquet"
    result = score_parquet(model, table_dir, out, batch_rows=400, progress=False)
    assert result.rows == len(users)
    scores = pd.read_parquet(out)
    assert scores["user_id"].tolist() == users["user_id"].tolist()
    np.testing.assert_allclose(scores["uplift"].to_numpy(), model.predict(users), rtol=1e-12, atol=1e-12)
    empty = tmp_path / "empty_table"
    empty.mkdir()
    with pytest.raises(InvalidArgument) as err:
        score_parquet(model, empty, out, progress=False)
    assert err.value.field == "--input"
