#!/usr/bin/env bash
# The one test command (README "Quick start", step 2, and .ci/run): installs what the tests
# need (Debian's Chromium for the browser tests, the Python packages), lints, then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# Chromium for the browser tests; Liberation and DejaVu fonts so chart pictures (vl-convert) have text.
if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/truetype/liberation2 ] || [ ! -d /usr/share/fonts/truetype/dejavu ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "== installing Debian's chromium and fonts for the browser and export tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core fonts-liberation2 >/dev/null
  else
    echo "== chromium or fonts missing and apt-get is not available as root: browser tests will be skipped"
  fi
fi
# PostgreSQL 15 or later for the second store's tests (tests/pgserver.py starts a throw-away server as an
# unprivileged user on a Unix socket); HAProxy for deploy/replicas.sh and its browser test.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! command -v haproxy >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "== installing Debian's postgresql and haproxy for the PostgreSQL store's tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql haproxy >/dev/null
  else
    echo "== postgresql or haproxy missing and apt-get is not available as root: their tests will be skipped"
  fi
fi
echo "== installing Python packages"
python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
echo "== lint (ruff)"
python -m ruff check .
echo "== tests (pytest)"
log="$(mktemp)"
set +e
python -m pytest -q "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# DuckDB's bindings may print reference-leak notes at interpreter exit, after pytest's summary:
# repeat the summary so it stays the closing line.
echo
grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$log" | tail -1 || true
rm -f "$log"
exit "$status"
