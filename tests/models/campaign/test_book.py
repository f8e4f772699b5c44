"""The campaign book over a real Redis and a real registered model: plan, launch, outcomes, read-out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.errors import FailedPrecondition, InvalidArgument, NotFound
from core.settings import Settings
from features.catalog import demo_catalog
from features.demo_world import demo_dir
from models.campaign import Budget, CampaignBook, Outcome, PlanSpec, readout_png


def _book(settings: Settings) -> CampaignBook:
    return CampaignBook.open(settings, demo_catalog())


def _spec(**overrides) -> PlanSpec:
    base = dict(model="coupon", budget=Budget(max_users=300), holdout_share=0.2, seed=11,
                logic="(age#Between#18, 60)")
    base.update(overrides)
    return PlanSpec(**base)


def _simulated_outcomes(settings: Settings, book: CampaignBook, campaign_id: str, seed: int = 0) -> list[Outcome]:
    """Each member converts with the demo world's known probability for the arm the plan gave them."""
    truth = pd.read_parquet(demo_dir(settings) / "truth.parquet").set_index("user_id")
    members = book.members(campaign_id)
    rng = np.random.default_rng(seed)
    p = np.where(members.treated, truth.loc[members.user_id, "p_treated"], truth.loc[members.user_id, "p_control"])
    converted = (rng.random(len(members)) < p).astype(float)
    return [Outcome(u, "treated" if t else "holdout", c, 20.0 * c)
            for u, t, c in zip(members.user_id, members.treated, converted, strict=True)]


def test_plan_is_stored_and_read_back(campaign_settings: Settings):
    book = _book(campaign_settings)
    plan, members = book.plan(_spec())
    assert plan.status == "draft" and plan.treated_count == 300
    assert plan.unscored_count == 0 and plan.eligible_count > len(members)
    assert plan.holdout_count > 0 and plan.twin_count == 75  # 300 * 0.2 / 0.8
    assert plan.expected_ci_low < plan.expected_incremental < plan.expected_ci_high
    fresh = _book(campaign_settings)  # another process: everything comes from Redis
    assert fresh.get(plan.campaign_id) == plan
    again = fresh.members(plan.campaign_id)
    assert list(again.user_id) == list(members.user_id)
    listed, total = fresh.list()
    assert total == 1 and listed[0].campaign_id == plan.campaign_id
    export = fresh.export(plan.campaign_id)
    assert len(export) == 300 and (export["group"] == "treated").all()
    assert export["rank"].tolist() == list(range(1, 301))
    assert np.all(np.diff(export["uplift"].to_numpy()) <= 0)


def test_demand_in_plain_english_selects_the_same_audience_as_its_logic(campaign_settings: Settings):
    book = _book(campaign_settings)
    plan, _ = book.plan(_spec(logic="", demand="female users in beijing"))
    assert "female" in plan.logic and "beijing" in plan.logic
    same, _ = book.plan(_spec(logic=plan.logic))
    assert same.eligible_count == plan.eligible_count


@pytest.mark.parametrize("overrides, field", [
    ({"model": "no_such_model"}, "model"),
    ({"logic": "(age#Between#18"}, "logic"),
    ({"logic": "(shoe_size#Greater Than#3)"}, "logic"),
    ({"holdout_share": 0.6}, "holdout_share"),
    ({"holdout_share": 0.0}, "holdout_share"),
    ({"logic": "", "demand": ""}, "demand"),
    ({"cost_feature": "city"}, "cost_feature"),
])
def test_bad_plans_name_the_field_and_store_nothing(campaign_settings: Settings, overrides, field):
    book = _book(campaign_settings)
    with pytest.raises(InvalidArgument) as err:
        book.plan(_spec(**overrides))
    assert err.value.field == field or err.value.field.startswith(field + ".")
    assert book.list() == ([], 0)


def test_outcomes_need_a_launch_replace_per_user_and_count_outsiders(campaign_settings: Settings):
    book = _book(campaign_settings)
    plan, members = book.plan(_spec())
    first = Outcome(str(members.user_id[0]), "treated", 1.0, 5.0)
    with pytest.raises(FailedPrecondition):
        book.record(plan.campaign_id, [first])
    assert book.launch(plan.campaign_id).status == "launched"
    launched_at = book.get(plan.campaign_id).launched_at
    assert book.launch(plan.campaign_id).launched_at == launched_at  # idempotent
    with pytest.raises(FailedPrecondition):
        book.discard(plan.campaign_id)
    summary = book.record(plan.campaign_id, [first, Outcome("u9999999", "treated", 1.0)])
    assert (summary.recorded, summary.replaced, summary.outside) == (1, 0, 1)
    assert summary.outside_sample == ["u9999999"]
    again = book.record(plan.campaign_id, [Outcome(first.user_id, "treated", 0.0, 0.0)])
    assert (again.recorded, again.replaced) == (1, 1)
    assert book.campaigns.outcomes(plan.campaign_id)[first.user_id].startswith("treated,0.0")
    with pytest.raises(InvalidArgument) as err:
        book.record(plan.campaign_id, [first, Outcome(first.user_id, "control", 1.0)])
    assert err.value.field == "outcomes[1].group"


