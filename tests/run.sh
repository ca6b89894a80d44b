#!/usr/bin/env bash
# The one test command (README "Quick start", step 2, and .ci/run): installs what the tests
# need (Debian's Chromium for the browser tests, the Python packages), lints, then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "== installing Debian's chromium for the browser tests"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core fonts-liberation2 >/dev/null
  else
    echo "== /usr/bin/chromium missing and cannot apt-get install it: browser tests will be skipped"
  fi
fi
echo "== installing Python packages"
python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
echo "== lint (ruff)"
python -m ruff check .
echo "== tests (pytest)"
python -m pytest -q "$@"
