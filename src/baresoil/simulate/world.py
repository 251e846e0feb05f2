"""The static world on the 10 m grid: parcels, land cover, terrain and soil.

Parcels come from a recursive rectangular subdivision (like a cadastre of
consolidated farmland), with field roads and hedges along some of the cuts.
Land uses are then placed where they belong in a Bavarian landscape: a pond in
the lowest ground with wet meadows around it, a village, a forest on a hill
with a quarry at its edge, grassland near the water, cropland everywhere else.

Soil properties are smooth random fields (correlation length of a few hundred
metres) plus a terrain term: depressions collect fine material and organic
matter, so they carry more clay and SOC.  Everything here is constant in time;
what changes day by day lives in :mod:`.crops` and :mod:`.weather`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
import shapely.geometry
from scipy import ndimage

from .fields import rng_for, smooth_field
from .spec import PIXEL_M, WorldSpec

# Truth land-cover codes (the simulator's own legend, finer than WorldCover).
CROPLAND, GRASSLAND, FOREST_DECIDUOUS, FOREST_CONIFEROUS = 1, 2, 3, 4
ROOF, PAVED, GARDEN, WATER, ROCK, HEDGE = 5, 6, 7, 8, 9, 10
LANDCOVER_NAMES: Mapping[int, str] = {
    CROPLAND: "cropland",
    GRASSLAND: "grassland",
    FOREST_DECIDUOUS: "forest_deciduous",
    FOREST_CONIFEROUS: "forest_coniferous",
    ROOF: "roof",
    PAVED: "paved",
    GARDEN: "garden",
    WATER: "water",
    ROCK: "rock",
    HEDGE: "hedge",
}
WORLDCOVER_CLASS: Mapping[int, int] = {
    CROPLAND: 40, GRASSLAND: 30, FOREST_DECIDUOUS: 10, FOREST_CONIFEROUS: 10, ROOF: 50,
    PAVED: 50, GARDEN: 50, WATER: 80, ROCK: 60, HEDGE: 10,
}  # fmt: skip
"""Truth code -> ESA WorldCover class (10 tree, 30 grassland, 40 cropland, 50 built-up, 60 bare, 80 water)."""

# Parcel kinds: the land use of a whole parcel (a village parcel holds roofs, streets and gardens).
PARCEL_KINDS = ("cropland", "grassland", "forest_deciduous", "forest_coniferous", "village", "water", "rock")

# Materials of the non-vegetated, non-soil part of a pixel (see World.other).
MAT_NONE, MAT_RED_ROOF, MAT_GREY_ROOF, MAT_ASPHALT, MAT_WATER, MAT_ROCK = 0, 1, 2, 3, 4, 5

SOIL_PROPERTIES = ("soc", "clay", "silt", "sand", "ph", "n", "bulk_density")
SOIL_UNITS: Mapping[str, str] = {
    "soc": "g/kg", "clay": "%", "silt": "%", "sand": "%", "ph": "pH", "n": "g/kg", "bulk_density": "g/cm3",
}  # fmt: skip

_LINE_ROAD, _LINE_HEDGE = 1, 2
_MIN_SIDE = 6
"""Narrowest parcel side in pixels (60 m): no slivers."""


@dataclass(frozen=True)
class World:
    """Everything about the world that does not change with time."""

    spec: WorldSpec
    landcover: np.ndarray
    """Truth land-cover code per pixel (uint8, see LANDCOVER_NAMES)."""
    parcel_id: np.ndarray
    """Parcel id per pixel (int32), 0 on field roads and hedges between parcels."""
    parcels: pd.DataFrame
    """One row per parcel: parcel_id, kind, n_pixels, row, col (centroid in pixels)."""
    dem: np.ndarray
    """Elevation in metres (float32)."""
    wetness: np.ndarray
    """Topographic wetness (mean 0, std 1): high in depressions and near the pond."""
    soil: Mapping[str, np.ndarray]
    """Soil property fields (float32) defined everywhere; masked only when written."""
    iron: np.ndarray
    """Iron-oxide field (mean 0, std 1) that tilts the red slope of soil spectra."""
    other: np.ndarray
    """Fraction of each pixel covered by a static material (roof, asphalt, water, rock)."""
    material: np.ndarray
    """Which static material (MAT_* code, uint8)."""
    canopy_texture: np.ndarray
    """Multiplicative per-pixel variation of canopy cover within a parcel."""
    residue_texture: np.ndarray
    """Multiplicative per-pixel variation of residue cover within a parcel."""
    soil_texture: np.ndarray
    """Multiplicative per-pixel variation of soil brightness (roughness, stones)."""

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.landcover.shape
        return (rows, cols)


def build_world(spec: WorldSpec) -> World:
    """Parcels, land cover, terrain and soil of ``spec``'s world."""
    rng = rng_for(spec.seed, "world")
    n = spec.n_pixels
    labels, lines = _subdivide(rng, n, *_parcel_px(spec))
    centres = _landmark_centres(rng, n)
    water = _pond(rng, n, spec.water_share, centres["pond"])
    labels, kinds, water = _place_pond(labels, water)
    kinds = _allocate_land_use(rng, spec, labels, kinds, centres)
    landcover, other, material = _landcover(rng, labels, lines, water, kinds)
    labels = np.where((lines > 0) & ~water, 0, labels).astype(np.int32)
    dem = _terrain(spec, rng, centres, water)
    wetness = _wetness(dem, water)
    soil = _soil_fields(spec, landcover, wetness)
    parcels = _parcel_table(labels, kinds)
    tex_rng = rng_for(spec.seed, "texture")
    shape = (n, n)
    canopy = np.exp(0.08 * smooth_field(tex_rng, shape, 1.5))
    forest = np.isin(landcover, (FOREST_DECIDUOUS, FOREST_CONIFEROUS, HEDGE))
    canopy = np.where(forest, np.exp(0.15 * smooth_field(tex_rng, shape, 0.8)), canopy)
    return World(
        spec=spec,
        landcover=landcover,
        parcel_id=labels,
        parcels=parcels,
        dem=dem,
        wetness=wetness,
        soil=soil,
        iron=smooth_field(rng_for(spec.seed, "soil", "iron"), shape, 600 / PIXEL_M),
        other=other,
        material=material,
        canopy_texture=canopy.astype(np.float32),
        residue_texture=np.exp(0.12 * smooth_field(tex_rng, shape, 2.0)).astype(np.float32),
        soil_texture=np.exp(spec.physics.soil.texture * smooth_field(tex_rng, shape, 1.0)).astype(np.float32),
    )


