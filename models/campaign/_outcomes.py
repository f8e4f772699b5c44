"""Outcome records: what delivery reports back per user, validated, and how they are stored."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.errors import InvalidArgument
from features.store import KEY_PATTERN

__all__ = ["GROUPS", "Outcome", "OutcomeBatch", "RecordSummary", "decode_outcome", "encode_outcome",
           "sort_outcomes"]

GROUPS: tuple[str, ...] = ("treated", "holdout")
_OUTSIDE_SAMPLE = 20


@dataclass(frozen=True, slots=True)
class Outcome:
    """One user's result: the arm delivery says they were in, the outcome (e.g. converted 0/1) and a value
    (e.g. revenue)."""

    user_id: str
    group: str
    outcome: float
    value: float = 0.0

    def check(self, field: str) -> Outcome:
        if not KEY_PATTERN.match(self.user_id or ""):
            raise InvalidArgument(f"user id {self.user_id!r} is not a valid key", field=f"{field}.user_id")
        if self.group not in GROUPS:
            raise InvalidArgument(f"group must be 'treated' or 'holdout', got {self.group!r}", field=f"{field}.group")
        for name in ("outcome", "value"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidArgument(f"{name} must be a finite number", field=f"{field}.{name}")
        return self


def encode_outcome(o: Outcome) -> str:
    return f"{o.group},{float(o.outcome)!r},{float(o.value)!r}"


def decode_outcome(user_id: str, record: str) -> Outcome:
    group, outcome, value = record.split(",")
    return Outcome(user_id, group, float(outcome), float(value))


@dataclass
class RecordSummary:
    """What one RecordOutcomes call did. ``replaced``: users already recorded (their old record is gone);
    ``outside``: users who are not members of the campaign (kept apart, never in the read-out);
    ``group_mismatches``: members reported in the other arm than planned (the read-out keeps the plan's
    arm: intent to treat)."""

    received: int = 0
    recorded: int = 0
    replaced: int = 0
    outside: int = 0
    group_mismatches: int = 0
    outside_sample: list[str] = field(default_factory=list)

    def add(self, other: RecordSummary) -> None:
        self.received += other.received
        self.recorded += other.recorded
        self.replaced += other.replaced
        self.outside += other.outside
        self.group_mismatches += other.group_mismatches
        self.outside_sample = (self.outside_sample + other.outside_sample)[:_OUTSIDE_SAMPLE]


@dataclass(frozen=True)
class OutcomeBatch:
    """Validated records split into members (by user) and users outside the campaign."""

    inside: dict[str, str]
    outside: dict[str, str]
    group_mismatches: int
    received: int


def sort_outcomes(outcomes: Sequence[Outcome], planned_group: dict[str, int], *, field: str = "outcomes"
                  ) -> OutcomeBatch:
    """Validate every record first (a bad one rejects the batch, naming ``outcomes[i].<field>``), then split.

    A user listed twice in one batch keeps the last record, as a later call would.
    """
    for i, o in enumerate(outcomes):
        o.check(f"{field}[{i}]")
    inside: dict[str, str] = {}
    outside: dict[str, str] = {}
    mismatches = 0
    for o in outcomes:
        planned = planned_group.get(o.user_id)
        if planned is None:
            outside[o.user_id] = encode_outcome(o)
            continue
        inside[o.user_id] = encode_outcome(o)
        mismatches += int((planned == 1) != (o.group == "treated"))
    return OutcomeBatch(inside, outside, mismatches, len(outcomes))


def outcome_arrays(user_ids: Iterable[str], records: dict[str, str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per user (in ``user_ids`` order): recorded?, outcome, value (0 where not recorded)."""
    ids = list(user_ids)
    has = np.zeros(len(ids), dtype=bool)
    outcome = np.zeros(len(ids))
    value = np.zeros(len(ids))
    for i, user in enumerate(ids):
        record = records.get(user)
        if record is not None:
            o = decode_outcome(user, record)
            has[i], outcome[i], value[i] = True, o.outcome, o.value
    return has, outcome, value
