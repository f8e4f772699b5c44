"""Deterministic synthetic user population with a known individual response to a coupon.

Features are drawn with realistic dependencies (age drives income and children, tier-1 cities are
beijing/shanghai/guangzhou/shenzhen, spend follows orders, ...). The coupon's effect on the
probability of converting is heterogeneous and known exactly, so uplift models are checked
against the truth instead of against noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.catalog import Catalog

__all__ = ["generate_users", "TIER_BY_CITY"]

TIER_BY_CITY: dict[str, int] = {
    "beijing": 1, "shanghai": 1, "guangzhou": 1, "shenzhen": 1,
    "hangzhou": 2, "chengdu": 2, "wuhan": 2, "nanjing": 2, "xian": 2, "chongqing": 2, "suzhou": 2,
    "tianjin": 2, "changsha": 3, "zhengzhou": 3, "qingdao": 3, "kunming": 3, "xiamen": 3,
    "hefei": 3, "harbin": 4, "lanzhou": 4,
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _choice(rng: np.random.Generator, values: tuple[str, ...], n: int, p: list[float] | None = None) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=p)]


def _bitmask_sets(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """Draw one set per row: ``probs`` is (n, vocab) of inclusion probabilities → uint64 bitmasks."""
    draws = rng.random(probs.shape) < probs
    weights = (np.uint64(1) << np.arange(probs.shape[1], dtype=np.uint64))
    return (draws.astype(np.uint64) * weights).sum(axis=1).astype(np.uint64)


def _masks_to_lists(masks: np.ndarray, vocab: tuple[str, ...]) -> list[list[str]]:
    bits = ((masks[:, None] >> np.arange(len(vocab), dtype=np.uint64)) & np.uint64(1)).astype(bool)
    words = np.asarray(vocab, dtype=object)
    return [list(words[row]) for row in bits]


def generate_users(catalog: Catalog, n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(users, truth)``.

    ``users`` has ``user_id`` plus every user feature of the demo catalog. ``truth`` has, per user,
    ``p_control`` and ``p_treated`` (probability of converting without and with the coupon) and
    ``true_uplift`` = p_treated - p_control, plus one simulated randomized coupon experiment
    (``treatment`` 0/1 at 50%, ``converted`` 0/1 drawn from the matching probability).
    """
    if n <= 0:
        raise ValueError("n must be positive")
    rng = np.random.default_rng(seed)
    f = catalog.features
    cats = f["favorite_category"].values or ()
    cities = f["city"].values or ()

    age = np.clip(rng.gamma(9.0, 4.0, n) + 14, 18, 80).astype(np.int64)
    gender = _choice(rng, ("female", "male"), n, [0.54, 0.46])
    city_weights = np.array([9, 9, 7, 7] + [4] * 8 + [2.5] * 6 + [1.5] * 2, dtype=float)[: len(cities)]
    city = _choice(rng, cities, n, list(city_weights / city_weights.sum()))
    city_tier = np.array([TIER_BY_CITY.get(c, 3) for c in city], dtype=np.int64)
    registration_days = np.minimum(rng.exponential(700, n), 5000).astype(np.int64)
    is_new_user = registration_days < 30
    married_p = _sigmoid((age - 30) / 4.0) * 0.85
    u = rng.random(n)
    marital_status = np.where(u < married_p, "married", np.where(u < married_p + 0.06, "divorced", "single")).astype(object)
    has_children = rng.random(n) < np.where(marital_status == "married", 0.75, 0.08)
    occupation = np.where(
        age < 23, "student", np.where(age > 62, "retired", _choice(rng, (
            "office_worker", "freelancer", "business_owner", "civil_servant", "teacher", "engineer"), n,
            [0.38, 0.14, 0.1, 0.12, 0.1, 0.16]))).astype(object)
    income_score = 0.6 * (4 - city_tier) + 0.03 * np.minimum(age - 22, 25) + rng.normal(0, 0.8, n)
    income_level = np.where(income_score > 2.4, "high", np.where(income_score > 1.0, "medium", "low")).astype(object)
    education = _choice(rng, ("high_school", "bachelor", "master", "doctorate"), n, [0.35, 0.45, 0.16, 0.04])
    device_os = np.where(
        rng.random(n) < np.where(income_level == "high", 0.6, 0.3), "ios",
        np.where(rng.random(n) < 0.2, "harmonyos", "android")).astype(object)
    member_idx = np.clip(
        (registration_days / 600 + (income_level == "high") * 1.2 + rng.normal(0, 0.8, n)).astype(int), 0, 4)
    member_level = np.asarray(("regular", "silver", "gold", "platinum", "diamond"), dtype=object)[member_idx]

    activity = rng.gamma(1.5, 1.0, n) * (1 + 0.3 * (income_level == "high"))
    app_active_days_30d = np.clip(rng.poisson(activity * 6), 0, 30).astype(np.int64)
    sessions_7d = np.clip(rng.poisson(activity * 5 + 0.5), 0, 500).astype(np.int64)
    orders_30d = np.clip(rng.poisson(activity * 1.8), 0, 200).astype(np.int64)
    avg_order_value = np.clip(rng.lognormal(np.log(120) + 0.4 * (income_level == "high"), 0.6, n), 5, 20000)
    gmv_30d = np.round(orders_30d * avg_order_value * rng.uniform(0.7, 1.3, n), 2)
    gmv_180d = np.round(gmv_30d * rng.uniform(3.0, 7.0, n) + rng.exponential(200, n), 2)
    last_purchase_days = np.where(orders_30d > 0, rng.integers(0, 30, n),
                                  np.minimum(30 + rng.exponential(120, n), 3650)).astype(np.int64)
    last_login_days = np.where(app_active_days_30d > 0, rng.integers(0, 7, n),
                               np.minimum(30 + rng.exponential(60, n), 3650)).astype(np.int64)
    cart_items = np.clip(rng.poisson(activity * 1.2), 0, 100).astype(np.int64)
    page_views_7d = np.clip(rng.poisson(activity * 25), 0, 5000).astype(np.int64)
    search_count_7d = np.clip(rng.poisson(activity * 6), 0, 1000).astype(np.int64)
    refund_count_90d = np.clip(rng.poisson(orders_30d * 0.08), 0, 50).astype(np.int64)
    coupon_used_90d = np.clip(rng.poisson(orders_30d * 0.5 + 0.3), 0, 100).astype(np.int64)
    push_enabled = rng.random(n) < 0.62
    live_stream_views_30d = np.clip(rng.poisson(activity * 2 * (gender == "female") + 0.3), 0, 500).astype(np.int64)
    reviews_written_90d = np.clip(rng.poisson(orders_30d * 0.15), 0, 100).astype(np.int64)

    # Category affinities: parents buy baby goods and toys; women beauty and clothing; men digital.
    cat_p = np.full((n, len(cats)), 0.06)
    idx = {c: i for i, c in enumerate(cats)}
    cat_p[:, idx["baby"]] += 0.45 * has_children
    cat_p[:, idx["toys"]] += 0.3 * has_children
    cat_p[:, idx["beauty"]] += 0.35 * (gender == "female")
    cat_p[:, idx["clothing"]] += 0.2
    cat_p[:, idx["digital"]] += 0.2 * (gender == "male")
    cat_p[:, idx["electronics"]] += 0.15 * (gender == "male") + 0.05
    cat_p[:, idx["food"]] += 0.25
    cat_p *= np.clip(orders_30d / 3.0, 0.05, 1.6)[:, None]
    purchased_mask = _bitmask_sets(rng, np.clip(cat_p, 0, 0.95))
    favorite_category = np.asarray(cats, dtype=object)[np.argmax(cat_p + rng.gumbel(0, 0.08, cat_p.shape), axis=1)]

    interest_vocab = f["interests"].values or ()
    ip = np.full((n, len(interest_vocab)), 0.12)
    iidx = {c: i for i, c in enumerate(interest_vocab)}
    ip[:, iidx["parenting"]] += 0.5 * has_children
    ip[:, iidx["fashion"]] += 0.25 * (gender == "female")
    ip[:, iidx["gaming"]] += 0.3 * (age < 30)
    ip[:, iidx["tech"]] += 0.2 * (gender == "male")
    ip[:, iidx["finance"]] += 0.2 * (income_level == "high")
    ip[:, iidx["travel"]] += 0.15 * (income_level != "low")
    interests_mask = _bitmask_sets(rng, np.clip(ip, 0, 0.95))

    has_credit_card_bound = rng.random(n) < np.where(income_level == "low", 0.35, 0.7)
    balance = np.round(np.minimum(rng.lognormal(np.log(800) + 0.8 * (income_level == "high"), 1.2, n), 1e6), 2)
    credit_score = np.clip(rng.normal(620 + 60 * (income_level == "high") + 2 * np.minimum(age - 18, 30), 70, n),
                           350, 950).astype(np.int64)
    has_loan = rng.random(n) < 0.18 + 0.1 * (marital_status == "married")
    wealth_product_holder = rng.random(n) < np.where(income_level == "high", 0.45, 0.12)
    installment_used_90d = np.clip(rng.poisson(0.6 + 1.2 * (age < 30)), 0, 50).astype(np.int64)
    insurance_holder = rng.random(n) < 0.15 + 0.2 * has_children
    preferred_channel = _choice(rng, ("push", "sms", "email", "in_app"), n, [0.35, 0.2, 0.15, 0.3])
    sens_score = (income_level == "low") * 1.0 - (income_level == "high") * 0.8 + coupon_used_90d * 0.25 + rng.normal(0, 0.6, n)
    price_sensitivity = np.where(sens_score > 1.0, "high", np.where(sens_score > 0.0, "medium", "low")).astype(object)
    churn_risk = np.round(_sigmoid(-2.0 + last_login_days / 30.0 - app_active_days_30d / 10.0 + rng.normal(0, 0.5, n)), 4)

    users = pd.DataFrame({
        "user_id": np.char.add("u", np.char.zfill(np.arange(n).astype(str), 7)).astype(object),
        "age": age, "gender": gender, "city": city, "city_tier": city_tier, "member_level": member_level,
        "registration_days": registration_days, "device_os": device_os, "is_new_user": is_new_user,
        "marital_status": marital_status, "has_children": has_children, "occupation": occupation,
        "income_level": income_level, "education": education,
        "orders_30d": orders_30d, "gmv_30d": gmv_30d, "gmv_180d": gmv_180d,
        "last_purchase_days": last_purchase_days,
        "purchased_categories_90d": _masks_to_lists(purchased_mask, cats),
        "favorite_category": favorite_category, "coupon_used_90d": coupon_used_90d,
        "app_active_days_30d": app_active_days_30d, "push_enabled": push_enabled, "cart_items": cart_items,
        "page_views_7d": page_views_7d, "avg_order_value": np.round(avg_order_value, 2),
        "refund_count_90d": refund_count_90d, "sessions_7d": sessions_7d, "last_login_days": last_login_days,
        "has_credit_card_bound": has_credit_card_bound, "balance": balance, "credit_score": credit_score,
        "has_loan": has_loan, "wealth_product_holder": wealth_product_holder,
        "installment_used_90d": installment_used_90d, "insurance_holder": insurance_holder,
        "interests": _masks_to_lists(interests_mask, interest_vocab), "preferred_channel": preferred_channel,
        "price_sensitivity": price_sensitivity, "churn_risk": churn_risk,
        "live_stream_views_30d": live_stream_views_30d, "reviews_written_90d": reviews_written_90d,
        "search_count_7d": search_count_7d,
    })
    expected = [feat.name for feat in catalog.features_of("user")]
    missing = set(expected) - set(users.columns)
    assert not missing, f"generator is missing catalog features {sorted(missing)}"
    users = users[["user_id", *expected]]

    # Known response to a coupon. Baseline: active, recent buyers convert more. Uplift: price-sensitive,
    # coupon-using, lapsing and new users respond; high earners and very loyal members barely do.
    base_logit = (-2.6 + 0.25 * np.log1p(orders_30d) + 0.06 * app_active_days_30d - 0.004 * np.minimum(last_purchase_days, 365)
                  + 0.3 * push_enabled + 0.2 * (member_idx >= 2))
    effect = (0.05 + 0.55 * (price_sensitivity == "high") + 0.25 * (price_sensitivity == "medium")
              + 0.12 * np.minimum(coupon_used_90d, 4) + 0.35 * is_new_user
              + 0.3 * ((last_purchase_days > 30) & (last_purchase_days < 180))
              - 0.45 * (income_level == "high") - 0.25 * (member_idx >= 3) + 0.2 * has_children)
    p_control = _sigmoid(base_logit)
    p_treated = _sigmoid(base_logit + effect)
    treatment = (rng.random(n) < 0.5).astype(np.int8)
    converted = (rng.random(n) < np.where(treatment == 1, p_treated, p_control)).astype(np.int8)
    truth = pd.DataFrame({
        "user_id": users["user_id"], "p_control": p_control, "p_treated": p_treated,
        "true_uplift": p_treated - p_control, "treatment": treatment, "converted": converted,
    })
    return users, truth


def set_bitmask(values: list[str] | tuple[str, ...] | None, vocab_index: dict[str, int]) -> int:
    """Bitmask of a set of words (helper for callers holding Python lists)."""
    mask = 0
    for v in values or ():
        mask |= 1 << vocab_index[v]
    return mask


