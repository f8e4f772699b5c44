"""Synthetic randomized experiments with a known individual uplift, and the demo world at a chosen
signal strength: the evaluation suite's data sets whose truth is known.

The generator is deliberately plain (no tuning to any learner): numeric and binary features, a
baseline response driven by a few of them, and a heterogeneous effect driven by a few (partly
overlapping) others, scaled by the signal level. Most features are noise when ``n_features`` is large.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.errors import InvalidArgument

__all__ = ["SIGNAL_LEVELS", "synthetic_experiment"]

# Size of the individual effect (probability points) at each named level.
SIGNAL_LEVELS: dict[str, float] = {"low": 0.015, "medium": 0.04, "high": 0.10}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def synthetic_experiment(n: int = 20_000, n_features: int = 10, signal: str | float = "medium",
                         base_rate: float = 0.12, seed: int = 0
                         ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """``(features, treatment, outcome, true_uplift)`` of one 50/50 randomized experiment.

    ``signal``: a level name from :data:`SIGNAL_LEVELS` or the effect size in probability points.
    The true uplift is ``P(y | x, treated) - P(y | x, control)`` (it can be negative for some users).
    """
    if n < 100:
        raise InvalidArgument("a synthetic experiment needs at least 100 rows", field="n")
    if not 3 <= n_features <= 500:
        raise InvalidArgument("n_features must be between 3 and 500", field="n_features")
    if isinstance(signal, str):
        if signal not in SIGNAL_LEVELS:
            raise InvalidArgument(f"signal must be one of {sorted(SIGNAL_LEVELS)} or a number", field="signal")
        size = SIGNAL_LEVELS[signal]
    else:
        size = float(signal)
    rng = np.random.default_rng(seed)
    n_binary = n_features // 3
    X = np.column_stack([rng.normal(size=(n, n_features - n_binary)),
                         (rng.random((n, n_binary)) < 0.3).astype(np.float64)])
    # Baseline: a few features, including one binary when there is one.
    base_logit = np.log(base_rate / (1 - base_rate)) + 0.6 * X[:, 0] - 0.4 * X[:, 1] + 0.3 * X[:, -1]
    p_control = _sigmoid(base_logit)
    # Effect: smooth in x0 and x2, a threshold in x1; mostly positive, negative for a minority.
    shape = 0.6 + 0.8 * np.tanh(X[:, 0]) + 0.6 * (X[:, 1] > 0.5) - 0.4 * np.tanh(X[:, 2])
    p_treated = np.clip(p_control + size * shape, 0.001, 0.999)
    treatment = (rng.random(n) < 0.5).astype(np.int8)
    p = np.where(treatment == 1, p_treated, p_control)
    outcome = (rng.random(n) < p).astype(np.float64)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(n_features)])
    return frame, treatment, outcome, p_treated - p_control
