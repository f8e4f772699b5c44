"""What a parser returns, shared by the logic, parser, evaluation and service layers."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.targeting.logic._ast import Expr

__all__ = ["ParseResult", "ReasoningChain", "UnresolvedPhrase"]

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


@dataclass(frozen=True, slots=True)
class ParseResult:
    """A parsed demand. ``logic`` is None (and ``canonical`` empty) when nothing targetable was found;
    ``explanation`` then says why (nonsense, instructions to the model, unknown phrases)."""

    logic: Expr | None
    canonical: str
    reasoning: list[str] = field(default_factory=list)
    unresolved: list[UnresolvedPhrase] = field(default_factory=list)
    explanation: str = ""

    @property
    def empty(self) -> bool:
        return self.logic is None
