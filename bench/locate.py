"""Point → micro-grid lookups per second over the demo district's micro-grids.

Baselines, measured in the same run: a naive scan that tests every micro-grid polygon in turn
(what a lookup costs without a spatial index), and a GEOS STRtree `intersects` query (the
locator before its box grid); the last column compares each locator row with the STRtree used
the same way (one point per call, or vectorised). All answers must agree. The demo map is regenerated in memory from the
committed divisions with the demo seed, so this needs no database contents.

    .venv/bin/python bench/locate.py [--points 200000] [--naive-points 300]

City scale: `--db` takes the leaves from the DATABASE_URL database instead (e.g. the ~60,000
micro-grids written by `gridgov synth --scale city`), through the same `build_locator()` every
server process uses:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gridgov_bench .venv/bin/python bench/locate.py --db
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import shapely  # noqa: E402

from gridgov.regions.divisions import DATA_DIR  # noqa: E402
from gridgov.regions.generator import DEFAULT_SEED, plan_district, walk  # noqa: E402
from gridgov.regions.models import Level  # noqa: E402
from gridgov.regions.services import community_kind, street_kind  # noqa: E402
from gridgov.regions.spatial import LeafInfo, Locator  # noqa: E402


def demo_microgrids() -> tuple[list[LeafInfo], list[shapely.Geometry]]:
    d = DATA_DIR / "330109"
    with (d / "streets.csv").open(encoding="utf-8") as fh:
        streets = [(r["code"], r["name"], street_kind(r["code"])) for r in csv.DictReader(fh)]
    with (d / "villages.csv").open(encoding="utf-8") as fh:
        communities = [(r["code"], r["name"], r["streetCode"], community_kind(r["code"])) for r in csv.DictReader(fh)]
    plan = plan_district("330109", "萧山区", streets, communities, seed=DEFAULT_SEED)
    leaves = sorted((p for p in walk(plan) if p.level == Level.MICROGRID), key=lambda p: p.code)
    return [LeafInfo(i, p.code, "") for i, p in enumerate(leaves)], [p.geometry for p in leaves]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--naive-points", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each method's best is printed")
    parser.add_argument("--db", action="store_true", help="leaves from the DATABASE_URL database")
    args = parser.parse_args()

    t0 = time.perf_counter()
    if args.db:
        from gridgov.regions.spatial import build_locator

        locator = build_locator()
        leaves, geoms = locator.leaves, list(locator.geometries)
        t1 = t2 = time.perf_counter()
        print(f"leaves: {len(leaves):,} from the database (read, parsed and indexed in {t1 - t0:.1f} s)")
    else:
        leaves, geoms = demo_microgrids()
        t1 = time.perf_counter()
        locator = Locator(leaves, geoms)
        t2 = time.perf_counter()
        print(
            f"micro-grids: {len(leaves):,}  (generated in {t1 - t0:.1f} s, locator (box grid) built in {(t2 - t1) * 1000:.0f} ms)"
        )
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    rng = np.random.default_rng(20261122)
    if args.db:
        # A city's districts are far apart: draw points around the leaves (a random leaf's
        # bounding box each), not in the city's mostly empty bounding box.
        bounds = shapely.bounds(np.asarray(geoms, dtype=object))
        pick = bounds[rng.integers(0, len(bounds), args.points)]
        lngs = rng.uniform(pick[:, 0], pick[:, 2])
        lats = rng.uniform(pick[:, 1], pick[:, 3])
    else:
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
        lngs = rng.uniform(minx, maxx, args.points)
        lats = rng.uniform(miny, maxy, args.points)

    garr = np.asarray(geoms, dtype=object)
    shapely.prepare(garr)
    start = time.perf_counter()
    tree = shapely.STRtree(garr)
    tree_build = time.perf_counter() - start
    n_single = min(args.points, 50_000)

    # best of --repeat rounds, the methods taking turns (the machine may be shared)
    single_rate = batch_rate = tree_single_rate = tree_rate = 0.0
    for _ in range(args.repeat):
        # 1. The locator, one point per call (what an HTTP request does)
        start = time.perf_counter()
        single = [locator.locate(float(lats[i]), float(lngs[i])) for i in range(n_single)]
        single_rate = max(single_rate, n_single / (time.perf_counter() - start))

        # 2. The locator, vectorised (what bulk intake and imports do)
        start = time.perf_counter()
        many = locator.locate_many(lats, lngs)
        batch_rate = max(batch_rate, args.points / (time.perf_counter() - start))

        # 3. Second baseline: a GEOS STRtree `intersects` query (the locator before the box grid)
        start = time.perf_counter()
        tree_single = [tree.query(shapely.Point(lngs[i], lats[i]), predicate="intersects") for i in range(n_single)]
        tree_single_rate = max(tree_single_rate, n_single / (time.perf_counter() - start))
        start = time.perf_counter()
        pairs = tree.query(shapely.points(np.column_stack([lngs, lats])), predicate="intersects")
        # a point in two overlapping leaves: the lowest index wins (the tree's hits are not sorted)
        tree_many = np.full(args.points, len(leaves), dtype=np.int64)
        np.minimum.at(tree_many, pairs[0], pairs[1])
        tree_many[tree_many == len(leaves)] = -1
        tree_rate = max(tree_rate, args.points / (time.perf_counter() - start))

    # 4. Baseline: naive scan over every polygon, first hit wins
    n_naive = min(args.naive_points, args.points)
    start = time.perf_counter()
    naive: list[int] = []
    for i in range(n_naive):
        point = shapely.Point(lngs[i], lats[i])
        naive.append(next((leaves[j].id for j, g in enumerate(geoms) if g.intersects(point)), -1))
    naive_rate = n_naive / (time.perf_counter() - start)

    agree = all(
        (s is None and n == -1) or (s is not None and s.id == n) for s, n in zip(single[:n_naive], naive, strict=True)
    )
    agree = agree and all(
        (s is None and m == -1) or (s is not None and leaves[m].id == s.id) for s, m in zip(single, many, strict=False)
    )
    agree = agree and bool((many == tree_many).all())
    agree = agree and all(
        (len(t) == 0 and s is None) or (s is not None and leaves[int(t.min())].id == s.id)
        for t, s in zip(tree_single, single, strict=True)
    )
    inside = int((many >= 0).sum())
    print(
        f"points: {args.points:,} {'around random leaves' if args.db else 'random in the district bounding box'},"
        f" {inside / args.points:.0%} inside a micro-grid"
    )
    print(f"{'method':<40}{'lookups/s':>14}{'vs naive':>12}{'vs STRtree':>12}")
    rows = [
        ("naive scan (baseline)", naive_rate, None),
        ("STRtree, one point per call", tree_single_rate, None),
        ("STRtree, vectorised batch", tree_rate, None),
        ("locator (box grid), one point per call", single_rate, tree_single_rate),
        ("locator (box grid), vectorised batch", batch_rate, tree_rate),
    ]
    for label, rate, versus in rows:
        against = f"{rate / versus:>11.1f}x" if versus else f"{'—':>12}"
        print(f"{label:<40}{rate:>14,.0f}{rate / naive_rate:>11.0f}x{against}")
    print(f"best of {args.repeat} rounds; STRtree built in {tree_build * 1000:.0f} ms (same leaves)")
    print(f"answers agree with the naive scan: {'yes' if agree else 'NO'}")
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
