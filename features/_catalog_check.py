"""``check_catalog_file``: every problem of a catalog YAML, each with its YAML path and line.

Loading a catalog (:func:`features.catalog.load_catalog`) stops at the first problem; a data engineer
writing a catalog for the team's own tables wants all of them at once, each pointing at the spot to
fix (``groups[1].features[3].range (line 42): low 90 is above high 10``). The checks walk the raw
YAML, so one broken feature does not hide the next; a catalog with no problem is then validated
by the real model too, so "check passes" and "the server can load it" never disagree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from core.errors import FieldViolation, InvalidArgument
from features.catalog import (
    MAX_CATEGORY_VALUES,
    MAX_GROUP_FEATURES,
    MAX_SET_VOCABULARY,
    Catalog,
    DType,
    aliasable_values,
)

__all__ = ["CatalogProblem", "check_catalog", "check_catalog_file", "load_checked_catalog"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_KEYS = {"name", "entities", "groups", "vocabularies", "phrasebook"}
_ENTITY_KEYS = {"key", "description"}
_GROUP_KEYS = {"name", "entity", "ttl_seconds", "features"}
_FEATURE_KEYS = {"name", "dtype", "description", "values", "range", "aliases", "value_aliases", "ordered", "unit",
                 "window_days"}
_DTYPES = [d.value for d in DType]


@dataclass(frozen=True, slots=True)
class CatalogProblem:
    """One thing to fix: ``path`` is the YAML path (``groups[1].features[3].range``), ``line`` 1-based."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.path or "(catalog)"
        return f"{where} (line {self.line}): {self.message}" if self.line else f"{where}: {self.message}"


