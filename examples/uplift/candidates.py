"""Compare candidate settings of uplift learners on the suite's own splits (how the default was chosen).

    python examples/uplift/candidates.py '{"new": ["default", {}], "t": ["t_learner", {}]}' \
        --seeds 3 --out var/uplift/candidates.jsonl [--only hillstrom,synthetic_low_3f] [--from-seed 2] [--rare-heldout]

Each candidate is ``label: [registry learner name, parameter overrides]``. Every (data set, split,
candidate) appends one JSON line ``{"ds", "seed", "cand", "qini", "cpu"}`` (normalized Qini AUC on the
test half; CPU seconds of ``fit``, less sensitive to other jobs than wall time), so runs can be resumed
and merged. Splits, encoding and seeds are those of ``mds uplift evaluate --suite``.

``--rare-heldout`` runs six rare-outcome experiments that are *not* in the suite instead (conversions of
Hillstrom's two e-mails pooled against none and of one e-mail against the other; generated experiments with
a 0.8-1.5 % base rate): a check, after choosing on the suite, that a rule for rare outcomes generalizes.
Anchors are candidates like any learner (``["anchor:sklift.ClassTransformation", {}]``).
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from core.paths import hillstrom_csv
from models.uplift import synthetic_experiment
from models.uplift.encoding import FeatureEncoder
from models.uplift.evaluation import HILLSTROM_FEATURES, UpliftDataset, file_dataset, protocol_splits
from models.uplift.learners import make_learner
from models.uplift.metrics import qini_auc
from models.uplift.suite import suite_datasets


def _rare_synthetic(n: int, n_features: int, effect: float, base_rate: float, seed: int) -> UpliftDataset:
    frame, t, y, uplift = synthetic_experiment(n, n_features, effect, base_rate=base_rate, seed=seed)
    return UpliftDataset(name=f"rare_synth_{n_features}f", frame=frame, treatment=t, outcome=y, true_uplift=uplift)


def _hillstrom_conversion(treated: str, control: str) -> UpliftDataset:
    frame = pd.read_csv(hillstrom_csv())
    # "email" pools both e-mails (two thirds of the rows) against no e-mail.
    pooled = {"Womens E-Mail": "email", "Mens E-Mail": "email", "No E-Mail": "none"}
    frame["arm"] = frame["segment"].map(pooled) if treated == "email" else frame["segment"]
    return file_dataset(hillstrom_csv(), treatment_col="arm", treatment_value=treated, control_value=control,
                        outcome_col="conversion", features=HILLSTROM_FEATURES, name="hillstrom_conversion", frame=frame)


def rare_heldout_datasets() -> list[tuple[str, Callable[[], UpliftDataset]]]:
    """Rare-outcome experiments outside the suite: a bag of 512 expects one to three responders per arm."""
    return [
        ("hill_any_email_conversion", functools.partial(_hillstrom_conversion, "email", "none")),
        ("hill_womens_vs_mens_conversion", functools.partial(_hillstrom_conversion, "Womens E-Mail", "Mens E-Mail")),
        ("rare_synth_5f_0.004", functools.partial(_rare_synthetic, 40000, 5, 0.004, 0.008, 7)),
        ("rare_synth_10f_0.008", functools.partial(_rare_synthetic, 40000, 10, 0.008, 0.008, 8)),
        ("rare_synth_20f_0.006", functools.partial(_rare_synthetic, 40000, 20, 0.006, 0.01, 9)),
        ("rare_synth_3f_0.01", functools.partial(_rare_synthetic, 30000, 3, 0.01, 0.015, 10)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("candidates", help='JSON: {"label": ["learner", {params}], ...}')
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--from-seed", type=int, default=0, help="skip the splits before this one")
    parser.add_argument("--only", default="", help="comma-separated suite data sets (default: all)")
    parser.add_argument("--out", type=Path, default=Path("var/uplift/candidates.jsonl"))
    parser.add_argument("--rare-heldout", action="store_true", help="the rare-outcome sets outside the suite")
    args = parser.parse_args()
    candidates: dict[str, list] = json.loads(args.candidates)
    only = {name for name in args.only.split(",") if name}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as out:
        for name, load in rare_heldout_datasets() if args.rare_heldout else suite_datasets():
            if only and name not in only:
                continue
            ds = load()
            for seed, (train, test) in enumerate(protocol_splits(ds, args.seeds, 0.5)):
                if seed < args.from_seed:
                    continue
                encoder = FeatureEncoder(exclude=()).fit(ds.frame.iloc[train])
                X_train, X_test = encoder.transform(ds.frame.iloc[train]), encoder.transform(ds.frame.iloc[test])
                for label, (learner, params) in candidates.items():
                    model = make_learner(learner, random_state=seed).set_params(**params)
                    start = time.process_time()
                    model.fit(X_train, ds.treatment[train], ds.outcome[train])
                    cpu = time.process_time() - start
                    qini = qini_auc(ds.outcome[test], model.predict(X_test), ds.treatment[test])
                    out.write(json.dumps({"ds": name, "seed": seed, "cand": label, "qini": qini, "cpu": cpu}) + "\n")
                    out.flush()
                    print(f"{name} split {seed + 1} {label}: Qini {qini:.4f}, fit {cpu:.2f} s CPU", flush=True)


if __name__ == "__main__":
    main()
