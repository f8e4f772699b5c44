"""A versioned model registry any domain can use, plus a serving holder that survives bad artifacts.

Layout under ``root`` (normally ``settings.models_dir``)::

    <root>/<name>/<version>/model.joblib     the pickled model (joblib)
    <root>/<name>/<version>/manifest.json    name, version, created_at, kind, parameters, features,
                                             catalog fingerprint, training metrics, payload sha256

Versions are integers counting up from 1. :meth:`ModelRegistry.save` writes into a hidden temp directory
beside the versions and renames it into place, so a save killed half-way leaves no version behind (only
a ``.tmp-*`` directory that :meth:`list_versions` ignores). :meth:`ModelRegistry.load` verifies the
checksum before unpickling and checks the artifact against the running catalog; any mismatch raises
:class:`core.errors.ArtifactError` with a message saying what is wrong.

Artifacts are pickles: load them only from a registry directory you control.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib

from core.errors import ArtifactError, InvalidArgument, ModelNotFound

if TYPE_CHECKING:
    from core.settings import Settings
    from features.catalog import Catalog

__all__ = ["LoadedModel", "ModelHolder", "ModelManifest", "ModelRegistry", "ReloadOutcome"]

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
PAYLOAD_FILE = "model.joblib"
FORMAT_VERSION = 1
_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}\Z")  # \Z: '$' would accept a trailing newline


@dataclass(frozen=True, slots=True)
class ModelManifest:
    """What a stored model is, without loading it."""

    name: str
    version: int
    created_at: str
    kind: str
    parameters: dict[str, Any]
    features: list[str]
    catalog_fingerprint: str | None
    metrics: dict[str, float]
    payload_sha256: str
    payload_bytes: int
    payload_file: str = PAYLOAD_FILE
    format_version: int = FORMAT_VERSION
    notes: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    def entity(self, catalog: Catalog) -> str:
        """The catalog entity whose features the model reads (the population's entity if it reads none)."""
        from features.population import population_entity

        return catalog.features[self.features[0]].entity if self.features else population_entity(catalog)

    @classmethod
    def from_json(cls, text: str) -> ModelManifest:
        data = json.loads(text)
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model object together with the manifest it was loaded from."""

    manifest: ModelManifest
    model: Any

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> int:
        return self.manifest.version


def _json_safe(value: Any) -> Any:
    """Parameters as JSON: plain values kept, anything else (estimators, arrays) as its repr."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if callable(getattr(value, "get_params", None)):  # a nested estimator: its class and parameters
        return {"class": type(value).__name__, **_default_parameters(value)}
    return f"<{type(value).__name__}>"  # catalogs, arrays, ...: named, not dumped


def _default_parameters(model: Any) -> dict[str, Any]:
    get_params = getattr(model, "get_params", None)
    if callable(get_params):
        with contextlib.suppress(Exception):
            return {str(k): _json_safe(v) for k, v in get_params(deep=False).items()}
    return {}


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class ModelRegistry:
    """Versioned model artifacts under one directory."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelRegistry:
        return cls(settings.models_dir)

    # -- naming ------------------------------------------------------------------------------------

    @staticmethod
    def check_name(name: str, *, field: str = "name") -> str:
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidArgument(
                f"model name {name!r} is not valid: use 1-64 letters, digits, '_', '-' or '.', "
                f"starting with a letter or digit", field=field)
        return name

    def _model_dir(self, name: str) -> Path:
        return self.root / self.check_name(name)

    # -- listing -----------------------------------------------------------------------------------

    def list_models(self) -> list[str]:
        """Names that have at least one complete version, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir()
                      if p.is_dir() and _NAME.match(p.name) and self._versions_in(p))

    @staticmethod
    def _versions_in(model_dir: Path) -> list[int]:
        if not model_dir.is_dir():
            return []
        return sorted(int(p.name) for p in model_dir.iterdir()
                      if p.is_dir() and p.name.isdigit() and (p / MANIFEST_FILE).is_file())

    def list_versions(self, name: str) -> list[int]:
        """Complete versions of ``name``, oldest first; :class:`ModelNotFound` when there are none."""
        versions = self._versions_in(self._model_dir(name))
        if not versions:
            known = self.list_models()
            raise ModelNotFound(
                f"no model named {name!r} in {self.root}"
                + (f"; available: {', '.join(known)}" if known else "; the registry is empty"))
        return versions

    def latest_version(self, name: str) -> int:
        return self.list_versions(name)[-1]

    def _version_dir(self, name: str, version: int | None) -> tuple[int, Path]:
        versions = self.list_versions(name)
        if version is None or version == 0:
            version = versions[-1]
        if version not in versions:
            raise ModelNotFound(
                f"model {name!r} has no version {version}; versions: {', '.join(map(str, versions))}")
        return version, self._model_dir(name) / str(version)

    # -- saving ------------------------------------------------------------------------------------

    def save(
        self,
        name: str,
        model: Any,
        *,
        kind: str | None = None,
        parameters: dict[str, Any] | None = None,
        features: list[str] | tuple[str, ...] | None = None,
        catalog: Catalog | None = None,
        catalog_fingerprint: str | None = None,
        metrics: dict[str, float] | None = None,
        notes: dict[str, Any] | None = None,
    ) -> int:
        """Store ``model`` as the next version of ``name`` and return that version.

        ``features`` defaults to ``model.features`` and ``parameters`` to ``model.get_params()``;
        the catalog fingerprint comes from ``catalog`` (or is passed directly).
        """
        model_dir = self._model_dir(name)
        if features is None:
            features = list(getattr(model, "features", None) or [])
        if catalog is not None:
            catalog_fingerprint = catalog.fingerprint
            unknown = [f for f in features if f not in catalog.features]
            if unknown:
                raise InvalidArgument(
                    f"features {unknown} are not in catalog {catalog.name!r}", field="features")
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        payload = buffer.getvalue()
        digest = hashlib.sha256(payload).hexdigest()

        model_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=model_dir))
        try:
            with open(tmp / PAYLOAD_FILE, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            for _ in range(100):  # another writer may take the same number; take the next one then
                existing = self._versions_in(model_dir)
                version = (existing[-1] if existing else 0) + 1
                manifest = ModelManifest(
                    name=name, version=version, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    kind=kind or f"{type(model).__module__}.{type(model).__qualname__}",
                    parameters=_json_safe(parameters) if parameters is not None else _default_parameters(model),
                    features=[str(f) for f in features], catalog_fingerprint=catalog_fingerprint,
                    metrics={str(k): float(v) for k, v in (metrics or {}).items()},
                    payload_sha256=digest, payload_bytes=len(payload), notes=_json_safe(notes or {}),
                )
                (tmp / MANIFEST_FILE).write_text(manifest.to_json())
                target = model_dir / str(version)
                try:
                    os.rename(tmp, target)  # atomic; fails when the version directory exists
                except OSError:
                    if target.exists():
                        continue
                    raise
                _fsync_dir(model_dir)
                log.info("saved model %s version %d (%d bytes)", name, version, len(payload))
                return version
            raise ArtifactError(f"could not allocate a version for model {name!r}")
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    # -- loading -----------------------------------------------------------------------------------

    def manifest(self, name: str, version: int | None = None) -> ModelManifest:
        """The manifest of a version (latest when ``version`` is None or 0), without the payload."""
        version, vdir = self._version_dir(name, version)
        try:
            manifest = ModelManifest.from_json((vdir / MANIFEST_FILE).read_text())
        except (OSError, ValueError, TypeError) as exc:
            raise ArtifactError(f"model {name!r} version {version}: unreadable manifest ({exc})") from None
        if manifest.name != name or manifest.version != version:
            raise ArtifactError(
                f"model {name!r} version {version}: manifest says {manifest.name!r} version "
                f"{manifest.version}; the artifact was moved or copied by hand")
        return manifest

    def payload(self, name: str, version: int | None = None) -> tuple[ModelManifest, bytes]:
        """Manifest and checksum-verified payload bytes (e.g. to ship the model to Spark executors)."""
        manifest = self.manifest(name, version)
        path = self._model_dir(name) / str(manifest.version) / manifest.payload_file
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ArtifactError(
                f"model {name!r} version {manifest.version}: payload unreadable ({exc})") from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != manifest.payload_sha256:
            raise ArtifactError(
                f"model {name!r} version {manifest.version} is corrupt: payload sha256 {actual[:12]}… "
                f"does not match the manifest's {manifest.payload_sha256[:12]}…")
        return manifest, data

    @staticmethod
    def check_compatible(manifest: ModelManifest, catalog: Catalog) -> None:
        """Raise :class:`ArtifactError` when ``manifest`` was trained for another feature catalog."""
        where = f"model {manifest.name!r} version {manifest.version}"
        if manifest.catalog_fingerprint is not None and manifest.catalog_fingerprint != catalog.fingerprint:
            raise ArtifactError(
                f"{where} was trained on catalog fingerprint {manifest.catalog_fingerprint}, but the "
                f"running catalog {catalog.name!r} has fingerprint {catalog.fingerprint}; retrain it")
        missing = [f for f in manifest.features if f not in catalog.features]
        if missing:
            raise ArtifactError(f"{where} needs features the running catalog lacks: {', '.join(missing)}")

    @staticmethod
    def deserialize(manifest: ModelManifest, data: bytes) -> Any:
        """Unpickle verified payload bytes; any failure is an :class:`ArtifactError`."""
        try:
            return joblib.load(io.BytesIO(data))
        except Exception as exc:  # unpickling runs arbitrary code paths: every failure means "bad artifact"
            raise ArtifactError(
                f"model {manifest.name!r} version {manifest.version} cannot be loaded: "
                f"{type(exc).__name__}: {exc}") from None

    def load(self, name: str, version: int | None = None, *, catalog: Catalog | None = None) -> LoadedModel:
        """Load a version (latest when None or 0), verified and, given ``catalog``, checked against it."""
        manifest, data = self.payload(name, version)
        if catalog is not None:
            self.check_compatible(manifest, catalog)
        return LoadedModel(manifest, self.deserialize(manifest, data))

    def load_newest_good(self, name: str, *, catalog: Catalog | None = None) -> tuple[LoadedModel, list[str]]:
        """The newest version that loads; also the errors of newer, refused versions."""
        errors: list[str] = []
        for version in reversed(self.list_versions(name)):
            try:
                return self.load(name, version, catalog=catalog), errors
            except ArtifactError as exc:
                log.warning("refusing %s", exc.message)
                errors.append(exc.message)
        raise ArtifactError(f"no loadable version of model {name!r}: " + "; ".join(errors))


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    name: str
    previous_version: int | None
    serving_version: int

    @property
    def changed(self) -> bool:
        return self.previous_version != self.serving_version


class ModelHolder:
    """The version of one model that is serving now; a reload that finds a bad artifact keeps it.

    The first load takes the newest version that loads (a corrupt newest version is logged and
    skipped, its error kept in :attr:`last_error`). :meth:`reload` swaps only after the new version
    loaded and passed its checks, so requests never see a half-loaded model.
    """

    def __init__(self, registry: ModelRegistry, name: str, *, catalog: Catalog | None = None) -> None:
        self.registry = registry
        self.name = ModelRegistry.check_name(name)
        self.catalog = catalog
        self._current: LoadedModel | None = None
        self._lock = threading.Lock()
        self.last_error: str | None = None

    @property
    def current(self) -> LoadedModel:
        """The serving model, loading the newest good version on first use."""
        current = self._current
        if current is None:
            with self._lock:
                if self._current is None:
                    loaded, errors = self.registry.load_newest_good(self.name, catalog=self.catalog)
                    self.last_error = errors[0] if errors else None
                    self._current = loaded
                current = self._current
        return current

    @property
    def loaded(self) -> bool:
        return self._current is not None

    def reload(self, version: int | None = None) -> ReloadOutcome:
        """Serve ``version`` (latest when None). On failure raise and keep the current version."""
        with self._lock:
            previous = self._current
            try:
                candidate = self.registry.load(self.name, version, catalog=self.catalog)
            except ArtifactError as exc:
                self.last_error = exc.message
                if previous is not None:
                    raise ArtifactError(
                        f"{exc.message}; version {previous.version} keeps serving") from None
                raise
            self._current = candidate
            self.last_error = None
        return ReloadOutcome(self.name, previous.version if previous else None, candidate.version)
