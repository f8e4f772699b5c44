"""The evaluation protocol: every learner on the same stratified train/test splits, several seeds.

A :class:`UpliftDataset` is a randomized experiment (feature frame, treatment 0/1, binary outcome,
and, for synthetic worlds, the true individual uplift). :func:`evaluate_learners` fits each learner
on the same splits (stratified by treatment × outcome), scores the test half with the normalized
Qini AUC, AUUC and uplift@30%, times the fit, and, when the truth is known, reports the Spearman
correlation and PEHE (root mean squared error) of predicted against true uplift.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.model_selection import train_test_split

from core.errors import InvalidArgument
from core.paths import hillstrom_csv
from features.catalog import Catalog
from models.uplift._intervals import Calibration, bootstrap_intervals, calibration_by_decile
from models.uplift._profit import ProfitCurve, check_costs, profit_curve
from models.uplift._synthetic import synthetic_experiment
from models.uplift._tuning import tune_learner
from models.uplift.encoding import FeatureEncoder
from models.uplift.learners import DEFAULT_LEARNER, DEFAULT_REVENUE_LEARNER, LEARNERS, make_learner
from models.uplift.metrics import qini_curve, score_uplift

__all__ = [
    "EvaluationReport",
    "LearnerResult",
    "UpliftDataset",
    "default_learner_names",
    "evaluate_learners",
    "file_dataset",
    "hillstrom_dataset",
    "hillstrom_name",
    "protocol_splits",
    "read_table",
    "synthetic_dataset",
]

HILLSTROM_FEATURES = ("recency", "history_segment", "history", "mens", "womens", "zip_code", "newbie", "channel")


@dataclass(frozen=True)
class UpliftDataset:
    """One randomized experiment ready for the protocol."""

    name: str
    frame: pd.DataFrame  # feature columns only, catalog-typed
    treatment: np.ndarray  # int8, 1 = treated
    outcome: np.ndarray  # float64: 0/1, or continuous (revenue)
    true_uplift: np.ndarray | None = None
    treatment_column: str = "treatment"  # names used in error messages
    outcome_column: str = "outcome"
    costs: np.ndarray | None = None  # per-user treatment cost, for profit curves
    catalog: Catalog | None = None  # the catalog whose features the columns are (the demo world's for demo data)

    def __post_init__(self) -> None:
        n = len(self.frame)
        if len(self.treatment) != n or len(self.outcome) != n:
            raise InvalidArgument("treatment and outcome need one value per row", field="treatment")
        if n < 20:
            raise InvalidArgument(f"the data set has only {n} usable rows", field="--data")

    @property
    def continuous(self) -> bool:
        """A revenue-like outcome (anything but 0/1)."""
        return not bool(np.isin(self.outcome, (0.0, 1.0)).all())

    def strata(self) -> np.ndarray:
        """Split strata: treatment x (outcome > 0), so both arms' responders spread over every split."""
        return self.treatment.astype(np.int64) * 2 + (self.outcome > 0).astype(np.int64)

    def check_split(self, test_size: float, *, min_rows: int = 10) -> None:
        """Refuse a split that leaves an arm (or an arm's responders) too small on either side.

        Every arm needs ``min_rows`` rows in the smaller part of a ``test_size`` split; the error names
        the treatment column and the arm.
        """
        share = min(test_size, 1.0 - test_size)
        for arm, label in ((1, "treated"), (0, "control")):
            rows = int((self.treatment == arm).sum())
            if rows * share < min_rows:
                need = int(np.ceil(min_rows / share))
                raise InvalidArgument(
                    f"column {self.treatment_column!r}: the {label} arm has {rows} rows, too few for a split "
                    f"with test share {test_size} (needs at least {need})", field=self.treatment_column)
            responders = int((self.outcome[self.treatment == arm] != 0).sum())
            if responders < 2 or rows - responders < 2:
                raise InvalidArgument(
                    f"column {self.outcome_column!r}: the {label} arm has {responders} non-zero outcomes of {rows} "
                    "rows; zero and non-zero outcomes need at least 2 rows in each arm", field=self.outcome_column)


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet file as a frame; a missing file or another format names ``--data``."""
    if not path.exists():
        raise InvalidArgument(f"no such file: {path}", field="--data")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise InvalidArgument(f"--data must be a .csv or .parquet file, got {path.name!r}", field="--data")


def _match(column: pd.Series, value: str) -> np.ndarray:
    """Rows whose value equals ``value`` (compared as text, so '1' matches 1 and True matches 'True')."""
    return (column.astype(str) == str(value)).to_numpy()


def file_dataset(path: str | Path, *, treatment_col: str, treatment_value: str, control_value: str,
                 outcome_col: str, features: Sequence[str] | None = None, name: str | None = None,
                 frame: pd.DataFrame | None = None, cost_col: str | None = None) -> UpliftDataset:
    """A data set from a CSV/Parquet file (or an already loaded ``frame``); rows in neither arm are dropped.

    ``cost_col``: per-user treatment cost (non-negative, none missing), used for profit curves.
    """
    df = read_table(Path(path)) if frame is None else frame
    for col, flag in ((treatment_col, "--treatment-col"), (outcome_col, "--outcome-col"),
                      *(((cost_col, "--cost-col"),) if cost_col else ())):
        if col not in df.columns:
            raise InvalidArgument(f"column {col!r} ({flag}) is not in the data; columns: {list(df.columns)}", field=flag)
    arms = df[treatment_col].dropna().astype(str).unique()
    if len(arms) < 2:
        raise InvalidArgument(f"column {treatment_col!r} (--treatment-col) has one arm only "
                              f"({', '.join(map(repr, arms[:1])) or 'no values'}); an experiment needs two",
                              field="--treatment-col")
    treated = _match(df[treatment_col], treatment_value)
    control = _match(df[treatment_col], control_value)
    if not treated.any():
        raise InvalidArgument(f"no row has {treatment_col} == {treatment_value!r}", field="--treatment-value")
    if not control.any():
        raise InvalidArgument(f"no row has {treatment_col} == {control_value!r}", field="--control-value")
    if str(treatment_value) == str(control_value):
        raise InvalidArgument("--treatment-value and --control-value must differ", field="--control-value")
    keep = treated | control
    df = df.loc[keep].reset_index(drop=True)
    raw_outcome = df[outcome_col]
    if raw_outcome.isna().any():
        raise InvalidArgument(f"outcome column {outcome_col!r} has {int(raw_outcome.isna().sum())} missing values",
                              field="--outcome-col")
    outcome = pd.to_numeric(raw_outcome, errors="coerce").to_numpy(dtype=np.float64)
    if np.isnan(outcome).any():
        bad = raw_outcome[np.isnan(outcome)].iloc[0]
        raise InvalidArgument(f"outcome column {outcome_col!r} is not numeric (e.g. {bad!r})", field="--outcome-col")
    if not np.isfinite(outcome).all():
        raise InvalidArgument(f"outcome column {outcome_col!r} has infinite values", field="--outcome-col")
    if features:
        unknown = [c for c in features if c not in df.columns]
        if unknown:
            raise InvalidArgument(f"feature column {unknown[0]!r} is not in the data", field="--features")
        clash = [c for c in features if c in (treatment_col, outcome_col)]
        if clash:
            raise InvalidArgument(f"{clash[0]!r} is the treatment or outcome, not a feature", field="--features")
        cols = list(features)
    else:
        cols = [c for c in df.columns if c not in (treatment_col, outcome_col, cost_col)]
    costs = None
    if cost_col:
        try:
            costs = check_costs(pd.to_numeric(df[cost_col], errors="coerce"), len(df), field="--cost-col")
        except InvalidArgument as exc:
            raise InvalidArgument(f"cost column {cost_col!r}: {exc}", field="--cost-col") from None
    return UpliftDataset(
        name=name or Path(path).stem,
        frame=df[cols].copy(),
        treatment=treated[keep].astype(np.int8),
        outcome=outcome,
        treatment_column=treatment_col,
        outcome_column=outcome_col,
        costs=costs,
    )


def hillstrom_dataset(arm: str = "Womens E-Mail", outcome: str = "visit", *, frame: pd.DataFrame | None = None
                      ) -> UpliftDataset:
    """Hillstrom e-mail: ``arm`` (Womens or Mens E-Mail) vs No E-Mail, outcome ``visit`` or
    ``conversion``, the 8 pre-treatment features. The default is the classic Womens/visit set."""
    return file_dataset(hillstrom_csv(), treatment_col="segment", treatment_value=arm, control_value="No E-Mail",
                        outcome_col=outcome, features=HILLSTROM_FEATURES, name=hillstrom_name(arm, outcome),
                        frame=frame)


def hillstrom_name(arm: str, outcome: str) -> str:
    """The data set name of ``arm`` and ``outcome``: ``hillstrom`` for the classic Womens/visit set, else
    ``hillstrom_<mens|womens>_<outcome>``."""
    if (arm, outcome) == ("Womens E-Mail", "visit"):
        return "hillstrom"
    return f"hillstrom_{arm.split()[0].lower()}_{outcome}"


def synthetic_dataset(signal: str = "medium", n_features: int = 10, n: int = 20_000, seed: int = 0) -> UpliftDataset:
    """A generated experiment with known uplift (:func:`models.uplift._synthetic.synthetic_experiment`)."""
    frame, treatment, outcome, true_uplift = synthetic_experiment(n, n_features, signal, seed=seed)
    return UpliftDataset(name=f"synthetic_{signal}_{n_features}f", frame=frame, treatment=treatment,
                         outcome=outcome, true_uplift=true_uplift)


@dataclass
class LearnerResult:
    """Per-seed scores of one learner, plus the Qini curve of its first split (for the plot)."""

    name: str
    scores: dict[str, list[float]] = field(default_factory=dict)
    curve: tuple[np.ndarray, np.ndarray] | None = None

    def add(self, metric: str, value: float) -> None:
        self.scores.setdefault(metric, []).append(float(value))

    def summary(self) -> dict[str, list[float]]:
        """``{metric: [mean, std]}`` over seeds (population std)."""
        return {m: [float(np.mean(v)), float(np.std(v))] for m, v in self.scores.items()}


@dataclass
class EvaluationReport:
    dataset: str
    n_rows: int
    seeds: int
    test_size: float
    learners: dict[str, LearnerResult]
    random_curve: tuple[np.ndarray, np.ndarray] | None = None
    # Split 1's test half: bootstrap intervals {learner: {metric: [low, high]}} and calibration.
    intervals: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    calibration: dict[str, Calibration] = field(default_factory=dict)
    # With tuning: the setting each learner chose on split 1's training half.
    tuned: dict[str, dict[str, object]] = field(default_factory=dict)
    # With costs: split 1's observed profit curve per learner.
    profit: dict[str, ProfitCurve] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "dataset": self.dataset,
            "n_rows": self.n_rows,
            "seeds": self.seeds,
            "test_size": self.test_size,
            "learners": {name: r.summary() for name, r in self.learners.items()},
            "intervals": self.intervals,
            "calibration": {name: c.to_json() for name, c in self.calibration.items()},
        }
        if self.tuned:
            out["tuned"] = self.tuned
        if self.profit:
            out["profit"] = {name: curve.to_json() for name, curve in self.profit.items()}
        return out


def protocol_splits(ds: UpliftDataset, seeds: int, test_size: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, test rows) of each seed's split, stratified by treatment x outcome: the splits every
    learner of :func:`evaluate_learners` is fitted and scored on."""
    strata = ds.strata()
    rows = np.arange(len(ds.frame))
    out = []
    for seed in range(seeds):
        try:
            train, test = train_test_split(rows, test_size=test_size, random_state=seed, stratify=strata)
        except ValueError as exc:
            raise InvalidArgument(f"cannot split the data: {exc}", field="--test-size") from None
        out.append((np.sort(train), np.sort(test)))
    return out


