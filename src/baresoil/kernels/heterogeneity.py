"""Parcel heterogeneity, as Sen4CAP's L4D processor: clusters of pixels, their size, spread and shape.

Steps (each a function of plain arrays):

1. :func:`step_interpolate` — the constant-step series (every 10 days) of each pixel,
   linear between valid observations, holes longer than ``max_dist`` left as holes.
2. :func:`kmeans_missing` — MiniBatchKMeans on the (pixel, feature) matrix of one
   period (the 3 ten-day images × bands), missing values imputed from the cluster
   centroids and re-clustered (at most 10 rounds).  Sen4CAP clusters all parcel
   pixels of a tile together, so that a cluster is a kind of surface shared across
   parcels; a homogeneous parcel then falls into one cluster and a split parcel
   into several.  (Clustering one parcel alone would always split it.)
3. Per parcel, on a small grid built from the pixels' row/col positions
   (:func:`parcel_grid`): :func:`remove_isolated` (a pixel whose class occurs at most
   ``threshold`` times in its window takes the window's majority class) and
   :func:`local_connectivity` (same-class pixels connected to each pixel inside its
   window, 4-connected by default).
4. :func:`cluster_markers` — Sen4CAP's per-parcel markers of one period: ``Hete``
   (largest cluster under ``per_hetero`` of the pixels), M1..M4 (S2) or M5..M7 (S1).
5. :func:`period_decision` — sliding windows of 3 consecutive periods; the sum of
   M1..M4 over a window (max 12) gives C_INDEX STRONG (12), MODERATE (≥ 10),
   WEAK (≥ 8), POOR (≥ 6), else NO; the best class and its window start (P_Hete_L).

Not in Sen4CAP: :func:`split_zones` splits one parcel's pixels in two zones by their NDVI
course (:func:`two_means`) and measures, date by date, how far apart the zones are in units of
their own spread (:class:`ZoneRules`).

Deviations from Sen4CAP 4.x: the NDVI distance between two clusters is the largest gap
between their mean NDVI on the same image of the period (Sen4CAP compares the clusters'
NDVI averaged over the period's images and the cluster label: a lag of two or three weeks
in green-up or senescence, what tells two cereals or a winter from a spring crop, then
averages out under the threshold in every month but one).  Faults: the last
period can end a window (Sen4CAP stops one window early), and the number of
clusters is the one asked for (Sen4CAP lowers it to the number of images of a
period, so its default of 4 clusters on 3 ten-day images is in effect 3).  Compactness keeps
Sen4CAP's formula ``CompactA = mean connectivity / ln(area m²)``; note that with a
3 × 3 window it cannot exceed 9 / ln(area), so M4 (``CompactA > 1.7``) needs a
parcel under about 200 m² — M4 is practically never 1 and STRONG not reachable
with Sen4CAP's defaults.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numba
import numpy as np

# --- temporal resampling ----------------------------------------------------------------------


@numba.njit(cache=True)
def _step_interpolate(
    t_obs: np.ndarray, values: np.ndarray, t_steps: np.ndarray, max_dist: float, out: np.ndarray
) -> None:  # pragma: no cover - numba
    n_obs, n_pix = values.shape
    for p in range(n_pix):
        k = 0  # index of the first observation after the current step
        prev_t, prev_v = np.nan, np.nan
        for s in range(t_steps.size):
            t = t_steps[s]
            while k < n_obs and t_obs[k] <= t:
                v = values[k, p]
                if not np.isnan(v):
                    prev_t, prev_v = t_obs[k], v
                k += 1
            if prev_t == t:
                out[s, p] = prev_v
                continue
            nxt = k
            while nxt < n_obs and np.isnan(values[nxt, p]):
                nxt += 1
            if np.isnan(prev_t) or nxt >= n_obs:
                out[s, p] = np.nan
                continue
            next_t, next_v = t_obs[nxt], values[nxt, p]
            if max_dist > 0 and next_t - prev_t > max_dist:
                out[s, p] = np.nan
                continue
            w = (t - prev_t) / (next_t - prev_t)
            out[s, p] = prev_v + w * (next_v - prev_v)


def step_interpolate(
    t_obs: np.ndarray, values: np.ndarray, t_steps: np.ndarray, max_dist: float
) -> np.ndarray:
    """(step, pixel) values at ``t_steps`` from (observation, pixel) ``values`` at sorted ``t_obs``.

    Linear between the valid (non-NaN) observations bracketing each step; NaN before
    the first and after the last valid observation, and inside holes longer than
    ``max_dist`` days (0: no limit), as Sen4CAP's constant-step interpolation.
    """
    values = np.asarray(values, np.float64)
    if values.ndim == 1:
        values = values[:, None]
    out = np.empty((len(t_steps), values.shape[1]), np.float64)
    _step_interpolate(np.asarray(t_obs, np.float64), values, np.asarray(t_steps, np.float64),
                      float(max_dist), out)  # fmt: skip
    return out


# --- clustering -------------------------------------------------------------------------------


def kmeans_missing(x: np.ndarray, n_clusters: int, seed: int, max_iter: int = 10) -> np.ndarray:
    """Cluster labels 1..k of the rows of ``x`` (pixel, feature) with missing values (Sen4CAP's
    ``kmeans_missing``): NaN start at their column mean, then take their cluster centroid's value,
    re-clustering until the labels stop changing.  Rows that are all NaN get label 0.

    Fewer distinct rows than ``n_clusters`` lower ``n_clusters``; no row gives an empty array.
    """
    from sklearn.cluster import MiniBatchKMeans

    x = np.asarray(x, np.float64)
    labels = np.zeros(x.shape[0], np.int64)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        return labels
    some = np.isfinite(x).any(axis=1)
    data = x[some]
    if data.shape[0] == 0:
        return labels
    missing = ~np.isfinite(data)
    present = (~missing).sum(axis=0)
    sums = np.where(missing, 0.0, data).sum(axis=0)
    mean = np.where(present > 0, sums / np.maximum(present, 1), 0.0)  # a column without values: 0
    filled = np.where(missing, mean[None, :], data)
    k = int(min(n_clusters, len(np.unique(filled.round(12), axis=0))))
    if k < 2:
        labels[some] = 1
        return labels
    previous = None
    centroids = None
    current = np.zeros(filled.shape[0], np.int64)
    rounds = max_iter if missing.any() else 1  # nothing to impute: one clustering is the answer
    for _ in range(rounds):
        if centroids is None:
            model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3)
        else:
            model = MiniBatchKMeans(n_clusters=k, random_state=seed, init=centroids, n_init=1)
        current = model.fit_predict(filled)
        centroids = model.cluster_centers_
        filled[missing] = centroids[current][missing]
        if previous is not None and np.array_equal(current, previous):
            break
        previous = current
    labels[some] = current + 1
    return labels


# --- spatial filters on a parcel's grid -------------------------------------------------------


def parcel_grid(rows: np.ndarray, cols: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A (h, w) int grid over the pixels' bounding box holding ``labels`` (0 elsewhere), and the
    flat positions of the pixels in it."""
    rows = np.asarray(rows, np.int64)
    cols = np.asarray(cols, np.int64)
    if rows.size == 0:
        return np.zeros((0, 0), np.int64), np.zeros(0, np.int64)
    r, c = rows - rows.min(), cols - cols.min()
    grid = np.zeros((int(r.max()) + 1, int(c.max()) + 1), np.int64)
    grid[r, c] = labels
    return grid, r * grid.shape[1] + c


