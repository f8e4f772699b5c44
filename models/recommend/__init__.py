"""The cascade recommender: rating data (RecBole atomic / GroupLens CSV), time split and replayable
requests, recall / pre-rank / rank model instances, the cascade and its action chains, the
measured cost of every stage instance, and the trained bundle a replica serves."""

from models.recommend._bundle import (
    HISTORY_LIMIT,
    RecommenderBundle,
    decode_history,
    encode_history,
    train_recommender,
)
from models.recommend._calibration import CostCalibration, InstanceCost, calibrate
from models.recommend._cascade import REWARDS, TOP_K, Cascade, Chain, reward_of, train_cascade
from models.recommend._data import RatingData, from_frames, load_grouplens, load_ratings, load_recbole
from models.recommend._requests import (
    CONTEXT_FEATURES,
    POSITIVE,
    Request,
    TimeSplit,
    build_requests,
    context_features,
    time_split,
)
from models.recommend._stages import (
    CF_HISTORY,
    FEATURE_NAMES,
    BaseSignals,
    EmbeddingRecall,
    ItemCFRecall,
    LightGBMRanker,
    LinearPreRanker,
    MLPPreRanker,
    PopularityRecall,
    RequestContext,
    pair_features,
)

__all__ = [
    "BaseSignals", "CF_HISTORY", "HISTORY_LIMIT", "POSITIVE", "RecommenderBundle", "decode_history", "encode_history", "train_recommender", "CONTEXT_FEATURES", "Cascade", "Chain", "CostCalibration", "EmbeddingRecall", "FEATURE_NAMES",
    "InstanceCost", "ItemCFRecall", "LightGBMRanker", "LinearPreRanker", "MLPPreRanker", "PopularityRecall",
    "REWARDS", "RatingData", "Request", "RequestContext", "TOP_K", "TimeSplit", "build_requests", "calibrate",
    "context_features", "from_frames", "load_grouplens", "load_ratings", "load_recbole", "pair_features",
    "reward_of", "time_split", "train_cascade",
]
