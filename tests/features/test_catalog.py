import pytest
from pydantic import ValidationError

from core.errors import InvalidArgument, UnknownFeature
from features.catalog import Catalog, DType, demo_catalog

REQUIRED = ["age", "gender", "city", "city_tier", "member_level", "registration_days", "device_os", "orders_30d",
            "gmv_30d", "gmv_180d", "last_purchase_days", "purchased_categories_90d", "favorite_category",
            "coupon_used_90d", "app_active_days_30d", "push_enabled", "has_credit_card_bound", "balance",
            "interests", "is_new_user"]


def _tiny(**overrides):
    spec = {
        "name": "tiny",
        "entities": {"user": {"key": "user_id"}},
        "groups": [{"name": "g", "entity": "user", "ttl_seconds": 60, "features": [
            {"name": "age", "dtype": "int", "range": [0, 120]},
            {"name": "tier", "dtype": "category", "values": ["a", "b"]},
        ]}],
    }
    spec.update(overrides)
    return spec


def test_demo_catalog_has_the_required_user_features():
    catalog = demo_catalog()
    users = {f.name: f for f in catalog.features_of("user")}
    assert set(REQUIRED) <= set(users)
    assert len(users) >= 25
    assert users["purchased_categories_90d"].dtype == DType.STRING_SET
    assert users["interests"].dtype == DType.STRING_SET
    assert {"shanghai", "beijing"} <= set(users["city"].values)
    assert {"baby", "beauty", "electronics"} <= set(users["favorite_category"].values)
    assert all(v == v.lower() for f in users.values() for v in (f.values or ()))
    assert users["age"].ttl_seconds == catalog.group_by_name[users["age"].group].ttl_seconds


def test_fingerprint_tracks_layout_not_descriptions():
    base = Catalog.model_validate(_tiny())
    reworded = _tiny()
    reworded["groups"][0]["features"][0]["description"] = "years since birth"
    assert Catalog.model_validate(reworded).fingerprint == base.fingerprint
    retyped = _tiny()
    retyped["groups"][0]["features"][1]["values"] = ["a", "b", "c"]
    assert Catalog.model_validate(retyped).fingerprint != base.fingerprint
    re_ttl = _tiny()
    re_ttl["groups"][0]["ttl_seconds"] = 61
    assert Catalog.model_validate(re_ttl).fingerprint != base.fingerprint


@pytest.mark.parametrize("bad", [
    {"groups": [{"name": "g", "entity": "shop", "ttl_seconds": 60, "features": [{"name": "x", "dtype": "int"}]}]},
    {"groups": [{"name": "g", "entity": "user", "ttl_seconds": 60, "features": [{"name": "x", "dtype": "category"}]}]},
    {"groups": [{"name": "g", "entity": "user", "ttl_seconds": 60,
                 "features": [{"name": "x", "dtype": "int"}, {"name": "x", "dtype": "float"}]}]},
    {"groups": [{"name": "g", "entity": "user", "ttl_seconds": 0, "features": [{"name": "x", "dtype": "int"}]}]},
    {"groups": [{"name": "g", "entity": "user", "ttl_seconds": 60,
                 "features": [{"name": "x", "dtype": "string_set", "values": [f"w{i}" for i in range(65)]}]}]},
])
def test_malformed_catalogs_are_rejected(bad):
    with pytest.raises(ValidationError):
        Catalog.model_validate(_tiny(**bad))


def test_resolve_names_the_bad_field():
    catalog = demo_catalog()
    with pytest.raises(UnknownFeature) as info:
        catalog.resolve("user", ["age", "nope"])
    assert info.value.field == "features[1]"
    with pytest.raises(InvalidArgument) as info:
        catalog.resolve("shop", ["age"])
    assert info.value.field == "entity"