def _line_map(text: str) -> dict[str, int]:
    """YAML path → 1-based line of every node (best effort: anchors resolve to their first use)."""
    lines: dict[str, int] = {}

    def walk(node: yaml.Node, path: str) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    child = f"{path}.{key.value}" if path else str(key.value)
                    lines.setdefault(child, key.start_mark.line + 1)
                    walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{path}[{i}]")

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines
    if root is not None:
        walk(root, "")
    return lines


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    # -- the parts of a catalog ------------------------------------------------------------------

    def catalog(self, data: Any) -> None:
        if not isinstance(data, dict):
            self.add("", f"a catalog is a mapping with name, entities and groups; got {type(data).__name__}")
            return
        self._unknown_keys(data, _TOP_KEYS, "")
        if not isinstance(data.get("name"), str) or not data.get("name"):
            self.add("name", "the catalog needs a name (a non-empty string)")
        entities = self._entities(data.get("entities"))
        groups = data.get("groups")
        if not isinstance(groups, list) or not groups:
            self.add("groups", "the catalog needs a list of feature groups")
            return
        features: list[tuple[str, dict[str, Any]]] = []
        group_names: dict[str, str] = {}
        for g, group in enumerate(groups):
            path = f"groups[{g}]"
            if not isinstance(group, dict):
                self.add(path, "a feature group is a mapping with name, entity, ttl_seconds and features")
                continue
            name = group.get("name")
            if isinstance(name, str) and name in group_names:
                self.add(f"{path}.name", f"group {name!r} is also defined at {group_names[name]}")
            elif isinstance(name, str):
                group_names[name] = path
            features.extend(self._group(group, path, entities))
        self._across_features(features)
        self._phrasebook(data.get("phrasebook"), features)

    def _phrasebook(self, book: Any, features: list[tuple[str, dict[str, Any]]]) -> None:
        """Phrasings for features the catalog has, and for values those features allow (the rest of the
        phrasebook's shape is the model's to check)."""
        if book is None:
            return
        entries = book.get("features") if isinstance(book, dict) else None
        if not isinstance(entries, dict):
            return
        by_name = {f.get("name"): f for _, f in features}
        for name, entry in entries.items():
            path = f"phrasebook.features.{name}"
            feature = by_name.get(name)
            if feature is None:
                self.add(path, f"{name!r} is not a feature of the catalog")
                continue
            if not isinstance(entry, dict):
                continue
            values, bounds = feature.get("values"), feature.get("range")
            allowed = aliasable_values(str(feature.get("dtype")), values if isinstance(values, list) else None,
                                       bounds if isinstance(bounds, list) else None)
            if feature.get("dtype") == DType.BOOL.value:
                allowed |= {"true", "false"}
            for part in ("words", "heads"):
                for value in entry.get(part) or {}:
                    if str(value) not in allowed:
                        self.add(f"{path}.{part}.{value}", f"{value!r} is not an allowed value of {name!r}")

    def _entities(self, entities: Any) -> set[str]:
        if not isinstance(entities, dict) or not entities:
            self.add("entities", "the catalog needs a mapping of entities (e.g. user: {key: user_id})")
            return set()
        for name, spec in entities.items():
            path = f"entities.{name}"
            if not isinstance(spec, dict) or not isinstance(spec.get("key"), str) or not spec.get("key"):
                self.add(path, f"entity {name!r} needs a key column (key: <column name>)")
                continue
            self._unknown_keys(spec, _ENTITY_KEYS, path)
        return {str(n) for n in entities}

    def _group(self, group: dict[str, Any], path: str, entities: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
        self._unknown_keys(group, _GROUP_KEYS, path)
        name = group.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            self.add(f"{path}.name", f"group name {name!r} must be lower-case letters, digits and '_'")
        entity = group.get("entity")
        if entities and entity not in entities:
            self.add(f"{path}.entity", f"unknown entity {entity!r}; the catalog defines {sorted(entities)}")
        ttl = group.get("ttl_seconds")
        if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
            self.add(f"{path}.ttl_seconds", f"ttl_seconds must be a positive whole number of seconds; got {ttl!r}")
        features = group.get("features")
        if not isinstance(features, list) or not features:
            self.add(f"{path}.features", "a feature group needs at least one feature")
            return
        if len(features) > MAX_GROUP_FEATURES:
            self.add(f"{path}.features", f"{len(features)} features; a group holds at most {MAX_GROUP_FEATURES} "
                                         f"(split it into several groups)")
        for f, feature in enumerate(features):
            fpath = f"{path}.features[{f}]"
            if not isinstance(feature, dict):
                self.add(fpath, "a feature is a mapping with at least name and dtype")
                continue
            self._feature(feature, fpath)
            yield fpath, feature

    def _feature(self, feature: dict[str, Any], path: str) -> None:  # noqa: C901 - one check per rule
        self._unknown_keys(feature, _FEATURE_KEYS, path)
        name = feature.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            self.add(f"{path}.name", f"feature name {name!r} must be lower-case letters, digits and '_'")
        dtype = feature.get("dtype")
        if dtype not in _DTYPES:
            self.add(f"{path}.dtype", f"unknown dtype {dtype!r}; use one of {', '.join(_DTYPES)}")
        values = feature.get("values")
        worded = dtype in (DType.CATEGORY.value, DType.STRING_SET.value)
        if worded:
            if not isinstance(values, list) or not values:
                self.add(f"{path}.values", f"a {dtype} needs a non-empty list of allowed values")
                values = None
            else:
                words = [str(v) for v in values]
                duplicates = sorted({w for w in words if words.count(w) > 1})
                if duplicates:
                    self.add(f"{path}.values", f"duplicate allowed values {duplicates}")
                limit = MAX_SET_VOCABULARY if dtype == DType.STRING_SET.value else MAX_CATEGORY_VALUES
                if len(values) > limit:
                    what = "one uint64 bitmask" if dtype == DType.STRING_SET.value else "a uint16 code"
                    self.add(f"{path}.values", f"{len(values)} values; a {dtype} stores at most {limit} ({what})")
        elif values is not None and dtype in _DTYPES:
            self.add(f"{path}.values", f"only category and string_set take values, not {dtype}")
        self._range(feature, path, dtype)
        if feature.get("ordered") and dtype in _DTYPES and dtype != DType.CATEGORY.value:
            self.add(f"{path}.ordered", f"only a category can be ordered, not {dtype}")
        value_aliases = feature.get("value_aliases")
        if value_aliases is not None:
            if not isinstance(value_aliases, dict):
                self.add(f"{path}.value_aliases", "value_aliases maps an allowed value to a list of other words")
            else:
                bounds = feature.get("range")
                allowed = aliasable_values(str(dtype), values if isinstance(values, list) else None,
                                           bounds if isinstance(bounds, list) else None)
                for value in value_aliases:
                    if str(value) not in allowed:
                        self.add(f"{path}.value_aliases.{value}",
                                 f"{value!r} is not an allowed value of {name!r}"
                                 + (f" ({', '.join(sorted(allowed))})" if allowed else ""))
        aliases = feature.get("aliases")
        if aliases is not None and (not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases)):
            self.add(f"{path}.aliases", "aliases is a list of phrases")
        window = feature.get("window_days")
        if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window <= 0):
            self.add(f"{path}.window_days", f"window_days must be a positive whole number; got {window!r}")

    def _range(self, feature: dict[str, Any], path: str, dtype: Any) -> None:
        bounds = feature.get("range")
        if bounds is None:
            return
        if dtype in _DTYPES and dtype not in (DType.INT.value, DType.FLOAT.value):
            self.add(f"{path}.range", f"only int and float take a range, not {dtype}")
            return
        numeric = (isinstance(bounds, list) and len(bounds) == 2
                   and all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds))
        if not numeric:
            self.add(f"{path}.range", f"a range is [low, high], two numbers; got {bounds!r}")
        elif bounds[0] > bounds[1]:
            self.add(f"{path}.range", f"low {bounds[0]:g} is above high {bounds[1]:g}")

    def _across_features(self, features: list[tuple[str, dict[str, Any]]]) -> None:
        """Duplicate names, and aliases that would make a phrase name two features."""
        first_at: dict[str, str] = {}
        for path, feature in features:
            name = feature.get("name")
            if not isinstance(name, str):
                continue
            if name in first_at:
                self.add(f"{path}.name", f"feature {name!r} is also defined at {first_at[name]}")
            else:
                first_at[name] = path
        named_by: dict[str, list[tuple[str, str]]] = defaultdict(list)  # phrase → (feature, path)
        for path, feature in features:
            name = feature.get("name")
            aliases = feature.get("aliases")
            if not isinstance(name, str) or not isinstance(aliases, list):
                continue
            for a, alias in enumerate(aliases):
                if not isinstance(alias, str):
                    continue
                phrase = alias.strip().lower()
                other = phrase.replace(" ", "_")
                if other in first_at and other != name:
                    self.add(f"{path}.aliases[{a}]", f"alias {alias!r} is the name of another feature ({other!r})")
                if all(f != name for f, _ in named_by[phrase]):
                    named_by[phrase].append((name, f"{path}.aliases[{a}]"))
        for phrase, owners in named_by.items():
            if len(owners) > 1:
                names = ", ".join(repr(f) for f, _ in owners)
                self.add(owners[1][1], f"alias {phrase!r} names {len(owners)} features ({names}); "
                                       f"give it to one of them")

    def _unknown_keys(self, mapping: dict[str, Any], known: set[str], path: str) -> None:
        for key in mapping:
            if key not in known:
                where = f"{path}.{key}" if path else str(key)
                self.add(where, f"unknown field {key!r}; expected one of {', '.join(sorted(known))}")


