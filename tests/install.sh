#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine: system packages, then gisplan
# with its [test] extra (editable, so tests and notebooks use this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  # fonts-noto-cjk: Chinese glyphs for map screenshots; chromium: the headless browser for them.
  if ! dpkg -s fonts-noto-cjk chromium >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      fonts-noto-cjk chromium >/dev/null
  fi
fi
python -m pip install -q -e ".[test]"
