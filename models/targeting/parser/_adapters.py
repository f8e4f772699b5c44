"""Where a catalog's distilled student lives, and how an adapter directory is written and checked.

``mds targeting distill --catalog FILE`` writes ``<data_dir>/adapters/targeting-<catalog>-<fingerprint>/``
(the shipped adapter, when it was distilled for that very catalog); the parser loads the adapter
distilled for its catalog when one is there, else the shipped one. ``training.json`` beside the
weights records the catalog and the weights' sha256, checked before loading, like the model
registry's checked saves: a half-written or altered adapter is an ``ArtifactError``, never loaded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import ArtifactError
from features.catalog import Catalog

__all__ = ["SHIPPED_ADAPTER", "adapter_for", "check_adapter", "distilled_dir", "save_adapter", "trained_for"]

log = logging.getLogger(__name__)

SHIPPED_ADAPTER = Path(__file__).resolve().parents[1] / "adapters" / "smollm2-targeting-lora"
TRAINING_FILE = "training.json"
WEIGHTS = "adapter_model.safetensors"


def _training(adapter_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((adapter_dir / TRAINING_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def trained_for(adapter_dir: Path) -> dict[str, str] | None:
    """The catalog (``name``, ``fingerprint``) an adapter was distilled for, when it says."""
    found = _training(adapter_dir).get("catalog")
    return found if isinstance(found, dict) and "fingerprint" in found else None


def distilled_dir(catalog: Catalog, data_dir: Path) -> Path:
    """Where ``mds targeting distill --catalog`` puts the student of ``catalog`` by default."""
    shipped = trained_for(SHIPPED_ADAPTER)
    if shipped is not None and shipped["fingerprint"] == catalog.fingerprint:
        return SHIPPED_ADAPTER
    return data_dir / "adapters" / f"targeting-{catalog.name}-{catalog.fingerprint}"


def adapter_for(catalog: Catalog, data_dir: Path) -> Path:
    """The adapter the parser uses for ``catalog``: its own distilled one when present, else the shipped one."""
    own = distilled_dir(catalog, data_dir)
    if (own / "adapter_config.json").exists():
        return own
    shipped = trained_for(SHIPPED_ADAPTER)
    if shipped is not None and shipped["fingerprint"] != catalog.fingerprint:
        log.warning("no student distilled for catalog %r; using the one distilled for %r "
                    "(run `mds targeting distill --catalog FILE`)", catalog.name, shipped.get("name"))
    return SHIPPED_ADAPTER


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_adapter(adapter_dir: Path) -> None:
    """Raise ``ArtifactError`` when the weights do not match the checksum their ``training.json`` records."""
    recorded = _training(adapter_dir).get("adapter_sha256")
    if recorded is None:
        return  # adapters written before checksums were recorded
    weights = adapter_dir / WEIGHTS
    if not weights.exists() or _sha256(weights) != recorded:
        raise ArtifactError(f"adapter {adapter_dir} is damaged: {WEIGHTS} does not match the sha256 in "
                            f"{TRAINING_FILE}; distil it again")


def _fsync_tree(path: Path) -> None:
    for item in path.iterdir():
        if item.is_file():
            with item.open("rb") as fh:
                os.fsync(fh.fileno())


def save_adapter(out_dir: Path, write: Callable[[Path], None], training: Callable[[Path], dict[str, Any]]) -> None:
    """Write an adapter into ``out_dir`` all at once: ``write(tmp)`` saves the weights into a hidden
    directory beside it, ``training(tmp)`` plus their sha256 becomes ``training.json``, then the directory
    replaces ``out_dir``. A run killed before that leaves the previous adapter as it was (and a
    ``.tmp-*`` directory)."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{out_dir.name}-", dir=out_dir.parent))
    tmp.chmod(0o755)  # mkdtemp's 0700 would make the installed adapter private to this user
    try:
        write(tmp)
        weights = tmp / WEIGHTS
        if not weights.exists():
            raise ArtifactError(f"saving the adapter wrote no {WEIGHTS}")
        (tmp / TRAINING_FILE).write_text(json.dumps({**training(tmp), "adapter_sha256": _sha256(weights)},
                                                    indent=1))
        _fsync_tree(tmp)
        old = None
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".old-{out_dir.name}-", dir=out_dir.parent))
            os.rename(out_dir, old / out_dir.name)
        os.rename(tmp, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