def _pydantic_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_catalog(data: Any, text: str = "") -> list[CatalogProblem]:
    """Every problem of already-parsed catalog ``data`` (``text``, when given, supplies line numbers)."""
    checker = _Checker()
    checker.catalog(data)
    found = list(checker.problems)
    if not found:  # the model's own validation is the last word: whatever it rejects is a problem too
        try:
            Catalog.model_validate(data)
        except ValidationError as exc:
            found = [(_pydantic_path(tuple(e["loc"])), e["msg"]) for e in exc.errors()]
        except ValueError as exc:
            found = [("", str(exc))]
    lines = _line_map(text) if text else {}
    problems = [CatalogProblem(path, message, _line_of(path, lines)) for path, message in found]
    return sorted(problems, key=lambda p: p.line or 0)  # file order; whole-file problems first


def _line_of(path: str, lines: dict[str, int]) -> int | None:
    """The line of ``path``, else of its nearest enclosing node (a missing field points at its owner)."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return None


def check_catalog_file(path: str | Path) -> list[CatalogProblem]:
    """Every problem of the catalog YAML at ``path`` (empty: the catalog is good)."""
    p = Path(path)
    try:
        text = p.read_text()
    except FileNotFoundError:
        return [CatalogProblem("", f"no such file: {p}")]
    except (OSError, UnicodeDecodeError) as exc:
        return [CatalogProblem("", f"cannot read {p}: {exc}")]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"broken YAML: {reason}" + (f" ({context})" if context else "")
        return [CatalogProblem("", message, mark.line + 1 if mark is not None else None)]
    return check_catalog(data, text)


def load_checked_catalog(path: str | Path, *, setting: str = "MDS_CATALOG") -> Catalog:
    """The catalog at ``path``, or an InvalidArgument naming the file and every problem (field ``setting``)."""
    p = Path(path)
    problems = check_catalog_file(p)
    if problems:
        listed = "; ".join(str(problem) for problem in problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise InvalidArgument(
            f"catalog {p} ({setting}) has {len(problems)} problem{'s' if len(problems) > 1 else ''}: {listed}{more}; "
            f"run `mds catalog check {p}` for the full list",
            field=setting,
            violations=[FieldViolation(f"{setting}:{problem.path}", problem.message) for problem in problems])
    return Catalog.model_validate(yaml.safe_load(p.read_text()))
