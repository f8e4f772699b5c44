"""The recommender bundle the recommend layer owns: trained, saved atomically, checked on load, its
history codec, and no import back up into the allocation layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.errors import ArtifactError
from models.recommend import RatingData, RecommenderBundle, decode_history, encode_history, train_recommender


def test_bundle_round_trip_and_corrupt_file(ml_small: RatingData, tmp_path: Path) -> None:
    bundle = train_recommender(ml_small, large_trees=20, calibration_requests=2, stage_requests_per_user=1)
    assert bundle.costs.shape == (len(bundle.cascade.chains),) and bundle.full_cost == bundle.costs.max() > 0
    path = tmp_path / "rec.pkl"
    bundle.save(path)
    again = RecommenderBundle.load(path)
    assert np.array_equal(again.costs, bundle.costs) and again.split == bundle.split
    assert path.with_name("rec.calibration.json").exists()
    path.write_bytes(b"not a pickle")
    with pytest.raises(ArtifactError):
        RecommenderBundle.load(path)


def test_history_codec_keeps_the_most_recent() -> None:
    items, rates, times = np.arange(250), np.linspace(1, 5, 250).astype(np.float32), np.arange(250) * 10
    i, r, t = decode_history(encode_history(items, rates, times))
    assert len(i) == 200 and i[0] == 50 and np.allclose(r, rates[50:]) and t[-1] == 2490
    assert len(decode_history(None)[0]) == 0
    with pytest.raises(ArtifactError):
        decode_history(b"\x00" * 7)


def test_recommend_layer_never_imports_allocation() -> None:
    code = ("import sys, models.recommend, models.recommend.demo; "
            "print(any(m.startswith('models.allocation') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