def remove_isolated(grid: np.ndarray, threshold: int, radius: int) -> np.ndarray:
    """Replace a pixel whose class occurs at most ``threshold`` times in its (2r+1)² window
    (itself included) by the window's most frequent class (the smallest on a tie); 0 is no data,
    never counted and never changed.  Pixels outside the grid do not count.
    """
    grid = np.asarray(grid, np.int64)
    if grid.size == 0:
        return grid.copy()
    classes = np.unique(grid[grid > 0])
    if classes.size == 0:
        return grid.copy()
    padded = np.pad(grid, radius)
    h, w = grid.shape
    counts = np.zeros((classes.size, h, w), np.int64)
    for dr in range(2 * radius + 1):
        for dc in range(2 * radius + 1):
            window = padded[dr : dr + h, dc : dc + w]
            counts += window[None, :, :] == classes[:, None, None]
    valid = grid > 0
    index = np.searchsorted(classes, np.where(valid, grid, classes[0]))
    own = np.take_along_axis(counts, index[None], axis=0)[0]
    majority = classes[np.argmax(counts, axis=0)]
    return np.where(valid & (own <= threshold), majority, grid)


@numba.njit(cache=True)
def _connectivity(grid: np.ndarray, radius: int, full: bool, out: np.ndarray) -> None:  # pragma: no cover
    h, w = grid.shape
    size = 2 * radius + 1
    seen = np.zeros((size, size), np.int8)
    queue_r = np.empty(size * size, np.int64)
    queue_c = np.empty(size * size, np.int64)
    if full:
        dr_list = np.array([-1, -1, -1, 0, 0, 1, 1, 1])
        dc_list = np.array([-1, 0, 1, -1, 1, -1, 0, 1])
    else:
        dr_list = np.array([-1, 0, 0, 1])
        dc_list = np.array([0, -1, 1, 0])
    for r in range(h):
        for c in range(w):
            value = grid[r, c]
            if value == 0:
                out[r, c] = 0
                continue
            seen[:, :] = 0
            seen[radius, radius] = 1
            queue_r[0], queue_c[0] = radius, radius
            head, tail, count = 0, 1, 1
            while head < tail:
                qr, qc = queue_r[head], queue_c[head]
                head += 1
                for k in range(dr_list.size):
                    nr, nc = qr + dr_list[k], qc + dc_list[k]
                    if nr < 0 or nc < 0 or nr >= size or nc >= size or seen[nr, nc]:
                        continue
                    gr, gc = r + nr - radius, c + nc - radius
                    if gr < 0 or gc < 0 or gr >= h or gc >= w or grid[gr, gc] != value:
                        seen[nr, nc] = 2
                        continue
                    seen[nr, nc] = 1
                    queue_r[tail], queue_c[tail] = nr, nc
                    tail += 1
                    count += 1
            out[r, c] = count


