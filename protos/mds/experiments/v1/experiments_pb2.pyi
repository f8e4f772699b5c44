from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TestKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEST_KIND_UNSPECIFIED: _ClassVar[TestKind]
    TEST_KIND_WELCH: _ClassVar[TestKind]
    TEST_KIND_Z: _ClassVar[TestKind]
TEST_KIND_UNSPECIFIED: TestKind
TEST_KIND_WELCH: TestKind
TEST_KIND_Z: TestKind

class MetricSummary(_message.Message):
    __slots__ = ("metric", "count", "sum", "sum_squares", "has_covariate", "covariate_sum", "covariate_sum_squares", "cross_sum")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SUM_FIELD_NUMBER: _ClassVar[int]
    SUM_SQUARES_FIELD_NUMBER: _ClassVar[int]
    HAS_COVARIATE_FIELD_NUMBER: _ClassVar[int]
    COVARIATE_SUM_FIELD_NUMBER: _ClassVar[int]
    COVARIATE_SUM_SQUARES_FIELD_NUMBER: _ClassVar[int]
    CROSS_SUM_FIELD_NUMBER: _ClassVar[int]
    metric: str
    count: int
    sum: float
    sum_squares: float
    has_covariate: bool
    covariate_sum: float
    covariate_sum_squares: float
    cross_sum: float
    def __init__(self, metric: _Optional[str] = ..., count: _Optional[int] = ..., sum: _Optional[float] = ..., sum_squares: _Optional[float] = ..., has_covariate: _Optional[bool] = ..., covariate_sum: _Optional[float] = ..., covariate_sum_squares: _Optional[float] = ..., cross_sum: _Optional[float] = ...) -> None: ...

class RatioSummary(_message.Message):
    __slots__ = ("metric", "count", "numerator_sum", "numerator_sum_squares", "denominator_sum", "denominator_sum_squares", "cross_sum")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    NUMERATOR_SUM_FIELD_NUMBER: _ClassVar[int]
    NUMERATOR_SUM_SQUARES_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_SUM_FIELD_NUMBER: _ClassVar[int]
    DENOMINATOR_SUM_SQUARES_FIELD_NUMBER: _ClassVar[int]
    CROSS_SUM_FIELD_NUMBER: _ClassVar[int]
    metric: str
    count: int
    numerator_sum: float
    numerator_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    cross_sum: float
    def __init__(self, metric: _Optional[str] = ..., count: _Optional[int] = ..., numerator_sum: _Optional[float] = ..., numerator_sum_squares: _Optional[float] = ..., denominator_sum: _Optional[float] = ..., denominator_sum_squares: _Optional[float] = ..., cross_sum: _Optional[float] = ...) -> None: ...

class ArmSummary(_message.Message):
    __slots__ = ("arm", "users", "metrics", "ratios", "designed_weight")
    ARM_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    RATIOS_FIELD_NUMBER: _ClassVar[int]
    DESIGNED_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    arm: str
    users: int
    metrics: _containers.RepeatedCompositeFieldContainer[MetricSummary]
    ratios: _containers.RepeatedCompositeFieldContainer[RatioSummary]
    designed_weight: float
    def __init__(self, arm: _Optional[str] = ..., users: _Optional[int] = ..., metrics: _Optional[_Iterable[_Union[MetricSummary, _Mapping]]] = ..., ratios: _Optional[_Iterable[_Union[RatioSummary, _Mapping]]] = ..., designed_weight: _Optional[float] = ...) -> None: ...

class AnalysisOptions(_message.Message):
    __slots__ = ("alpha", "test", "srm_alpha", "srm_min_relative_deviation", "sequential_tuning_n", "prior_mean", "prior_sd", "lower_is_better")
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    TEST_FIELD_NUMBER: _ClassVar[int]
    SRM_ALPHA_FIELD_NUMBER: _ClassVar[int]
    SRM_MIN_RELATIVE_DEVIATION_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_TUNING_N_FIELD_NUMBER: _ClassVar[int]
    PRIOR_MEAN_FIELD_NUMBER: _ClassVar[int]
    PRIOR_SD_FIELD_NUMBER: _ClassVar[int]
    LOWER_IS_BETTER_FIELD_NUMBER: _ClassVar[int]
    alpha: float
    test: TestKind
    srm_alpha: float
    srm_min_relative_deviation: float
    sequential_tuning_n: float
    prior_mean: float
    prior_sd: float
    lower_is_better: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, alpha: _Optional[float] = ..., test: _Optional[_Union[TestKind, str]] = ..., srm_alpha: _Optional[float] = ..., srm_min_relative_deviation: _Optional[float] = ..., sequential_tuning_n: _Optional[float] = ..., prior_mean: _Optional[float] = ..., prior_sd: _Optional[float] = ..., lower_is_better: _Optional[_Iterable[str]] = ...) -> None: ...