def _warm_up(ds: UpliftDataset, names: Sequence[str], train: np.ndarray) -> None:
    """One untimed fit per learner on a small sample, so ``fit_seconds`` excludes one-time process
    costs (torch kernel and thread-pool start-up, LightGBM's first dataset) for every learner alike."""
    rows = train[: min(len(train), 1000)]
    encoder = FeatureEncoder(exclude=()).fit(ds.frame.iloc[rows])
    X = encoder.transform(ds.frame.iloc[rows])
    t, y = ds.treatment[rows], ds.outcome[rows]
    if t.min() == t.max() or y.min() == y.max():
        return
    for name in names:
        make_learner(name).fit(X, t, y)


def _resolve(name: str, continuous: bool = False) -> str:
    if name == "default":
        return DEFAULT_REVENUE_LEARNER if continuous else DEFAULT_LEARNER
    return name


def default_learner_names(continuous: bool = False) -> list[str]:
    """What ``evaluate`` runs when no learners are named: ``default`` and every MDS learner that takes
    the outcome (revenue outcomes leave out the binary-only learners)."""
    return ["default", *(n for n in LEARNERS if not continuous or make_learner(n).supports_continuous)]


def evaluate_learners(ds: UpliftDataset, learners: Sequence[str] | None = None, *, seeds: int = 5,
                      test_size: float = 0.5, tune_seconds: float | None = None, n_boot: int = 100,
                      value_per_unit: float = 1.0, on_step: Callable[[str, int], None] | None = None) -> EvaluationReport:
    """Fit and score every learner on the same ``seeds`` stratified splits of ``ds``.

    Names are registry learners, ``default`` or anchors (``anchor:<package>.<Learner>``); a name that
    resolves to the same learner as another (``default``) is fitted once and reported under both.
    ``tune_seconds``: tune each MDS learner on each training half first (cross-validated Qini on the
    training rows only, about this many seconds per learner and split); tuning time is reported as
    ``tune_seconds``, apart from ``fit_seconds``. Split 1's test half also gets bootstrap intervals
    (``n_boot`` resamples) and calibration by decile, and, when ``ds.costs`` is set, the observed profit
    curve of ranking by net value (``uplift * value_per_unit - cost``).
    """
    names = list(learners) if learners else default_learner_names(ds.continuous)
    for name in names:
        learner = make_learner(_resolve(name, ds.continuous), field="--learners")  # fail before any work
        if ds.continuous and not learner.supports_continuous:
            raise InvalidArgument(f"learner {name!r} takes 0/1 outcomes only, and {ds.outcome_column!r} is "
                                  "continuous", field="--learners")
    if seeds < 1:
        raise InvalidArgument("--seeds must be at least 1", field="--seeds")
    if not 0.0 < test_size < 1.0:
        raise InvalidArgument("--test-size must be in (0, 1)", field="--test-size")
    ds.check_split(test_size)
    fitted = list(dict.fromkeys(_resolve(n, ds.continuous) for n in names))
    results = {name: LearnerResult(name) for name in names}
    report = EvaluationReport(ds.name, len(ds.frame), seeds, test_size, results)
    splits = protocol_splits(ds, seeds, test_size)
    _warm_up(ds, fitted, splits[0][0])
    for seed, (train, test) in enumerate(splits):
        # The encoder is fitted on the training half only: nothing about the test half leaks in.
        encoder = FeatureEncoder(exclude=()).fit(ds.frame.iloc[train])
        X_train = encoder.transform(ds.frame.iloc[train])
        X_test = encoder.transform(ds.frame.iloc[test])
        t_tr, y_tr = ds.treatment[train], ds.outcome[train]
        t_te, y_te = ds.treatment[test], ds.outcome[test]
        for learner_name in fitted:
            learner = make_learner(learner_name, random_state=seed)
            tuning = None
            if tune_seconds is not None and not learner_name.startswith("anchor:"):
                # The default learner, tuned, also chooses its family.
                tuned_name = "default" if learner_name == _resolve("default", ds.continuous) else learner_name
                tuning = tune_learner(tuned_name, X_train, t_tr, y_tr, seconds=tune_seconds, random_state=seed)
                learner = make_learner(tuning.learner, random_state=seed).set_params(**tuning.params)
            start = time.perf_counter()
            learner.fit(X_train, t_tr, y_tr)
            fit_seconds = time.perf_counter() - start
            uplift = learner.predict(X_test)
            scores = score_uplift(y_te, uplift, t_te).as_dict()
            if seed == 0:
                interval = bootstrap_intervals(y_te, uplift, t_te, n_boot=n_boot)
                calibration = calibration_by_decile(y_te, uplift, t_te)
                curve = None if ds.costs is None else profit_curve(y_te, uplift, t_te, ds.costs[test],
                                                                    value_per_unit=value_per_unit)
            for name in (n for n in names if _resolve(n, ds.continuous) == learner_name):
                res = results[name]
                for metric, value in scores.items():
                    res.add(metric, value)
                res.add("fit_seconds", fit_seconds)
                if tuning is not None:
                    res.add("tune_seconds", tuning.seconds)
                    if seed == 0:
                        report.tuned[name] = {"learner": tuning.learner, "params": tuning.params,
                                              "cv_qini": tuning.cv_qini, "candidates": len(tuning.tried)}
                if ds.true_uplift is not None:
                    truth = ds.true_uplift[test]
                    res.add("spearman", float(spearmanr(uplift, truth).statistic))
                    res.add("pehe", float(np.sqrt(np.mean((uplift - truth) ** 2))))
                if seed == 0:
                    res.curve = qini_curve(y_te, uplift, t_te)
                    report.intervals[name] = interval
                    report.calibration[name] = calibration
                    if curve is not None:
                        report.profit[name] = curve
                if on_step is not None:
                    on_step(name, seed)
        if seed == 0:
            x, q = qini_curve(y_te, np.zeros(len(test)), t_te)
            report.random_curve = (np.array([0.0, x[-1]]), np.array([0.0, q[-1]]))
    return report
