"""The bag-regularized uplift network (multiple-instance learning for uplift, Ant Group CIKM 2022).

Individual uplift labels are never observed, but the average treatment effect of a *group* of users
in a randomized experiment is: ``mean(y | treated) - mean(y | control)`` inside the group. The
network has a control head and a treated head (on a shared trunk, or as two separate towers) trained
on the per-arm log-loss; a bag loss ties the mean predicted uplift of each bag to that bag's observed
ATE. Bags are consecutive chunks of users sorted by the *current* predicted uplift (rebuilt every
``rebuild_every`` epochs), so each bag gathers users the model believes alike and its observed ATE
tells the model how large their effect really is: the ranking is corrected where it is wrong.

Bag labels may also come from outside (``bag_labels`` in ``fit``), e.g. segment-level effects that an
experiment analysis measured on other data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.errors import InvalidArgument
from models.uplift.base import UpliftEstimator, check_features

__all__ = ["BagLabels", "BagRegularizedUplift", "bag_ate_labels"]


@dataclass(frozen=True, slots=True)
class BagLabels:
    """Externally measured bags: ``bag_id`` per training row (-1 = in no bag), each bag's ATE and the
    ATE's sampling variance (``None``: estimated from the training rows of the bag)."""

    bag_id: np.ndarray
    ate: np.ndarray
    variance: np.ndarray | None = None

    @classmethod
    def from_segment_effects(cls, segment_of_row: Sequence[Any] | np.ndarray | pd.Series,
                             effects: Sequence[Any]) -> BagLabels:
        """Bags = segments, labelled by an experiment analysis.

        ``effects`` are objects with ``segment``, ``ate`` and ``se`` (e.g. the output of
        :func:`models.experiments.segment_effects` on another experiment); ``segment_of_row`` gives each
        training row's segment value. Rows of segments without an effect belong to no bag.
        """
        if not effects:
            raise InvalidArgument("no segment effects given", field="bag_labels")
        index = {str(e.segment): i for i, e in enumerate(effects)}
        rows = pd.Series(segment_of_row).astype(object)
        bag_id = np.array([index.get(str(v), -1) for v in rows], dtype=np.int64)
        ate = np.array([float(e.ate) for e in effects])
        variance = np.array([max(float(e.se) ** 2, 1e-8) for e in effects])
        return cls(bag_id=bag_id, ate=ate, variance=variance)


def bag_ate_labels(bag_id: np.ndarray, t: np.ndarray, y: np.ndarray, n_bags: int) -> tuple[np.ndarray, np.ndarray]:
    """Observed ATE of each bag and its sampling variance (treated mean − control mean).

    Bags missing an arm get label 0 and infinite variance (so zero weight downstream).
    """
    n_t = np.bincount(bag_id, weights=t, minlength=n_bags)
    n_c = np.bincount(bag_id, weights=1.0 - t, minlength=n_bags)
    y_t = np.bincount(bag_id, weights=y * t, minlength=n_bags)
    y_c = np.bincount(bag_id, weights=y * (1.0 - t), minlength=n_bags)
    ok = (n_t > 0) & (n_c > 0)
    p_t = np.divide(y_t, n_t, out=np.zeros(n_bags), where=n_t > 0)
    p_c = np.divide(y_c, n_c, out=np.zeros(n_bags), where=n_c > 0)
    ate = np.where(ok, p_t - p_c, 0.0)
    # Clip rates away from 0/1 so an all-zero bag does not claim zero variance.
    var_t = np.clip(p_t, 0.01, 0.99) * (1 - np.clip(p_t, 0.01, 0.99)) / np.maximum(n_t, 1)
    var_c = np.clip(p_c, 0.01, 0.99) * (1 - np.clip(p_c, 0.01, 0.99)) / np.maximum(n_c, 1)
    var = np.where(ok, var_t + var_c, np.inf)
    return ate, var


