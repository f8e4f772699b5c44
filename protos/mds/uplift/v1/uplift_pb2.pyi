from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StringList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class FeatureValue(_message.Message):
    __slots__ = ("int_value", "float_value", "bool_value", "string_value", "set_value")
    INT_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    SET_VALUE_FIELD_NUMBER: _ClassVar[int]
    int_value: int
    float_value: float
    bool_value: bool
    string_value: str
    set_value: StringList
    def __init__(self, int_value: _Optional[int] = ..., float_value: _Optional[float] = ..., bool_value: _Optional[bool] = ..., string_value: _Optional[str] = ..., set_value: _Optional[_Union[StringList, _Mapping]] = ...) -> None: ...

class FeatureRow(_message.Message):
    __slots__ = ("user_id", "features")
    class FeaturesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: FeatureValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[FeatureValue, _Mapping]] = ...) -> None: ...
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    features: _containers.MessageMap[str, FeatureValue]
    def __init__(self, user_id: _Optional[str] = ..., features: _Optional[_Mapping[str, FeatureValue]] = ...) -> None: ...

class ScoreRequest(_message.Message):
    __slots__ = ("model", "version", "user_ids", "rows")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    rows: _containers.RepeatedCompositeFieldContainer[FeatureRow]
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., user_ids: _Optional[_Iterable[str]] = ..., rows: _Optional[_Iterable[_Union[FeatureRow, _Mapping]]] = ...) -> None: ...

class ArmUplift(_message.Message):
    __slots__ = ("arm", "uplift")
    ARM_FIELD_NUMBER: _ClassVar[int]
    UPLIFT_FIELD_NUMBER: _ClassVar[int]
    arm: str
    uplift: float
    def __init__(self, arm: _Optional[str] = ..., uplift: _Optional[float] = ...) -> None: ...

class UserScore(_message.Message):
    __slots__ = ("user_id", "uplift", "arm_uplift", "chosen_arm")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    UPLIFT_FIELD_NUMBER: _ClassVar[int]
    ARM_UPLIFT_FIELD_NUMBER: _ClassVar[int]
    CHOSEN_ARM_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    uplift: float
    arm_uplift: _containers.RepeatedCompositeFieldContainer[ArmUplift]
    chosen_arm: str
    def __init__(self, user_id: _Optional[str] = ..., uplift: _Optional[float] = ..., arm_uplift: _Optional[_Iterable[_Union[ArmUplift, _Mapping]]] = ..., chosen_arm: _Optional[str] = ...) -> None: ...

class ScoreResponse(_message.Message):
    __slots__ = ("model", "version", "scores", "missing_user_ids")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    MISSING_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    scores: _containers.RepeatedCompositeFieldContainer[UserScore]
    missing_user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., scores: _Optional[_Iterable[_Union[UserScore, _Mapping]]] = ..., missing_user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SelectTopRequest(_message.Message):
    __slots__ = ("model", "version", "user_ids", "max_users", "max_cost", "costs", "cost_per_user", "min_uplift", "value_per_conversion")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    MAX_USERS_FIELD_NUMBER: _ClassVar[int]
    MAX_COST_FIELD_NUMBER: _ClassVar[int]
    COSTS_FIELD_NUMBER: _ClassVar[int]
    COST_PER_USER_FIELD_NUMBER: _ClassVar[int]
    MIN_UPLIFT_FIELD_NUMBER: _ClassVar[int]
    VALUE_PER_CONVERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    max_users: int
    max_cost: float
    costs: _containers.RepeatedScalarFieldContainer[float]
    cost_per_user: float
    min_uplift: float
    value_per_conversion: float
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., user_ids: _Optional[_Iterable[str]] = ..., max_users: _Optional[int] = ..., max_cost: _Optional[float] = ..., costs: _Optional[_Iterable[float]] = ..., cost_per_user: _Optional[float] = ..., min_uplift: _Optional[float] = ..., value_per_conversion: _Optional[float] = ...) -> None: ...

class SelectedUser(_message.Message):
    __slots__ = ("user_id", "uplift", "cost")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    UPLIFT_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    uplift: float
    cost: float
    def __init__(self, user_id: _Optional[str] = ..., uplift: _Optional[float] = ..., cost: _Optional[float] = ...) -> None: ...

class SelectTopResponse(_message.Message):
    __slots__ = ("model", "version", "selected", "total_cost", "expected_incremental_conversions", "scored_count", "missing_user_ids", "expected_profit")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    SELECTED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COST_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_INCREMENTAL_CONVERSIONS_FIELD_NUMBER: _ClassVar[int]
    SCORED_COUNT_FIELD_NUMBER: _ClassVar[int]
    MISSING_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_PROFIT_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    selected: _containers.RepeatedCompositeFieldContainer[SelectedUser]
    total_cost: float
    expected_incremental_conversions: float
    scored_count: int
    missing_user_ids: _containers.RepeatedScalarFieldContainer[str]
    expected_profit: float
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ..., selected: _Optional[_Iterable[_Union[SelectedUser, _Mapping]]] = ..., total_cost: _Optional[float] = ..., expected_incremental_conversions: _Optional[float] = ..., scored_count: _Optional[int] = ..., missing_user_ids: _Optional[_Iterable[str]] = ..., expected_profit: _Optional[float] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ModelSummary(_message.Message):
    __slots__ = ("name", "versions", "serving_version", "last_error")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    SERVING_VERSION_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    name: str
    versions: _containers.RepeatedScalarFieldContainer[int]
    serving_version: int
    last_error: str
    def __init__(self, name: _Optional[str] = ..., versions: _Optional[_Iterable[int]] = ..., serving_version: _Optional[int] = ..., last_error: _Optional[str] = ...) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[ModelSummary]
    def __init__(self, models: _Optional[_Iterable[_Union[ModelSummary, _Mapping]]] = ...) -> None: ...

class GetModelRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetModelResponse(_message.Message):
    __slots__ = ("name", "version", "created_at", "kind", "parameters_json", "features", "catalog_fingerprint", "metrics", "payload_sha256", "serving")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_JSON_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    CATALOG_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_SHA256_FIELD_NUMBER: _ClassVar[int]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    created_at: str
    kind: str
    parameters_json: str
    features: _containers.RepeatedScalarFieldContainer[str]
    catalog_fingerprint: str
    metrics: _containers.ScalarMap[str, float]
    payload_sha256: str
    serving: bool
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., created_at: _Optional[str] = ..., kind: _Optional[str] = ..., parameters_json: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ..., catalog_fingerprint: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., payload_sha256: _Optional[str] = ..., serving: _Optional[bool] = ...) -> None: ...

class ReloadModelRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ReloadModelResponse(_message.Message):
    __slots__ = ("name", "previous_version", "serving_version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    SERVING_VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    previous_version: int
    serving_version: int
    def __init__(self, name: _Optional[str] = ..., previous_version: _Optional[int] = ..., serving_version: _Optional[int] = ...) -> None: ...
