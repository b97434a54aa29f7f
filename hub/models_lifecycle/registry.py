"""The model registry: versions and deployments in the serving database, files in the artifact store.

Serving tables (hub/serving/models.py): `model_registry` holds every version with its
status (candidate | champion | retired | rejected), metrics and bundle sha256;
`model_deployments` holds, per station, what was offered, what runs, what ran before
and where the rollout stands. The artifact store keeps, per version,
`<artifact_dir>/<org>/<model_id>/<version>/`: `bundle.tar` (what stations download),
`manifest.json` and `manifest.sig` (what the retained offer carries) and `evaluation.json`.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from hub.db.session import session_scope
from hub.errors import HubError
from hub.serving.models import ModelDeployment, ModelVersion
from shared.bundle import (
    BundleManifest,
    canonical_manifest_bytes,
    encode_signature,
    parse_manifest,
)
from shared.ids import check_id
from shared.messages import ModelOffer

BUNDLE_FILE = "bundle.tar"
MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
EVALUATION_FILE = "evaluation.json"


class RegistryError(HubError):
    """A model version is unknown, or a state change is not allowed."""

    exit_code = 4


@dataclass(frozen=True)
class RegisteredModel:
    model_id: str
    version: str
    kind: str
    status: str
    created_at: datetime
    metrics: dict[str, Any]
    bundle_sha256: str | None
    directory: Path

    @property
    def manifest(self) -> BundleManifest:
        return parse_manifest((self.directory / MANIFEST_FILE).read_bytes())

    @property
    def signature(self) -> bytes:
        return (self.directory / SIGNATURE_FILE).read_bytes()

    @property
    def bundle_path(self) -> Path:
        return self.directory / BUNDLE_FILE

    def offer(self, base_url: str) -> ModelOffer:
        """The retained offer stations get: the signed manifest and where the bundle is."""
        # The layout is <artifact_dir>/<org>/<model_id>/<version>: the org is in the path.
        org_id = self.directory.parents[1].name
        url = f"{base_url.rstrip('/')}/{org_id}/{self.model_id}/{self.version}/{BUNDLE_FILE}"
        if base_url.startswith("file:"):
            url = self.bundle_path.resolve().as_uri()
        return ModelOffer(
            manifest=self.manifest, signature=encode_signature(self.signature), bundle_url=url
        )


def _row(row: ModelVersion, directory: Path) -> RegisteredModel:
    return RegisteredModel(
        model_id=row.model_id,
        version=row.version,
        kind=row.kind,
        status=row.status,
        created_at=row.created_at,
        metrics=dict(row.metrics or {}),
        bundle_sha256=row.bundle_sha256,
        directory=directory,
    )


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class ModelRegistry:
    """One organisation's models (tenant scope set once, in every transaction)."""

    def __init__(self, engine: Engine, artifact_dir: Path, *, org_id: str) -> None:
        self.engine = engine
        self.org_id = check_id("org id", org_id)
        self.root = artifact_dir / org_id

    def directory(self, model_id: str, version: str) -> Path:
        return self.root / check_id("model id", model_id) / check_id("version", version)

    # -- versions --------------------------------------------------------------

    def register(
        self,
        *,
        manifest: BundleManifest,
        signature: bytes,
        archive: bytes,
        kind: str,
        evaluation: dict[str, Any],
        status: str = "candidate",
        notes: str | None = None,
    ) -> RegisteredModel:
        """Store the files first, then the row (a row never points at missing files)."""
        directory = self.directory(manifest.model_id, manifest.version)
        directory.mkdir(parents=True, exist_ok=True)
        _write_atomic(directory / BUNDLE_FILE, archive)
        _write_atomic(directory / MANIFEST_FILE, canonical_manifest_bytes(manifest))
        _write_atomic(directory / SIGNATURE_FILE, signature)
        _write_atomic(
            directory / EVALUATION_FILE, json.dumps(evaluation, indent=2, default=str).encode()
        )
        with session_scope(self.engine, org_id=self.org_id) as session:
            row = ModelVersion(
                org_id=self.org_id,
                model_id=manifest.model_id,
                version=manifest.version,
                kind=kind,
                status=status,
                trained_from=_parse_time(manifest.training.data_from),
                trained_to=_parse_time(manifest.training.data_to),
                metrics=dict(manifest.metrics),
                bundle_sha256=hashlib.sha256(archive).hexdigest(),
                notes=notes,
            )
            session.add(row)
            session.flush()
            return _row(row, directory)

    def get(self, model_id: str, version: str) -> RegisteredModel:
        with session_scope(self.engine, org_id=self.org_id) as session:
            row = session.get(ModelVersion, (self.org_id, model_id, version))
            if row is None:
                raise RegistryError(f"no model {model_id}@{version} in the registry")
            return _row(row, self.directory(model_id, version))

    def versions(self, model_id: str) -> list[RegisteredModel]:
        with session_scope(self.engine, org_id=self.org_id) as session:
            rows = session.scalars(
                select(ModelVersion)
                .where(ModelVersion.org_id == self.org_id, ModelVersion.model_id == model_id)
                .order_by(ModelVersion.created_at, ModelVersion.version)
            ).all()
            return [_row(r, self.directory(model_id, r.version)) for r in rows]

    def champion(self, model_id: str) -> RegisteredModel | None:
        champions = [v for v in self.versions(model_id) if v.status == "champion"]
        return champions[-1] if champions else None

    def previous_champion(self, model_id: str) -> RegisteredModel | None:
        """The most recent version that was champion before the current one."""
        retired = [v for v in self.versions(model_id) if v.status == "retired"]
        return retired[-1] if retired else None

    def set_status(
        self, model_id: str, version: str, status: str, *, notes: str | None = None
    ) -> None:
        with session_scope(self.engine, org_id=self.org_id) as session:
            row = session.get(ModelVersion, (self.org_id, model_id, version))
            if row is None:
                raise RegistryError(f"no model {model_id}@{version} in the registry")
            row.status = status
            if notes is not None:
                row.notes = notes

    def promote(self, model_id: str, version: str) -> RegisteredModel | None:
        """Make `version` the champion; the old champion is retired (kept for rollback)."""
        old = self.champion(model_id)
        if old is not None and old.version != version:
            self.set_status(model_id, old.version, "retired")
        self.set_status(model_id, version, "champion")
        return old

    def roll_back(self, model_id: str, *, reason: str) -> tuple[RegisteredModel, RegisteredModel]:
        """Champion -> rejected (with the reason), previous champion -> champion again."""
        current = self.champion(model_id)
        previous = self.previous_champion(model_id)
        if current is None or previous is None:
            raise RegistryError(f"{model_id}: no previous champion to roll back to")
        self.set_status(model_id, current.version, "rejected", notes=f"rolled back: {reason}")
        self.set_status(model_id, previous.version, "champion")
        return current, self.get(model_id, previous.version)

    # -- deployments -------------------------------------------------------------

    def record_deployment(
        self,
        *,
        station_id: str,
        model_id: str,
        state: str,
        offered: str | None = None,
        running: str | None = None,
        previous: str | None = None,
        message: str | None = None,
        reported_at: datetime | None = None,
    ) -> None:
        with session_scope(self.engine, org_id=self.org_id) as session:
            row = session.get(ModelDeployment, (self.org_id, station_id, model_id))
            if row is None:
                row = ModelDeployment(
                    org_id=self.org_id,
                    station_id=station_id,
                    model_id=model_id,
                    rollout_state=state,
                )
                session.add(row)
            row.rollout_state = state
            if offered is not None:
                row.offered_version = offered
            if running is not None:
                row.running_version = running
            if previous is not None:
                row.previous_version = previous
            if message is not None:
                row.message = message
            if reported_at is not None:
                row.reported_at = reported_at

    def deployments(self, model_id: str) -> dict[str, dict[str, Any]]:
        with session_scope(self.engine, org_id=self.org_id) as session:
            rows = session.scalars(
                select(ModelDeployment).where(
                    ModelDeployment.org_id == self.org_id, ModelDeployment.model_id == model_id
                )
            ).all()
            return {
                r.station_id: {
                    "offered": r.offered_version,
                    "running": r.running_version,
                    "previous": r.previous_version,
                    "state": r.rollout_state,
                    "message": r.message,
                }
                for r in rows
            }


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
