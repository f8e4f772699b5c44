import datetime as dt
import json
from pathlib import Path

from services.cli import write_json


def test_write_json_makes_folders_keeps_text_readable_and_writes_dates_as_text(tmp_path: Path, capsys) -> None:
    path = tmp_path / "a" / "b" / "report.json"
    write_json(path, {"demand": "femmes à Zürich", "day": dt.date(2024, 5, 1), "n": [1, 2]})
    raw = path.read_bytes().decode("utf-8")
    assert "femmes à Zürich" in raw  # not \u-escaped
    assert json.loads(raw) == {"demand": "femmes à Zürich", "day": "2024-05-01", "n": [1, 2]}
    assert str(path) in capsys.readouterr().out.replace("\n", "")


def test_write_json_without_a_path_writes_nothing(tmp_path: Path, capsys) -> None:
    write_json(None, {"a": 1})
    assert list(tmp_path.iterdir()) == [] and capsys.readouterr().out == ""
