"""The versioned model registry: round trips, refusal of corrupt/incompatible artifacts, atomic saves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from core.errors import ArtifactError, InvalidArgument, ModelNotFound
from features.catalog import Catalog, demo_catalog
from models.registry import ModelHolder, ModelRegistry


def _model(seed: int) -> LogisticRegression:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    return LogisticRegression(C=0.5 + seed).fit(X, y)


FEATURES = ["age", "orders_30d", "gmv_30d"]


def _other_catalog() -> Catalog:
    data = demo_catalog().model_dump(mode="json")
    data["groups"] = [g for g in data["groups"] if g["name"] != "user_finance"]
    data["phrasebook"] = {}  # its phrasings name the dropped features
    return Catalog.model_validate(data)


def test_round_trip_versions_and_manifest(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    catalog = demo_catalog()
    m1, m2 = _model(1), _model(2)
    assert reg.save("coupon", m1, features=FEATURES, catalog=catalog, metrics={"qini_auc": 0.05}) == 1
    assert reg.save("coupon", m2, features=FEATURES, catalog=catalog) == 2
    assert reg.list_versions("coupon") == [1, 2]
    assert reg.list_models() == ["coupon"]

    latest = reg.load("coupon", catalog=catalog)
    assert latest.version == 2
    X = np.random.default_rng(0).normal(size=(20, 3))
    np.testing.assert_array_equal(latest.model.predict_proba(X), m2.predict_proba(X))
    first = reg.load("coupon", 1)
    np.testing.assert_array_equal(first.model.predict_proba(X), m1.predict_proba(X))

    manifest = json.loads((tmp_path / "coupon" / "1" / "manifest.json").read_text())
    assert manifest["name"] == "coupon" and manifest["version"] == 1
    assert manifest["features"] == FEATURES
    assert manifest["catalog_fingerprint"] == catalog.fingerprint
    assert manifest["metrics"] == {"qini_auc": 0.05}
    assert manifest["parameters"]["C"] == 1.5  # get_params() by default
    assert manifest["kind"].endswith("LogisticRegression")
    assert len(manifest["payload_sha256"]) == 64


def test_unknown_names_and_versions(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    with pytest.raises(ModelNotFound, match="registry is empty"):
        reg.load("coupon")
    reg.save("coupon", _model(1))
    with pytest.raises(ModelNotFound, match="available: coupon"):
        reg.load("nope")
    with pytest.raises(ModelNotFound, match="no version 7"):
        reg.load("coupon", 7)
    with pytest.raises(InvalidArgument) as err:
        reg.save("../escape", _model(1))
    assert err.value.field == "name"


def test_corrupt_payload_refused(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    reg.save("coupon", _model(1))
    payload = tmp_path / "coupon" / "1" / "model.joblib"
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0xFF
    payload.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="corrupt: payload sha256"):
        reg.load("coupon")


def test_unpicklable_payload_with_matching_checksum_refused(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    reg.save("coupon", _model(1))
    vdir = tmp_path / "coupon" / "1"
    garbage = b"not a pickle at all"
    (vdir / "model.joblib").write_bytes(garbage)
    manifest = json.loads((vdir / "manifest.json").read_text())
    import hashlib

    manifest["payload_sha256"] = hashlib.sha256(garbage).hexdigest()
    (vdir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="cannot be loaded"):
        reg.load("coupon")


def test_incompatible_catalog_and_missing_features_refused(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    reg.save("coupon", _model(1), features=["age", "balance"], catalog=demo_catalog())
    other = _other_catalog()  # drops the user_finance group, so 'balance' is gone
    with pytest.raises(ArtifactError, match="fingerprint"):
        reg.load("coupon", catalog=other)
    # Same fingerprint check disabled (artifact saved without one) still catches missing features.
    reg.save("coupon", _model(1), features=["age", "balance"], catalog_fingerprint=None)
    with pytest.raises(ArtifactError, match="lacks: balance"):
        reg.load("coupon", 2, catalog=other)


def test_holder_keeps_previous_version_when_reload_finds_bad_one(tmp_path: Path) -> None:
    reg = ModelRegistry(tmp_path)
    catalog = demo_catalog()
    good = _model(1)
    reg.save("coupon", good, features=FEATURES, catalog=catalog)
    holder = ModelHolder(reg, "coupon", catalog=catalog)
    assert holder.current.version == 1

    # v2 corrupt: refused, v1 keeps serving.
    reg.save("coupon", _model(2), features=FEATURES, catalog=catalog)
    (tmp_path / "coupon" / "2" / "model.joblib").write_bytes(b"\x00garbage")
    with pytest.raises(ArtifactError, match="version 1 keeps serving"):
        holder.reload()
    assert holder.current.version == 1
    assert holder.last_error is not None and "corrupt" in holder.last_error

    # v3 incompatible (another catalog's fingerprint): refused too.
    reg.save("coupon", _model(3), features=FEATURES, catalog_fingerprint="0123456789ab")
    with pytest.raises(ArtifactError, match="fingerprint 0123456789ab"):
        holder.reload()
    assert holder.current.version == 1

    # v4 good: swapped in.
    reg.save("coupon", _model(4), features=FEATURES, catalog=catalog)
    outcome = holder.reload()
    assert (outcome.previous_version, outcome.serving_version, outcome.changed) == (1, 4, True)
    assert holder.current.version == 4 and holder.last_error is None

    # A fresh holder whose newest version is bad starts on the newest good one and says why.
    reg.save("coupon", _model(5), features=FEATURES, catalog=catalog)
    (tmp_path / "coupon" / "5" / "model.joblib").write_bytes(b"\x00garbage")
    fresh = ModelHolder(reg, "coupon", catalog=catalog)
    assert fresh.current.version == 4
    assert fresh.last_error is not None and "version 5" in fresh.last_error


def test_killed_save_leaves_no_version(tmp_path: Path) -> None:
    """A process killed in the middle of save() leaves no visible version behind."""
    script = textwrap.dedent(f"""
        import os, signal, joblib, io
        import models.registry as r
        real_write = r.ModelManifest.to_json
        def die(self):  # killed after the payload is written, before the rename
            os.kill(os.getpid(), signal.SIGKILL)
        r.ModelManifest.to_json = die
        r.ModelRegistry({str(tmp_path)!r}).save("coupon", {{"weights": list(range(1000))}})
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == -9
    reg = ModelRegistry(tmp_path)
    assert reg.list_models() == []
    leftovers = os.listdir(tmp_path / "coupon")
    assert leftovers and all(name.startswith(".tmp-") for name in leftovers)
    # The next save still gets version 1 and loads.
    assert reg.save("coupon", {"weights": [1]}) == 1
    assert reg.load("coupon").model == {"weights": [1]}