def local_connectivity(grid: np.ndarray, radius: int, full: bool) -> np.ndarray:
    """Per pixel, how many same-class pixels (itself included) connect to it inside its (2r+1)²
    window — 4-connected, or 8-connected when ``full``; at most (2r+1)².  0 where the grid is 0."""
    grid = np.asarray(grid, np.int64)
    out = np.zeros(grid.shape, np.int64)
    if grid.size:
        _connectivity(grid, int(radius), bool(full), out)
    return out


# --- per-parcel markers -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterRules:
    """Sen4CAP's heterogeneity defaults (``s4c_heterogeneity_handler.hpp``, cluster analysis)."""

    per_hetero: float = 0.9
    """Heterogeneous when the largest cluster holds less than this share of the parcel's pixels."""
    min_cluster_pixels: int = 20
    """Clusters count for M2/M6 and the NDVI distance only above this many pixels."""
    ndvi_distance: float = 0.17
    """M3 when two large clusters' mean NDVI differ by at least this on one image of the period."""
    compactness: float = 3.0
    """M4 (M7 for S1) when CompactA is at least this (the period decision re-tests with 1.7)."""
    isolated_threshold: int = 1
    isolated_radius: int = 1
    connectivity_radius: int = 1
    full_connectivity: bool = False


N_CLUSTER_COLUMNS = 4
"""Sen4CAP reports the shares and counts of clusters 1..4 (clP_k, cl_k)."""
S2_COLUMNS = ("Hete", *[f"{p}_{k}" for k in range(1, N_CLUSTER_COLUMNS + 1) for p in ("clP", "cl")],
              "distNDVI", "Compact", "CompactA", "M1", "M2", "M3", "M4", "HoleS2", "HoleS2Part")  # fmt: skip
"""Sen4CAP's per-period S2 columns (after NewID)."""
S1_COLUMNS = ("Hete", *[f"{p}_{k}" for k in range(1, N_CLUSTER_COLUMNS + 1) for p in ("clP", "cl")],
              "Compact", "CompactA", "M5", "M6", "M7")  # fmt: skip
"""Sen4CAP's per-period S1 columns (after NewID)."""
HETE_NO_DATA = 3