def test_readout_measures_the_lift_and_flags_what_is_wrong(campaign_settings: Settings):
    book = _book(campaign_settings)
    plan, _ = book.plan(_spec(budget=Budget(max_users=900), holdout_share=0.3))
    book.launch(plan.campaign_id)
    empty = book.readout(plan.campaign_id)
    assert not empty.has_outcomes and "no outcomes" in empty.message
    outcomes = _simulated_outcomes(campaign_settings, book, plan.campaign_id)
    book.record(plan.campaign_id, outcomes)
    r = book.readout(plan.campaign_id)
    lift = r.lift("outcome")
    assert r.has_outcomes and r.srm_ok and lift is not None
    assert r.treated_outcomes == plan.treated_count and r.twin_outcomes == plan.twin_count
    assert lift.ci_low < lift.estimate < lift.ci_high
    assert lift.always_valid_p_value >= lift.p_value  # the sequential p-value pays for peeking
    assert r.realized_incremental == pytest.approx(lift.estimate * plan.treated_count)
    assert r.bins and sum(b.treated for b in r.bins) == r.treated_outcomes
    png = readout_png(r)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # Lose most of the holdout twin's outcomes: the recorded split no longer matches the plan.
    skewed = _book(campaign_settings)
    plan2, _ = skewed.plan(_spec(budget=Budget(max_users=900), holdout_share=0.3))
    skewed.launch(plan2.campaign_id)
    twin2 = set(skewed.members(plan2.campaign_id).user_id[skewed.members(plan2.campaign_id).twin])
    members2 = skewed.members(plan2.campaign_id)
    skewed.record(plan2.campaign_id, [
        Outcome(u, "treated" if t else "holdout", 0.0) for u, t in zip(members2.user_id, members2.treated, strict=True)
        if u not in twin2 or int(u[1:]) % 5 == 0])
    bad = skewed.readout(plan2.campaign_id)
    assert not bad.srm_ok and any("SAMPLE RATIO MISMATCH" in w for w in bad.warnings)


def test_discarding_a_draft_removes_it(campaign_settings: Settings):
    book = _book(campaign_settings)
    plan, _ = book.plan(_spec())
    book.discard(plan.campaign_id)
    with pytest.raises(NotFound):
        book.get(plan.campaign_id)


def test_learning_registers_a_new_version_compared_on_held_out_campaign_rows(campaign_settings: Settings):
    book = _book(campaign_settings)
    plan, _ = book.plan(_spec(logic="(age#Between#18, 70)", budget=Budget(max_users=1_000), holdout_share=0.5))
    book.launch(plan.campaign_id)
    with pytest.raises(FailedPrecondition):
        book.learn(plan.campaign_id)  # no outcomes yet
    book.record(plan.campaign_id, _simulated_outcomes(campaign_settings, book, plan.campaign_id, seed=3))
    result = book.learn(plan.campaign_id, seed=1)
    assert result.new_version == result.previous_version + 1
    assert result.train_rows > result.test_rows > 0 and result.bags >= 5
    manifest = book.registry.manifest("coupon", result.new_version)
    assert manifest.notes["campaign_id"] == plan.campaign_id
    assert np.isfinite(result.new_decile_error) and np.isfinite(result.previous_decile_error)
    assert "held-out campaign rows" in result.summary
    # The new version plans like any other.
    again, _ = book.plan(_spec(model_version=result.new_version))
    assert again.model_version == result.new_version


def test_cost_budget_with_a_cost_feature_stays_within_budget(campaign_settings: Settings):
    book = _book(campaign_settings)
    plan, members = book.plan(_spec(budget=Budget(max_cost=20_000.0), cost_feature="avg_order_value"))
    treated = members.treated
    assert plan.total_cost <= 20_000.0 and plan.total_cost == pytest.approx(float(members.cost[treated].sum()))
    assert (members.cost > 0).all() and plan.max_cost == 20_000.0 and plan.max_users is None
    # Users are bought by uplift per unit cost: the treated are cheaper per unit of uplift than the rest.
    ratio = members.uplift / members.cost
    pool = ~members.treated & ~members.twin & (members.uplift > 0)
    if pool.any():
        assert np.median(ratio[treated]) > np.median(ratio[pool])


def test_eligible_users_without_cached_features_are_counted_not_planned(campaign_settings: Settings):
    book = _book(campaign_settings)
    first, members = book.plan(_spec())
    gone = [str(u) for u in members.user_id[:7]]
    book.features.client.delete(*[book.features.key("user", u) for u in gone])
    again, members_after = book.plan(_spec())
    assert again.unscored_count == 7 and again.eligible_count == first.eligible_count
    assert not set(gone) & set(members_after.user_id.tolist())