def _parcel_px(spec: WorldSpec) -> tuple[float, float]:
    """Smallest and largest parcel in pixels; small worlds get smaller parcels so several fit."""
    px_per_ha = 10_000 / PIXEL_M**2
    area_ha = (spec.size_m / 100.0) ** 2
    lo, hi = spec.parcel_ha
    hi = max(lo * 2.0, min(hi, area_ha / 12.0))
    return lo * px_per_ha, hi * px_per_ha


def _subdivide(
    rng: np.random.Generator, n: int, min_px: float, max_px: float
) -> tuple[np.ndarray, np.ndarray]:
    """Recursive rectangular cuts down to parcel size; roads or hedges on some of the cuts.

    Returns the parcel labels (1…) and a line raster (1 road, 2 hedge, 0 none).
    Cuts alternate between across and along a block at random, so fields end up
    both blocky and strip-shaped, as in consolidated farmland.
    """
    labels = np.zeros((n, n), np.int32)
    lines = np.zeros((n, n), np.uint8)
    stack = [(0, 0, n, n)]
    next_id = 1
    while stack:
        r0, c0, h, w = stack.pop()
        threshold = np.exp(rng.uniform(np.log(2 * min_px), np.log(max_px)))
        axis = _split_axis(rng, h, w)
        if h * w <= threshold or axis is None:
            labels[r0 : r0 + h, c0 : c0 + w] = next_id
            next_id += 1
            continue
        line = 0
        if h * w > 40 * max_px and rng.random() < 0.7:
            line = _LINE_ROAD
        elif h * w > 4 * max_px and rng.random() < 0.3:
            line = _LINE_HEDGE
        length = h if axis == 0 else w
        gap = 1 if line else 0
        lo = max(_MIN_SIDE, int(0.35 * length))
        hi = min(length - _MIN_SIDE - gap, int(0.65 * length))
        pos = int(rng.integers(lo, hi + 1)) if hi >= lo else length // 2
        if axis == 0:
            if line:
                lines[r0 + pos, c0 : c0 + w] = line
            stack += [(r0, c0, pos, w), (r0 + pos + gap, c0, h - pos - gap, w)]
        else:
            if line:
                lines[r0 : r0 + h, c0 + pos] = line
            stack += [(r0, c0, h, pos), (r0, c0 + pos + gap, h, w - pos - gap)]
    return labels, lines


