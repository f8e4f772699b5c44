"""Tune a loaded model for small online batches: LightGBM predicts single-threaded, without wrapper overhead."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import lightgbm as lgb
import numpy as np

__all__ = ["predicts_on_event_loop", "prefer_single_thread", "single_threaded_worker"]


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


class _ServingBooster(lgb.Booster):
    """A bare ``Booster`` (e.g. a learner's correction stage) that predicts on one thread unless told otherwise.

    Why: ``Booster.predict`` without ``num_threads`` starts an OpenMP team over every core. On a busy
    2-core box a 100-row call then waits for a second core and the team spin-waits afterwards: measured
    p50 16 ms against 0.18 ms single-threaded for a 30-tree correction stage at load 7, in a process
    without ``OMP_NUM_THREADS=1`` (the ``mds`` command sets it; a server embedded elsewhere may not).
    """

    def predict(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("num_threads", 1)
        return super().predict(data, *args, **kwargs)


_SERVING_CLASS = {lgb.LGBMClassifier: _ServingLGBMClassifier, lgb.LGBMRegressor: _ServingLGBMRegressor}


def _predictors(model: Any, _depth: int = 0) -> Iterator[Any]:
    """The LightGBM models, bare boosters and torch modules inside ``model`` (attributes, dicts, lists)."""
    if _depth > 6 or model is None:
        return
    torch = sys.modules.get("torch")  # a pickled torch module imported torch as it loaded
    if isinstance(model, lgb.LGBMModel | lgb.Booster) or (torch is not None and isinstance(model, torch.nn.Module)):
        yield model
    elif isinstance(model, dict):
        for value in model.values():
            yield from _predictors(value, _depth + 1)
    elif isinstance(model, list | tuple):
        for value in model:
            yield from _predictors(value, _depth + 1)
    else:
        attrs = getattr(model, "__dict__", None)
        if attrs is None or type(model).__module__.split(".")[0] in ("numpy", "pandas", "builtins", "pydantic"):
            return
        for value in attrs.values():
            yield from _predictors(value, _depth + 1)


def prefer_single_thread(model: Any) -> int:
    """Tune every fitted LightGBM model inside ``model`` for online requests; return how many.

    Each gets ``n_jobs=1`` (a 100-row request is done long before an OpenMP team pays off, and the
    team spin-waits on cores other requests and Redis need) and, for exact ``LGBMClassifier`` /
    ``LGBMRegressor`` instances, a serving subclass with a direct booster path; a bare ``Booster``
    predicts with ``num_threads=1`` by default. Only the in-memory object of a serving process
    changes; batch scoring keeps the trained settings.
    """
    tuned = 0
    for part in _predictors(model):
        if isinstance(part, lgb.Booster):
            if type(part) is lgb.Booster:
                part.__class__ = _ServingBooster
        elif isinstance(part, lgb.LGBMModel):
            part.set_params(n_jobs=1)
            serving = _SERVING_CLASS.get(type(part))
            if serving is not None and getattr(part, "_Booster", None) is not None:
                part.__class__ = serving
        else:
            continue
        tuned += 1
    return tuned


def predicts_on_event_loop(model: Any) -> bool:
    """Whether a server may run ``model``'s online-sized predictions on the calling (event loop) thread.

    True when every predictor inside runs single-threaded there: LightGBM (tuned by
    :func:`prefer_single_thread`), and torch modules while torch uses one thread on this thread (the
    ``mds`` command sets ``OMP_NUM_THREADS=1``). A 100-row prediction then costs ~1-2 ms, less than the
    hand-off to a worker thread and back on busy cores (measured by bench-serve). Otherwise the worker
    threads, whose torch pool is one thread (:func:`single_threaded_worker`), keep the work.
    """
    parts = list(_predictors(model))
    torch = sys.modules.get("torch")
    torch_single = torch is not None and torch.get_num_threads() == 1
    return bool(parts) and all(isinstance(p, lgb.LGBMModel | lgb.Booster) or torch_single for p in parts)


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