class AnalyzeRequest(_message.Message):
    __slots__ = ("control_arm", "arms", "treatment_arms", "options")
    CONTROL_ARM_FIELD_NUMBER: _ClassVar[int]
    ARMS_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_ARMS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    control_arm: str
    arms: _containers.RepeatedCompositeFieldContainer[ArmSummary]
    treatment_arms: _containers.RepeatedScalarFieldContainer[str]
    options: AnalysisOptions
    def __init__(self, control_arm: _Optional[str] = ..., arms: _Optional[_Iterable[_Union[ArmSummary, _Mapping]]] = ..., treatment_arms: _Optional[_Iterable[str]] = ..., options: _Optional[_Union[AnalysisOptions, _Mapping]] = ...) -> None: ...

class Effect(_message.Message):
    __slots__ = ("estimate", "standard_error", "ci_low", "ci_high", "p_value", "degrees_of_freedom")
    ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    STANDARD_ERROR_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    DEGREES_OF_FREEDOM_FIELD_NUMBER: _ClassVar[int]
    estimate: float
    standard_error: float
    ci_low: float
    ci_high: float
    p_value: float
    degrees_of_freedom: float
    def __init__(self, estimate: _Optional[float] = ..., standard_error: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ..., p_value: _Optional[float] = ..., degrees_of_freedom: _Optional[float] = ...) -> None: ...

class Comparison(_message.Message):
    __slots__ = ("arm", "metric", "kind", "control_count", "treatment_count", "control_mean", "treatment_mean", "absolute", "relative", "cuped", "cuped_relative", "variance_reduction", "p_value_holm", "p_value_bh", "sequential_ci_low", "sequential_ci_high", "sequential_p_value", "chance_to_beat_control", "expected_loss", "credible_ci_low", "credible_ci_high", "bayes_scale")
    ARM_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONTROL_COUNT_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONTROL_MEAN_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_MEAN_FIELD_NUMBER: _ClassVar[int]
    ABSOLUTE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_FIELD_NUMBER: _ClassVar[int]
    CUPED_FIELD_NUMBER: _ClassVar[int]
    CUPED_RELATIVE_FIELD_NUMBER: _ClassVar[int]
    VARIANCE_REDUCTION_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_HOLM_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_BH_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_CI_LOW_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    SEQUENTIAL_P_VALUE_FIELD_NUMBER: _ClassVar[int]
    CHANCE_TO_BEAT_CONTROL_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_LOSS_FIELD_NUMBER: _ClassVar[int]
    CREDIBLE_CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CREDIBLE_CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    BAYES_SCALE_FIELD_NUMBER: _ClassVar[int]
    arm: str
    metric: str
    kind: str
    control_count: int
    treatment_count: int
    control_mean: float
    treatment_mean: float
    absolute: Effect
    relative: Effect
    cuped: Effect
    cuped_relative: Effect
    variance_reduction: float
    p_value_holm: float
    p_value_bh: float
    sequential_ci_low: float
    sequential_ci_high: float
    sequential_p_value: float
    chance_to_beat_control: float
    expected_loss: float
    credible_ci_low: float
    credible_ci_high: float
    bayes_scale: str
    def __init__(self, arm: _Optional[str] = ..., metric: _Optional[str] = ..., kind: _Optional[str] = ..., control_count: _Optional[int] = ..., treatment_count: _Optional[int] = ..., control_mean: _Optional[float] = ..., treatment_mean: _Optional[float] = ..., absolute: _Optional[_Union[Effect, _Mapping]] = ..., relative: _Optional[_Union[Effect, _Mapping]] = ..., cuped: _Optional[_Union[Effect, _Mapping]] = ..., cuped_relative: _Optional[_Union[Effect, _Mapping]] = ..., variance_reduction: _Optional[float] = ..., p_value_holm: _Optional[float] = ..., p_value_bh: _Optional[float] = ..., sequential_ci_low: _Optional[float] = ..., sequential_ci_high: _Optional[float] = ..., sequential_p_value: _Optional[float] = ..., chance_to_beat_control: _Optional[float] = ..., expected_loss: _Optional[float] = ..., credible_ci_low: _Optional[float] = ..., credible_ci_high: _Optional[float] = ..., bayes_scale: _Optional[str] = ...) -> None: ...

