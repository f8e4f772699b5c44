from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CampaignStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAMPAIGN_STATUS_UNSPECIFIED: _ClassVar[CampaignStatus]
    CAMPAIGN_STATUS_DRAFT: _ClassVar[CampaignStatus]
    CAMPAIGN_STATUS_LAUNCHED: _ClassVar[CampaignStatus]

class Group(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GROUP_UNSPECIFIED: _ClassVar[Group]
    GROUP_TREATED: _ClassVar[Group]
    GROUP_HOLDOUT: _ClassVar[Group]
CAMPAIGN_STATUS_UNSPECIFIED: CampaignStatus
CAMPAIGN_STATUS_DRAFT: CampaignStatus
CAMPAIGN_STATUS_LAUNCHED: CampaignStatus
GROUP_UNSPECIFIED: Group
GROUP_TREATED: Group
GROUP_HOLDOUT: Group

class PlanRequest(_message.Message):
    __slots__ = ("demand", "logic", "model", "model_version", "max_users", "max_cost", "cost_per_user", "cost_feature", "holdout_share", "seed", "name", "sample_size")
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_USERS_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_FIELD_NUMBER: _ClassVar[int]
    COST_PER_USER_FIELD_NUMBER: _ClassVar[int]
    COST_FEATURE_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_SHARE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    demand: str
    logic: str
    model: str
    model_version: int
    max_users: int
    max_cost: float
    cost_per_user: float
    cost_feature: str
    holdout_share: float
    seed: int
    name: str
    sample_size: int
    def __init__(self, demand: _Optional[str] = ..., logic: _Optional[str] = ..., model: _Optional[str] = ..., model_version: _Optional[int] = ..., max_users: _Optional[int] = ..., max_cost: _Optional[float] = ..., cost_per_user: _Optional[float] = ..., cost_feature: _Optional[str] = ..., holdout_share: _Optional[float] = ..., seed: _Optional[int] = ..., name: _Optional[str] = ..., sample_size: _Optional[int] = ...) -> None: ...

class Campaign(_message.Message):
    __slots__ = ("campaign_id", "name", "status", "created_at", "launched_at", "demand", "logic", "model", "model_version", "max_users", "max_cost", "cost_per_user", "cost_feature", "holdout_share", "seed", "eligible_count", "unscored_count", "treated_count", "holdout_count", "twin_count", "total_cost", "expected_incremental", "expected_ci_low", "expected_ci_high")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAUNCHED_AT_FIELD_NUMBER: _ClassVar[int]
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    MAX_USERS_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_FIELD_NUMBER: _ClassVar[int]
    COST_PER_USER_FIELD_NUMBER: _ClassVar[int]
    COST_FEATURE_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_SHARE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ELIGIBLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNSCORED_COUNT_FIELD_NUMBER: _ClassVar[int]
    TREATED_COUNT_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TWIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_INCREMENTAL_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CI_LOW_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    name: str
    status: CampaignStatus
    created_at: str
    launched_at: str
    demand: str
    logic: str
    model: str
    model_version: int
    max_users: int
    max_cost: float
    cost_per_user: float
    cost_feature: str
    holdout_share: float
    seed: int
    eligible_count: int
    unscored_count: int
    treated_count: int
    holdout_count: int
    twin_count: int
    total_cost: float
    expected_incremental: float
    expected_ci_low: float
    expected_ci_high: float
    def __init__(self, campaign_id: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[_Union[CampaignStatus, str]] = ..., created_at: _Optional[str] = ..., launched_at: _Optional[str] = ..., demand: _Optional[str] = ..., logic: _Optional[str] = ..., model: _Optional[str] = ..., model_version: _Optional[int] = ..., max_users: _Optional[int] = ..., max_cost: _Optional[float] = ..., cost_per_user: _Optional[float] = ..., cost_feature: _Optional[str] = ..., holdout_share: _Optional[float] = ..., seed: _Optional[int] = ..., eligible_count: _Optional[int] = ..., unscored_count: _Optional[int] = ..., treated_count: _Optional[int] = ..., holdout_count: _Optional[int] = ..., twin_count: _Optional[int] = ..., total_cost: _Optional[float] = ..., expected_incremental: _Optional[float] = ..., expected_ci_low: _Optional[float] = ..., expected_ci_high: _Optional[float] = ...) -> None: ...

class PlannedUser(_message.Message):
    __slots__ = ("user_id", "uplift", "cost", "rank")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    UPLIFT_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    RANK_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    uplift: float
    cost: float
    rank: int
    def __init__(self, user_id: _Optional[str] = ..., uplift: _Optional[float] = ..., cost: _Optional[float] = ..., rank: _Optional[int] = ...) -> None: ...

class PlanResponse(_message.Message):
    __slots__ = ("campaign", "top_treated")
    CAMPAIGN_FIELD_NUMBER: _ClassVar[int]
    TOP_TREATED_FIELD_NUMBER: _ClassVar[int]
    campaign: Campaign
    top_treated: _containers.RepeatedCompositeFieldContainer[PlannedUser]
    def __init__(self, campaign: _Optional[_Union[Campaign, _Mapping]] = ..., top_treated: _Optional[_Iterable[_Union[PlannedUser, _Mapping]]] = ...) -> None: ...

class LaunchRequest(_message.Message):
    __slots__ = ("campaign_id",)
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    def __init__(self, campaign_id: _Optional[str] = ...) -> None: ...

class LaunchResponse(_message.Message):
    __slots__ = ("campaign",)
    CAMPAIGN_FIELD_NUMBER: _ClassVar[int]
    campaign: Campaign
    def __init__(self, campaign: _Optional[_Union[Campaign, _Mapping]] = ...) -> None: ...

class DiscardRequest(_message.Message):
    __slots__ = ("campaign_id",)
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    def __init__(self, campaign_id: _Optional[str] = ...) -> None: ...

class DiscardResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ("campaign_id",)
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    def __init__(self, campaign_id: _Optional[str] = ...) -> None: ...

class GetResponse(_message.Message):
    __slots__ = ("campaign",)
    CAMPAIGN_FIELD_NUMBER: _ClassVar[int]
    campaign: Campaign
    def __init__(self, campaign: _Optional[_Union[Campaign, _Mapping]] = ...) -> None: ...

class ListRequest(_message.Message):
    __slots__ = ("limit", "offset")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    limit: int
    offset: int
    def __init__(self, limit: _Optional[int] = ..., offset: _Optional[int] = ...) -> None: ...

class ListResponse(_message.Message):
    __slots__ = ("campaigns", "total")
    CAMPAIGNS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    campaigns: _containers.RepeatedCompositeFieldContainer[Campaign]
    total: int
    def __init__(self, campaigns: _Optional[_Iterable[_Union[Campaign, _Mapping]]] = ..., total: _Optional[int] = ...) -> None: ...

class ExportRequest(_message.Message):
    __slots__ = ("campaign_id", "include_holdout")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_HOLDOUT_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    include_holdout: bool
    def __init__(self, campaign_id: _Optional[str] = ..., include_holdout: _Optional[bool] = ...) -> None: ...

class ExportResponse(_message.Message):
    __slots__ = ("parquet", "rows")
    PARQUET_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    parquet: bytes
    rows: int
    def __init__(self, parquet: _Optional[bytes] = ..., rows: _Optional[int] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("user_id", "group", "outcome", "value")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    group: Group
    outcome: float
    value: float
    def __init__(self, user_id: _Optional[str] = ..., group: _Optional[_Union[Group, str]] = ..., outcome: _Optional[float] = ..., value: _Optional[float] = ...) -> None: ...

class RecordOutcomesRequest(_message.Message):
    __slots__ = ("campaign_id", "outcomes")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    outcomes: _containers.RepeatedCompositeFieldContainer[Outcome]
    def __init__(self, campaign_id: _Optional[str] = ..., outcomes: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ...) -> None: ...

class RecordOutcomesResponse(_message.Message):
    __slots__ = ("received", "recorded", "replaced", "outside_campaign", "outside_sample", "group_mismatches")
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    OUTSIDE_CAMPAIGN_FIELD_NUMBER: _ClassVar[int]
    OUTSIDE_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    GROUP_MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    received: int
    recorded: int
    replaced: int
    outside_campaign: int
    outside_sample: _containers.RepeatedScalarFieldContainer[str]
    group_mismatches: int
    def __init__(self, received: _Optional[int] = ..., recorded: _Optional[int] = ..., replaced: _Optional[int] = ..., outside_campaign: _Optional[int] = ..., outside_sample: _Optional[_Iterable[str]] = ..., group_mismatches: _Optional[int] = ...) -> None: ...

class ReadoutRequest(_message.Message):
    __slots__ = ("campaign_id", "alpha", "include_report")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REPORT_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    alpha: float
    include_report: bool
    def __init__(self, campaign_id: _Optional[str] = ..., alpha: _Optional[float] = ..., include_report: _Optional[bool] = ...) -> None: ...

class Lift(_message.Message):
    __slots__ = ("metric", "treated_mean", "holdout_mean", "estimate", "ci_low", "ci_high", "p_value", "always_valid_p_value", "relative", "relative_ci_low", "relative_ci_high")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    TREATED_MEAN_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_MEAN_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    ALWAYS_VALID_P_VALUE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_CI_LOW_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    metric: str
    treated_mean: float
    holdout_mean: float
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    always_valid_p_value: float
    relative: float
    relative_ci_low: float
    relative_ci_high: float
    def __init__(self, metric: _Optional[str] = ..., treated_mean: _Optional[float] = ..., holdout_mean: _Optional[float] = ..., estimate: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ..., p_value: _Optional[float] = ..., always_valid_p_value: _Optional[float] = ..., relative: _Optional[float] = ..., relative_ci_low: _Optional[float] = ..., relative_ci_high: _Optional[float] = ...) -> None: ...

class DecileLift(_message.Message):
    __slots__ = ("bin", "treated", "holdout", "predicted_uplift", "lift", "ci_low", "ci_high")
    BIN_FIELD_NUMBER: _ClassVar[int]
    TREATED_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_UPLIFT_FIELD_NUMBER: _ClassVar[int]
    LIFT_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    bin: int
    treated: int
    holdout: int
    predicted_uplift: float
    lift: float
    ci_low: float
    ci_high: float
    def __init__(self, bin: _Optional[int] = ..., treated: _Optional[int] = ..., holdout: _Optional[int] = ..., predicted_uplift: _Optional[float] = ..., lift: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ...) -> None: ...

class ReadoutResponse(_message.Message):
    __slots__ = ("campaign_id", "has_outcomes", "message", "planned_treated", "planned_twin", "treated_outcomes", "twin_outcomes", "baseline_outcomes", "outside_outcomes", "group_mismatches", "srm_p_value", "srm_ok", "lifts", "realized_incremental", "realized_ci_low", "realized_ci_high", "predicted_incremental", "predicted_ci_low", "predicted_ci_high", "deciles", "warnings", "report_png")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    HAS_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PLANNED_TREATED_FIELD_NUMBER: _ClassVar[int]
    PLANNED_TWIN_FIELD_NUMBER: _ClassVar[int]
    TREATED_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    TWIN_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    BASELINE_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    OUTSIDE_OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    GROUP_MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    SRM_P_VALUE_FIELD_NUMBER: _ClassVar[int]
    SRM_OK_FIELD_NUMBER: _ClassVar[int]
    LIFTS_FIELD_NUMBER: _ClassVar[int]
    REALIZED_INCREMENTAL_FIELD_NUMBER: _ClassVar[int]
    REALIZED_CI_LOW_FIELD_NUMBER: _ClassVar[int]
    REALIZED_CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_INCREMENTAL_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_CI_LOW_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    DECILES_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    REPORT_PNG_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    has_outcomes: bool
    message: str
    planned_treated: int
    planned_twin: int
    treated_outcomes: int
    twin_outcomes: int
    baseline_outcomes: int
    outside_outcomes: int
    group_mismatches: int
    srm_p_value: float
    srm_ok: bool
    lifts: _containers.RepeatedCompositeFieldContainer[Lift]
    realized_incremental: float
    realized_ci_low: float
    realized_ci_high: float
    predicted_incremental: float
    predicted_ci_low: float
    predicted_ci_high: float
    deciles: _containers.RepeatedCompositeFieldContainer[DecileLift]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    report_png: bytes
    def __init__(self, campaign_id: _Optional[str] = ..., has_outcomes: _Optional[bool] = ..., message: _Optional[str] = ..., planned_treated: _Optional[int] = ..., planned_twin: _Optional[int] = ..., treated_outcomes: _Optional[int] = ..., twin_outcomes: _Optional[int] = ..., baseline_outcomes: _Optional[int] = ..., outside_outcomes: _Optional[int] = ..., group_mismatches: _Optional[int] = ..., srm_p_value: _Optional[float] = ..., srm_ok: _Optional[bool] = ..., lifts: _Optional[_Iterable[_Union[Lift, _Mapping]]] = ..., realized_incremental: _Optional[float] = ..., realized_ci_low: _Optional[float] = ..., realized_ci_high: _Optional[float] = ..., predicted_incremental: _Optional[float] = ..., predicted_ci_low: _Optional[float] = ..., predicted_ci_high: _Optional[float] = ..., deciles: _Optional[_Iterable[_Union[DecileLift, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ..., report_png: _Optional[bytes] = ...) -> None: ...

class LearnRequest(_message.Message):
    __slots__ = ("campaign_id", "model", "seed")
    CAMPAIGN_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    campaign_id: str
    model: str
    seed: int
    def __init__(self, campaign_id: _Optional[str] = ..., model: _Optional[str] = ..., seed: _Optional[int] = ...) -> None: ...

class LearnResponse(_message.Message):
    __slots__ = ("model", "previous_version", "new_version", "train_rows", "test_rows", "bags", "previous_qini_auc", "new_qini_auc", "previous_decile_error", "new_decile_error", "summary")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    NEW_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAIN_ROWS_FIELD_NUMBER: _ClassVar[int]
    TEST_ROWS_FIELD_NUMBER: _ClassVar[int]
    BAGS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_QINI_AUC_FIELD_NUMBER: _ClassVar[int]
    NEW_QINI_AUC_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_DECILE_ERROR_FIELD_NUMBER: _ClassVar[int]
    NEW_DECILE_ERROR_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    model: str
    previous_version: int
    new_version: int
    train_rows: int
    test_rows: int
    bags: int
    previous_qini_auc: float
    new_qini_auc: float
    previous_decile_error: float
    new_decile_error: float
    summary: str
    def __init__(self, model: _Optional[str] = ..., previous_version: _Optional[int] = ..., new_version: _Optional[int] = ..., train_rows: _Optional[int] = ..., test_rows: _Optional[int] = ..., bags: _Optional[int] = ..., previous_qini_auc: _Optional[float] = ..., new_qini_auc: _Optional[float] = ..., previous_decile_error: _Optional[float] = ..., new_decile_error: _Optional[float] = ..., summary: _Optional[str] = ...) -> None: ...
