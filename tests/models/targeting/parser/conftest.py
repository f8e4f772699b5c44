"""Fixtures of the parser tests: one converted SmolLM2 copy shared by every run on this machine."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from features.catalog import Catalog, demo_catalog
from models.targeting.parser import ParserConfig


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return demo_catalog()


@pytest.fixture(scope="session")
def model_cache() -> Path:
    # The GGUF → transformers conversion takes about a minute on two cores; later runs reuse the copy.
    path = Path(tempfile.gettempdir()) / "mds-test-cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def parser_config(model_cache: Path) -> ParserConfig:
    return ParserConfig(cache_dir=model_cache)
