"""What a parser returns, shared by the logic, parser, evaluation and service layers."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.targeting.logic._ast import Condition, Expr

__all__ = ["AlternativeReading", "ConditionSource", "ParseResult", "ReasoningChain", "UnresolvedPhrase"]

_STEP_NAMES = ("Key phrases", "Mapping", "Conditions", "Combination")


@dataclass(frozen=True, slots=True)
class ReasoningChain:
    """ARALLM's four reasoning steps for one demand.

    1. the key phrases of the demand; 2. each phrase mapped to a catalog key (``phrase~key``);
    3. each turned into a condition; 4. the conditions combined by the demand's connectives.
    """

    key_phrases: tuple[str, ...]
    mapping: tuple[tuple[str, str], ...]
    conditions: tuple[str, ...]
    combination: str

    def steps(self) -> list[str]:
        """The four steps as text lines, e.g. ``"Mapping: women~gender; aged 25 to 35~age"``."""
        return [
            f"{_STEP_NAMES[0]}: " + "; ".join(self.key_phrases),
            f"{_STEP_NAMES[1]}: " + "; ".join(f"{p}~{k}" for p, k in self.mapping),
            f"{_STEP_NAMES[2]}: " + "; ".join(self.conditions),
            f"{_STEP_NAMES[3]}: " + self.combination,
        ]

    def text(self) -> str:
        return "\n".join(self.steps())

    @classmethod
    def from_steps(cls, lines: list[str] | str) -> ReasoningChain:
        """Inverse of :meth:`steps` (tolerates missing steps, which come back empty)."""
        if isinstance(lines, str):
            lines = lines.splitlines()
        found: dict[str, str] = {}
        for line in lines:
            name, _, rest = line.partition(":")
            if name.strip() in _STEP_NAMES:
                found[name.strip()] = rest.strip()

        def parts(name: str) -> tuple[str, ...]:
            return tuple(p.strip() for p in found.get(name, "").split(";") if p.strip())

        mapping = tuple((p.rpartition("~")[0].strip(), p.rpartition("~")[2].strip())
                        for p in parts(_STEP_NAMES[1]) if "~" in p)
        return cls(parts(_STEP_NAMES[0]), mapping, parts(_STEP_NAMES[2]), found.get(_STEP_NAMES[3], ""))


@dataclass(frozen=True, slots=True)
class UnresolvedPhrase:
    """A phrase of the demand the parser could not map to the catalog, with the closest keys."""

    phrase: str
    candidates: tuple[str, ...] = ()
    scores: tuple[float, ...] = ()  # cosine similarity of each candidate to the phrase (same order), when known
    start: int | None = None  # character span [start, end) of the phrase in the demand as sent, when located
    end: int | None = None


@dataclass(frozen=True, slots=True)
class ConditionSource:
    """One condition of the chosen logic and the words of the demand it came from, so a tool can show them.

    ``start``/``end`` index the demand exactly as the caller sent it (``demand[start:end] == phrase``);
    both are None, and ``phrase`` empty, when no phrase of the demand produced this condition (a model
    wrote a key the linker never saw).
    """

    condition: Condition
    negated: bool  # the condition sits under NOT
    phrase: str = ""
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True, slots=True)
class AlternativeReading:
    """Another reading of the demand the linker kept, and how it differs from the chosen one.

    ``added`` / ``removed`` are condition texts (``NOT `` before a negated one) this reading has and the
    chosen one lacks, and the reverse; both empty means the same conditions grouped differently
    (AND / OR bracketing).
    """

    logic: Expr
    canonical: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        """One line for a person: ``"(a) instead of (b)"``, ``"adds (a)"``, ``"grouped differently"``."""
        if self.added and self.removed:
            return f"{' AND '.join(self.added)} instead of {' AND '.join(self.removed)}"
        if self.added:
            return "adds " + " AND ".join(self.added)
        if self.removed:
            return "without " + " AND ".join(self.removed)
        return "the same conditions grouped differently"


@dataclass(frozen=True, slots=True)
class ParseResult:
    """A parsed demand. ``logic`` is None (and ``canonical`` empty) when nothing targetable was found;
    ``explanation`` then says why (nonsense, instructions to the model, unknown phrases)."""

    logic: Expr | None
    canonical: str
    reasoning: list[str] = field(default_factory=list)
    unresolved: list[UnresolvedPhrase] = field(default_factory=list)
    explanation: str = ""
    conditions: tuple[ConditionSource, ...] = ()  # each condition of ``logic`` (reading order) and its phrase
    alternatives: tuple[AlternativeReading, ...] = ()  # other readings of the demand, best first

    @property
    def empty(self) -> bool:
        return self.logic is None
