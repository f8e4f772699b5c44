from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecommendRequest(_message.Message):
    __slots__ = ("user_id", "k", "allow_popular_fallback", "value")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    ALLOW_POPULAR_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    k: int
    allow_popular_fallback: bool
    value: float
    def __init__(self, user_id: _Optional[str] = ..., k: _Optional[int] = ..., allow_popular_fallback: _Optional[bool] = ..., value: _Optional[float] = ...) -> None: ...

class RecommendedItem(_message.Message):
    __slots__ = ("item_id", "score", "title")
    ITEM_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    item_id: str
    score: float
    title: str
    def __init__(self, item_id: _Optional[str] = ..., score: _Optional[float] = ..., title: _Optional[str] = ...) -> None: ...

class RecommendResponse(_message.Message):
    __slots__ = ("items", "chain", "cost_us", "lambda_value", "reason", "predicted_reward")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    COST_US_FIELD_NUMBER: _ClassVar[int]
    LAMBDA_VALUE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PREDICTED_REWARD_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[RecommendedItem]
    chain: str
    cost_us: float
    lambda_value: float
    reason: str
    predicted_reward: float
    def __init__(self, items: _Optional[_Iterable[_Union[RecommendedItem, _Mapping]]] = ..., chain: _Optional[str] = ..., cost_us: _Optional[float] = ..., lambda_value: _Optional[float] = ..., reason: _Optional[str] = ..., predicted_reward: _Optional[float] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ChainTraffic(_message.Message):
    __slots__ = ("chain", "share", "requests", "cost_us")
    CHAIN_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    COST_US_FIELD_NUMBER: _ClassVar[int]
    chain: str
    share: float
    requests: int
    cost_us: float
    def __init__(self, chain: _Optional[str] = ..., share: _Optional[float] = ..., requests: _Optional[int] = ..., cost_us: _Optional[float] = ...) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("budget_us_per_window", "budget_fraction", "requests_per_window", "window_s", "spend_us", "window_requests", "lambda_value", "traffic", "full_chain_cost_us", "cheapest_chain_cost_us")
    BUDGET_US_PER_WINDOW_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FRACTION_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_WINDOW_FIELD_NUMBER: _ClassVar[int]
    WINDOW_S_FIELD_NUMBER: _ClassVar[int]
    SPEND_US_FIELD_NUMBER: _ClassVar[int]
    WINDOW_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    LAMBDA_VALUE_FIELD_NUMBER: _ClassVar[int]
    TRAFFIC_FIELD_NUMBER: _ClassVar[int]
    FULL_CHAIN_COST_US_FIELD_NUMBER: _ClassVar[int]
    CHEAPEST_CHAIN_COST_US_FIELD_NUMBER: _ClassVar[int]
    budget_us_per_window: float
    budget_fraction: float
    requests_per_window: float
    window_s: float
    spend_us: float
    window_requests: int
    lambda_value: float
    traffic: _containers.RepeatedCompositeFieldContainer[ChainTraffic]
    full_chain_cost_us: float
    cheapest_chain_cost_us: float
    def __init__(self, budget_us_per_window: _Optional[float] = ..., budget_fraction: _Optional[float] = ..., requests_per_window: _Optional[float] = ..., window_s: _Optional[float] = ..., spend_us: _Optional[float] = ..., window_requests: _Optional[int] = ..., lambda_value: _Optional[float] = ..., traffic: _Optional[_Iterable[_Union[ChainTraffic, _Mapping]]] = ..., full_chain_cost_us: _Optional[float] = ..., cheapest_chain_cost_us: _Optional[float] = ...) -> None: ...

class SetBudgetRequest(_message.Message):
    __slots__ = ("budget_fraction", "requests_per_window")
    BUDGET_FRACTION_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_WINDOW_FIELD_NUMBER: _ClassVar[int]
    budget_fraction: float
    requests_per_window: float
    def __init__(self, budget_fraction: _Optional[float] = ..., requests_per_window: _Optional[float] = ...) -> None: ...

class SetBudgetResponse(_message.Message):
    __slots__ = ("budget_us_per_window", "budget_fraction", "requests_per_window")
    BUDGET_US_PER_WINDOW_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FRACTION_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_PER_WINDOW_FIELD_NUMBER: _ClassVar[int]
    budget_us_per_window: float
    budget_fraction: float
    requests_per_window: float
    def __init__(self, budget_us_per_window: _Optional[float] = ..., budget_fraction: _Optional[float] = ..., requests_per_window: _Optional[float] = ...) -> None: ...
