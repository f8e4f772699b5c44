"""A catalog's optional phrasebook: how its marketers say conditions, for the training-corpus generator.

Nothing here is needed to read demands (the parser reads names, aliases and value_aliases); the corpus
generator (``models.targeting.corpus``) phrases every feature from its catalog entry on its own, and a
phrasebook only adds a team's own turns of phrase ("in their thirties", "gold members", "with kids").
Placeholders: ``{cmp}`` a comparison with its unit ("more than 500 yuan"), ``{n}`` a bare number, ``{v}``
one or more values joined with "or", ``{vs_or}`` / ``{vs_and}`` a set's values joined with "or" / "and".
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FeaturePhrases", "FixedPhrase", "NumberStyle", "Phrasebook"]

NumberStyle = Literal["money", "days", "years", "percent", "fraction", "count", "plain"]


class FeaturePhrases(BaseModel):
    """How one feature is said. A feature with ``templates`` is phrased only from its phrasebook entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    templates: tuple[str, ...] = Field(
        (), description="the condition as a modifier: numbers with {cmp}, categories {v}, sets {vs_or} "
                        "(Contains Any), bools the true form")
    negated: tuple[str, ...] = Field(
        (), description="categories: Not Equal To ({v}); sets: Contains None ({vs_or}); bools: the false form")
    all_of: tuple[str, ...] = Field((), description="sets: Contains All ({vs_and})")
    by_operator: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="numbers: more forms per operator name, with the bare number {n}")
    heads: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="value (bools: true / false) -> noun phrases naming those people")
    list_heads: tuple[str, ...] = Field((), description="categories: noun phrase for a list of values ({vs_or})")
    words: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="value -> how it is written (default: the value's own words)")
    numbers: tuple[float, ...] = Field((), description="thresholds marketers use (default: round numbers in range)")
    operators: tuple[str, ...] = Field((), description="operators to draw, repeats weigh them (default: by dtype)")
    number_style: NumberStyle | None = Field(None, description="how numbers are written (default: from the unit)")
    proper_nouns: bool = Field(False, description="values are names (cities, brands): capitalised half the time")


class FixedPhrase(BaseModel):
    """A fixed phrase that means one condition ("in first-tier cities" → ``(city_tier#Equal To#1)``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    logic: str = Field(description="one condition, or NOT one condition, in the logic language")
    phrases: tuple[str, ...] = Field(min_length=1, description="modifiers meaning it")
    heads: tuple[str, ...] = Field((), description="noun phrases meaning people with it ('coupon users')")


class Phrasebook(BaseModel):
    """Per-feature phrasings and fixed phrases; every name must be a feature of the catalog."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    features: dict[str, FeaturePhrases] = Field(default_factory=dict)
    fixed: tuple[FixedPhrase, ...] = ()
