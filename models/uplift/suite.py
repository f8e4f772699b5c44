"""The evaluation suite: real and generated experiments of different shapes, one protocol.

Hillstrom (each e-mail vs none; outcomes ``visit`` and ``conversion``), the demo world at several
signal strengths and generated experiments with known uplift at low, medium and high signal with
5 to 50 features. Each entry is built lazily so a failing or missing data set costs nothing until used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pandas as pd

from core.paths import hillstrom_csv
from models.uplift.demo import demo_dataset
from models.uplift.evaluation import UpliftDataset, hillstrom_dataset, hillstrom_name, synthetic_dataset

__all__ = ["suite_datasets"]


def suite_datasets(demo_users: int = 20_000, synthetic_rows: int = 20_000
                   ) -> list[tuple[str, Callable[[], UpliftDataset]]]:
    """``(name, loader)`` of every suite data set, in report order."""
    cache: dict[str, pd.DataFrame] = {}

    def hillstrom(arm: str, outcome: str) -> Callable[[], UpliftDataset]:
        def load() -> UpliftDataset:
            if "frame" not in cache:
                cache["frame"] = pd.read_csv(hillstrom_csv())
            return hillstrom_dataset(arm, outcome, frame=cache["frame"])
        return load

    entries: list[tuple[str, Callable[[], UpliftDataset]]] = []
    for arm in ("Womens E-Mail", "Mens E-Mail"):
        for outcome in ("visit", "conversion"):
            entries.append((hillstrom_name(arm, outcome), hillstrom(arm, outcome)))
    for strength in (0.5, 1.0, 2.0):
        entries.append((f"demo_signal_{strength:g}", functools.partial(demo_dataset, demo_users, 0, signal=strength)))
    for level, n_features in (("low", 3), ("low", 20), ("medium", 5), ("medium", 50), ("high", 10)):
        entries.append((f"synthetic_{level}_{n_features}f",
                        functools.partial(synthetic_dataset, level, n_features, synthetic_rows, seed=1)))
    return entries
