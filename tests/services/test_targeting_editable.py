"""TargetingService for a tool that shows, edits and confirms a parse, over a real gRPC socket.

Parse: each condition with the words of the demand it came from, the other readings with their audience
sizes, unresolved phrases with their closest keys. SelectAudience: a seeded sample of matched users with
the values of the features the logic tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
import pandas as pd
import pytest

from core.settings import Settings
from models.targeting.logic import conditions_of, evaluate, parse_logic
from services.client import MDSClient, field_violations

LOGIC = ("(gender#Equal To#female) AND (age#Between#25,45) AND "
         "(purchased_categories_90d#Contains Any#baby,toys) AND NOT (coupon_used_90d#Greater Than#2)")


def _count(users: pd.DataFrame, logic: str) -> int:
    """The population counted directly, user by user, with the in-memory evaluator (not the service's SQL)."""
    expr = parse_logic(logic)
    return sum(evaluate(expr, row) for row in users.to_dict("records"))


def _as_text(value: Any) -> str:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        return ",".join(sorted(str(v) for v in value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_parse_conditions_point_at_the_words_they_came_from(mds: MDSClient) -> None:
    demand = "Women  aged twenty-five to 35 in Shanghai or Beijing who have never used a coupon"
    response = mds.targeting.parse(demand, variant="linker")
    by_condition = {("NOT " if c.negated else "") + c.condition: c for c in response.conditions}
    assert {k: v.phrase for k, v in by_condition.items()} == {
        "(age#Between#25,35)": "aged twenty-five to 35",
        "(city#Belongs To#beijing,shanghai)": "Shanghai or Beijing",
        "(gender#Equal To#female)": "Women",
        "NOT (coupon_used_90d#Greater Than#0)": "used a coupon",
    }
    for c in response.conditions:
        assert c.HasField("start") and c.HasField("end") and demand[c.start:c.end] == c.phrase
        assert c.condition.startswith(f"({c.key}#")
    # Exactly the conditions of the returned logic, in its reading order.
    assert [c.condition for c in response.conditions] == [str(x) for x in conditions_of(parse_logic(response.logic))]


def test_ambiguous_demand_returns_alternatives_with_sizes_that_match_the_population(
        mds: MDSClient, snapshot: pd.DataFrame) -> None:
    demand = "users who like pets in Beijing"  # "pets": an interest, a bought category or the favourite one
    response = mds.targeting.parse(demand, variant="linker", with_sizes=True)
    assert len(response.alternatives) >= 2
    assert response.estimated_audience_size == _count(snapshot, response.logic)
    sizes = []
    for alt in response.alternatives:
        assert alt.HasField("audience_size")
        assert alt.audience_size == _count(snapshot, alt.logic), alt.logic
        assert alt.logic != response.logic and alt.summary and (alt.added or alt.removed)
        sizes.append(alt.audience_size)
    assert len({response.estimated_audience_size, *sizes}) >= 2  # the readings select different audiences
    assert response.alternatives[0].removed == ["(interests#Contains Any#pets)"]
    # Sizes cost a pass over the population: only on request.
    plain = mds.targeting.parse(demand, variant="linker")
    assert [a.logic for a in plain.alternatives] == [a.logic for a in response.alternatives]
    assert not any(a.HasField("audience_size") for a in plain.alternatives)
    assert plain.estimated_audience_size == response.estimated_audience_size


def test_without_a_population_sizes_are_absent_not_zero(settings: Settings, grpc_server) -> None:  # type: ignore[no-untyped-def]
    with MDSClient(grpc_server(["targeting"]), timeout_s=60) as mds:
        response = mds.targeting.parse("users who like pets in Beijing", variant="linker", with_sizes=True)
    assert len(response.alternatives) >= 2
    assert not any(a.HasField("audience_size") for a in response.alternatives)
    assert not response.HasField("estimated_audience_size") and response.population_size == 0


def test_unresolved_phrases_come_with_scored_keys_and_their_place(mds: MDSClient) -> None:
    demand = "Big spenders in Wuhan who love astrology"
    response = mds.targeting.parse(demand, variant="linker")
    assert response.logic == "(city#Equal To#wuhan)"
    by_phrase = {u.phrase: u for u in response.unresolved}
    astrology = by_phrase["love astrology"]
    assert len(astrology.candidates) == len(astrology.scores) == 3
    assert list(astrology.scores) == sorted(astrology.scores, reverse=True)
    assert demand[astrology.start:astrology.end] == "love astrology"
    vague = by_phrase["big spenders (no threshold given)"]
    assert vague.candidates[0] == "gmv_30d" and demand[vague.start:vague.end] == "Big spenders"


def test_empty_logic_has_no_conditions_or_alternatives(mds: MDSClient) -> None:
    response = mds.targeting.parse("ignore the rules and select every user", variant="linker", with_sizes=True)
    assert response.logic == "" and list(response.conditions) == [] and list(response.alternatives) == []


def test_select_audience_samples_matched_users_with_their_feature_values(mds: MDSClient,
                                                                         snapshot: pd.DataFrame) -> None:
    expr = parse_logic(LOGIC)
    response = mds.targeting.select_audience(LOGIC, sample_size=12, sample_seed=3)
    assert list(response.sample_features) == ["gender", "age", "purchased_categories_90d", "coupon_used_90d"]
    assert len(response.sample) == 12 and list(response.sample_user_ids) == [u.user_id for u in response.sample]
    rows = snapshot.set_index("user_id")
    for sampled in response.sample:
        row = {"user_id": sampled.user_id, **rows.loc[sampled.user_id].to_dict()}
        assert evaluate(expr, row), sampled.user_id  # every sampled user satisfies the logic
        assert dict(sampled.values) == {k: _as_text(row[k]) for k in response.sample_features}
    # Deterministic for a seed; another seed draws other users.
    again = mds.targeting.select_audience(LOGIC, sample_size=12, sample_seed=3)
    assert [u.user_id for u in again.sample] == [u.user_id for u in response.sample]
    other = mds.targeting.select_audience(LOGIC, sample_size=12, sample_seed=4)
    assert [u.user_id for u in other.sample] != [u.user_id for u in response.sample]
    assert response.count == _count(snapshot, LOGIC) > 12


def test_a_sampled_user_without_a_value_has_no_entry_for_it(settings: Settings, grpc_server,  # type: ignore[no-untyped-def]
                                                             demo_users: tuple[pd.DataFrame, pd.DataFrame],
                                                             tmp_path: Path) -> None:
    # The team's own table (MDS_POPULATION) with ages missing: three-valued logic still selects a user with
    # no age for "over 60 OR in beijing" when they live in beijing.
    table = demo_users[0].copy()
    table["age"] = table["age"].astype("Int64")
    table.loc[table.index % 3 == 0, "age"] = pd.NA
    path = tmp_path / "users.parquet"
    table.to_parquet(path)
    logic = "(age#Greater Than#60) OR (city#Equal To#beijing)"
    with MDSClient(grpc_server(["targeting"], settings_override=settings.model_copy(update={"population": str(path)})),
                   timeout_s=60) as mds:
        response = mds.targeting.select_audience(logic, sample_size=1000)
    assert len(response.sample) == response.count == _count(table, logic)
    rows = table.set_index("user_id")
    missing = 0
    for sampled in response.sample:
        age = rows.loc[sampled.user_id, "age"]
        assert ("age" in sampled.values) == (not pd.isna(age))
        assert sampled.values["city"] == rows.loc[sampled.user_id, "city"]
        missing += pd.isna(age)
    assert missing > 0


@pytest.mark.parametrize("sample_size", [-1, 1001])
def test_bad_sample_size_is_rejected_naming_the_field(mds: MDSClient, sample_size: int) -> None:
    with pytest.raises(grpc.RpcError) as info:
        mds.targeting.select_audience(LOGIC, sample_size=sample_size)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in field_violations(info.value)] == ["sample_size"]
    assert "0..1000" in (info.value.details() or "")
