"""Campaigns: from a demand to a budgeted, uplift-ranked audience with a holdout, and from the outcomes
back to a better model.

:class:`CampaignBook` plans (targeting's audience, uplift's ranking and budgeted selection, a
stratified randomized holdout), stores plans in Redis, records outcomes, and reads campaigns out with
the experiments engine; :func:`learn_from_campaign` turns a read-out into bag labels for the
bag-regularized learner; :func:`simulate_hillstrom` replays the whole loop on the Hillstrom experiment.
"""

from models.campaign._bench import PlanBench, bench_plan
from models.campaign._campaigns import STATUSES, CampaignBook, CampaignPlan, PlanSpec
from models.campaign._fast_trees import compile_uplift_predictor
from models.campaign._learn import (
    LearnResult,
    bin_bag_labels,
    calibration_error,
    fit_with_bags,
    learn_from_rows,
)
from models.campaign._outcomes import GROUPS, Outcome, RecordSummary
from models.campaign._plan import Budget, CampaignMembers, MemberDraw, check_holdout_share, draw_members
from models.campaign._readout import BinLift, Lift, Readout, read_out
from models.campaign._replay import (
    RegionScore,
    ReplayConfig,
    ReplayResult,
    RoundResult,
    load_hillstrom,
    score_region,
    simulate_hillstrom,
)
from models.campaign._report import readout_png

__all__ = [
    "GROUPS",
    "STATUSES",
    "BinLift",
    "Budget",
    "CampaignBook",
    "CampaignMembers",
    "CampaignPlan",
    "LearnResult",
    "Lift",
    "MemberDraw",
    "PlanBench",
    "Outcome",
    "PlanSpec",
    "Readout",
    "RecordSummary",
    "RegionScore",
    "ReplayConfig",
    "ReplayResult",
    "RoundResult",
    "bench_plan",
    "bin_bag_labels",
    "calibration_error",
    "check_holdout_share",
    "compile_uplift_predictor",
    "draw_members",
    "fit_with_bags",
    "learn_from_rows",
    "load_hillstrom",
    "read_out",
    "readout_png",
    "score_region",
    "simulate_hillstrom",
]