class _EnsembleTwoHeadNet(nn.Module):
    """``members`` independent two-headed MLPs evaluated as one batched model (one matmul per layer
    for the whole ensemble, so an ensemble costs little more than one net on a CPU).

    ``shared``: one trunk per member with two outputs (control logit, treated logit). ``separate``:
    two towers per member, the control logit from one and the treated logit from the other.
    ``wide`` adds a linear path from the inputs to both logits (wide & deep), which small tabular
    effects favour.
    """

    def __init__(self, n_in: int, hidden: tuple[int, ...], architecture: str, members: int,
                 dropout: float, wide: bool) -> None:
        super().__init__()
        self.members = members
        self.towers = members * (2 if architecture == "separate" else 1)
        self.separate = architecture == "separate"
        self.dropout = dropout
        widths = [n_in, *hidden, 2]
        self.hidden_width = widths[1]
        bound = 1.0 / np.sqrt(n_in)
        # The first layer of every tower (and the wide path) is one (n_in, towers * width) matrix: the
        # input is shared, so one plain matmul serves the whole ensemble.
        self.first = nn.Parameter(torch.empty(n_in, self.towers * widths[1]).uniform_(-bound, bound))
        self.first_bias = nn.Parameter(torch.empty(self.towers * widths[1]).uniform_(-bound, bound))
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for fan_in, fan_out in zip(widths[1:-1], widths[2:], strict=True):
            bound = 1.0 / np.sqrt(fan_in)
            self.weights.append(nn.Parameter(torch.empty(self.towers, fan_in, fan_out).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(self.towers, 1, fan_out).uniform_(-bound, bound)))
        self.wide = nn.Parameter(torch.zeros(n_in, self.towers * 2)) if wide else None

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Control and treated logits, each ``(members, rows)``."""
        rows = x.shape[0]
        out = torch.addmm(self.first_bias, x, self.first).view(rows, self.towers, -1).transpose(0, 1)
        for w, b in zip(self.weights, self.biases, strict=True):
            out = torch.relu(out)
            if self.dropout > 0 and self.training:
                out = nn.functional.dropout(out, self.dropout)
            out = torch.baddbmm(b, out, w)
        if self.wide is not None:
            out = out + (x @ self.wide).view(rows, self.towers, 2).transpose(0, 1)
        if self.separate:
            out = out.reshape(self.members, 2, rows, 2)
            return out[:, 0, :, 0], out[:, 1, :, 1]
        return out[..., 0], out[..., 1]


class BagRegularizedUplift(UpliftEstimator):
    """Two-headed torch network with a bag-level ATE regularizer.

    Parameters
    ----------
    bag_size: rows per bag (consecutive in the current predicted-uplift order).
    bag_weight: weight of the bag loss next to the per-arm log-loss. The bag loss is the Gaussian negative
        log-likelihood of each bag's observed ATE given the bag's mean predicted uplift (squared error over
        twice the label's sampling variance), per row, so ``bag_weight=1`` trusts the bags exactly as much
        as their noise allows and larger values emphasize them.
    bag_holdout: share of training rows kept out of the log-loss and used only to form bags (their
        outcomes reach the model only through bag labels), so bag labels are honest; 0 = bag all rows.
    rebuild_every: epochs between re-sorting users into bags.
    warmup_epochs: epochs of log-loss only before the first bags (the first ranking must mean something).
    architecture: ``"shared"`` trunk with two outputs, or ``"separate"`` towers per arm.
    hidden: widths of the hidden layers. epochs, batch_size, learning_rate, weight_decay, dropout: training.
    wide: add a linear input-to-logit path next to the hidden layers (wide & deep).
    n_ensemble: networks from different random initializations, trained side by side as one batched
        model and averaged (a smoother ranking for little extra time).
    early_stopping: keep the epoch whose per-arm log-loss on the bag-holdout rows (never in the
        log-loss) was lowest, instead of the last one (needs ``bag_holdout`` > 0).
    random_state: seed; the same seed gives the same model. n_threads: torch intra-op threads.
    """

    def __init__(self, bag_size: int = 512, bag_weight: float = 5.0, bag_holdout: float = 0.3,
                 rebuild_every: int = 1,
                 warmup_epochs: int = 2, architecture: Literal["shared", "separate"] = "shared",
                 hidden: tuple[int, ...] = (32,), epochs: int = 12, batch_size: int = 2048,
                 learning_rate: float = 0.01, weight_decay: float = 1e-2, dropout: float = 0.0,
                 wide: bool = True, n_ensemble: int = 2, early_stopping: bool = True,
                 random_state: int | None = 0, n_threads: int = 1) -> None:
        self.bag_size = bag_size
        self.bag_weight = bag_weight
        self.bag_holdout = bag_holdout
        self.rebuild_every = rebuild_every
        self.warmup_epochs = warmup_epochs
        self.architecture = architecture
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.wide = wide
        self.n_ensemble = n_ensemble
        self.early_stopping = early_stopping
        self.random_state = random_state
        self.n_threads = n_threads

    # -- fitting -----------------------------------------------------------------------------------

    def fit(self, X: Any, treatment: Any, y: Any, bag_labels: BagLabels | None = None) -> BagRegularizedUplift:
        """Fit on one randomized experiment; ``bag_labels`` optionally adds externally measured bags."""
        self._external = bag_labels
        try:
            super().fit(X, treatment, y)
        finally:
            self._external = None
        return self

    def _check_params(self, n_rows: int) -> None:
        if self.architecture not in ("shared", "separate"):
            raise InvalidArgument(f"architecture must be 'shared' or 'separate', got {self.architecture!r}",
                                  field="architecture")
        for name in ("bag_size", "epochs", "batch_size", "n_ensemble", "rebuild_every"):
            if int(getattr(self, name)) < 1:
                raise InvalidArgument(f"{name} must be at least 1", field=name)
        if self.bag_weight < 0:
            raise InvalidArgument("bag_weight must be non-negative", field="bag_weight")
        if not 0.0 <= self.bag_holdout < 1.0:
            raise InvalidArgument("bag_holdout must be in [0, 1)", field="bag_holdout")

    def _fit(self, X: np.ndarray, t: np.ndarray, y: np.ndarray) -> None:
        self._check_params(len(X))
        external = self._external
        if external is not None and np.asarray(external.bag_id).shape[0] != len(X):
            raise InvalidArgument("bag_labels.bag_id needs one entry per training row", field="bag_labels")
        # Robust standardization keeps heavy-tailed counts (spend, page views) from dominating; 0/1
        # columns (one-hot, flags) stay as they are, since scaling a rare flag by 1/std blows it up.
        binary = np.all((X == 0) | (X == 1), axis=0)
        q75, q50, q25 = np.percentile(X, [75, 50, 25], axis=0)
        std = X.std(axis=0)
        scale = np.where(q75 > q25, q75 - q25, np.where(std > 0, std, 1.0))
        self.center_ = np.where(binary, 0.0, q50)
        self.scale_ = np.where(binary, 1.0, scale)
        Xs = self._standardize(X)
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(max(1, min(int(self.n_threads), 2)))
        try:
            base_seed = 0 if self.random_state is None else int(self.random_state)
            self.net_ = self._fit_net(Xs, t, y, base_seed, external)
        finally:
            torch.set_num_threads(previous_threads)

    def _standardize(self, X: np.ndarray) -> np.ndarray:
        return np.clip((X - self.center_) / self.scale_, -10.0, 10.0).astype(np.float32)

    def _fit_net(self, Xs: np.ndarray, t: np.ndarray, y: np.ndarray, seed: int,
                 external: BagLabels | None) -> _EnsembleTwoHeadNet:
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        n = len(Xs)
        net = _EnsembleTwoHeadNet(Xs.shape[1], tuple(int(h) for h in self.hidden), self.architecture,
                                  int(self.n_ensemble), float(self.dropout), bool(self.wide))
        opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate), weight_decay=float(self.weight_decay),
                               foreach=True)
        x_all = torch.from_numpy(Xs)
        treated_all = torch.from_numpy(t > 0.5)
        y_all = torch.from_numpy(y.astype(np.float32))
        bag_weight = float(self.bag_weight)
        use_any_bags = bag_weight > 0
        # Honest bags: rows whose outcomes the log-loss never sees. Bags built on the rows the net fits
        # would label its own overfitting (top bags look better than they are) and feed it back.
        in_pool = (rng.random(n) < float(self.bag_holdout)) if use_any_bags and self.bag_holdout > 0 \
            else np.zeros(n, dtype=bool)
        fit_rows = np.flatnonzero(~in_pool)
        pool = np.flatnonzero(in_pool) if in_pool.any() else np.arange(n)
        # The pool's rows are scored every epoch (bags, early stopping): gathered once.
        pool_rows = torch.from_numpy(pool)
        x_pool, treated_pool, y_pool = x_all[pool_rows], treated_all[pool_rows], y_all[pool_rows]
        bag_size = min(int(self.bag_size), len(pool))
        bag_of_pool = np.zeros(0, dtype=np.int64)
        bag_target = bag_w = torch.zeros(0)
        n_bags = 0
        ext = self._external_tensors(external, t, y)

        # Early stopping watches the holdout rows' log-loss (honest: the log-loss never trains on them).
        watch = bool(self.early_stopping and in_pool.any() and len(pool) >= 50)
        best_loss, best_state = float("inf"), None
        # The net's logits on the pool at its current weights, while no step has moved them since.
        pool_logits: tuple[torch.Tensor, torch.Tensor] | None = None
        n_fit = len(fit_rows)
        batch_size = min(int(self.batch_size), n_fit)
        steps_per_epoch = max(1, -(-n_fit // batch_size))
        for epoch in range(int(self.epochs)):
            use_bags = use_any_bags and epoch >= int(self.warmup_epochs)
            if use_bags and (epoch - int(self.warmup_epochs)) % int(self.rebuild_every) == 0:
                if pool_logits is None:
                    pool_logits = _score(net, x_pool)
                bag_of_pool, bag_target, bag_w, n_bags = _sorted_bags(pool_logits, t[pool], y[pool], bag_size)
            # Each epoch's rows are gathered once, in step order; a step then takes contiguous slices.
            perm = torch.from_numpy(fit_rows[rng.permutation(n_fit)])
            x_fit, treated_fit, y_fit = x_all[perm], treated_all[perm], y_all[perm]
            # The log-loss sees random rows; the bag loss sees whole bags, each bag once per epoch.
            # (Batches made of whole sorted bags would not be i.i.d. and derail the log-loss.)
            if use_bags:
                bag_order = rng.permutation(n_bags)
                place = np.empty(n_bags, dtype=np.int64)
                place[bag_order] = np.arange(n_bags)
                # Pool rows grouped by bag, the bags in ``bag_order`` (rows keep pool order within a bag).
                in_order = np.argsort(place[bag_of_pool], kind="stable")
                bags_per_step = np.array([len(chunk) for chunk in np.array_split(bag_order, steps_per_epoch)])
                bag_edges = np.r_[0, np.cumsum(bags_per_step)]
                row_edges = np.r_[0, np.cumsum(np.bincount(bag_of_pool, minlength=n_bags)[bag_order])]
                x_bags = x_pool[torch.from_numpy(in_order)]
                bag_id = torch.from_numpy(bag_of_pool[in_order])
                ext_id = ext[0][torch.from_numpy(pool[in_order])] if ext is not None else None
            net.train()
            pool_logits = None
            for step in range(steps_per_epoch):
                rows = slice(step * batch_size, (step + 1) * batch_size)
                x_step = x_fit[rows]
                k = x_step.shape[0]
                with_bags = use_bags and bag_edges[step + 1] > bag_edges[step]
                if with_bags:
                    in_step = slice(int(row_edges[bag_edges[step]]), int(row_edges[bag_edges[step + 1]]))
                    # One forward pass for the log-loss rows and the bag rows together.
                    x_step = torch.cat([x_step, x_bags[in_step]])
                logit_c, logit_t = net(x_step)
                loss = _arm_log_loss(logit_c[:, :k], logit_t[:, :k], treated_fit[rows], y_fit[rows])
                if with_bags:
                    uplift = torch.sigmoid(logit_t[:, k:]) - torch.sigmoid(logit_c[:, k:])
                    # Per-row scale: the bags of one step hold about 1/steps of the pool.
                    scale = bag_weight * len(pool) / n_fit
                    loss = loss + scale * _bag_loss(uplift, bag_id[in_step], bag_target, bag_w, n_bags)
                    if ext is not None and ext_id is not None:
                        _, ext_target, ext_w, n_ext = ext
                        loss = loss + scale * _bag_loss(uplift, ext_id[in_step], ext_target, ext_w, n_ext)
                opt.zero_grad()
                loss.backward()
                opt.step()
            if watch:
                pool_logits = _score(net, x_pool)
                watched = float(_arm_log_loss(*pool_logits, treated_pool, y_pool))
                if watched < best_loss:
                    best_loss = watched
                    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        return net

    def _external_tensors(self, external: BagLabels | None, t: np.ndarray,
                          y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int] | None:
        if external is None:
            return None
        bag_id = np.asarray(external.bag_id, dtype=np.int64)
        ate = np.asarray(external.ate, dtype=np.float64)
        n_ext = len(ate)
        if n_ext == 0 or bag_id.max() >= n_ext or bag_id.min() < -1:
            raise InvalidArgument("bag_labels.bag_id must index bag_labels.ate (or be -1)", field="bag_labels")
        if external.variance is None:
            inside = bag_id >= 0
            _, var = bag_ate_labels(bag_id[inside], t[inside].astype(np.float64), y[inside], n_ext)
        else:
            var = np.asarray(external.variance, dtype=np.float64)
            if var.shape != ate.shape or (var <= 0).any():
                raise InvalidArgument("bag_labels.variance needs one positive value per bag", field="bag_labels")
        # Rows in no external bag go to a dummy bag with zero weight.
        ids = np.where(bag_id < 0, n_ext, bag_id)
        weight = np.r_[_inverse_variance_weights(var), 0.0]
        return (torch.from_numpy(ids), torch.from_numpy(np.r_[ate, 0.0].astype(np.float32)),
                torch.from_numpy(weight.astype(np.float32)), n_ext + 1)

    # -- prediction --------------------------------------------------------------------------------

    def _predict(self, X: np.ndarray) -> np.ndarray:
        p_c, p_t = self._outcomes(X)
        return p_t - p_c

    def _outcomes(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logit_c, logit_t = _score(self.net_, torch.from_numpy(self._standardize(X)))
        return torch.sigmoid(logit_c).double().mean(0).numpy(), torch.sigmoid(logit_t).double().mean(0).numpy()

    def predict_outcomes(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Predicted response probabilities ``(control, treated)`` per row (ensemble means)."""
        return self._outcomes(check_features(X, n_features=self.n_features_in_))


def _inverse_variance_weights(var: np.ndarray) -> np.ndarray:
    """Gaussian log-likelihood weights ``1 / (2 var)`` of each bag label (0 for bags missing an arm)."""
    finite = np.isfinite(var)
    w = np.zeros_like(var)
    w[finite] = 0.5 / np.maximum(var[finite], 1e-8)
    return w.astype(np.float32)


def _score(net: _EnsembleTwoHeadNet, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Control and treated logits of ``x`` in evaluation mode, without autograd."""
    net.eval()
    with torch.inference_mode():
        return net(x)


def _arm_log_loss(logit_c: torch.Tensor, logit_t: torch.Tensor, treated: torch.Tensor,
                  y: torch.Tensor) -> torch.Tensor:
    """Mean log-loss of each row's own arm's head (logits ``(members, rows)``), over rows and members."""
    logit = torch.where(treated, logit_t, logit_c)
    return nn.functional.binary_cross_entropy_with_logits(logit, y.expand(logit.shape[0], -1))


def _sorted_bags(logits: tuple[torch.Tensor, torch.Tensor], t: np.ndarray, y: np.ndarray,
                 bag_size: int) -> tuple[np.ndarray, torch.Tensor, torch.Tensor, int]:
    """Bag of each row (rows sorted by the ensemble's mean predicted uplift, cut into consecutive bags of
    ``bag_size``), each bag's observed ATE and its label weight, and the number of bags."""
    logit_c, logit_t = logits
    uplift = (torch.sigmoid(logit_t) - torch.sigmoid(logit_c)).mean(0).numpy()
    n = len(uplift)
    n_bags = max(1, n // bag_size)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(uplift, kind="stable")] = np.arange(n)
    bag_of_row = np.minimum(rank * n_bags // n, n_bags - 1)
    ate, var = bag_ate_labels(bag_of_row, t.astype(np.float64), y, n_bags)
    return bag_of_row, torch.from_numpy(ate.astype(np.float32)), torch.from_numpy(_inverse_variance_weights(var)), n_bags


def _bag_loss(uplift: torch.Tensor, bag_id: torch.Tensor, target: torch.Tensor, weight: torch.Tensor,
              n_bags: int) -> torch.Tensor:
    """Negative Gaussian log-likelihood of the bag labels given each bag's mean predicted uplift, per row.

    ``uplift`` is ``(members, rows)``; the loss is averaged over ensemble members. Dividing by the rows
    involved puts it on the scale of the mean per-row log-loss, so ``bag_weight=1`` weighs a bag label
    exactly as its sampling noise says it should.
    """
    sums = torch.zeros(uplift.shape[0], n_bags).index_add(1, bag_id, uplift)
    counts = torch.zeros(n_bags).index_add(0, bag_id, torch.ones(bag_id.shape[0]))
    present = counts > 0
    if not bool(present.any()):
        return uplift.sum() * 0.0
    mean = sums[:, present] / counts[present]
    per_member = (weight[present] * (mean - target[present]) ** 2).sum(1)
    return per_member.mean() / uplift.shape[1]
