"""Provision and revoke a station: its identity in the serving database, its broker
credentials and ACL lines, and the edge config its gateway needs.

Checks come first and nothing is changed when one fails: an unknown org, a station
that is already provisioned, a new station past the org's plan (billing.gates, as in the
portal; a station the portal created is provisioned whatever the plan). The database rows are flushed, the broker files written,
and only then does the caller commit; a failure writing the files rolls the rows back.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import yaml
from sqlalchemy.orm import Session

from hub.db.models import Organization, Station
from hub.errors import HubError
from hub.portal.billing import gates
from hub.portal.errors import PlanLimit
from hub.portal.fleet.credentials import mosquitto_hash, topic_prefix, username_for
from hub.portal.fleet.models import StationCredential
from hub.stations import broker_files
from hub.stations.settings import StationProvisioningSettings
from shared.errors import InvalidIdentifier
from shared.ids import check_id


class ProvisioningError(HubError):
    """A provisioning request that cannot be carried out; nothing was changed."""

    exit_code = 2


@dataclass(frozen=True)
class Provisioned:
    org_id: str
    station_id: str
    username: str
    password: str
    edge_config: str
    broker_reloaded: bool


def _ids(org_id: str, station_id: str) -> None:
    try:
        check_id("org id", org_id)
        check_id("station id", station_id)
    except InvalidIdentifier as exc:
        raise ProvisioningError(str(exc)) from None


def provision(
    *,
    session: Session,
    settings: StationProvisioningSettings,
    org_id: str,
    station_id: str,
    name: str | None = None,
) -> Provisioned:
    _ids(org_id, station_id)
    if session.get(Organization, org_id) is None:
        raise ProvisioningError(f"no organisation {org_id!r} at this hub; nothing changed")
    if session.get(StationCredential, (org_id, station_id)) is not None:
        raise ProvisioningError(
            f"station {org_id}/{station_id} is already provisioned; revoke it first "
            "(or rotate its password in the portal); nothing changed"
        )
    new_station = session.get(Station, (org_id, station_id)) is None
    if new_station:
        try:
            gates.require_within(session=session, org_id=org_id, what="stations")
        except PlanLimit as exc:
            raise ProvisioningError(f"{exc.message} Nothing changed.") from None
    username = username_for(org_id, station_id)
    if username in broker_files.password_users(settings.password_file):
        raise ProvisioningError(
            f"{settings.password_file} already has a user {username!r}; nothing changed"
        )
    if new_station:
        session.add(Station(org_id=org_id, id=station_id, name=name or station_id))
    password = secrets.token_urlsafe(24)
    password_hash = mosquitto_hash(password)
    session.add(
        StationCredential(
            org_id=org_id, station_id=station_id, username=username, password_hash=password_hash
        )
    )
    session.flush()
    with broker_files.locked(settings.password_file):
        broker_files.set_password(settings.password_file, username, password_hash)
        broker_files.set_acl(settings.acl_file, username, org_id, station_id)
    reloaded = broker_files.reload_broker(settings.broker_pid_file)
    return Provisioned(
        org_id=org_id,
        station_id=station_id,
        username=username,
        password=password,
        edge_config=edge_config(settings, org_id, station_id, username, password),
        broker_reloaded=reloaded,
    )


def revoke(
    *, session: Session, settings: StationProvisioningSettings, org_id: str, station_id: str
) -> bool:
    """Remove the station's credential, password line and ACL block; the broker refuses it at
    its next connect. Its identity and history stay (the portal still shows what it sent).
    Returns whether the broker was told to reload."""
    _ids(org_id, station_id)
    credential = session.get(StationCredential, (org_id, station_id))
    username = username_for(org_id, station_id)
    in_files = username in broker_files.password_users(settings.password_file)
    if credential is None and not in_files:
        raise ProvisioningError(
            f"station {org_id}/{station_id} has no credentials to revoke; nothing changed"
        )
    if credential is not None:
        session.delete(credential)
        session.flush()
    with broker_files.locked(settings.password_file):
        broker_files.remove_password(settings.password_file, username)
        broker_files.remove_acl(settings.acl_file, username)
    return broker_files.reload_broker(settings.broker_pid_file)


def edge_config(
    settings: StationProvisioningSettings,
    org_id: str,
    station_id: str,
    username: str,
    password: str,
) -> str:
    """The part of config/edge.yaml that names the station and its broker account."""
    mqtt: dict[str, object] = {
        "host": settings.broker_host,
        "port": settings.broker_port,
        "username": username,
        "password": password,
        "tls": settings.broker_tls,
    }
    if settings.broker_ca_file is not None:
        mqtt["ca_file"] = str(settings.broker_ca_file)
    header = (
        f"# Altaviz edge config for {org_id}/{station_id} (merge into /etc/altaviz/edge.yaml).\n"
        f"# The station may publish and subscribe under {topic_prefix(org_id, station_id)}# only.\n"
        "# The password is shown once: keep this file readable by the agent's user only.\n"
    )
    body = {"org_id": org_id, "station_id": station_id, "mqtt": mqtt}
    return header + yaml.safe_dump(body, sort_keys=False)
