from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetFeaturesRequest(_message.Message):
    __slots__ = ("entity", "keys", "features")
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    entity: str
    keys: _containers.RepeatedScalarFieldContainer[str]
    features: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, entity: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ..., features: _Optional[_Iterable[str]] = ...) -> None: ...

class StringList(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class FeatureColumn(_message.Message):
    __slots__ = ("name", "dtype", "valid", "int_values", "float_values", "bool_values", "category_values", "set_values")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    INT_VALUES_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUES_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUES_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_VALUES_FIELD_NUMBER: _ClassVar[int]
    SET_VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    dtype: str
    valid: _containers.RepeatedScalarFieldContainer[bool]
    int_values: Int64Values
    float_values: DoubleValues
    bool_values: BoolValues
    category_values: StringValues
    set_values: StringSetValues
    def __init__(self, name: _Optional[str] = ..., dtype: _Optional[str] = ..., valid: _Optional[_Iterable[bool]] = ..., int_values: _Optional[_Union[Int64Values, _Mapping]] = ..., float_values: _Optional[_Union[DoubleValues, _Mapping]] = ..., bool_values: _Optional[_Union[BoolValues, _Mapping]] = ..., category_values: _Optional[_Union[StringValues, _Mapping]] = ..., set_values: _Optional[_Union[StringSetValues, _Mapping]] = ...) -> None: ...

class Int64Values(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class DoubleValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class BoolValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, values: _Optional[_Iterable[bool]] = ...) -> None: ...

class StringValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class StringSetValues(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[StringList]
    def __init__(self, values: _Optional[_Iterable[_Union[StringList, _Mapping]]] = ...) -> None: ...

class GetFeaturesResponse(_message.Message):
    __slots__ = ("keys", "found", "columns", "catalog_fingerprint")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    FOUND_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    CATALOG_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    found: _containers.RepeatedScalarFieldContainer[bool]
    columns: _containers.RepeatedCompositeFieldContainer[FeatureColumn]
    catalog_fingerprint: str
    def __init__(self, keys: _Optional[_Iterable[str]] = ..., found: _Optional[_Iterable[bool]] = ..., columns: _Optional[_Iterable[_Union[FeatureColumn, _Mapping]]] = ..., catalog_fingerprint: _Optional[str] = ...) -> None: ...

class GetCatalogRequest(_message.Message):
    __slots__ = ("entity",)
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    entity: str
    def __init__(self, entity: _Optional[str] = ...) -> None: ...

class FeatureSpec(_message.Message):
    __slots__ = ("name", "entity", "dtype", "description", "allowed_values", "has_range", "range_min", "range_max", "group", "ttl_seconds", "aliases")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_VALUES_FIELD_NUMBER: _ClassVar[int]
    HAS_RANGE_FIELD_NUMBER: _ClassVar[int]
    RANGE_MIN_FIELD_NUMBER: _ClassVar[int]
    RANGE_MAX_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    name: str
    entity: str
    dtype: str
    description: str
    allowed_values: _containers.RepeatedScalarFieldContainer[str]
    has_range: bool
    range_min: float
    range_max: float
    group: str
    ttl_seconds: int
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., entity: _Optional[str] = ..., dtype: _Optional[str] = ..., description: _Optional[str] = ..., allowed_values: _Optional[_Iterable[str]] = ..., has_range: _Optional[bool] = ..., range_min: _Optional[float] = ..., range_max: _Optional[float] = ..., group: _Optional[str] = ..., ttl_seconds: _Optional[int] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class GetCatalogResponse(_message.Message):
    __slots__ = ("name", "fingerprint", "features", "entities")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    fingerprint: str
    features: _containers.RepeatedCompositeFieldContainer[FeatureSpec]
    entities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., fingerprint: _Optional[str] = ..., features: _Optional[_Iterable[_Union[FeatureSpec, _Mapping]]] = ..., entities: _Optional[_Iterable[str]] = ...) -> None: ...
