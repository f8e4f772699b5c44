"""Scoring with registered uplift models: budgeted selection, batch scoring (local, Spark)."""

from models.uplift.scoring._batch import BatchScoreResult, partial_path, predict_throughput, score_parquet
from models.uplift.scoring._cache_encoder import CacheEncoder, compile_cache_encoder
from models.uplift.scoring._select import Selection, select_top
from models.uplift.scoring._spark import local_spark, score_parquet_spark
from models.uplift.scoring._threads import (
    predicts_on_event_loop,
    prefer_single_thread,
    single_threaded_worker,
)

__all__ = [
    "BatchScoreResult",
    "CacheEncoder",
    "Selection",
    "compile_cache_encoder",
    "local_spark",
    "partial_path",
    "predict_throughput",
    "predicts_on_event_loop",
    "prefer_single_thread",
    "score_parquet",
    "score_parquet_spark",
    "select_top",
    "single_threaded_worker",
]
