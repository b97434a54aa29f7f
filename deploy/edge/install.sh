#!/bin/sh
# Install the Altaviz edge agent on a station gateway (Debian/Ubuntu, x86-64 or ARM64).
#
#   sudo deploy/edge/install.sh [--root DIR] [SOURCE]
#
# SOURCE: a checkout (default: this one) or a wheel. --root DIR installs into DIR as if it
# were / (an image build, or the CI test on a clean directory tree): no service is started.
#
# Creates the `altaviz` system user, a virtualenv in /opt/altaviz/venvs/<version> with only
# the `edge` extra (no Spark, Java, FastAPI or scikit-learn) and /opt/altaviz/venv pointing
# at it (deploy/edge/upgrade.sh switches it, and switches back if the new one is unhealthy),
# /etc/altaviz/{edge.yaml,edge.env,thresholds.yaml,register_maps/} (kept if present), the
# hardened systemd unit, and log rotation for /var/log/altaviz/edge.log.
set -eu

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT=""
SOURCE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT="$(cd "$2" && pwd)"; shift 2 ;;
        --root=*) ROOT="$(cd "${1#--root=}" && pwd)"; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) SOURCE="$1"; shift ;;
    esac
done
SOURCE="${SOURCE:-$(cd "$HERE/../.." && pwd)}"
PREFIX="$ROOT/opt/altaviz"
ETC="$ROOT/etc/altaviz"
STATE="$ROOT/var/lib/altaviz"
LOGS="$ROOT/var/log/altaviz"
UNITS="$ROOT/etc/systemd/system"
PYTHON="${PYTHON:-python3}"

[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null \
    || { echo "Python 3.11+ is required ($PYTHON)" >&2; exit 1; }

# The dedicated user, in the target root's own user database.
if [ -n "$ROOT" ]; then
    mkdir -p "$ROOT/etc"
    for db in passwd group shadow gshadow; do [ -e "$ROOT/etc/$db" ] || : > "$ROOT/etc/$db"; done
    grep -q '^root:' "$ROOT/etc/passwd" || echo 'root:x:0:0:root:/root:/bin/sh' >> "$ROOT/etc/passwd"
    grep -q '^root:' "$ROOT/etc/group" || echo 'root:x:0:' >> "$ROOT/etc/group"
    USERADD_ROOT="--root $ROOT"
else
    USERADD_ROOT=""
fi
# shellcheck disable=SC2086
grep -q '^altaviz:' "$ROOT/etc/passwd" 2>/dev/null \
    || useradd $USERADD_ROOT --system --user-group --home-dir /var/lib/altaviz \
        --shell /usr/sbin/nologin altaviz
USER_ID="$(awk -F: '$1 == "altaviz" { print $3 }' "$ROOT/etc/passwd")"
GROUP_ID="$(awk -F: '$1 == "altaviz" { print $4 }' "$ROOT/etc/passwd")"

mkdir -p "$PREFIX/venvs" "$ETC" "$STATE" "$LOGS" "$UNITS"
VENV="$PREFIX/venvs/$(date -u +%Y%m%dT%H%M%SZ)"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "$SOURCE[edge]"
ln -sfn "$VENV" "$PREFIX/venv.new" && mv -T "$PREFIX/venv.new" "$PREFIX/venv"
echo "agent $("$PREFIX/venv/bin/altaviz-edge" --version) in $VENV"

CONFIG_SRC=""
if [ -d "$SOURCE" ]; then
    CONFIG_SRC="$SOURCE/config"
    mkdir -p "$PREFIX/docs" && cp "$SOURCE/docs/edge-agent.md" "$PREFIX/docs/" 2>/dev/null || true
fi
install_default() {  # keep what the technician already configured
    if [ ! -e "$2" ] && [ -n "$CONFIG_SRC" ] && [ -e "$1" ]; then cp -r "$1" "$2"; fi
}
install_default "$CONFIG_SRC/edge.yaml" "$ETC/edge.yaml"
install_default "$CONFIG_SRC/thresholds.yaml" "$ETC/thresholds.yaml"
install_default "$CONFIG_SRC/register_maps" "$ETC/register_maps"
if [ ! -e "$ETC/edge.env" ]; then
    cat > "$ETC/edge.env" <<'ENV'
# Station identity and secrets (this file is readable by root and altaviz only). The hub's
# `altaviz-hub stations provision ORG STATION` prints the values for this station.
ALTAVIZ_EDGE_BUFFER__PATH=/var/lib/altaviz/buffer.duckdb
ALTAVIZ_EDGE_MODEL__DIR=/var/lib/altaviz/models
ALTAVIZ_EDGE_SCORING__THRESHOLDS_FILE=/etc/altaviz/thresholds.yaml
# ALTAVIZ_EDGE_ORG_ID=...
# ALTAVIZ_EDGE_STATION_ID=...
# ALTAVIZ_EDGE_MQTT__HOST=hub.example.com
# ALTAVIZ_EDGE_MQTT__PORT=8883
# ALTAVIZ_EDGE_MQTT__TLS=true
# ALTAVIZ_EDGE_MQTT__USERNAME=...
# ALTAVIZ_EDGE_MQTT__PASSWORD=...
# ALTAVIZ_EDGE_MODEL__PUBLIC_KEY_FILE=/etc/altaviz/model-signing.pub.pem
ENV
fi
chown -R "$USER_ID:$GROUP_ID" "$STATE" "$LOGS"
chown "0:$GROUP_ID" "$ETC/edge.env" && chmod 0640 "$ETC/edge.env"
install -m 0644 "$HERE/altaviz-edge.service" "$UNITS/altaviz-edge.service"
mkdir -p "$ROOT/etc/logrotate.d"
install -m 0644 "$HERE/altaviz-edge.logrotate" "$ROOT/etc/logrotate.d/altaviz-edge"
install -m 0755 "$HERE/upgrade.sh" "$PREFIX/upgrade.sh"
mkdir -p "$ROOT/usr/local/bin"
ln -sf /opt/altaviz/venv/bin/altaviz-edge "$ROOT/usr/local/bin/altaviz-edge"

if [ -z "$ROOT" ]; then
    systemctl daemon-reload
    systemctl enable altaviz-edge.service
    echo "installed. Edit $ETC/edge.yaml and $ETC/edge.env, then: systemctl start altaviz-edge"
    echo "status at a glance: altaviz-edge status --config $ETC/edge.yaml"
else
    echo "installed under $ROOT (no service enabled)"
fi
