"""Uplift metrics against hand-computed cases and against scikit-uplift's implementation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidArgument
from models.uplift import metrics as m

sklift_metrics = pytest.importorskip("sklift.metrics")

# Six users ranked by uplift 0.9 > 0.8 > ... > 0.4.
Y = np.array([1, 0, 1, 0, 0, 1])
T = np.array([1, 1, 0, 1, 0, 0])
U = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])


def test_qini_curve_by_hand() -> None:
    x, q = m.qini_curve(Y, U, T)
    # n=1: Yt=1, Nt=1, Nc=0 → 1. n=2: Yt=1,Nt=2,Nc=0 → 1. n=3: Yt=1,Nt=2,Yc=1,Nc=1 → 1-1*2 = -1.
    # n=4: Yt=1,Nt=3,Yc=1,Nc=1 → 1-3 = -2. n=5: Nc=2 → 1-1*3/2 = -0.5. n=6: Yc=2,Nc=3 → 1-2*3/3 = -1.
    np.testing.assert_allclose(x, [0, 1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(q, [0, 1, 1, -1, -2, -0.5, -1])


def test_uplift_curve_by_hand() -> None:
    x, u = m.uplift_curve(Y, U, T)
    # n=3: rate_t = 1/2, rate_c = 1/1 → -0.5*3. n=6: rate_t=1/3, rate_c=2/3 → -1/3*6 = -2.
    np.testing.assert_allclose(u[3], -1.5)
    np.testing.assert_allclose(u[6], -2.0)
    np.testing.assert_allclose(u[1], 1.0)  # n=1: rate_t=1, no control → 0 → 1*1


def test_ties_share_one_cut() -> None:
    x, _ = m.qini_curve(Y, np.array([1, 1, 1, 0, 0, 0.0]), T)
    np.testing.assert_allclose(x, [0, 3, 6])


def test_normalized_qini_is_one_for_the_perfect_ranking_and_ranks_models() -> None:
    y = np.array([1, 0, 0, 1, 1, 0, 0, 0])
    t = np.array([1, 1, 0, 0, 1, 0, 1, 0])
    perfect = y * t - y * (1 - t)
    assert m.qini_auc(y, perfect, t) == pytest.approx(1.0)
    assert m.qini_auc(y, -perfect, t) < 0 < m.qini_auc(y, perfect + 0.01 * np.arange(8), t)


def test_uplift_at_k_by_hand() -> None:
    # Top 4: treated (1,0,0) → 1/3, control (1) → 1. uplift = -2/3.
    assert m.uplift_at_k(Y, U, T, k=4) == pytest.approx(1 / 3 - 1.0)
    # by group, top 50% of each arm: treated ranks 0.9,0.8,0.6 → top 1 → 1.0; control 0.7,0.5,0.4 → top1 → 1.
    assert m.uplift_at_k(Y, U, T, k=0.5, strategy="by_group") == pytest.approx(0.0)


def test_uplift_at_k_without_control_rows_raises_instead_of_nan() -> None:
    with pytest.raises(InvalidArgument, match="no control rows") as err:
        m.uplift_at_k(Y, U, T, k=2)
    assert err.value.field == "k"
    with pytest.raises(InvalidArgument, match="no treated rows"):
        m.uplift_at_k(Y, -U, T, k=2)


@pytest.mark.parametrize("bad", [
    dict(y=[1, 0, np.nan], uplift=[0.1, 0.2, 0.3], treatment=[1, 0, 1]),  # revenue is fine, NaN is not
    dict(y=[1, 0, 1], uplift=[0.1, np.nan, 0.3], treatment=[1, 0, 1]),
    dict(y=[1, 0, 1], uplift=[0.1, 0.2], treatment=[1, 0, 1]),
    dict(y=[1, 0, 1], uplift=[0.1, 0.2, 0.3], treatment=[1, 1, 1]),
])
def test_bad_inputs_raise_invalid_argument(bad: dict) -> None:
    with pytest.raises(InvalidArgument):
        m.qini_auc(**bad)


def test_bad_k_raises() -> None:
    for k in (0, -3, 1.5, "x"):
        with pytest.raises(InvalidArgument) as err:
            m.uplift_at_k(Y, U, T, k=k)  # type: ignore[arg-type]
        assert err.value.field == "k"


def _sklift(fn_name: str, *args, **kwargs) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(getattr(sklift_metrics, fn_name)(*args, **kwargs))


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(40, 400), rounding=st.sampled_from([None, 1, 2]))
def test_matches_scikit_uplift_on_random_data(seed: int, n: int, rounding: int | None) -> None:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    t[:2] = [0, 1]
    y = rng.integers(0, 2, n)
    y[2:4] = [0, 1]
    uplift = rng.normal(size=n)
    if rounding is not None:  # many ties
        uplift = uplift.round(rounding)
    assert m.qini_auc(y, uplift, t) == pytest.approx(_sklift("qini_auc_score", y, uplift, t), abs=1e-12)
    assert m.uplift_auc(y, uplift, t) == pytest.approx(_sklift("uplift_auc_score", y, uplift, t), abs=1e-12)
    for strategy in ("overall", "by_group"):
        try:
            ours = m.uplift_at_k(y, uplift, t, k=0.3, strategy=strategy)
        except InvalidArgument:
            continue  # sklift would return NaN here
        assert ours == pytest.approx(_sklift("uplift_at_k", y, uplift, t, strategy=strategy, k=0.3), abs=1e-12)
    xs, qs = _sklift_curve("qini_curve", y, uplift, t)
    x, q = m.qini_curve(y, uplift, t)
    np.testing.assert_allclose(x, xs)
    np.testing.assert_allclose(q, qs, atol=1e-9)


def _sklift_curve(name: str, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(sklift_metrics, name)(*args)


def test_score_uplift_bundles_the_three_scores() -> None:
    rng = np.random.default_rng(3)
    t = rng.integers(0, 2, 300)
    y = rng.integers(0, 2, 300)
    u = rng.normal(size=300)
    scores = m.score_uplift(y, u, t)
    assert scores.as_dict() == {
        "qini_auc": m.qini_auc(y, u, t), "uplift_auc": m.uplift_auc(y, u, t),
        "uplift_at_30": m.uplift_at_k(y, u, t, k=0.3),
    }