def filtered_labels(
    labels: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    rules: ClusterRules = ClusterRules(),
) -> tuple[np.ndarray, np.ndarray]:
    """A parcel's cluster labels after isolated-pixel removal, and each pixel's connectivity."""
    grid, flat = parcel_grid(rows, cols, labels)
    if grid.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    smooth = remove_isolated(grid, rules.isolated_threshold, rules.isolated_radius)
    connect = local_connectivity(smooth, rules.connectivity_radius, rules.full_connectivity)
    return smooth.ravel()[flat], connect.ravel()[flat]


def cluster_markers(
    labels: np.ndarray,
    connectivity: np.ndarray,
    area_m2: float,
    ndvi: np.ndarray | None = None,
    rules: ClusterRules = ClusterRules(),
) -> dict[str, float]:
    """Sen4CAP's markers of one parcel and period from its pixels' (filtered) cluster labels.

    ``labels`` 1..k (0 = no data) and ``connectivity`` per pixel; ``ndvi`` (pixel, image)
    gives the S2 NDVI distance and holes (None: the S1 variant, markers M5..M7).
    Returns a dict over :data:`S2_COLUMNS` (or :data:`S1_COLUMNS`).
    """
    s2 = ndvi is not None
    names = S2_COLUMNS if s2 else S1_COLUMNS
    out: dict[str, float] = dict.fromkeys(names, 0.0)
    labels = np.asarray(labels, np.int64)
    labelled = labels[labels > 0]
    counts = np.bincount(labelled) if labelled.size else np.zeros(0, np.int64)
    for k in range(1, min(counts.size, N_CLUSTER_COLUMNS + 1)):
        out[f"clP_{k}"] = counts[k] / labelled.size
        out[f"cl_{k}"] = float(counts[k])
    main, extra = ("M1", "M2") if s2 else ("M5", "M6")
    if labelled.size == 0:
        out["Hete"] = float(HETE_NO_DATA) if s2 else 0.0
        return out
    if counts.max() / labelled.size >= rules.per_hetero:
        return out  # homogeneous: Hete 0 and every marker 0
    out["Hete"] = 1.0
    out[main] = 1.0
    big = np.flatnonzero(counts > rules.min_cluster_pixels)
    out[extra] = float(big.size >= 2)
    compact = float(np.mean(connectivity)) if len(connectivity) else 0.0
    out["Compact"] = compact
    out["CompactA"] = compact / np.log(area_m2) if area_m2 > 1 else 0.0
    out["M4" if s2 else "M7"] = float(out["CompactA"] >= rules.compactness)
    if s2 and ndvi is not None:
        values = np.asarray(ndvi, np.float64).reshape(labels.size, -1)
        missing = np.isnan(values).mean(axis=1) if values.shape[1] else np.ones(labels.size)
        out["HoleS2"] = float((missing == 1).sum())
        out["HoleS2Part"] = float(((missing > 0) & (missing < 1)).sum())
        out["distNDVI"] = round(_largest_gap_on_one_image(values, labels, big), 5)
        out["M3"] = float(out["distNDVI"] >= rules.ndvi_distance)
    return out


def _largest_gap_on_one_image(values: np.ndarray, labels: np.ndarray, clusters: np.ndarray) -> float:
    """The largest difference between two of ``clusters``' mean NDVI on the same image.

    ``values`` (pixel, image) NDVI, ``labels`` the pixels' clusters.  A lag of two or three
    weeks in green-up or senescence tells two cereals apart on a few images; averaged over the
    period first, as Sen4CAP does, it falls under the threshold.
    """
    if clusters.size < 2 or values.shape[1] == 0:
        return 0.0
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    sums = np.array([filled[labels == c].sum(axis=0) for c in clusters])
    counts = np.array([finite[labels == c].sum(axis=0) for c in clusters])
    with np.errstate(invalid="ignore", divide="ignore"):
        profiles = np.where(counts > 0, sums / counts, np.nan)  # (cluster, image)
    both = (counts > 0).sum(axis=0) >= 2  # images where two clusters or more have a mean
    if not both.any():
        return 0.0
    seen = profiles[:, both]
    return float(np.max(np.nanmax(seen, axis=0) - np.nanmin(seen, axis=0)))


