"""ExperimentService over a real gRPC socket: summaries in, the same read-out as the library out."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import numpy as np
import pandas as pd
import pytest
from _grpc_errors import first_violation
from scipy import stats

from mds.experiments.v1 import experiments_pb2 as pb
from models.experiments import ExperimentStats, analyze, segment_effects
from services.client import MDSClient
from services.experiments.convert import arms_to_proto


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    n = 6000
    arm = rng.choice(["control", "email", "sms"], n)
    pre = rng.gamma(2.0, 30.0, n)
    visit = rng.binomial(1, np.where(arm == "email", 0.16, np.where(arm == "sms", 0.12, 0.10)))
    spend = visit * (0.5 * pre + rng.gamma(2.0, 10.0, n))
    region = rng.choice(["north", "south"], n)
    return pd.DataFrame({"arm": arm, "pre": pre, "visit": visit, "spend": spend, "region": region})


@pytest.fixture
def client(grpc_server: Callable[..., str]) -> Iterator[MDSClient]:
    with MDSClient(grpc_server(["experiments"]), timeout_s=10.0) as c:
        yield c


def test_analyze_from_summaries_matches_the_library_and_scipy(client: MDSClient, frame: pd.DataFrame) -> None:
    # Summaries as a Spark job would make them: per partition, then added up.
    parts = [ExperimentStats.from_frame(p, "arm", ["visit", "spend"], "pre", {"spend/visit": ("spend", "visit")})
             for p in (frame.iloc[i::4] for i in range(4))]
    summary = sum(parts[1:], parts[0])
    response = client.experiments.analyze(summary, "control")
    local = analyze(summary, "control")
    assert len(response.comparisons) == 6
    assert response.srm.ok and response.srm.p_value == pytest.approx(local.srm.p_value, rel=1e-12)
    for got in response.comparisons:
        want = local.comparison(got.arm, got.metric)
        assert got.absolute.estimate == pytest.approx(want.absolute.estimate, rel=1e-12)
        assert got.absolute.p_value == pytest.approx(want.absolute.p_value, rel=1e-12)
        assert got.p_value_holm == pytest.approx(want.p_holm, rel=1e-12)
        assert got.chance_to_beat_control == pytest.approx(want.chance_to_beat_control, rel=1e-12)
        if got.kind == "mean":
            c = frame.loc[frame.arm == "control", got.metric]
            t = frame.loc[frame.arm == got.arm, got.metric]
            ref = stats.ttest_ind(t, c, equal_var=False)
            assert got.absolute.p_value == pytest.approx(ref.pvalue, rel=1e-8)
            assert (got.absolute.ci_low, got.absolute.ci_high) == pytest.approx(
                tuple(ref.confidence_interval(0.95)), rel=1e-9)
            assert got.HasField("cuped") and got.HasField("variance_reduction")
            assert got.cuped.estimate == pytest.approx(want.cuped.estimate, rel=1e-12)
        else:
            assert not got.HasField("cuped")
    assert response.means["email"].values["visit"] == pytest.approx(frame.visit[frame.arm == "email"].mean())


def test_options_change_the_analysis(client: MDSClient, frame: pd.DataFrame) -> None:
    summary = ExperimentStats.from_frame(frame, "arm", ["visit"])
    z = client.experiments.analyze(summary, "control", treatments=["email"], alpha=0.1, test="z")
    assert [c.arm for c in z.comparisons] == ["email"]
    assert z.comparisons[0].absolute.degrees_of_freedom == float("inf")
    width = z.comparisons[0].absolute.ci_high - z.comparisons[0].absolute.ci_low
    assert width == pytest.approx(2 * stats.norm.ppf(0.95) * z.comparisons[0].absolute.standard_error)
    skewed = client.experiments.analyze(summary, "control", designed_split={"control": 8, "email": 1, "sms": 1})
    assert not skewed.srm.ok and skewed.srm.p_value < 1e-6
    flat = client.experiments.analyze(summary, "control").comparisons[0]
    shrunk = client.experiments.analyze(summary, "control", prior_sd=0.05).comparisons[0]
    assert flat.bayes_scale == "relative"
    assert flat.credible_ci_low == pytest.approx(flat.relative.estimate - stats.norm.ppf(0.975) * flat.relative.standard_error, rel=1e-9)
    assert shrunk.credible_ci_high - shrunk.credible_ci_low < flat.credible_ci_high - flat.credible_ci_low
    inverse = client.experiments.analyze(summary, "control", lower_is_better=["visit"]).comparisons[0]
    assert inverse.chance_to_beat_control == pytest.approx(1 - flat.chance_to_beat_control, rel=1e-9)


def test_segments_from_summaries_match_segment_effects(client: MDSClient, frame: pd.DataFrame) -> None:
    by_region = {r: ExperimentStats.from_frame(p, "arm", ["spend"]) for r, p in frame.groupby("region")}
    response = client.experiments.segments(by_region, "control", "email", "spend")
    local = segment_effects(frame, "arm", "control", "email", "spend", "region")
    assert [e.segment for e in response.effects] == ["north", "south"]
    for got, want in zip(response.effects, local, strict=True):
        assert got.ate == pytest.approx(want.ate, rel=1e-12)
        assert (got.ci_low, got.ci_high) == pytest.approx((want.ci_low, want.ci_high), rel=1e-12)


def _request(arms: list[pb.ArmSummary], control: str = "control", **kw: object) -> pb.AnalyzeRequest:
    return pb.AnalyzeRequest(control_arm=control, arms=arms, **kw)  # type: ignore[arg-type]


def test_bad_requests_name_the_field(client: MDSClient, frame: pd.DataFrame) -> None:
    arms = arms_to_proto(ExperimentStats.from_frame(frame, "arm", ["visit"]))
    by_name = {a.arm: a for a in arms}
    zero = pb.ArmSummary(arm="email", users=0)
    cases = [
        (_request(arms, "nobody"), "control_arm", "control arm 'nobody'"),
        (_request(arms, treatment_arms=["push"]), "treatment_arms[0]", "'push'"),
        (_request([by_name["control"]]), "arms", "only one arm"),
        (_request([by_name["control"], zero]), "arms[1].users", "arm 'email' has 0 users"),
        (_request([by_name["control"], pb.ArmSummary(arm="email", users=10, metrics=[
            pb.MetricSummary(metric="visit", sum=5, sum_squares=1)])]), "arms[1].metrics[0].sum_squares",
         "inconsistent"),
        (_request([by_name["control"], pb.ArmSummary(arm="email", users=10, metrics=[
            pb.MetricSummary(metric="visit", sum=float("nan"), sum_squares=1)])]), "arms[1].metrics[0]", "NaN"),
        (_request(arms, options=pb.AnalysisOptions(alpha=1.5)), "options.alpha", "alpha"),
        (_request([by_name["control"], pb.ArmSummary(arm="email", users=10, metrics=[
            pb.MetricSummary(metric="visit", count=1, sum=1, sum_squares=1)])]), "arms[1].metrics[0].count",
         "at least 2 users"),
    ]
    for request, field, words in cases:
        with pytest.raises(grpc.RpcError) as info:
            client.experiments.analyze_raw(request)
        code, got_field, description = first_violation(info.value)
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (field, info.value)
        assert got_field == field
        assert words in description
    # a metric the treatment arm lacks is named too
    missing = [by_name["control"], pb.ArmSummary(arm="email", users=10)]
    with pytest.raises(grpc.RpcError) as info:
        client.experiments.analyze_raw(_request(missing))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "arm 'email' has no statistics for metric(s) visit" in info.value.details()