class SampleRatioCheck(_message.Message):
    __slots__ = ("chi2", "p_value", "ok", "max_relative_deviation", "observed", "expected_share")
    class ObservedEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ExpectedShareEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    CHI2_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    MAX_RELATIVE_DEVIATION_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHARE_FIELD_NUMBER: _ClassVar[int]
    chi2: float
    p_value: float
    ok: bool
    max_relative_deviation: float
    observed: _containers.ScalarMap[str, int]
    expected_share: _containers.ScalarMap[str, float]
    def __init__(self, chi2: _Optional[float] = ..., p_value: _Optional[float] = ..., ok: _Optional[bool] = ..., max_relative_deviation: _Optional[float] = ..., observed: _Optional[_Mapping[str, int]] = ..., expected_share: _Optional[_Mapping[str, float]] = ...) -> None: ...

class AnalyzeResponse(_message.Message):
    __slots__ = ("control_arm", "comparisons", "srm", "means")
    class MeansEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ArmMeans
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ArmMeans, _Mapping]] = ...) -> None: ...
    CONTROL_ARM_FIELD_NUMBER: _ClassVar[int]
    COMPARISONS_FIELD_NUMBER: _ClassVar[int]
    SRM_FIELD_NUMBER: _ClassVar[int]
    MEANS_FIELD_NUMBER: _ClassVar[int]
    control_arm: str
    comparisons: _containers.RepeatedCompositeFieldContainer[Comparison]
    srm: SampleRatioCheck
    means: _containers.MessageMap[str, ArmMeans]
    def __init__(self, control_arm: _Optional[str] = ..., comparisons: _Optional[_Iterable[_Union[Comparison, _Mapping]]] = ..., srm: _Optional[_Union[SampleRatioCheck, _Mapping]] = ..., means: _Optional[_Mapping[str, ArmMeans]] = ...) -> None: ...

class ArmMeans(_message.Message):
    __slots__ = ("values",)
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.ScalarMap[str, float]
    def __init__(self, values: _Optional[_Mapping[str, float]] = ...) -> None: ...

class SegmentSummary(_message.Message):
    __slots__ = ("segment", "arms")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    ARMS_FIELD_NUMBER: _ClassVar[int]
    segment: str
    arms: _containers.RepeatedCompositeFieldContainer[ArmSummary]
    def __init__(self, segment: _Optional[str] = ..., arms: _Optional[_Iterable[_Union[ArmSummary, _Mapping]]] = ...) -> None: ...

class AnalyzeSegmentsRequest(_message.Message):
    __slots__ = ("control_arm", "treatment_arm", "metric", "segments", "options")
    CONTROL_ARM_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_ARM_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    control_arm: str
    treatment_arm: str
    metric: str
    segments: _containers.RepeatedCompositeFieldContainer[SegmentSummary]
    options: AnalysisOptions
    def __init__(self, control_arm: _Optional[str] = ..., treatment_arm: _Optional[str] = ..., metric: _Optional[str] = ..., segments: _Optional[_Iterable[_Union[SegmentSummary, _Mapping]]] = ..., options: _Optional[_Union[AnalysisOptions, _Mapping]] = ...) -> None: ...

class SegmentEffect(_message.Message):
    __slots__ = ("segment", "control_count", "treatment_count", "control_mean", "treatment_mean", "ate", "standard_error", "ci_low", "ci_high", "p_value")
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    CONTROL_COUNT_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONTROL_MEAN_FIELD_NUMBER: _ClassVar[int]
    TREATMENT_MEAN_FIELD_NUMBER: _ClassVar[int]
    ATE_FIELD_NUMBER: _ClassVar[int]
    STANDARD_ERROR_FIELD_NUMBER: _ClassVar[int]
    CI_LOW_FIELD_NUMBER: _ClassVar[int]
    CI_HIGH_FIELD_NUMBER: _ClassVar[int]
    P_VALUE_FIELD_NUMBER: _ClassVar[int]
    segment: str
    control_count: int
    treatment_count: int
    control_mean: float
    treatment_mean: float
    ate: float
    standard_error: float
    ci_low: float
    ci_high: float
    p_value: float
    def __init__(self, segment: _Optional[str] = ..., control_count: _Optional[int] = ..., treatment_count: _Optional[int] = ..., control_mean: _Optional[float] = ..., treatment_mean: _Optional[float] = ..., ate: _Optional[float] = ..., standard_error: _Optional[float] = ..., ci_low: _Optional[float] = ..., ci_high: _Optional[float] = ..., p_value: _Optional[float] = ...) -> None: ...

class AnalyzeSegmentsResponse(_message.Message):
    __slots__ = ("effects",)
    EFFECTS_FIELD_NUMBER: _ClassVar[int]
    effects: _containers.RepeatedCompositeFieldContainer[SegmentEffect]
    def __init__(self, effects: _Optional[_Iterable[_Union[SegmentEffect, _Mapping]]] = ...) -> None: ...