def _split_axis(rng: np.random.Generator, h: int, w: int) -> int | None:
    """0 to cut across rows, 1 across columns, None when the block is too narrow to cut."""
    can = [axis for axis, length in ((0, h), (1, w)) if length >= 2 * _MIN_SIDE + 1]
    if not can:
        return None
    long_axis = 0 if h >= w else 1
    if max(h, w) > 3 * min(h, w) or rng.random() < 0.6:
        preferred = long_axis
    else:
        preferred = 1 - long_axis
    return preferred if preferred in can else can[0]


def _landmark_centres(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Centres (row, col) of the pond, the village and the forest, kept apart from each other."""
    pond = rng.uniform(0.3 * n, 0.7 * n, 2)
    cands = rng.uniform(0.15 * n, 0.85 * n, (12, 2))
    village = cands[np.argmax(np.linalg.norm(cands - pond, axis=1) - 0.4 * np.abs(cands - n / 2).sum(1))]
    cands = rng.uniform(0.1 * n, 0.9 * n, (12, 2))
    dist = np.minimum(np.linalg.norm(cands - pond, axis=1), np.linalg.norm(cands - village, axis=1))
    forest = cands[np.argmax(dist)]
    return {"pond": pond, "village": village, "forest": forest}


def _pond(rng: np.random.Generator, n: int, share: float, centre: np.ndarray) -> np.ndarray:
    """An elliptic pond covering ``share`` of the world."""
    area = max(share * n * n, 12.0)
    aspect = rng.uniform(1.2, 1.8)
    b = np.sqrt(area / (np.pi * aspect))
    a = aspect * b
    angle = rng.uniform(0, np.pi)
    rows, cols = np.mgrid[0:n, 0:n] + 0.5
    dy, dx = rows - centre[0], cols - centre[1]
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


def _place_pond(labels: np.ndarray, water: np.ndarray) -> tuple[np.ndarray, pd.Series, np.ndarray]:
    """Give the pond its own parcel; parcels mostly under water become wet meadow (grassland).

    Remnants too small to farm (under 25 pixels) are absorbed into the pond, so
    the returned water mask can be larger than the given one.
    """
    pond_id = int(labels.max()) + 1
    before = np.bincount(labels.ravel(), minlength=pond_id)
    flooded = np.bincount(labels[water].ravel(), minlength=pond_id)
    ids = np.flatnonzero(before[1:]) + 1
    before, flooded = before[ids], flooded[ids]
    kinds = pd.Series("", index=pd.Index(ids, name="parcel_id"), dtype=object)
    remaining = before - flooded
    tiny = ids[(flooded > 0) & (remaining < 25)]
    water = water | np.isin(labels, tiny)
    labels = labels.copy()
    labels[water] = pond_id
    kinds = kinds.drop(tiny)
    kinds[ids[(flooded > 0.5 * before) & (remaining >= 25)]] = "grassland"
    kinds[pond_id] = "water"
    return labels, kinds, water


def _allocate_land_use(
    rng: np.random.Generator,
    spec: WorldSpec,
    labels: np.ndarray,
    kinds: pd.Series,
    centres: Mapping[str, np.ndarray],
) -> pd.Series:
    """Assign a kind to every parcel: village, forest, quarry, grassland near landmarks; cropland else."""
    ids = kinds.index.to_numpy()
    areas = pd.Series(np.bincount(labels.ravel(), minlength=ids.max() + 1)[ids], index=kinds.index)
    rows, cols = np.indices(labels.shape)
    sums_r = np.bincount(labels.ravel(), weights=rows.ravel(), minlength=ids.max() + 1)[ids]
    sums_c = np.bincount(labels.ravel(), weights=cols.ravel(), minlength=ids.max() + 1)[ids]
    centroid = np.stack([sums_r / areas.to_numpy(), sums_c / areas.to_numpy()], axis=1)
    total = labels.size
    kinds = kinds.copy()

    def distance_to(point: np.ndarray) -> pd.Series:
        return pd.Series(np.linalg.norm(centroid - point, axis=1), index=kinds.index)

    def take(order: pd.Series, target_px: float, kind: str) -> list[int]:
        chosen: list[int] = []
        have = 0.0
        for pid in order.sort_values().index:
            if kinds[pid]:
                continue
            if chosen and have + areas[pid] / 2 > target_px:
                break
            chosen.append(int(pid))
            kinds[pid] = kind
            have += areas[pid]
        return chosen

    take(distance_to(centres["village"]), spec.village_share * total, "village")
    forest = take(distance_to(centres["forest"]), spec.forest_share * total, "forest")
    for pid in forest:
        kinds[pid] = "forest_coniferous" if rng.random() < 0.5 else "forest_deciduous"
    free = distance_to(centres["forest"])[kinds == ""]
    if len(free):
        quarry = centroid[kinds.index.get_loc(free.idxmin())]
        take(distance_to(quarry), spec.rock_share * total, "rock")
    meadow = int(areas[kinds == "grassland"].sum())
    take(distance_to(centres["pond"]), max(spec.grassland_share * total - meadow, 1.0), "grassland")
    kinds[kinds == ""] = "cropland"
    return kinds


def _landcover(
    rng: np.random.Generator,
    labels: np.ndarray,
    lines: np.ndarray,
    water: np.ndarray,
    kinds: pd.Series,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pixel land cover, static-material fraction and material from the parcel kinds."""
    lut_size = int(kinds.index.max()) + 1
    kind_code = {
        "cropland": CROPLAND,
        "grassland": GRASSLAND,
        "forest_deciduous": FOREST_DECIDUOUS,
        "forest_coniferous": FOREST_CONIFEROUS,
        "village": GARDEN,
        "water": WATER,
        "rock": ROCK,
    }
    lut = np.zeros(lut_size, np.uint8)
    for pid, kind in kinds.items():
        lut[int(pid)] = kind_code[kind]  # type: ignore[call-overload]
    landcover = lut[labels]
    other = np.zeros(labels.shape, np.float32)
    material = np.zeros(labels.shape, np.uint8)
    _build_village(rng, labels, landcover, other, material)
    landcover[lines == _LINE_HEDGE] = HEDGE
    road = (lines == _LINE_ROAD) & ~water
    landcover[road] = PAVED
    landcover[water] = WATER
    other[road] = 1.0
    material[road] = MAT_ASPHALT
    other[water] = 1.0
    material[water] = MAT_WATER
    rock = landcover == ROCK
    other[rock] = 1.0
    material[rock] = MAT_ROCK
    return landcover, other, material


def _build_village(
    rng: np.random.Generator,
    labels: np.ndarray,
    landcover: np.ndarray,
    other: np.ndarray,
    material: np.ndarray,
) -> None:
    """Streets along village parcel edges, houses on 40 m lots, gardens in between (in place)."""
    village = landcover == GARDEN
    if not village.any():
        return
    n = labels.shape[0]
    edge = np.zeros_like(village)
    edge[1:, :] |= labels[1:, :] != labels[:-1, :]
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    street = village & edge
    lot = 4
    n_lots = n // lot + 1
    has_house = rng.random((n_lots, n_lots)) < 0.8
    off_r = rng.integers(0, 2, (n_lots, n_lots))
    off_c = rng.integers(0, 2, (n_lots, n_lots))
    size_r = rng.integers(2, 3, (n_lots, n_lots))
    size_c = rng.integers(2, 4, (n_lots, n_lots))
    red = rng.random((n_lots, n_lots)) < 0.7
    rows, cols = np.indices(labels.shape)
    lr, lc = rows // lot, cols // lot
    in_r = (rows % lot - off_r[lr, lc] >= 0) & (rows % lot - off_r[lr, lc] < size_r[lr, lc])
    in_c = (cols % lot - off_c[lr, lc] >= 0) & (cols % lot - off_c[lr, lc] < size_c[lr, lc])
    roof = village & ~street & has_house[lr, lc] & in_r & in_c
    garden = village & ~street & ~roof
    landcover[street] = PAVED
    landcover[roof] = ROOF
    other[street] = 1.0
    material[street] = MAT_ASPHALT
    other[roof] = 1.0
    material[roof] = np.where(red[lr, lc][roof], MAT_RED_ROOF, MAT_GREY_ROOF)
    other[garden] = 0.25
    material[garden] = MAT_ASPHALT


def _terrain(
    spec: WorldSpec,
    rng: np.random.Generator,
    centres: Mapping[str, np.ndarray],
    water: np.ndarray,
) -> np.ndarray:
    """A smooth 450–550 m terrain: a gentle tilt, rolling hills, a hill under the forest,
    a hollow holding the pond (whose surface is flat)."""
    n = spec.n_pixels
    rows, cols = np.indices((n, n)) + 0.5
    km = PIXEL_M / 1000.0
    direction = rng.uniform(0, 2 * np.pi)
    tilt = 8.0 * km * (np.cos(direction) * cols + np.sin(direction) * rows)
    hills = 7.0 * smooth_field(rng, (n, n), 1000 / PIXEL_M)
    d_forest = np.hypot(rows - centres["forest"][0], cols - centres["forest"][1]) * PIXEL_M
    d_pond = np.hypot(rows - centres["pond"][0], cols - centres["pond"][1]) * PIXEL_M
    pond_radius = np.sqrt(max(water.sum(), 1) / np.pi) * PIXEL_M
    dem = (
        500.0
        + tilt
        - tilt.mean()
        + hills
        + 14.0 * np.exp(-((d_forest / 700.0) ** 2) / 2)
        - 12.0 * np.exp(-((d_pond / (2.0 * pond_radius + 200.0)) ** 2) / 2)
    )
    if water.any():
        dem[water] = np.percentile(dem[water], 10)
    return np.clip(dem, 452.0, 548.0).astype(np.float32)


def _wetness(dem: np.ndarray, water: np.ndarray) -> np.ndarray:
    """Topographic wetness: below the local mean elevation and close to open water is wet."""
    local = ndimage.gaussian_filter(dem.astype(np.float64), sigma=400 / PIXEL_M, mode="reflect")
    hollow = -(dem - local)
    hollow /= max(float(hollow.std()), 1e-6)
    if water.any():
        dist = ndimage.distance_transform_edt(~water) * PIXEL_M
        hollow = hollow + 1.2 * np.exp(-dist / 250.0)
    w = (hollow - hollow.mean()) / max(float(hollow.std()), 1e-6)
    return np.clip(w, -3, 3).astype(np.float32)


def _soil_fields(spec: WorldSpec, landcover: np.ndarray, wetness: np.ndarray) -> dict[str, np.ndarray]:
    """Topsoil properties: smooth random fields, a terrain term, and a land-use term for SOC.

    Clay and SOC rise in depressions; SOC also rises with clay (organo-mineral
    protection) and under permanent grassland or forest; bulk density falls with
    SOC; N follows SOC at a C:N ratio near 10.
    """
    shape = landcover.shape
    corr = 250 / PIXEL_M

    def field(name: str) -> np.ndarray:
        return smooth_field(rng_for(spec.seed, "soil", name), shape, corr)

    w = wetness
    soil = spec.physics.soil
    clay_lo, clay_hi = max(3.0, soil.clay_level - 14.0), min(60.0, soil.clay_level + 21.0)
    clay = np.clip(soil.clay_level + 6.5 * (0.8 * field("clay") + 0.5 * w), clay_lo, clay_hi)
    sand = np.clip(32.0 - 0.7 * (clay - soil.clay_level) + 8.0 * field("sand"), 5.0, 90.0 - clay)
    silt = 100.0 - clay - sand
    land_use = np.select(
        [
            landcover == GRASSLAND,
            np.isin(landcover, (FOREST_DECIDUOUS, FOREST_CONIFEROUS, HEDGE)),
            landcover == GARDEN,
        ],
        [1.35, 1.5, 1.2],
        1.0,
    )
    level = soil.soc_level
    soc = level * np.exp(0.30 * field("soc") + 0.16 * w + 0.012 * (clay - soil.clay_level)) * land_use
    soc = np.clip(soc, level * 8.0 / 15.0, level * 3.0)
    forest = np.isin(landcover, (FOREST_DECIDUOUS, FOREST_CONIFEROUS))
    ph = np.clip(6.5 + 0.45 * field("ph") - 0.12 * w - 0.8 * forest, 5.0, 7.5)
    n = soc / 10.0 * np.exp(0.06 * field("n"))
    bd = np.clip(1.62 - 0.011 * (soc - 8.0) + 0.03 * field("bulk_density"), 1.2, 1.6)
    values = {"soc": soc, "clay": clay, "silt": silt, "sand": sand, "ph": ph, "n": n, "bulk_density": bd}
    return {k: v.astype(np.float32) for k, v in values.items()}


def _parcel_table(labels: np.ndarray, kinds: pd.Series) -> pd.DataFrame:
    counts = np.bincount(labels.ravel(), minlength=int(kinds.index.max()) + 1)
    rows, cols = np.indices(labels.shape)
    sum_r = np.bincount(labels.ravel(), weights=rows.ravel(), minlength=counts.size)
    sum_c = np.bincount(labels.ravel(), weights=cols.ravel(), minlength=counts.size)
    ids = kinds.index.to_numpy()
    present = counts[ids] > 0
    ids = ids[present]
    return pd.DataFrame(
        {
            "parcel_id": ids.astype(np.int32),
            "kind": kinds.to_numpy()[present].astype(str),
            "n_pixels": counts[ids].astype(np.int64),
            "row": (sum_r[ids] / counts[ids]).astype(np.float32),
            "col": (sum_c[ids] / counts[ids]).astype(np.float32),
        }
    ).reset_index(drop=True)


def soil_mask(landcover: np.ndarray) -> np.ndarray:
    """Where there is a topsoil to describe (not water, rock, roofs or pavement)."""
    return ~np.isin(landcover, (WATER, ROCK, ROOF, PAVED))


def parcel_geometries(world: World) -> gpd.GeoDataFrame:
    """Parcel polygons traced from the parcel raster (so they match the pixels exactly)."""
    ids = world.parcel_id
    shapes = rasterio.features.shapes(ids, mask=ids > 0, transform=world.spec.transform())
    pieces: dict[int, list] = {}
    for geom, value in shapes:
        pieces.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    parcel_ids = sorted(pieces)
    geometries = [shapely.union_all(pieces[pid]) for pid in parcel_ids]
    frame = gpd.GeoDataFrame({"parcel_id": parcel_ids}, geometry=geometries, crs=f"EPSG:{world.spec.epsg}")
    return frame.merge(world.parcels, on="parcel_id", how="left")
