"""Online primal-dual controller: per request, the chain maximizing predicted reward − λ·cost; λ is
re-planned several times per window (model-predictive: the observed arrival rate and the recent mix
of predicted rewards give the λ that spends the remaining budget by the window's end), shared with
every replica through the budget state. Safeguards: a hard spend cap, a latency cap on chain cost,
and a cheap fallback chain when over budget or when the shared state is unreachable."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from core.errors import StoreUnavailable
from models.allocation._solver import LambdaMix, solve_mix
from models.allocation._state import BudgetSnapshot, BudgetState
from models.allocation._writebehind import WriteBehindBudgetState

__all__ = ["ControllerConfig", "Decision", "OnlineController"]


@dataclass(frozen=True)
class ControllerConfig:
    window_s: float = 3600.0
    steps_per_window: int = 4           # λ re-plans per window (each one Redis round trip)
    sync_every: int = 64                # requests between flushes of local spend to the shared state
    buffer_size: int = 64               # recent predicted-reward rows the re-plan solves on
    latency_cap_us: float | None = None  # chains costlier than this are never chosen
    retry_s: float = 1.0                # after a state failure, serve the fallback this long
    headroom: float = 0.99              # plan to spend this share of the budget (absorbs sync lag)
    # The price below which compute does not pay (``price_floor``): λ never drops under it, so a
    # slack budget is left unspent rather than spent on chains the logs say gain nothing.
    lam_floor: float = 0.0
    # False: ``decide`` never touches the shared state; the caller runs :meth:`OnlineController.maintain`
    # (e.g. in a worker thread, off an asyncio event loop) whenever :meth:`OnlineController.due` says so.
    sync_in_decide: bool = True


class Decision(NamedTuple):   # a tuple: built once per request, cheaper than a frozen dataclass
    chain: int
    reason: str     # "lambda", "capped", "latency_cap", "fallback:over_budget", "fallback:unavailable"
    lam: float


class OnlineController:
    def __init__(self, costs: np.ndarray, state: BudgetState, *, lam0: float | LambdaMix, budget_per_window: float | None = None,
                 config: ControllerConfig | None = None, columns: np.ndarray | None = None) -> None:
        """``columns``: the chains that may be served (e.g. the efficient frontier); predicted rows
        passed to :meth:`decide` cover all chains, decisions are indices into all chains. The fallback
        is the cheapest of them."""
        all_costs = np.asarray(costs, dtype=np.float64)
        self.columns = np.arange(len(all_costs)) if columns is None else np.asarray(columns, dtype=np.int64)
        self.costs = all_costs[self.columns]
        self.cfg = config or ControllerConfig()
        self.state = state
        self.fallback = int(np.argmin(self.costs))
        self.allowed = np.ones(len(self.costs), dtype=bool) if self.cfg.latency_cap_us is None else \
            self.costs <= self.cfg.latency_cap_us
        self.allowed[self.fallback] = True
        self._penalty = np.where(self.allowed, 0.0, -np.inf)
        self._max_cost = float(self.costs.max())
        self._cost_of = self.costs.tolist()            # Python floats: cheaper than numpy scalars per request
        self._chain_of = self.columns.tolist()
        self._fallback_cost = float(self.costs[self.fallback])
        self.mix = lam0 if isinstance(lam0, LambdaMix) else LambdaMix(float(lam0))
        self._dither = 0.0
        self.budget = budget_per_window
        self.window: int | None = None
        self._global = BudgetSnapshot(self.mix, budget_per_window, 0.0, 0)
        self._pending_spend = 0.0
        self._pending_n = 0
        self._pending_traffic: dict[int, int] = {}
        self._pending_lam: LambdaMix | None = None
        self.replan_ns = 0   # time spent re-planning λ (the control loop), for the overhead report
        self._buffer = np.zeros((self.cfg.buffer_size, len(self.costs)))
        self._buffer_len = self.cfg.buffer_size
        self._sync_inline, self._sync_every = self.cfg.sync_in_decide, self.cfg.sync_every
        self._window_start, self._window_end = math.inf, -math.inf   # no window yet
        self._buffered = 0
        self._down_until = -math.inf
        self._next_step = -math.inf
        self._step_t = 0.0
        self._step_n = 0
        self._rate: float | None = None
        self._ema: float | None = None
        # A write-behind state refreshes the global state between flushes (other replicas' spend
        # and λ arrive with each reply): adopted at the next decision, at no round trip.
        self._live = state if isinstance(state, WriteBehindBudgetState) else None
        self._live_seen = 0
        if budget_per_window is not None:
            self._try(lambda: state.set_budget(budget_per_window))

    # -- state I/O -----------------------------------------------------------------------------------

    def _try(self, fn) -> bool:  # type: ignore[no-untyped-def]
        try:
            fn()
            return True
        except StoreUnavailable:
            return False

    def _sync(self, now: float) -> bool:
        """Flush local deltas, adopt the global state; False when nothing was flushed."""
        if self.window is None:
            return False
        try:
            snap = self.state.flush(self.window, self._pending_spend, self._pending_n, self._pending_traffic,
                                    self._pending_lam)
        except StoreUnavailable:
            self._down_until = now + self.cfg.retry_s
            return False
        self._pending_spend, self._pending_n, self._pending_traffic = 0.0, 0, {}
        self._pending_lam = None
        self._global = snap
        if snap.lam is not None:
            self.mix = snap.lam
        if snap.budget is not None:
            self.budget = snap.budget
        return True

    @property
    def shared(self) -> BudgetSnapshot:
        """The global state as of the last successful sync."""
        return self._global

    @property
    def spend_estimate(self) -> float:
        return self._global.spend + self._pending_spend

    @property
    def requests_estimate(self) -> int:
        return self._global.requests + self._pending_n

    # -- control ----------------------------------------------------------------------------------------

    def _roll(self, window: int, now: float) -> None:
        flushed = self._sync(now)   # the old window's deltas
        if self.window is not None and self._step_n < self.requests_estimate:
            dt = now - self._step_t
            if dt > 0:
                self._observe_rate((self.requests_estimate - self._step_n) / dt)
        self.window = window
        self._window_start, self._window_end = window * self.cfg.window_s, (window + 1) * self.cfg.window_s
        self._global = BudgetSnapshot(self.mix, self.budget, 0.0, 0, self._global.requests_per_window)
        if not flushed:
            # First window (or Redis was down): read λ and budget now. Otherwise the old window's
            # flush already returned them; other replicas' spend in the new window arrives with
            # the next sync (a step or ``sync_every`` requests away), which saves a round trip.
            self._sync(now)
        self._step_t = window * self.cfg.window_s
        self._step_n = self.requests_estimate
        self._next_step = self._step_t + self.cfg.window_s / self.cfg.steps_per_window
        self._replan(now)

    def _observe_rate(self, rate: float) -> None:
        """Arrival-rate forecast: a smoothed rate, but never below the latest step's, so a spike is
        believed at once while a lull must persist before the controller spends more."""
        self._ema = rate if self._ema is None else 0.7 * self._ema + 0.3 * rate
        self._rate = max(self._ema, rate)

    def _replan(self, now: float) -> None:
        t0 = time.perf_counter_ns()
        try:
            self._replan_inner(now)
        finally:
            self.replan_ns += time.perf_counter_ns() - t0

    def _replan_inner(self, now: float) -> None:
        """λ for the rest of the window: remaining budget over expected remaining requests, solved on
        the recent predicted-reward mix (feed-forward), then published for the other replicas."""
        if self.budget is None or self._rate is None or self._buffered < 16 or self.window is None:
            return
        end = (self.window + 1) * self.cfg.window_s
        expected = self._rate * max(end - now, 0.0)
        left = self.cfg.headroom * self.budget - self.spend_estimate
        if expected < 1:
            return
        rows = self._buffer[: min(self._buffered, len(self._buffer))] + self._penalty
        target = max(left, 0.0) / expected
        self.mix = solve_mix(rows, self.costs, target, iters=5, hint=self._mix.lam or None)
        self._pending_lam = self.mix   # published to the other replicas with the next flush

    def _step(self, now: float) -> None:
        self._sync(now)
        dt = now - self._step_t
        n = self.requests_estimate - self._step_n
        if dt > 0 and n > 0:
            self._observe_rate(n / dt)
        self._step_t, self._step_n = now, self.requests_estimate
        self._next_step = now + self.cfg.window_s / self.cfg.steps_per_window
        self._replan(now)

    # -- state maintenance (the only part that does I/O) -------------------------------------------------

    def due(self, now: float) -> bool:
        """Whether :meth:`maintain` has state I/O to do before the next decision at ``now``: a new
        window, a re-planning step, or enough unsynced requests."""
        return (int(now // self.cfg.window_s) != self.window or now >= self._next_step
                or (self._pending_n >= self.cfg.sync_every and now >= self._down_until))

    def maintain(self, now: float) -> None:
        """Window roll-over, λ re-planning and the spend flush: everything that talks to the shared
        state. ``decide`` runs it inline unless ``sync_in_decide`` is off."""
        window = int(now // self.cfg.window_s)
        if window != self.window:
            self._roll(window, now)
        elif now >= self._next_step:
            self._step(now)
        elif self._pending_n >= self.cfg.sync_every and now >= self._down_until:
            self._sync(now)

    # -- per request ------------------------------------------------------------------------------------

    def decide(self, predicted: np.ndarray, now: float, max_cost_us: float | None = None) -> Decision:
        """Pick a chain for one request with predicted rewards ``predicted`` (one per chain).
        ``max_cost_us`` caps this request's chain cost (e.g. what the caller's deadline leaves);
        when even the cheapest chain exceeds it, the cheapest chain is served."""
        if not self._window_start <= now < self._window_end and int(now // self.cfg.window_s) != self.window:
            self._roll(int(now // self.cfg.window_s), now)
        elif now >= self._next_step:
            self._step(now)
        live = self._live
        if live is not None and live.latest[0] != self._live_seen:
            self._adopt_live(live)
        if now < self._down_until:
            c, reason = self.fallback, "fallback:unavailable"
        else:
            self._dither += self._mix.p_low
            offset = self._offset_hi
            if self._dither >= 1.0:   # deterministic dithering between the two sides of the critical λ
                self._dither -= 1.0
                offset = self._offset_lo
            row = predicted[self.columns]
            score = row + offset
            c, reason = int(score.argmax()), "lambda"
            if max_cost_us is not None and self._cost_of[c] > max_cost_us:
                score = np.where(self.costs <= max_cost_us, score, -np.inf)
                c = int(score.argmax())
                reason = "latency_cap"
                if not np.isfinite(score[c]):
                    c = self.fallback
            if self.budget is not None:
                # Keep enough budget to serve the requests still expected in this window with the
                # fallback chain: overspend can then only come from traffic above the forecast.
                left = self.budget - self._global.spend - self._pending_spend
                if self._rate is not None:
                    left -= self._fallback_cost * self._rate * max(self._window_end - now, 0.0)
                if left < self._max_cost and self._cost_of[c] > left:
                    fits = np.where(self.costs <= left, score, -np.inf)
                    c = int(np.argmax(fits))
                    reason = "capped"
                    if not np.isfinite(fits[c]):
                        c, reason = self.fallback, "fallback:over_budget"
        self._pending_spend += self._cost_of[c]  # c indexes self.columns here
        self._pending_n += 1
        c = self._chain_of[c]
        self._pending_traffic[c] = self._pending_traffic.get(c, 0) + 1
        if reason != "fallback:unavailable":
            self._buffer[self._buffered % self._buffer_len] = row
            self._buffered += 1
        if self._sync_inline and self._pending_n >= self._sync_every and now >= self._down_until:
            self._sync(now)
        return Decision(c, reason, self._mix.lam)

    def _adopt_live(self, live: WriteBehindBudgetState) -> None:
        """A reply of the write-behind state arrived: the global spend, requests, budget and (unless
        this replica has a re-planned λ still to publish) λ as of that reply."""
        seen, window, snap = live.latest
        self._live_seen = seen
        if snap is None or window != self.window:
            return
        self._global = snap
        if snap.budget is not None:
            self.budget = snap.budget
        if snap.lam is not None and self._pending_lam is None and snap.lam != self._mix:
            self.mix = snap.lam

    @property
    def lam(self) -> float:
        return self.mix.lam

    @property
    def mix(self) -> LambdaMix:
        return self._mix

    @mix.setter
    def mix(self, value: LambdaMix) -> None:
        # Precomputed −λ·cost (+ latency-cap mask) on both sides of the critical λ: a decision is then
        # one add and one argmax over the chains.
        floor = self.cfg.lam_floor
        if value.lam < floor or value.lam_low < floor:
            value = LambdaMix(floor) if value.lam <= floor else LambdaMix(value.lam, floor, value.p_low)
        self._mix = value
        self._offset_hi = self._penalty - value.lam * self.costs
        self._offset_lo = self._penalty - value.lam_low * self.costs

    def flush(self, now: float) -> None:
        self._sync(now)
