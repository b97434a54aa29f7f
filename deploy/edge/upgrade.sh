#!/bin/sh
# Upgrade the edge agent in place, with automatic rollback.
#
#   sudo /opt/altaviz/upgrade.sh [--root DIR] SOURCE
#
# Installs SOURCE (a wheel or a checkout) into a new virtualenv beside the running one (a
# copy of it, so only changed dependencies are fetched),
# points /opt/altaviz/venv at it, restarts the agent and waits for its /health to answer
# 200. If it does not within HEALTH_TIMEOUT_S (default 60), the previous virtualenv is put
# back, the agent restarted on it, and the exit code is 1. The buffer is not touched: the
# agent on either version forwards what is buffered.
#
# Environment: RESTART_CMD (default: systemctl restart altaviz-edge), HEALTH_URL (default
# http://127.0.0.1:9108/health), HEALTH_TIMEOUT_S, PYTHON, KEEP_VENVS (default 3).
set -eu

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
[ -n "$SOURCE" ] || { echo "usage: upgrade.sh [--root DIR] SOURCE" >&2; exit 2; }
PREFIX="$ROOT/opt/altaviz"
PYTHON="${PYTHON:-python3}"
RESTART_CMD="${RESTART_CMD:-systemctl restart altaviz-edge}"
HEALTH_URL="${HEALTH_URL:-http://127.0.0.1:9108/health}"
HEALTH_TIMEOUT_S="${HEALTH_TIMEOUT_S:-60}"
KEEP_VENVS="${KEEP_VENVS:-3}"

[ -L "$PREFIX/venv" ] || { echo "$PREFIX/venv is not a link: run install.sh first" >&2; exit 2; }
PREVIOUS="$(readlink "$PREFIX/venv")"
NEW="$PREFIX/venvs/$(date -u +%Y%m%dT%H%M%SZ)"
[ "$NEW" != "$PREVIOUS" ] || NEW="$NEW-1"

switch_to() {  # atomically repoint the venv link
    ln -sfn "$1" "$PREFIX/venv.new" && mv -T "$PREFIX/venv.new" "$PREFIX/venv"
}

healthy() {
    "$PYTHON" - "$HEALTH_URL" "$HEALTH_TIMEOUT_S" <<'PY'
import sys, time, urllib.request
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(1)
sys.exit(1)
PY
}

echo "installing $SOURCE into $NEW"
# Start from a copy of the running virtualenv: only what changed is downloaded (a gateway's
# uplink is slow and metered). Scripts are re-pointed at the copy's interpreter.
cp -a "$PREVIOUS" "$NEW"
for script in "$NEW"/bin/*; do
    if [ -f "$script" ] && [ ! -L "$script" ] && head -c 2 "$script" | grep -q '#!'; then
        sed -i "1s|^#!$PREVIOUS/|#!$NEW/|" "$script"
    fi
done
WHEELS="$(mktemp -d)"
trap 'rm -rf "$WHEELS"' EXIT
install_new() {
    case "$SOURCE" in
        *.whl) cp "$SOURCE" "$WHEELS/" ;;
        *) "$NEW/bin/python" -m pip wheel --quiet --no-deps --disable-pip-version-check -w "$WHEELS" "$SOURCE" ;;
    esac
    wheel="$(ls "$WHEELS"/*.whl)"
    "$NEW/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel[edge]" \
        && "$NEW/bin/python" -m pip install --quiet --disable-pip-version-check \
            --no-deps --force-reinstall "$wheel"
}
if ! install_new; then
    rm -rf "$NEW"
    echo "install failed; still running $PREVIOUS" >&2
    exit 1
fi
switch_to "$NEW"
sh -c "$RESTART_CMD"
if healthy; then
    echo "upgraded to $("$PREFIX/venv/bin/altaviz-edge" --version) ($NEW); previous kept: $PREVIOUS"
    # Keep the newest KEEP_VENVS virtualenvs (rollback targets), remove older ones.
    ls -1d "$PREFIX"/venvs/* | sort -r | tail -n +"$((KEEP_VENVS + 1))" | while read -r old; do
        [ "$old" = "$NEW" ] || [ "$old" = "$PREVIOUS" ] || rm -rf "$old"
    done
    exit 0
fi
echo "the new version did not answer $HEALTH_URL within ${HEALTH_TIMEOUT_S}s: rolling back" >&2
switch_to "$PREVIOUS"
sh -c "$RESTART_CMD"
if healthy; then
    echo "rolled back to $PREVIOUS; the failed version stays in $NEW for inspection" >&2
else
    echo "rolled back to $PREVIOUS, but it is not healthy either: see the agent's log" >&2
fi
exit 1