# --- decision over periods --------------------------------------------------------------------

C_INDEX = ("NO", "STRONG", "MODERATE", "WEAK", "POOR")
"""Sen4CAP's heterogeneity confidence, by code (0 = NO)."""


@dataclass(frozen=True)
class DecisionRules:
    """Sen4CAP's period analysis (``heterog_period_analysis.py``)."""

    window: int = 3
    """Consecutive periods per window."""
    compactness: float = 1.7
    """M4 is re-tested as CompactA strictly above this."""
    skip_empty: bool = False
    """Windows run over the periods with data only, so that a month without any clear view does not
    break a window (Sen4CAP: calendar windows, an empty period adds 0)."""


def period_decision(
    periods: np.ndarray,
    markers: np.ndarray,
    compact_a: np.ndarray | None = None,
    rules: DecisionRules = DecisionRules(),
    span: tuple[int, int] | None = None,
    has_data: np.ndarray | None = None,
) -> tuple[str, float, np.ndarray]:
    """C_INDEX, P_Hete_L (first period of the deciding window, NaN for NO) and the window's
    M1..M4 sums, for one parcel.

    ``periods`` are the parcel's period numbers; ``markers`` (period, 4) its M1..M4; when
    ``compact_a`` is given, M4 is recomputed as ``compact_a > rules.compactness``.
    Windows start at every period from the first to ``last − window + 1`` of ``span`` (first and
    last period of the analysis; default the parcel's own); a missing period adds nothing to a
    window's sum.  With ``rules.skip_empty``, periods where ``has_data`` is false are left out
    and windows run over the remaining ones in order.  Thresholds: all markers of all periods
    (STRONG), ``round(4w − w/2)`` (MODERATE), ``4(w − 1)`` (WEAK), ``2w`` (POOR) with
    w = window — 12/10/8/6 for windows of 3.  The best class wins; among windows of the best
    class the last (as Sen4CAP).
    """
    periods = np.asarray(periods, np.int64)
    markers = np.array(markers, np.float64).reshape(len(periods), 4)
    if compact_a is not None:
        markers[:, 3] = np.asarray(compact_a, np.float64) > rules.compactness
    labels = periods
    if rules.skip_empty and has_data is not None:
        keep = np.asarray(has_data, bool)
        order = np.argsort(periods[keep], kind="stable")
        labels = periods[keep][order]
        markers = markers[keep][order]
        periods = np.arange(1, labels.size + 1)
        span = (1, int(labels.size))
    best: int = 0
    where = np.nan
    sums = np.full(4, np.nan)
    if periods.size == 0:
        return C_INDEX[0], where, sums
    w = rules.window
    full = 4 * w
    levels = (full, round(full - w / 2), 4 * (w - 1), 2 * w)
    first, last = span if span is not None else (int(periods.min()), int(periods.max()))
    for start in range(first, last - w + 2):
        inside = (periods >= start) & (periods < start + w)
        if not inside.any():
            continue
        window_sums = np.nansum(markers[inside], axis=0)
        total = window_sums.sum()
        for code, level in enumerate(levels, start=1):
            if total >= level:
                if best == 0 or code <= best:
                    best, sums = int(code), window_sums
                    where = float(labels[np.flatnonzero(inside)[0]])
                break
    return C_INDEX[best], where, sums


# --- two management zones within a parcel (not in Sen4CAP) ---------------------------------------

NDVI_PRECISION = 1e-3
"""Smallest spread of NDVI a zone is taken to have: L2A reflectance comes in steps of 0.0001, which puts
NDVI in steps of about 0.001 (a noiseless synthetic zone would otherwise separate infinitely)."""


@dataclass(frozen=True)
class ZoneRules:
    """How a parcel's pixels are split into two zones and when the zones differ (see :func:`split_zones`)."""

    min_clear: float = 0.8
    """A date counts for a parcel when at least this share of its pixels is clear on it."""
    separation: float = 6.0
    """The zones differ on a date when their median NDVI differ by at least this many times their pooled
    spread.  Splitting one population in two gives about 2.7 (the two halves of a normal distribution
    lie 1.6 σ apart, each with a spread of 0.6 σ): this asks for more than twice that."""
    min_zone_pixels: int = ClusterRules.min_cluster_pixels
    """Each zone holds at least this many pixels (Sen4CAP's least cluster size); smaller parcels are
    not split."""


