"""Compare candidate settings of uplift learners on the suite's own splits (how the default was chosen).

    python examples/uplift/candidates.py '{"new": ["default", {}], "t": ["t_learner", {}]}' \
        --seeds 3 --out var/uplift/candidates.jsonl [--only hillstrom,synthetic_low_3f] [--from-seed 2]

Each candidate is ``label: [registry learner name, parameter overrides]``. Every (data set, split,
candidate) appends one JSON line ``{"ds", "seed", "cand", "qini", "cpu"}`` (normalized Qini AUC on the
test half; CPU seconds of ``fit``, less sensitive to other jobs than wall time), so runs can be resumed
and merged. Splits, encoding and seeds are those of ``mds uplift evaluate --suite``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from models.uplift.encoding import FeatureEncoder
from models.uplift.evaluation import protocol_splits
from models.uplift.learners import make_learner
from models.uplift.metrics import qini_auc
from models.uplift.suite import suite_datasets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("candidates", help='JSON: {"label": ["learner", {params}], ...}')
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--from-seed", type=int, default=0, help="skip the splits before this one")
    parser.add_argument("--only", default="", help="comma-separated suite data sets (default: all)")
    parser.add_argument("--out", type=Path, default=Path("var/uplift/candidates.jsonl"))
    args = parser.parse_args()
    candidates: dict[str, list] = json.loads(args.candidates)
    only = {name for name in args.only.split(",") if name}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as out:
        for name, load in suite_datasets():
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
