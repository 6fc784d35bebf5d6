#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine, then nothing else.
# GDAL, PROJ, GEOS and libspatialindex come inside the pyogrio/pyproj/shapely/rtree wheels.
# System packages: Debian's chromium (browser tests drive it through playwright's Python
# package; `playwright install` is never run) and fonts-noto-cjk (Chinese glyphs in screenshots);
# LibreOffice Writer (no GUI) and poppler-utils render the drafted implementation plan (.docx)
# to PDF and its text/pages back, as a reader would open it.
# Web assets for offline maps: the pinned npm tarballs in gisplan/data/vendor/manifest.json,
# checked against their sha512 and unpacked by `python -m gisplan.assets fetch`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
    || ! command -v soffice >/dev/null || ! command -v pdftotext >/dev/null; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
        chromium fonts-noto-cjk libreoffice-writer-nogui poppler-utils
fi
python -m pip install -q -e ".[test]"
python -m gisplan.assets fetch
