"""Streamed files, Hillstrom pinned end to end, segment effects, policy values and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from core.errors import InvalidArgument
from core.paths import hillstrom_csv
from models.experiments import (
    AnalysisSettings,
    ArmStats,
    ExperimentStats,
    MetricStats,
    analyze,
    compare_policies,
    segment_effects,
    summarize_file,
)

CONTROL = "No E-Mail"
METRICS = ["visit", "conversion", "spend"]
RTOL = 1e-9


@pytest.fixture(scope="module")
def hillstrom() -> pd.DataFrame:
    return pd.read_csv(hillstrom_csv())


@pytest.fixture(scope="module")
def hillstrom_result():  # type: ignore[no-untyped-def]
    summary = summarize_file(hillstrom_csv(), "segment", METRICS, covariate="history",
                             ratios={"spend/visit": ("spend", "visit")}, batch_rows=20_000)
    return summary, analyze(summary.stats, CONTROL)


def test_hillstrom_anchors(hillstrom_result) -> None:  # type: ignore[no-untyped-def]
    summary, res = hillstrom_result
    assert summary.rows == 64_000
    assert res.counts == {CONTROL: 21_306, "Mens E-Mail": 21_307, "Womens E-Mail": 21_387}
    visit = {arm: round(100 * res.means[arm]["visit"], 2) for arm in res.counts}
    assert visit == {"Mens E-Mail": 18.28, "Womens E-Mail": 15.14, CONTROL: 10.62}
    conversion = {arm: round(100 * res.means[arm]["conversion"], 2) for arm in res.counts}
    assert conversion == {"Mens E-Mail": 1.25, "Womens E-Mail": 0.88, CONTROL: 0.57}
    spend = {arm: round(res.means[arm]["spend"], 2) for arm in res.counts}
    assert spend == {"Mens E-Mail": 1.42, "Womens E-Mail": 1.08, CONTROL: 0.65}
    assert round(res.srm.p_value, 3) == 0.904
    assert res.srm.ok
    assert res.srm.p_value == pytest.approx(stats.chisquare([21_306, 21_307, 21_387]).pvalue, rel=RTOL)
    # comparing one arm still checks the assignment of all three
    one = analyze(summary.stats, CONTROL, treatments=["Womens E-Mail"])
    assert [c.arm for c in one.comparisons] == ["Womens E-Mail"] * 4
    assert one.srm.p_value == res.srm.p_value and len(one.srm.observed) == 3
    skewed = analyze(summary.stats, CONTROL, AnalysisSettings(designed_split={CONTROL: 2, "Mens E-Mail": 1,
                                                                              "Womens E-Mail": 1}))
    assert not skewed.srm.ok


def test_hillstrom_every_number_matches_scipy(hillstrom, hillstrom_result) -> None:  # type: ignore[no-untyped-def]
    _, res = hillstrom_result
    df = hillstrom
    p_values = []
    for arm in ("Mens E-Mail", "Womens E-Mail"):
        pair = df[df.segment.isin([CONTROL, arm])]
        x = pair.history.to_numpy()
        for metric in METRICS:
            c, t = df.loc[df.segment == CONTROL, metric].to_numpy(), df.loc[df.segment == arm, metric].to_numpy()
            ref = stats.ttest_ind(t, c, equal_var=False)
            got = res.comparison(arm, metric)
            assert got.absolute.estimate == pytest.approx(t.mean() - c.mean(), rel=RTOL)
            assert got.absolute.p_value == pytest.approx(ref.pvalue, rel=1e-8)
            assert got.absolute.ci == pytest.approx(tuple(ref.confidence_interval(0.95)), rel=RTOL)
            assert got.relative is not None
            assert got.relative.estimate == pytest.approx(t.mean() / c.mean() - 1, rel=RTOL)
            # CUPED: Welch on y - theta (x - mean x), theta pooled over the two arms
            y = pair[metric].to_numpy()
            theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
            adj = y - theta * (x - x.mean())
            in_t = (pair.segment == arm).to_numpy()
            ref_adj = stats.ttest_ind(adj[in_t], adj[~in_t], equal_var=False)
            assert got.cuped is not None and got.variance_reduction is not None
            assert got.cuped.estimate == pytest.approx(adj[in_t].mean() - adj[~in_t].mean(), rel=1e-8)
            assert got.cuped.ci == pytest.approx(tuple(ref_adj.confidence_interval(0.95)), rel=1e-8)
            assert 0 <= got.variance_reduction < 0.05  # history predicts little of a 2-week outcome
            p_values.append(ref.pvalue)
        # spend per visitor: a ratio metric
        got = res.comparison(arm, "spend/visit")
        c = df[df.segment == CONTROL]
        t = df[df.segment == arm]
        assert got.absolute.estimate == pytest.approx(t.spend.sum() / t.visit.sum() - c.spend.sum() / c.visit.sum(),
                                                      rel=RTOL)
    mean_p = [res.comparison(a, m).absolute.p_value for a in ("Mens E-Mail", "Womens E-Mail") for m in METRICS]
    assert mean_p == pytest.approx(p_values, rel=1e-8)
    # Pinned headline: both e-mails lift visits, Mens more; after Holm every mean metric stays significant
    mens = res.comparison("Mens E-Mail", "visit")
    assert mens.absolute.estimate == pytest.approx(0.18275684047496127 - 0.10616727682343002, rel=RTOL)
    assert all(c.p_holm < 0.05 for c in res.comparisons if c.kind == "mean")
    holm_ref = multipletests([c.absolute.p_value for c in res.comparisons], method="holm")[1]
    assert [c.p_holm for c in res.comparisons] == pytest.approx(holm_ref, rel=RTOL)
    assert mens.chance_to_beat_control > 0.999
    assert mens.sequential_ci[0] > 0  # significant even with always-valid inference


def test_chunked_csv_and_parquet_give_the_same_summary(tmp_path, hillstrom, hillstrom_result) -> None:  # type: ignore[no-untyped-def]
    summary, _ = hillstrom_result
    pq = tmp_path / "h.parquet"
    hillstrom.to_parquet(pq)
    again = summarize_file(pq, "segment", METRICS, covariate="history", ratios={"spend/visit": ("spend", "visit")},
                           batch_rows=7_001)
    whole = ExperimentStats.from_frame(hillstrom, "segment", METRICS, "history", {"spend/visit": ("spend", "visit")})
    for other in (again.stats, whole):
        for arm, a in summary.stats.arms.items():
            assert other.arms[arm].count == a.count
            for m in METRICS:
                assert other.arms[arm].metrics[m].sum_squares == pytest.approx(a.metrics[m].sum_squares, rel=1e-12)
                assert other.arms[arm].metrics[m].cross_sum == pytest.approx(a.metrics[m].cross_sum, rel=1e-12)


def test_segment_effects_match_scipy_per_segment(hillstrom) -> None:  # type: ignore[no-untyped-def]
    effects = segment_effects(hillstrom, "segment", CONTROL, "Womens E-Mail", "visit", "zip_code")
    assert [e.segment for e in effects] == ["Rural", "Surburban", "Urban"]
    for e in effects:
        part = hillstrom[hillstrom.zip_code == e.segment]
        c = part.loc[part.segment == CONTROL, "visit"].to_numpy()
        t = part.loc[part.segment == "Womens E-Mail", "visit"].to_numpy()
        ref = stats.ttest_ind(t, c, equal_var=False)
        assert (e.control_count, e.treatment_count) == (c.size, t.size)
        assert e.ate == pytest.approx(t.mean() - c.mean(), rel=RTOL)
        assert (e.ci_low, e.ci_high) == pytest.approx(tuple(ref.confidence_interval(0.95)), rel=RTOL)
        assert e.p_value == pytest.approx(ref.pvalue, rel=1e-8)


def test_segment_effects_recover_known_heterogeneity() -> None:
    rng = np.random.default_rng(11)
    n = 40_000
    seg = rng.choice(["low", "mid", "high"], n)
    arm = rng.choice(["ctl", "trt"], n)
    true_ate = {"low": 0.0, "mid": 0.05, "high": 0.15}
    p = 0.2 + (arm == "trt") * np.vectorize(true_ate.get)(seg)
    df = pd.DataFrame({"arm": arm, "seg": seg, "y": rng.binomial(1, p)})
    for e in segment_effects(df, "arm", "ctl", "trt", "y", "seg"):
        assert e.ci_low < true_ate[e.segment] < e.ci_high


def test_policy_value_matches_ipw_and_covers_the_truth() -> None:
    rng = np.random.default_rng(12)
    n = 30_000
    score = rng.uniform(0, 1, n)
    y0 = rng.binomial(1, 0.10, n).astype(float)
    y1 = np.where(rng.uniform(size=n) < 0.10 + 0.2 * (score > 0.7), 1.0, 0.0)  # only high scorers respond
    treated = rng.uniform(size=n) < 0.5
    y = np.where(treated, y1, y0)
    none, everyone, top = compare_policies(y, treated, score, top_fraction=0.3)
    selected = np.zeros(n, dtype=bool)
    selected[np.argsort(-score, kind="stable")[:9000]] = True
    # Hajek IPW: users whose arm agrees with the policy, weighted by 1 / P(that arm | stratum)
    follows = treated == selected
    p_sel, p_rest = treated[selected].mean(), treated[~selected].mean()
    w = np.where(selected, 1 / p_sel, 1 / (1 - p_rest)) * follows
    value_ipw = (w * y).sum() / w.sum()
    assert top.value == pytest.approx(value_ipw, rel=RTOL)
    assert top.treated_share == pytest.approx(0.3)
    truth = np.where(selected, y1, y0).mean()
    assert top.ci_low < truth < top.ci_high
    assert none.value == pytest.approx(y[~treated].mean(), rel=RTOL)
    assert everyone.value == pytest.approx(y[treated].mean(), rel=RTOL)
    # the gain of the targeted policy equals that of treating everyone (only the top 30% respond)
    assert top.gain_ci_low < everyone.gain < top.gain_ci_high
    assert top.gain_ci_low > 0


# ----------------------------------------------------------------------------- bad input
def _two_arm_stats(n_treatment: int = 10) -> ExperimentStats:
    m = MetricStats.from_values(np.arange(10.0))
    t = MetricStats.from_values(np.arange(float(n_treatment)))
    return ExperimentStats({"a": ArmStats(10, {"m": m}), "b": ArmStats(n_treatment, {"m": t})})


@pytest.mark.parametrize(("stats_", "control", "message"), [
    (_two_arm_stats(), "zzz", "control arm 'zzz' not found"),
    (_two_arm_stats(0), "a", "arm 'b' has 0 users"),
    (ExperimentStats({"a": _two_arm_stats().arms["a"]}), "a", r"only one arm \('a'\)"),
])
def test_bad_arms_are_named(stats_: ExperimentStats, control: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        analyze(stats_, control)


def test_unknown_treatment_arm_is_named() -> None:
    with pytest.raises(InvalidArgument, match="treatment arm 'nope' not found"):
        analyze(_two_arm_stats(), "a", treatments=["nope"])


def test_text_in_a_metric_column_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = ["arm,spend"] + [f"{'a' if i % 2 else 'b'},{i}" for i in range(200_000)] + ["a,lots"]
    path = tmp_path / "x.csv"
    path.write_text("\n".join(rows) + "\n")  # the text sits far beyond the first parsed block
    with pytest.raises(InvalidArgument, match="column 'spend' must be numeric") as info:
        summarize_file(path, "arm", ["spend"], batch_rows=10_000)
    assert info.value.field == "--metrics"
    df = pd.DataFrame({"arm": ["a", "b", "a"], "seg": ["s"] * 3, "spend": [1.0, "x", 2.0]})
    with pytest.raises(InvalidArgument, match="column 'spend' must be numeric"):
        segment_effects(df, "arm", "a", "b", "spend", "seg")


def test_missing_columns_and_values_are_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "y.csv"
    path.write_text("arm,spend,pre\na,1,\nb,2,3\n")
    with pytest.raises(InvalidArgument, match="column 'visits' not in y.csv"):
        summarize_file(path, "arm", ["visits"])
    with pytest.raises(InvalidArgument, match="column 'pre' has 1 missing value") as info:
        summarize_file(path, "arm", ["spend"], covariate="pre")
    assert info.value.field == "--covariate"


def test_small_segment_is_named_not_nan() -> None:
    df = pd.DataFrame({"arm": ["a", "b", "a", "b", "a"], "seg": ["x", "x", "x", "x", "y"], "m": [1, 2, 3, 4, 5]})
    with pytest.raises(InvalidArgument, match=r"segment 'y' has 1 user\(s\) in arm 'a'"):
        segment_effects(df, "arm", "a", "b", "m", "seg")


def test_warehouse_sql_summary_equals_the_streamed_one(hillstrom_result) -> None:  # type: ignore[no-untyped-def]
    import duckdb

    from models.experiments import stats_from_rows, summary_sql

    summary, res = hillstrom_result
    ratios = {"spend/visit": ("spend", "visit")}
    sql = summary_sql(f"read_csv_auto('{hillstrom_csv()}')", "segment", METRICS, "history", ratios)
    rows = duckdb.connect().execute(sql).fetchdf().to_dict("records")
    from_sql = analyze(stats_from_rows(rows, METRICS, "history", ratios)[""], CONTROL)
    for c in res.comparisons:
        other = from_sql.comparison(c.arm, c.metric)
        assert other.absolute.ci == pytest.approx(c.absolute.ci, rel=1e-9)
        assert other.absolute.p_value == pytest.approx(c.absolute.p_value, rel=1e-9)
        if c.cuped is not None:
            assert other.cuped is not None and other.cuped.ci == pytest.approx(c.cuped.ci, rel=1e-9)
    # Spark SQL quoting; and NULLs in the table are refused, not silently skipped by SUM
    assert "`segment`" in summary_sql("t", "segment", ["visit"], dialect="spark")
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1.0), ('a', NULL), ('b', 2.0)) v(arm, y)")
    with pytest.raises(InvalidArgument, match="1 missing"):
        stats_from_rows(con.execute(summary_sql("t", "arm", ["y"])).fetchdf().to_dict("records"), ["y"])
