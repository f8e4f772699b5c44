"""Tune a loaded model for small online batches: LightGBM predicts single-threaded, without wrapper overhead."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np

__all__ = ["prefer_single_thread", "single_threaded_worker"]


class _ServingLGBMClassifier(lgb.LGBMClassifier):
    """A fitted binary ``LGBMClassifier`` whose plain ``predict_proba(ndarray)`` goes straight to the booster.

    Why: on a 100-row request the scikit-learn wrapper (input validation, ``get_params`` through
    ``inspect``, a deep copy of the parameters) costs several times the tree walk itself. Any call
    with options, a non-array input or a non-binary model takes the normal path, so results are the
    ones the wrapper gives (tests compare them).
    """

    def predict_proba(self, X: Any, *args: Any, **kwargs: Any) -> Any:
        if (args or kwargs or not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[1] != self._n_features
                or self._n_classes != 2 or callable(self._objective)):
            return super().predict_proba(X, *args, **kwargs)
        assert self._Booster is not None  # fitted: checked by prefer_single_thread before the swap
        p = np.asarray(self._Booster.predict(X, num_threads=1), dtype=np.float64)
        return np.vstack((1.0 - p, p)).transpose()


class _ServingLGBMRegressor(lgb.LGBMRegressor):
    """The same shortcut for a fitted ``LGBMRegressor.predict(ndarray)``."""

    def predict(self, X: Any, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs or not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[1] != self._n_features:
            return super().predict(X, *args, **kwargs)
        assert self._Booster is not None
        return self._Booster.predict(X, num_threads=1)


_SERVING_CLASS = {lgb.LGBMClassifier: _ServingLGBMClassifier, lgb.LGBMRegressor: _ServingLGBMRegressor}


def prefer_single_thread(model: Any, _depth: int = 0) -> int:
    """Tune every fitted LightGBM model inside ``model`` for online requests; return how many.

    Each gets ``n_jobs=1`` (a 100-row request is done long before an OpenMP team pays off, and the
    team spin-waits on cores other requests and Redis need) and, for exact ``LGBMClassifier`` /
    ``LGBMRegressor`` instances, a serving subclass with a direct booster path. Only the in-memory
    object of a serving process changes; batch scoring keeps the trained settings.
    """
    if _depth > 6 or model is None:
        return 0
    if isinstance(model, lgb.LGBMModel):
        model.set_params(n_jobs=1)
        serving = _SERVING_CLASS.get(type(model))
        if serving is not None and getattr(model, "_Booster", None) is not None:
            model.__class__ = serving
        return 1
    if isinstance(model, dict):
        return sum(prefer_single_thread(v, _depth + 1) for v in model.values())
    if isinstance(model, list | tuple):
        return sum(prefer_single_thread(v, _depth + 1) for v in model)
    attrs = getattr(model, "__dict__", None)
    if attrs is None or type(model).__module__.split(".")[0] in ("numpy", "pandas", "builtins", "pydantic"):
        return 0
    return sum(prefer_single_thread(v, _depth + 1) for v in attrs.values())


def single_threaded_worker() -> None:
    """Thread-pool initializer: torch ops on this thread use one intra-op thread.

    Why: torch fans even a 100-row forward pass out over every core through OpenMP, which costs
    ~15x the single-threaded CPU on a busy 2-core box. OpenMP's thread count is per calling thread,
    so serving threads get 1 while the rest of the process (other services) keeps its setting.
    """
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:  # only when a torch model could be served; never import it for nothing
        torch.set_num_threads(1)
