"""Computation allocation for the cascade (GreenFlow / DCAF / CRAS): a monotone reward estimator,
λ by bisection, the online primal-dual controller with Redis-shared state, the hindsight oracle
(Lagrangian and exact MILP) and the replay evaluation."""

from models.allocation._achievable import achievable_gain
from models.allocation._bench import bench_overhead
from models.allocation._context import (
    ALLOCATION_CONTEXT,
    NOVELTY_FEATURES,
    PROFILE_FEATURES,
    PROFILE_RANKS,
    ContextExtractor,
    request_context,
)
from models.allocation._controller import ControllerConfig, Decision, OnlineController
from models.allocation._estimator import (
    CHAIN_FEATURES,
    ESTIMATORS,
    GainEstimator,
    RewardEstimator,
    make_estimator,
)
from models.allocation._overhead import DecisionTimes, load_average, time_stats
from models.allocation._pipeline import (
    AllocationExperiment,
    chain_features,
    cross_fit,
    forward_fit,
    prepare_experiment,
    run_evaluation,
)
from models.allocation._plot import plot_reward_vs_compute
from models.allocation._policy import AllocationPolicy, fit_policy
from models.allocation._price import PriceFloor, price_floor
from models.allocation._replay import (
    BudgetResult,
    MilpCheck,
    TrafficStream,
    compute_saved,
    evaluate_budget,
    milp_check,
    simulate_traffic,
    window_usage,
)
from models.allocation._solver import Allocation, choose, lagrangian_allocation, milp_allocation, solve_lambda
from models.allocation._state import BudgetSnapshot, BudgetState, LocalBudgetState, RedisBudgetState
from models.allocation._summary import interval, summarize_replays
from models.allocation._world import taste_data, taste_requests
from models.allocation._writebehind import WriteBehindBudgetState

__all__ = [
    "ALLOCATION_CONTEXT", "NOVELTY_FEATURES", "PROFILE_FEATURES", "PROFILE_RANKS", "Allocation", "AllocationExperiment", "PriceFloor", "ContextExtractor",
    "price_floor", "request_context", "AllocationPolicy", "BudgetResult", "BudgetSnapshot", "BudgetState", "CHAIN_FEATURES", "ESTIMATORS", "GainEstimator",
    "ControllerConfig", "Decision", "LocalBudgetState", "MilpCheck", "OnlineController", "RedisBudgetState",
    "RewardEstimator", "TrafficStream", "chain_features", "achievable_gain", "choose", "compute_saved", "cross_fit", "forward_fit", "interval", "make_estimator", "evaluate_budget", "fit_policy",
    "lagrangian_allocation", "milp_allocation", "milp_check", "plot_reward_vs_compute", "prepare_experiment",
    "run_evaluation",
    "simulate_traffic", "solve_lambda", "summarize_replays", "taste_data", "taste_requests", "window_usage",
    "DecisionTimes", "WriteBehindBudgetState", "bench_overhead", "load_average", "time_stats",
]
