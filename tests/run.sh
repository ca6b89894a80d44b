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
