#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine, then nothing else.
# System packages: none are needed yet — GDAL, PROJ, GEOS and libspatialindex come inside the
# pyogrio/pyproj/shapely/rtree wheels. (Browser checks of maps will add Debian's chromium here.)
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e ".[test]"