@dataclass(frozen=True)
class Zones:
    """A parcel split into two zones, and how far apart they are on each date."""

    zone: np.ndarray
    """(pixel,) True for the pixels of the smaller zone."""
    share: float
    """Share of the parcel's pixels in the smaller zone (NaN: not split)."""
    separation: np.ndarray
    """(date,) |median NDVI difference| / pooled spread of the two zones (NaN: the date did not count)."""
    holes: np.ndarray
    """(pixel,) share of the counted dates on which the pixel was not clear (1: none clear)."""


def two_means(x: np.ndarray, max_iter: int = 20) -> np.ndarray:
    """Two clusters of the rows of ``x`` (no missing values): started from the sign of the first
    principal component (deterministic), then Lloyd's iterations; True marks the first cluster."""
    x = np.asarray(x, np.float64)
    centred = x - x.mean(axis=0)
    if x.shape[0] < 2 or not np.any(centred):
        return np.zeros(x.shape[0], bool)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    labels = centred @ vt[0] > 0
    for _ in range(max_iter):
        if labels.all() or not labels.any():
            break
        a, b = x[labels].mean(axis=0), x[~labels].mean(axis=0)
        new = ((x - a) ** 2).sum(axis=1) < ((x - b) ** 2).sum(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def _nanmedian(values: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmedian`` that gives NaN for an all-NaN slice without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmedian(values, axis=axis))


def _spread(values: np.ndarray) -> np.ndarray:
    """Per column: the normal-consistent median absolute deviation (NaN ignored)."""
    centre = _nanmedian(values, 0)
    return 1.4826 * _nanmedian(np.abs(values - centre), 0)


def split_zones(ndvi: np.ndarray, rules: ZoneRules = ZoneRules()) -> Zones:
    """Split one parcel's pixels in two zones by their NDVI course and measure the zones' separation.

    ``ndvi`` is (date, pixel), NaN where a pixel was not clear.  Dates on which at least
    ``rules.min_clear`` of the pixels are clear count; on them the missing pixels take the date's
    parcel median for the clustering only.  The pixels' courses over the counted dates are split by
    :func:`two_means`; on each counted date the separation is the difference of the zones' median
    NDVI over their pooled spread (median absolute deviations of their clear pixels, at least
    :data:`NDVI_PRECISION`).  A parcel with fewer than two zones of ``rules.min_zone_pixels`` is not
    split (share and separations NaN).
    """
    values = np.asarray(ndvi, np.float64)
    n_dates, n_pixels = values.shape if values.ndim == 2 else (0, 0)
    clear = np.isfinite(values)
    counted = clear.mean(axis=1) >= rules.min_clear if n_pixels else np.zeros(n_dates, bool)
    separation = np.full(n_dates, np.nan)
    holes = 1.0 - clear[counted].mean(axis=0) if counted.any() else np.ones(n_pixels)
    none = Zones(np.zeros(n_pixels, bool), np.nan, separation, holes)
    if n_pixels < 2 * rules.min_zone_pixels or not counted.any():
        return none
    used = values[counted]
    filled = np.where(np.isfinite(used), used, _nanmedian(used, 1)[:, None])
    first = two_means(filled.T)
    smaller = first if first.sum() <= (~first).sum() else ~first
    if smaller.sum() < rules.min_zone_pixels:
        return none
    a, b = used[:, smaller], used[:, ~smaller]
    count_a, count_b = np.isfinite(a).sum(axis=1), np.isfinite(b).sum(axis=1)
    gap = np.abs(_nanmedian(a, 1) - _nanmedian(b, 1))
    with np.errstate(all="ignore"):
        pooled = np.sqrt((_spread(a.T) ** 2 * count_a + _spread(b.T) ** 2 * count_b) / (count_a + count_b))
        ratio = gap / np.maximum(pooled, NDVI_PRECISION)
    ok = (count_a >= 3) & (count_b >= 3)
    separation[np.flatnonzero(counted)[ok]] = ratio[ok]
    return Zones(smaller, float(smaller.mean()), separation, holes)
