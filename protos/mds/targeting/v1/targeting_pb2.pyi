from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ParseRequest(_message.Message):
    __slots__ = ("demand", "variant", "dialect", "with_sizes")
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    WITH_SIZES_FIELD_NUMBER: _ClassVar[int]
    demand: str
    variant: str
    dialect: str
    with_sizes: bool
    def __init__(self, demand: _Optional[str] = ..., variant: _Optional[str] = ..., dialect: _Optional[str] = ..., with_sizes: _Optional[bool] = ...) -> None: ...

class UnresolvedPhrase(_message.Message):
    __slots__ = ("phrase", "candidates", "scores", "start", "end")
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    phrase: str
    candidates: _containers.RepeatedScalarFieldContainer[str]
    scores: _containers.RepeatedScalarFieldContainer[float]
    start: int
    end: int
    def __init__(self, phrase: _Optional[str] = ..., candidates: _Optional[_Iterable[str]] = ..., scores: _Optional[_Iterable[float]] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class ConditionSource(_message.Message):
    __slots__ = ("condition", "negated", "key", "phrase", "start", "end")
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    NEGATED_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    condition: str
    negated: bool
    key: str
    phrase: str
    start: int
    end: int
    def __init__(self, condition: _Optional[str] = ..., negated: _Optional[bool] = ..., key: _Optional[str] = ..., phrase: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class AlternativeReading(_message.Message):
    __slots__ = ("logic", "added", "removed", "summary", "audience_size")
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_SIZE_FIELD_NUMBER: _ClassVar[int]
    logic: str
    added: _containers.RepeatedScalarFieldContainer[str]
    removed: _containers.RepeatedScalarFieldContainer[str]
    summary: str
    audience_size: int
    def __init__(self, logic: _Optional[str] = ..., added: _Optional[_Iterable[str]] = ..., removed: _Optional[_Iterable[str]] = ..., summary: _Optional[str] = ..., audience_size: _Optional[int] = ...) -> None: ...

class ParseResponse(_message.Message):
    __slots__ = ("logic", "logic_json", "reasoning", "sql", "unresolved", "estimated_audience_size", "population_size", "explanation", "variant", "conditions", "alternatives")
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    LOGIC_JSON_FIELD_NUMBER: _ClassVar[int]
    REASONING_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    UNRESOLVED_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_AUDIENCE_SIZE_FIELD_NUMBER: _ClassVar[int]
    POPULATION_SIZE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    logic: str
    logic_json: str
    reasoning: _containers.RepeatedScalarFieldContainer[str]
    sql: str
    unresolved: _containers.RepeatedCompositeFieldContainer[UnresolvedPhrase]
    estimated_audience_size: int
    population_size: int
    explanation: str
    variant: str
    conditions: _containers.RepeatedCompositeFieldContainer[ConditionSource]
    alternatives: _containers.RepeatedCompositeFieldContainer[AlternativeReading]
    def __init__(self, logic: _Optional[str] = ..., logic_json: _Optional[str] = ..., reasoning: _Optional[_Iterable[str]] = ..., sql: _Optional[str] = ..., unresolved: _Optional[_Iterable[_Union[UnresolvedPhrase, _Mapping]]] = ..., estimated_audience_size: _Optional[int] = ..., population_size: _Optional[int] = ..., explanation: _Optional[str] = ..., variant: _Optional[str] = ..., conditions: _Optional[_Iterable[_Union[ConditionSource, _Mapping]]] = ..., alternatives: _Optional[_Iterable[_Union[AlternativeReading, _Mapping]]] = ...) -> None: ...

class SelectAudienceRequest(_message.Message):
    __slots__ = ("logic", "segment_name", "sample_size", "engine", "sample_seed")
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_SEED_FIELD_NUMBER: _ClassVar[int]
    logic: str
    segment_name: str
    sample_size: int
    engine: str
    sample_seed: int
    def __init__(self, logic: _Optional[str] = ..., segment_name: _Optional[str] = ..., sample_size: _Optional[int] = ..., engine: _Optional[str] = ..., sample_seed: _Optional[int] = ...) -> None: ...

class SampledUser(_message.Message):
    __slots__ = ("user_id", "values")
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    values: _containers.ScalarMap[str, str]
    def __init__(self, user_id: _Optional[str] = ..., values: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SelectAudienceResponse(_message.Message):
    __slots__ = ("logic", "sql", "count", "population_size", "sample_user_ids", "segment_name", "segment_key", "engine", "sample_features", "sample")
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    POPULATION_SIZE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_KEY_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FEATURES_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_FIELD_NUMBER: _ClassVar[int]
    logic: str
    sql: str
    count: int
    population_size: int
    sample_user_ids: _containers.RepeatedScalarFieldContainer[str]
    segment_name: str
    segment_key: str
    engine: str
    sample_features: _containers.RepeatedScalarFieldContainer[str]
    sample: _containers.RepeatedCompositeFieldContainer[SampledUser]
    def __init__(self, logic: _Optional[str] = ..., sql: _Optional[str] = ..., count: _Optional[int] = ..., population_size: _Optional[int] = ..., sample_user_ids: _Optional[_Iterable[str]] = ..., segment_name: _Optional[str] = ..., segment_key: _Optional[str] = ..., engine: _Optional[str] = ..., sample_features: _Optional[_Iterable[str]] = ..., sample: _Optional[_Iterable[_Union[SampledUser, _Mapping]]] = ...) -> None: ...

class CheckEligibilityRequest(_message.Message):
    __slots__ = ("logic", "user_id")
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    logic: str
    user_id: str
    def __init__(self, logic: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class ConditionOutcome(_message.Message):
    __slots__ = ("condition", "negated", "outcome", "actual_value")
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    NEGATED_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_VALUE_FIELD_NUMBER: _ClassVar[int]
    condition: str
    negated: bool
    outcome: str
    actual_value: str
    def __init__(self, condition: _Optional[str] = ..., negated: _Optional[bool] = ..., outcome: _Optional[str] = ..., actual_value: _Optional[str] = ...) -> None: ...

class CheckEligibilityResponse(_message.Message):
    __slots__ = ("eligible", "logic", "conditions", "failed_conditions")
    ELIGIBLE_FIELD_NUMBER: _ClassVar[int]
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    FAILED_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    eligible: bool
    logic: str
    conditions: _containers.RepeatedCompositeFieldContainer[ConditionOutcome]
    failed_conditions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, eligible: _Optional[bool] = ..., logic: _Optional[str] = ..., conditions: _Optional[_Iterable[_Union[ConditionOutcome, _Mapping]]] = ..., failed_conditions: _Optional[_Iterable[str]] = ...) -> None: ...

class GetSegmentRequest(_message.Message):
    __slots__ = ("name", "sample_size")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    name: str
    sample_size: int
    def __init__(self, name: _Optional[str] = ..., sample_size: _Optional[int] = ...) -> None: ...

class GetSegmentResponse(_message.Message):
    __slots__ = ("name", "logic", "count", "created_at", "engine", "source", "sample_user_ids", "segment_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LOGIC_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    logic: str
    count: int
    created_at: float
    engine: str
    source: str
    sample_user_ids: _containers.RepeatedScalarFieldContainer[str]
    segment_key: str
    def __init__(self, name: _Optional[str] = ..., logic: _Optional[str] = ..., count: _Optional[int] = ..., created_at: _Optional[float] = ..., engine: _Optional[str] = ..., source: _Optional[str] = ..., sample_user_ids: _Optional[_Iterable[str]] = ..., segment_key: _Optional[str] = ...) -> None: ...
