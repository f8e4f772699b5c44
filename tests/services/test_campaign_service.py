"""CampaignService over a real gRPC socket: a seeded demo world in Redis, the demo model in the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import numpy as np
import pandas as pd
import pytest

from core.settings import Settings
from features.demo_world import demo_catalog, demo_dir
from mds.campaign.v1 import campaign_pb2 as pb
from services.client import MDSClient, field_violations


@pytest.fixture
def client(seeded_settings: Settings, grpc_server: Callable[..., str]) -> Iterator[MDSClient]:
    from models.uplift.demo import ensure_demo_model

    ensure_demo_model(seeded_settings, demo_catalog(), users=2_000, n_estimators=40)
    mds = MDSClient(grpc_server(["campaign"], settings_override=seeded_settings), timeout_s=60.0)
    yield mds
    mds.close()


def _invalid(call: Callable[[], object]) -> str:
    with pytest.raises(grpc.RpcError) as err:
        call()
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    found = field_violations(err.value)
    return found[0].field if found else ""


def _outcomes(settings: Settings, export: pd.DataFrame, seed: int = 0) -> list[tuple[str, str, float, float]]:
    truth = pd.read_parquet(demo_dir(settings) / "truth.parquet").set_index("user_id")
    treated = (export["group"] == "treated").to_numpy()
    p = np.where(treated, truth.loc[export["user_id"], "p_treated"], truth.loc[export["user_id"], "p_control"])
    converted = (np.random.default_rng(seed).random(len(export)) < p).astype(float)
    return [(u, g, c, 9.5 * c) for u, g, c in zip(export["user_id"], export["group"], converted, strict=True)]


def test_plan_launch_record_readout_learn_over_grpc(client: MDSClient, seeded_settings: Settings):
    planned = client.campaign.plan(model="coupon", logic="(age#Between#18, 70)", max_users=800,
                                   holdout_share=0.3, seed=4, name="spring coupons", sample_size=5)
    c = planned.campaign
    assert c.status == pb.CAMPAIGN_STATUS_DRAFT and c.treated_count == 800 and c.name == "spring coupons"
    assert [u.rank for u in planned.top_treated] == [1, 2, 3, 4, 5]
    uplifts = [u.uplift for u in planned.top_treated]
    assert uplifts == sorted(uplifts, reverse=True)
    assert client.campaign.get(c.campaign_id) == c
    assert [x.campaign_id for x in client.campaign.list().campaigns] == [c.campaign_id]

    delivery = client.campaign.export(c.campaign_id)
    assert len(delivery) == 800 and set(delivery["group"]) == {"treated"}
    assert delivery["user_id"].iloc[0] == planned.top_treated[0].user_id
    everyone = client.campaign.export(c.campaign_id, include_holdout=True)
    assert len(everyone) == c.treated_count + c.holdout_count

    with pytest.raises(grpc.RpcError) as err:  # a draft takes no outcomes
        client.campaign.record_outcomes(c.campaign_id, [(delivery["user_id"].iloc[0], "treated", 1.0, 1.0)])
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert client.campaign.launch(c.campaign_id).status == pb.CAMPAIGN_STATUS_LAUNCHED
    with pytest.raises(grpc.RpcError) as err:
        client.campaign.discard(c.campaign_id)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    empty = client.campaign.readout(c.campaign_id)
    assert not empty.has_outcomes and "no outcomes" in empty.message

    records = _outcomes(seeded_settings, everyone)
    sent = client.campaign.record_outcomes(c.campaign_id, [*records, ("u9999998", "treated", 1.0, 0.0)], batch=300)
    assert (sent.received, sent.recorded, sent.replaced, sent.outside_campaign) == \
        (len(records) + 1, len(records), 0, 1)
    assert list(sent.outside_sample) == ["u9999998"]
    again = client.campaign.record_outcomes(c.campaign_id, records[:10])
    assert (again.recorded, again.replaced) == (10, 10)  # idempotent: replaced, not added

    r = client.campaign.readout(c.campaign_id, include_report=True)
    assert r.has_outcomes and r.srm_ok and r.outside_outcomes == 1
    assert r.treated_outcomes == 800 and r.twin_outcomes == c.twin_count
    lift = next(x for x in r.lifts if x.metric == "outcome")
    assert lift.ci_low < lift.estimate < lift.ci_high
    assert r.realized_incremental == pytest.approx(lift.estimate * 800)
    assert r.deciles and r.report_png[:4] == b"\x89PNG"
    assert any("outside the campaign" in w for w in r.warnings)

    learned = client.campaign.learn(c.campaign_id, seed=2)
    assert learned.new_version == learned.previous_version + 1 and learned.model == "coupon"
    assert learned.test_rows > 0 and "held-out" in learned.summary


@pytest.mark.parametrize("kwargs, field", [
    ({"model": "nope"}, "model"),
    ({"logic": "(age#Between#18"}, "logic"),
    ({"holdout_share": 0.75}, "holdout_share"),
    ({"holdout_share": 0.0}, "holdout_share"),
    ({"max_users": 0}, "max_users"),
    ({"max_users": None, "max_cost": -5.0}, "max_cost"),
    ({"max_users": None}, "budget"),
    ({"logic": "", "demand": "what's the weather in Hangzhou?"}, "demand"),
])
def test_bad_plans_are_invalid_argument_naming_the_field_and_store_nothing(client: MDSClient, kwargs, field):
    base = {"model": "coupon", "logic": "(age#Between#18, 70)", "max_users": 100, "holdout_share": 0.2}
    base.update(kwargs)
    got = _invalid(lambda: client.campaign.plan(**base))
    assert got == field or got.startswith(field + ".")
    assert client.campaign.list().total == 0


def test_bad_outcomes_name_the_record_and_unknown_campaigns_are_not_found(client: MDSClient):
    c = client.campaign.plan(model="coupon", logic="(age#Between#18, 70)", max_users=50, holdout_share=0.2).campaign
    client.campaign.launch(c.campaign_id)
    user = client.campaign.export(c.campaign_id)["user_id"].iloc[0]
    assert _invalid(lambda: client.campaign.record_outcomes(
        c.campaign_id, [(user, "treated", 1.0, 0.0), (user, "control", 1.0, 0.0)])) == "outcomes[1].group"
    assert _invalid(lambda: client.campaign.record_outcomes(
        c.campaign_id, [(user, "treated", float("nan"), 0.0)])) == "outcomes[0].outcome"
    assert _invalid(lambda: client.campaign.record_outcomes("", [(user, "treated", 1.0, 0.0)])) == "campaign_id"
    with pytest.raises(grpc.RpcError) as err:
        client.campaign.get("cmp-000000000000")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert client.campaign.readout(c.campaign_id).has_outcomes is False  # the bad batches stored nothing


def test_streamed_outcomes_need_a_token_when_auth_is_on(seeded_settings: Settings, grpc_server):
    from pydantic import SecretStr

    locked = seeded_settings.model_copy(update={"auth_tokens": [SecretStr("s3cret")]})
    address = grpc_server(["campaign"], settings_override=locked)
    with MDSClient(address, timeout_s=10.0) as anonymous, pytest.raises(grpc.RpcError) as err:
        anonymous.campaign.record_outcomes("cmp-000000000000", [("u0000001", "treated", 1.0, 0.0)])
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with MDSClient(address, token="s3cret", timeout_s=10.0) as member, pytest.raises(grpc.RpcError) as err:
        member.campaign.record_outcomes("cmp-000000000000", [("u0000001", "treated", 1.0, 0.0)])
    assert err.value.code() == grpc.StatusCode.NOT_FOUND  # past auth, the domain error is mapped
