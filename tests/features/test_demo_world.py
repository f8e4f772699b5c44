import numpy as np
from scipy.stats import spearmanr

from features.catalog import demo_catalog
from features.demo_world import TIER_BY_CITY, generate_users, seed
from features.store import open_store


def test_generator_is_deterministic_and_matches_the_catalog():
    catalog = demo_catalog()
    a_users, a_truth = generate_users(catalog, 3_000, seed=3)
    b_users, b_truth = generate_users(catalog, 3_000, seed=3)
    c_users, _ = generate_users(catalog, 3_000, seed=4)
    assert a_users.equals(b_users) and a_truth.equals(b_truth)
    assert not a_users["age"].equals(c_users["age"])
    assert list(a_users.columns) == ["user_id", *[f.name for f in catalog.features_of("user")]]
    assert (a_users["city"].map(TIER_BY_CITY) == a_users["city_tier"]).all()


def test_true_uplift_is_heterogeneous_and_drives_the_simulated_experiment():
    users, truth = generate_users(demo_catalog(), 20_000, seed=0)
    assert np.allclose(truth["true_uplift"], truth["p_treated"] - truth["p_control"])
    by_sensitivity = truth.groupby(users["price_sensitivity"])["true_uplift"].mean()
    assert by_sensitivity["high"] > by_sensitivity["medium"] > by_sensitivity["low"]
    treated = truth["treatment"] == 1
    observed_ate = truth.loc[treated, "converted"].mean() - truth.loc[~treated, "converted"].mean()
    assert abs(observed_ate - truth["true_uplift"].mean()) < 0.02
    rho = spearmanr(truth["true_uplift"], users["coupon_used_90d"]).statistic
    assert rho > 0.1


def test_seed_writes_snapshot_and_loads_redis(settings):
    result = seed(settings, users=500, seed=1, progress=False)
    assert result.users_path.exists() and result.truth_path.exists() and result.loaded == 500
    batch = open_store(settings, demo_catalog()).read("user", ["u0000000", "u0000499", "u0000500"], ["age"])
    assert batch.found.tolist() == [True, True, False]
