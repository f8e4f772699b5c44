"""A budget state whose ``flush`` never waits on the network: the controller's deltas are handed to
one background thread that sends them to the shared state (one atomic flush per batch) and keeps
the latest global snapshot it got back. ``flush`` answers at once with that snapshot plus every
delta of this replica not yet acknowledged, so the request path makes no Redis round trip.

What other replicas spent arrives one round trip later than with a synchronous flush (with the
next batch's reply); this replica's own spend is always counted in full. While the shared state
is unreachable (the last send failed, or it was never read) ``flush`` raises ``StoreUnavailable``
without queueing anything, exactly like a synchronous state, so the controller keeps its deltas
and serves its fallback chain; the thread retries in the background."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

from core.errors import StoreUnavailable
from models.allocation._solver import LambdaMix
from models.allocation._state import BudgetSnapshot, BudgetState

__all__ = ["WriteBehindBudgetState"]


@dataclass
class _Batch:
    """Deltas not yet acknowledged by the shared state, per window (oldest first)."""

    spend: dict[int, float] = field(default_factory=dict)
    requests: dict[int, int] = field(default_factory=dict)
    traffic: dict[int, int] = field(default_factory=dict)
    lam: LambdaMix | None = None

    def add(self, window: int, spend: float, requests: int, traffic: dict[int, int], lam: LambdaMix | None
            ) -> None:
        self.spend[window] = self.spend.get(window, 0.0) + spend
        self.requests[window] = self.requests.get(window, 0) + requests
        for c, n in traffic.items():
            self.traffic[c] = self.traffic.get(c, 0) + n
        if lam is not None:
            self.lam = lam

    def merge_older(self, older: _Batch) -> None:
        """Take back ``older`` (what a failed send left); windows are sent oldest first anyway."""
        for w, spend in older.spend.items():
            self.spend[w] = spend + self.spend.get(w, 0.0)
            self.requests[w] = older.requests[w] + self.requests.get(w, 0)
        for c, n in older.traffic.items():
            self.traffic[c] = self.traffic.get(c, 0) + n
        if self.lam is None:
            self.lam = older.lam

    def __bool__(self) -> bool:
        return bool(self.spend)   # every add names its window, λ or not


class WriteBehindBudgetState:
    """:class:`BudgetState` over ``inner`` (e.g. ``RedisBudgetState``) with its I/O in a daemon thread.

    ``prime(window)`` reads the shared state synchronously once (at start-up, off the request path);
    until some read succeeded, ``flush`` raises ``StoreUnavailable`` and asks the thread to read it.
    ``drain()`` waits for every queued delta to be acknowledged (status reads, tests, shutdown);
    ``close()`` drains and stops the thread. Thread-safe; meant for one controller."""

    def __init__(self, inner: BudgetState, *, retry_s: float = 1.0) -> None:
        self.inner = inner
        self.retry_s = retry_s
        self._cv = threading.Condition()
        self._queued = _Batch()
        self._inflight: _Batch | None = None
        self._known: BudgetSnapshot | None = None
        self._known_window: int | None = None
        self._read_window: int | None = None    # a read the thread should do (never read yet)
        self._failing = False
        self._closed = False
        # (reply number, window, global state with every delta this replica handed over): refreshed
        # by each reply, so a controller sees other replicas' spend and λ as soon as they arrive,
        # not only at its next flush.
        self.latest: tuple[int, int, BudgetSnapshot | None] = (0, -1, None)
        self.round_trips = 0        # successful sends (for the overhead report)
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="budget-state-write-behind", daemon=True)
        self._thread.start()

    # -- BudgetState --------------------------------------------------------------------------------------

    def prime(self, window: int) -> BudgetSnapshot:
        """Read the shared state now, in the caller's thread (raises ``StoreUnavailable``)."""
        snap = self.inner.flush(window, 0.0, 0, {})
        with self._cv:
            self._adopt(window, snap)
        return snap

    def flush(self, window: int, spend: float, requests: int, traffic: dict[int, int],
              lam: LambdaMix | None = None) -> BudgetSnapshot:
        with self._cv:
            if self._known is None or self._failing:
                if self._known is None:
                    self._read_window = window
                    self._cv.notify_all()
                raise StoreUnavailable("the shared allocation state is not reachable (retrying in the background)")
            self._queued.add(window, spend, requests, traffic, lam)
            self._cv.notify_all()
            return self._local_view(window)

    def set_lambda(self, lam: LambdaMix) -> None:
        self.inner.set_lambda(lam)
        with self._cv:
            if self._known is not None:
                k = self._known
                self._known = BudgetSnapshot(lam, k.budget, k.spend, k.requests, k.requests_per_window)
                self._publish_latest()

    def set_budget(self, budget: float, requests_per_window: float | None = None) -> None:
        self.inner.set_budget(budget, requests_per_window)
        with self._cv:
            if self._known is not None:
                k = self._known
                self._known = BudgetSnapshot(k.lam, budget, k.spend, k.requests,
                                             requests_per_window if requests_per_window is not None
                                             else k.requests_per_window)
                self._publish_latest()   # an older reply must not bring the old budget back

    def traffic(self) -> dict[int, int]:
        self.drain()
        return self.inner.traffic()

    # -- lifecycle ----------------------------------------------------------------------------------------

    def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until every queued delta is acknowledged; raises ``StoreUnavailable`` when the state is
        unreachable or does not answer within ``timeout_s``."""
        with self._cv:
            done = self._cv.wait_for(lambda: self._failing or (not self._queued and self._inflight is None),
                                     timeout=timeout_s)
            if self._failing or not done:
                raise StoreUnavailable("the shared allocation state did not acknowledge this replica's spend")

    def close(self) -> None:
        """Send what is queued (best effort) and stop the thread."""
        with contextlib.suppress(StoreUnavailable):
            self.drain()
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(timeout=5.0)

    # -- internals ----------------------------------------------------------------------------------------

    def _local_view(self, window: int) -> BudgetSnapshot:
        """The last acknowledged global state plus this replica's unacknowledged deltas (lock held)."""
        known = self._known
        assert known is not None
        spend = known.spend if self._known_window == window else 0.0
        requests = known.requests if self._known_window == window else 0
        lam = known.lam
        for batch in (self._inflight, self._queued):
            if batch is not None:
                spend += batch.spend.get(window, 0.0)
                requests += batch.requests.get(window, 0)
                lam = batch.lam if batch.lam is not None else lam
        return BudgetSnapshot(lam, known.budget, spend, requests, known.requests_per_window)

    def _adopt(self, window: int, snap: BudgetSnapshot) -> None:
        if self._known_window is None or window >= self._known_window:
            self._known, self._known_window = snap, window
            self._publish_latest()
        self._failing = False
        self._read_window = None

    def _publish_latest(self) -> None:
        window = self._known_window if self._known_window is not None else -1
        self.latest = (self.latest[0] + 1, window, self._local_view(window))

    def _send(self, batch: _Batch) -> None:
        """One atomic flush per window in the batch, oldest first (λ and the traffic go with the
        newest). Each reply is adopted in the same critical section that drops its window from the
        in-flight batch, so the local view never counts a delta twice or not at all."""
        windows = sorted(batch.spend)
        for i, w in enumerate(windows):
            newest = i == len(windows) - 1
            snap = self.inner.flush(w, batch.spend[w], batch.requests[w], batch.traffic if newest else {},
                                    batch.lam if newest else None)
            with self._cv:
                del batch.spend[w], batch.requests[w]
                if newest:
                    batch.traffic, batch.lam = {}, None
                self._adopt(w, snap)

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._closed or bool(self._queued) or self._read_window is not None)
                if self._closed and not self._queued:
                    return
                read_window = self._read_window
                batch, self._queued = self._queued, _Batch()
                self._inflight = batch
            try:
                if batch:
                    self._send(batch)
                else:
                    assert read_window is not None
                    snap = self.inner.flush(read_window, 0.0, 0, {})
                    with self._cv:
                        self._adopt(read_window, snap)
            except StoreUnavailable:
                with self._cv:
                    self._queued.merge_older(batch)    # whatever was not sent goes first next time
                    self._inflight = None
                    self._failing = self._known is not None
                    self.failures += 1
                    self._cv.notify_all()
                    if self._closed:
                        return
                    self._cv.wait(timeout=self.retry_s)
                continue
            with self._cv:
                self._inflight = None
                self.round_trips += 1
                self._cv.notify_all()
