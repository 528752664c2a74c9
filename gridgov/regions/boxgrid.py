"""A uniform grid over leaf bounding boxes, for lookups without building point geometries.

The STRtree path costs most of its time in GEOS objects: a `Point` per lookup and a tree query per
point. Leaves of a region tree are small polygons of similar size (a micro-grid is a few hundred
metres across), so a flat grid of cells about one leaf wide finds the few leaves whose bounding box
can hold a point with integer arithmetic in numpy; the exact test is then
`shapely.intersects_xy` on the prepared polygon, which takes coordinates directly. Answers are the
same as the STRtree's `intersects` query: a point on a shared edge touches both leaves and the
lowest leaf index wins.

Memory: one int64 offset per cell plus one int32 leaf index per (cell, leaf) overlap, a few MB for
a city's 60,000 micro-grids.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

# More cells than this and the cell is made coarser (a tree with far-apart districts has a wide,
# mostly empty extent).
MAX_CELLS = 4_000_000
# Cells across a typical leaf: more cells, fewer candidates per point, more memory.
CELLS_PER_LEAF = 2


class BoxGrid:
    def __init__(self, geometries: np.ndarray) -> None:
        self.geometries = geometries
        bounds = shapely.bounds(geometries) if len(geometries) else np.zeros((0, 4))
        finite = np.isfinite(bounds).all(axis=1)
        self.bounds = bounds
        if not finite.any():
            self.origin = (0.0, 0.0)
            self.cell = 1.0
            self.nx = self.ny = 0
            self.offsets = np.zeros(1, dtype=np.int64)
            self.entries = np.zeros(0, dtype=np.int32)
            return
        b = bounds[finite]
        minx, miny = float(b[:, 0].min()), float(b[:, 1].min())
        maxx, maxy = float(b[:, 2].max()), float(b[:, 3].max())
        sizes = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        cell = float(np.median(sizes)) / CELLS_PER_LEAF or max(maxx - minx, maxy - miny, 1e-9)
        while math.floor((maxx - minx) / cell + 1) * math.floor((maxy - miny) / cell + 1) > MAX_CELLS:
            cell *= 2
        self.origin = (minx, miny)
        self.cell = cell
        self.nx = math.floor((maxx - minx) / cell) + 1
        self.ny = math.floor((maxy - miny) / cell) + 1

        leaf = np.flatnonzero(finite)
        ix0, iy0 = self._cell_xy(b[:, 0], b[:, 1])
        ix1, iy1 = self._cell_xy(b[:, 2], b[:, 3])
        wx = ix1 - ix0 + 1
        counts = wx * (iy1 - iy0 + 1)
        owner = np.repeat(np.arange(len(leaf)), counts)
        k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        cells = (iy0[owner] + k // wx[owner]) * self.nx + ix0[owner] + k % wx[owner]
        leaves = leaf[owner]
        order = np.lexsort((leaves, cells))  # by cell, then leaf index: the lowest leaf first
        self.entries = leaves[order].astype(np.int32)
        self.offsets = np.searchsorted(cells[order], np.arange(self.nx * self.ny + 1)).astype(np.int64)

    def _cell_xy(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (
            np.floor((x - self.origin[0]) / self.cell).astype(np.int64),
            np.floor((y - self.origin[1]) / self.cell).astype(np.int64),
        )

    def locate_many(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Index of the lowest leaf that intersects each (x, y), -1 where none does."""
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        out = np.full(len(xs), -1, dtype=np.int64)
        if self.nx == 0 or len(xs) == 0:
            return out
        # Cell coordinates as floats first: a huge or infinite coordinate is outside, never cast.
        with np.errstate(invalid="ignore", over="ignore"):
            fx = (xs - self.origin[0]) / self.cell
            fy = (ys - self.origin[1]) / self.cell
        ok = np.isfinite(fx) & np.isfinite(fy) & (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        ix = np.floor(np.where(ok, fx, 0)).astype(np.int64)
        iy = np.floor(np.where(ok, fy, 0)).astype(np.int64)
        ok &= (ix < self.nx) & (iy < self.ny)
        cell = np.where(ok, iy * self.nx + ix, 0)
        start = self.offsets[cell]
        counts = np.where(ok, self.offsets[cell + 1] - start, 0)
        point = np.repeat(np.arange(len(xs)), counts)
        k = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        cand = self.entries[np.repeat(start, counts) + k]
        px, py = xs[point], ys[point]
        b = self.bounds[cand]
        inbox = (b[:, 0] <= px) & (px <= b[:, 2]) & (b[:, 1] <= py) & (py <= b[:, 3])
        point, cand, px, py = point[inbox], cand[inbox], px[inbox], py[inbox]
        hit = shapely.intersects_xy(self.geometries[cand], px, py)
        # candidates come in ascending leaf order per point: assigning in reverse keeps the lowest.
        out[point[hit][::-1]] = cand[hit][::-1]
        return out

    def locate(self, x: float, y: float) -> int:
        if self.nx == 0:
            return -1
        fx = (x - self.origin[0]) / self.cell
        fy = (y - self.origin[1]) / self.cell
        # NaN, infinities and coordinates far outside fail here, before any integer conversion.
        if not (0 <= fx < self.nx and 0 <= fy < self.ny):
            return -1
        ix, iy = math.floor(fx), math.floor(fy)
        if not (ix < self.nx and iy < self.ny):
            return -1
        cell = iy * self.nx + ix
        for j in self.entries[self.offsets[cell] : self.offsets[cell + 1]].tolist():
            x0, y0, x1, y1 = self.bounds[j].tolist()
            if x0 <= x <= x1 and y0 <= y <= y1 and shapely.intersects_xy(self.geometries[j], x, y):
                return int(j)
        return -1
