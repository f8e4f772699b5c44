"""``check_catalog_file``: every problem of a catalog YAML with its path and line; the demo catalog is clean."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.errors import InvalidArgument
from core.settings import Settings
from features import check_catalog_file, load_checked_catalog
from features.catalog import DEMO_CATALOG_PATH, Catalog, configured_catalog

GOOD = """\
name: shop
entities:
  user: {key: customer_id}
groups:
  - name: profile
    entity: user
    ttl_seconds: 3600
    features:
      - {name: age, dtype: int, range: [18, 99], aliases: [years old]}
      - {name: tier, dtype: category, values: [bronze, gold], ordered: true, value_aliases: {gold: [vip]}}
      - {name: tags, dtype: string_set, values: [a, b]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    return path


def test_the_shipped_demo_catalog_has_no_problem() -> None:
    assert check_catalog_file(DEMO_CATALOG_PATH) == []


def test_a_good_catalog_loads_exactly_like_the_model(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    assert check_catalog_file(path) == []
    assert load_checked_catalog(path) == Catalog.model_validate(yaml.safe_load(GOOD))


def test_every_problem_is_reported_with_its_path_and_line(tmp_path: Path) -> None:
    broken = GOOD.replace("range: [18, 99]", "range: [90, 10]").replace(
        "{name: tier, dtype: category, values: [bronze, gold], ordered: true, value_aliases: {gold: [vip]}}",
        "{name: tier, dtype: category, value_aliases: {platinum: [top]}}") + """\
      - {name: age, dtype: decimal, aliases: [Years Old]}
  - name: other
    entity: shop
    ttl_seconds: 60
    features:
      - {name: many, dtype: string_set, values: [WORDS]}
      - {name: tag_words, dtype: string_set, values: [a, b], value_aliases: {c: [see]}}
""".replace("WORDS", ", ".join(f"w{i}" for i in range(65)))
    problems = {p.path: p for p in check_catalog_file(_write(tmp_path, broken))}
    assert problems["groups[0].features[0].range"].message == "low 90 is above high 10"
    assert problems["groups[0].features[0].range"].line == 9
    assert "non-empty list of allowed values" in problems["groups[0].features[1].values"].message
    assert problems["groups[0].features[1].values"].line == 10  # a missing field points at its feature
    assert "'platinum' is not an allowed value" in problems["groups[0].features[1].value_aliases.platinum"].message
    assert "also defined at groups[0].features[0]" in problems["groups[0].features[3].name"].message
    assert "unknown dtype 'decimal'" in problems["groups[0].features[3].dtype"].message
    assert problems["groups[0].features[3].dtype"].line == 12
    # the same phrase (case and spacing aside) on two differently named features; duplicate names aside
    assert "unknown entity 'shop'" in problems["groups[1].entity"].message
    assert "65 values; a string_set stores at most 64" in problems["groups[1].features[0].values"].message
    assert "'c' is not an allowed value of 'tag_words'" in problems["groups[1].features[1].value_aliases.c"].message
    assert len(problems) == 8, [str(p) for p in problems.values()]


def test_an_alias_naming_two_features_or_another_feature(tmp_path: Path) -> None:
    text = GOOD.replace("{name: tags, dtype: string_set, values: [a, b]}",
                        "{name: tags, dtype: string_set, values: [a, b], aliases: [Years  old, tier]}")
    found = [str(p) for p in check_catalog_file(_write(tmp_path, text.replace("Years  old", "years old")))]
    assert any("alias 'years old' names 2 features ('age', 'tags')" in p for p in found), found
    assert any("alias 'tier' is the name of another feature" in p for p in found), found


def test_unknown_fields_are_named_so_a_typo_is_not_silently_ignored(tmp_path: Path) -> None:
    problems = check_catalog_file(_write(tmp_path, GOOD.replace("range: [18, 99]", "rnage: [18, 99]")))
    assert [p.path for p in problems] == ["groups[0].features[0].rnage"]
    assert "unknown field 'rnage'" in problems[0].message


def test_broken_yaml_names_its_line(tmp_path: Path) -> None:
    problems = check_catalog_file(_write(tmp_path, GOOD.replace("values: [a, b]}", "values: [a, b}")))
    assert len(problems) == 1 and problems[0].message.startswith("broken YAML")
    assert problems[0].line == 11


@pytest.mark.parametrize("text, path", [
    ("just a string", ""),
    ("name: x\nentities: {user: {key: id}}\ngroups: []\n", "groups"),
    ("name: x\nentities: {user: {}}\ngroups: [{name: g, entity: user, ttl_seconds: 1, features: [{name: a, dtype: int}]}]\n",
     "entities.user"),
    ("name: x\nentities: {user: {key: id}}\ngroups: [{name: g, entity: user, ttl_seconds: 0, features: [{name: a, dtype: int}]}]\n",
     "groups[0].ttl_seconds"),
    ("name: x\nentities: {user: {key: id}}\ngroups: [{name: g, entity: user, ttl_seconds: 1, features: [{name: a, dtype: bool, range: [0, 1]}]}]\n",
     "groups[0].features[0].range"),
])
def test_structural_problems(tmp_path: Path, text: str, path: str) -> None:
    assert path in [p.path for p in check_catalog_file(_write(tmp_path, text))]


def test_configured_catalog_refuses_a_broken_or_missing_file_naming_it(tmp_path: Path) -> None:
    bad = _write(tmp_path, GOOD.replace("range: [18, 99]", "range: [90, 10]"))
    with pytest.raises(InvalidArgument, match=r"catalog .*catalog.yaml \(MDS_CATALOG\) has 1 problem: "
                                              r"groups\[0\]\.features\[0\]\.range \(line 9\): low 90 is above high 10"):
        configured_catalog(Settings(catalog=bad))
    with pytest.raises(InvalidArgument, match="nowhere.yaml.*cannot be read") as caught:
        configured_catalog(Settings(catalog=tmp_path / "nowhere.yaml"))
    assert caught.value.field == "MDS_CATALOG"
    good = _write(tmp_path, GOOD)
    assert configured_catalog(Settings(catalog=good)).name == "shop"
