"""Hashes of the demo's outputs: results.gpkg table by table and every tables/*.csv file.

The demo manifest (``tests/data/demo_manifest.json``) records them; ``test_demo`` compares a
fresh run against it, so a restructuring that changes a number, a label or a column order
fails. Regenerate it only on purpose, when an output is meant to change, and say so in the
commit message::

    gisplan run scenarios/demo.yaml --out /tmp/demo --overwrite
    python tests/_manifest.py /tmp/demo > tests/data/demo_manifest.json
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import shapely


def _frame_sha256(frame: pd.DataFrame) -> str:
    """Hash a table's column names, dtypes and values (geometry as WKB)."""
    out = frame.copy()
    if "geometry" in out.columns:
        out["geometry"] = shapely.to_wkb(out["geometry"].to_numpy(), hex=True)
    head = ",".join(f"{c}:{t}" for c, t in out.dtypes.astype(str).items())
    body = out.to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(f"{head}\n{body}".encode()).hexdigest()


def manifest(out_dir: Path) -> dict[str, dict[str, str]]:
    """Return ``{"gpkg": {layer: sha256}, "tables": {file: sha256}}`` of a run folder."""
    gpkg = out_dir / "results.gpkg"
    layers = {}
    for name, geometry_type in pyogrio.list_layers(gpkg):
        frame = pyogrio.read_dataframe(gpkg, layer=name, read_geometry=geometry_type is not None)
        layers[str(name)] = _frame_sha256(pd.DataFrame(frame))
    tables = {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((out_dir / "tables").glob("*.csv"))
    }
    return {"gpkg": dict(sorted(layers.items())), "tables": tables}


if __name__ == "__main__":
    record = manifest(Path(sys.argv[1]))
    sys.stdout.write(json.dumps(record, indent=1, sort_keys=True) + "\n")
