"""The agent's side of remote configuration: verify, validate, apply, verify again, roll back.

A document (shared.station_config) arrives retained on the station's config topic.
It is refused, and the running configuration stays, when it is unsigned or its
signature does not verify against the pinned hub key, names another station, is
not newer than what runs (or than a version rolled back from), or a section does not
validate (a register map with overlapping addresses, an unknown panel option). An
accepted one is applied between two polls (the old source's readings are drained
into the buffer first) and then watched for `verify_s`: every panel that answered
before must answer again. If one does not, the previous configuration is restored
and the document reported rolled back.

State under `remote_config.dir` (default: `config/` beside the buffer file)::

    state.json   {"current": signed doc, "previous": signed doc, "last_report": {...},
                  "high_water": highest version ever accepted or rolled back from}
    maps/v<N>/   the register maps configuration N runs with
    rollback.request   written by `altaviz-edge config rollback` (the technician on site)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from edge_agent.annunciation import AnnunciationSettings
from edge_agent.settings import (
    EdgeSettings,
    RemoteConfigSettings,
    SourceSettings,
    UplinkSettings,
)
from edge_agent.thresholds import Thresholds, load_thresholds
from shared.bundle import BundleError, load_public_key
from shared.errors import ConfigError, MessageError
from shared.messages import MAX_CONTROL_MESSAGE_BYTES, PanelStatus, decode_message
from shared.register_map import DEFAULT_MAPS_DIR
from shared.station_config import (
    ConfigOutcome,
    ConfigReport,
    SignedStationConfig,
    StationConfigDocument,
    StationConfigError,
    verify_config,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

log = logging.getLogger(__name__)

MAX_CONFIG_BYTES = MAX_CONTROL_MESSAGE_BYTES
ROLLBACK_REQUEST = "rollback.request"


@dataclass(frozen=True)
class Effective:
    """A configuration ready to run: settings and threshold rules."""

    settings: EdgeSettings
    thresholds: Thresholds
    version: int  # 0 = the file configuration


def file_thresholds(settings: EdgeSettings) -> Thresholds:
    return load_thresholds(settings.scoring.thresholds_file if settings.scoring.enabled else None)


def overlay(base: EdgeSettings, document: StationConfigDocument, maps_root: Path) -> Effective:
    """The file configuration with the document's sections in place; ConfigError if invalid."""
    where = f"configuration version {document.version}"
    try:
        thresholds = (
            Thresholds.model_validate(document.thresholds)
            if document.thresholds is not None
            else file_thresholds(base)
        )
        uplink = UplinkSettings.model_validate(
            {**base.uplink.model_dump(), **(document.uplink or {})}
        )
        annunciation = (
            AnnunciationSettings.model_validate(document.annunciation)
            if document.annunciation is not None
            else base.annunciation
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(section)"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{where}: {loc}: {message}") from None
    options = dict(document.source_options if document.source_options is not None else {})
    if document.source_options is None:
        options = dict(base.source.options)
    if document.register_maps:
        maps_dir = maps_root / f"v{document.version}"
        _write_maps(
            maps_dir, options.get("maps_dir") or base.source.options.get("maps_dir"), document
        )
        options["maps_dir"] = str(maps_dir)
    source = SourceSettings(kind=base.source.kind, options=options)
    settings = base.model_copy(
        update={"uplink": uplink, "annunciation": annunciation, "source": source}
    )
    return Effective(settings=settings, thresholds=thresholds, version=document.version)


def _write_maps(target: Path, base_dir: Any, document: StationConfigDocument) -> None:
    """The station's own maps, then the document's (same name: the document's wins)."""
    import yaml

    staging = target.with_name(target.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    source = Path(base_dir) if base_dir else DEFAULT_MAPS_DIR
    for path in source.glob("*.yaml"):
        shutil.copyfile(path, staging / path.name)
    for name, data in (document.register_maps or {}).items():
        (staging / f"{name}.yaml").write_text(yaml.safe_dump({**data, "name": name}))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)


class ConfigStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._path = root / "state.json"
        self.state: dict[str, Any] = (
            json.loads(self._path.read_text()) if self._path.exists() else {}
        )

    def signed(self, which: str) -> SignedStationConfig | None:
        raw = self.state.get(which)
        return SignedStationConfig.model_validate(raw) if raw else None

    @property
    def high_water(self) -> int:
        return int(self.state.get("high_water") or 0)

    @property
    def last_report(self) -> ConfigReport | None:
        raw = self.state.get("last_report")
        return ConfigReport.model_validate(raw) if raw else None

    def save(self, **changes: Any) -> None:
        self.state = {**self.state, **changes}
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        with open(tmp, "w") as handle:
            json.dump(self.state, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._path)


class ConfigControl:
    """Decides on documents; the agent swaps the running parts (`Agent.reconfigure`)."""

    def __init__(self, settings: RemoteConfigSettings, base: EdgeSettings) -> None:
        self.settings = settings
        self.base = base
        self.directory = base.remote_config_dir
        self.store = ConfigStore(self.directory)
        self.key: Ed25519PublicKey | None = None
        key_file = settings.public_key_file or base.model.public_key_file
        if settings.enabled and key_file is not None:
            try:
                self.key = load_public_key(key_file)
            except BundleError as exc:
                raise ConfigError(f"remote_config.public_key_file {key_file}: {exc}") from None
        self.reports: list[ConfigReport] = []
        #: While a change is watched: (deadline, panel states before it, what to restore).
        self._verifying: tuple[float, dict[str, str], Effective] | None = None
        self._pending_signed: SignedStationConfig | None = None
        self.running = self._startup()
        self.changed = False

    def _startup(self) -> Effective:
        """The stored current configuration, re-verified (else the previous, else the file)."""
        for which in ("current", "previous"):
            try:
                signed = self.store.signed(which)
                if signed is None or self.key is None:
                    continue
                verify_config(signed, self.key)
                effective = overlay(self.base, signed.document, self.directory / "maps")
            except (StationConfigError, ConfigError, ValidationError) as exc:
                log.error("stored %s configuration not used: %s", which, exc)
                continue
            if which == "previous":
                self.store.save(current=self.store.state.get("previous"), previous=None)
            log.info("running remote configuration version %d", effective.version)
            return effective
        return Effective(self.base, file_thresholds(self.base), 0)

    @property
    def verifying(self) -> bool:
        return self._verifying is not None

    def document(self) -> dict[str, Any]:
        report = self.store.last_report
        return {
            "version": self.running.version,
            "source": "hub" if self.running.version else "file",
            "state": "verifying" if self._verifying else "running",
            "previous_version": self._version_of("previous"),
            "last_report": report.model_dump(mode="json") if report else None,
        }

    def _version_of(self, which: str) -> int | None:
        raw = self.store.state.get(which)
        return int(raw["document"]["version"]) if raw else None

    # -- a document arrives --------------------------------------------------------

    def consider(self, payload: bytes, *, org_id: str, station_id: str) -> Effective | None:
        """A configuration to apply now, or None (ignored, or refused and reported)."""
        if not payload:
            return None  # the hub cleared the retained document
        version = _version_in(payload)
        if len(payload) > MAX_CONFIG_BYTES:
            return self._refuse(version, f"document is larger than {MAX_CONFIG_BYTES} bytes")
        if not _has_signature(payload):
            return self._refuse(version, "unsigned document")
        try:
            signed = decode_message(payload, SignedStationConfig)
        except MessageError as exc:
            return self._refuse(version, str(exc))
        document = signed.document
        current = self.store.signed("current")
        if current is not None and current == signed:
            return None  # the retained document again (reconnect)
        last = self.store.last_report
        if (
            last is not None
            and last.version == document.version
            and last.outcome != ConfigOutcome.APPLIED
        ):
            return None  # already refused or rolled back, and reported
        if self.key is None:
            return self._refuse(
                document.version, "no pinned hub key (remote_config.public_key_file)"
            )
        try:
            verify_config(signed, self.key)
        except StationConfigError as exc:
            return self._refuse(document.version, str(exc))
        if (document.org_id, document.station_id) != (org_id, station_id):
            return self._refuse(
                document.version, f"document is for {document.org_id}/{document.station_id}"
            )
        floor = max(self.running.version, self.store.high_water)
        if document.version <= floor:
            return self._refuse(
                document.version,
                f"stale: version {document.version} is not newer than {floor}",
            )
        try:
            effective = overlay(self.base, document, self.directory / "maps")
        except ConfigError as exc:
            return self._refuse(document.version, str(exc))
        self._pending_signed = signed
        return effective

    def applied(self, effective: Effective, *, before: dict[str, PanelStatus]) -> None:
        """The agent runs `effective` now; watch the panels, keep the previous for a roll back."""
        previous_run = self.running
        signed = self._pending_signed
        assert signed is not None
        self.store.save(
            current=signed.model_dump(mode="json"),
            previous=self.store.state.get("current"),
            high_water=max(self.store.high_water, effective.version),
        )
        self.running = effective
        self._verifying = (time.monotonic() + self.settings.verify_s, _states(before), previous_run)
        self.changed = True
        log.warning(
            "configuration version %d applied; watching the panels for %.0f s",
            effective.version,
            self.settings.verify_s,
        )

    def failed_to_apply(self, effective: Effective, reason: str) -> None:
        self._refuse(effective.version, f"could not be applied: {reason}")

    def check(self, panels: dict[str, PanelStatus]) -> Effective | None:
        """While watching: the configuration to go back to if the change broke a panel."""
        if self._verifying is None:
            return None
        deadline, before, previous = self._verifying
        # Panels that answered before, and new ones, must answer; one already failing need not.
        required = [
            n for n, state in _states(panels).items() if before.get(n, "new") in ("ok", "new")
        ]
        missing = sorted(n for n in required if panels[n].state != "ok")
        if not missing:
            self._verifying = None
            self._report(self.running.version, ConfigOutcome.APPLIED, None)
            return None
        if time.monotonic() < deadline:
            return None
        self._verifying = None
        detail = "; ".join(
            f"{n}: {panels[n].state} ({panels[n].last_error or 'no answer'})" for n in missing
        )
        self._roll_back_to(
            previous,
            f"panel(s) unreachable {self.settings.verify_s:.0f} s after the change: {detail}",
        )
        return previous

    def roll_back_on_site(self) -> Effective | None:
        """The technician's `altaviz-edge config rollback`: the previous configuration again."""
        request = self.directory / ROLLBACK_REQUEST
        if not request.exists():
            return None
        request.unlink()
        if self.running.version == 0:
            log.warning("rollback requested on site, but the file configuration runs already")
            return None
        previous = self.store.signed("previous")
        target = Effective(self.base, file_thresholds(self.base), 0)
        if previous is not None and self.key is not None:
            try:
                target = overlay(self.base, previous.document, self.directory / "maps")
            except ConfigError as exc:
                log.error("previous configuration unusable (%s); going back to the file", exc)
        self._verifying = None
        self._roll_back_to(target, "rolled back on site by the technician")
        return target

    def _roll_back_to(self, target: Effective, reason: str) -> None:
        failed = self.running.version
        self.store.save(
            current=self.store.state.get("previous") if target.version else None,
            previous=None,
            high_water=max(self.store.high_water, failed),
        )
        self.running = target
        log.error("configuration version %d rolled back to %d: %s", failed, target.version, reason)
        self._report(failed, ConfigOutcome.ROLLED_BACK, reason)

    # -- reports ----------------------------------------------------------------------

    def _refuse(self, version: int | None, reason: str) -> Effective | None:
        """Report a refusal; None (nothing to apply), for `consider` to return."""
        log.error("configuration version %s refused: %s", version, reason)
        self._report(version, ConfigOutcome.REFUSED, reason)
        return None

    def _report(self, version: int | None, outcome: ConfigOutcome, reason: str | None) -> None:
        report = ConfigReport(
            version=version, outcome=outcome, reason=reason, running_version=self.running.version
        )
        self.store.save(last_report=report.model_dump(mode="json"))
        self.reports.append(report)
        self.changed = True


def _states(panels: dict[str, PanelStatus]) -> dict[str, str]:
    return {name: str(panel.state.value) for name, panel in panels.items()}


def _has_signature(payload: bytes) -> bool:
    try:
        data = json.loads(payload)
    except ValueError:
        return True  # not JSON at all: decode_message says so
    return not isinstance(data, dict) or bool(data.get("signature"))


def _version_in(payload: bytes) -> int | None:
    """The version a refused document claims, for the report (None if unreadable)."""
    try:
        version = json.loads(payload).get("document", {}).get("version")
    except (ValueError, AttributeError):
        return None
    return version if isinstance(version, int) else None
