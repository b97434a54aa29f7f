#!/bin/sh
# Install the Altaviz edge agent on a station gateway (Debian/Ubuntu, x86-64 or ARM64).
#
#   sudo deploy/edge/install.sh [SOURCE]      SOURCE: a checkout (default: this one) or a wheel
#
# Creates the `altaviz` user, a virtualenv in /opt/altaviz/venv with only the `edge`
# extra (no Spark, Java, FastAPI or scikit-learn), /etc/altaviz/{edge.yaml,edge.env,
# thresholds.yaml,register_maps/} (kept if present) and the systemd unit; enables it.
set -eu

SOURCE="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
PREFIX=/opt/altaviz
ETC=/etc/altaviz
STATE=/var/lib/altaviz
PYTHON="${PYTHON:-python3}"

[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null \
    || { echo "Python 3.11+ is required ($PYTHON)" >&2; exit 1; }

id altaviz >/dev/null 2>&1 || useradd --system --home-dir "$STATE" --shell /usr/sbin/nologin altaviz
mkdir -p "$PREFIX" "$ETC" "$STATE"
"$PYTHON" -m venv "$PREFIX/venv"
"$PREFIX/venv/bin/pip" install --quiet --upgrade pip
if [ -d "$SOURCE" ]; then
    "$PREFIX/venv/bin/pip" install --quiet "$SOURCE[edge]"
    CONFIG_SRC="$SOURCE/config"
    mkdir -p "$PREFIX/docs" && cp "$SOURCE/docs/edge-agent.md" "$PREFIX/docs/" 2>/dev/null || true
else
    "$PREFIX/venv/bin/pip" install --quiet "$SOURCE[edge]"
    CONFIG_SRC=""
fi

install_default() {  # keep what the technician already configured
    if [ ! -e "$2" ] && [ -n "$CONFIG_SRC" ] && [ -e "$1" ]; then cp -r "$1" "$2"; fi
}
install_default "$CONFIG_SRC/edge.yaml" "$ETC/edge.yaml"
install_default "$CONFIG_SRC/thresholds.yaml" "$ETC/thresholds.yaml"
install_default "$CONFIG_SRC/register_maps" "$ETC/register_maps"
if [ ! -e "$ETC/edge.env" ]; then
    cat > "$ETC/edge.env" <<'ENV'
# Station identity and secrets (this file is readable by root and altaviz only).
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
chown -R altaviz:altaviz "$STATE"
chown root:altaviz "$ETC/edge.env" && chmod 0640 "$ETC/edge.env"
install -m 0644 "$(dirname "$0")/altaviz-edge.service" /etc/systemd/system/altaviz-edge.service
ln -sf "$PREFIX/venv/bin/altaviz-edge" /usr/local/bin/altaviz-edge
systemctl daemon-reload
systemctl enable altaviz-edge.service
echo "installed. Edit $ETC/edge.yaml and $ETC/edge.env, then: systemctl start altaviz-edge"
echo "status at a glance: altaviz-edge status --config $ETC/edge.yaml"
