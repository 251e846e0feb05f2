"""Markers database on hand-made cubes and parcels: every statistic against a brute-force answer."""

from __future__ import annotations

import dask.array as da
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from odc.geo.xr import xr_coords
from shapely.geometry import box

from baresoil.catalog.layouts import REFLECTANCE_BANDS
from baresoil.grid import geobox_for_bounds
from baresoil.inputs.parcels import CLIPPED, TOO_FEW_PIXELS, rasterise_parcels, read_parcels
from baresoil.kernels.fcover import fcover_nadir
from baresoil.products.parcels.markers import (
    MARKER_COLUMNS,
    S1_FEATURES,
    S2_FEATURES,
    SNOW,
    code_blocks,
    markers_pass,
    parcel_markers,
    sen4cap_column,
    wide_markers,
)

X0, Y0 = 4_300_000.0, 2_800_000.0
GRID = geobox_for_bounds((X0, Y0, X0 + 400, Y0 + 300), 20)  # 20 x 15 pixels
DATES = pd.date_range("2021-05-01", periods=5, freq="5D").to_numpy()
SUN = np.array([40.0, 45.0, 50.0, 55.0, 58.0], np.float32)


def _rect(x, y, w, h):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


# A: 6 x 5 pixels in the middle (split by 8-pixel chunks), B: 3 x 2 pixels, C: smaller than a pixel,
# D: crosses the east edge of the grid (x = 400).
PARCELS = [
    ("A", _rect(102, 103, 120, 100)),
    ("B", _rect(262, 22, 60, 40)),
    ("C", _rect(33, 242, 12, 12)),
    ("D", _rect(342, 162, 100, 80)),
]


@pytest.fixture(scope="module")
def parcels(tmp_path_factory):
    path = tmp_path_factory.mktemp("markers") / "parcels.gpkg"
    ids, geoms = zip(*PARCELS, strict=True)
    gpd.GeoDataFrame({"id": list(ids)}, geometry=list(geoms), crs=3035).to_crs(32632).to_file(path)
    return read_parcels(path, "id", buffer_m=0).clip(box(*GRID.boundingbox), "the grid")


def _cube(chunk: int) -> xr.Dataset:
    rng = np.random.default_rng(5)
    shape = (len(DATES), GRID.shape.y, GRID.shape.x)
    coords = {"time": DATES, **xr_coords(GRID)}
    data = {}
    for k, band in enumerate(REFLECTANCE_BANDS):
        values = (0.05 + 0.03 * k + 0.05 * rng.random(shape)).astype(np.float32)
        values[rng.random(shape) < 0.03] = np.nan  # a missing band value invalidates the observation
        data[band] = (("time", "y", "x"), da.from_array(values, chunks=(-1, chunk, chunk)))
    clear = rng.random(shape) > 0.25
    clear[2] = False  # a fully cloudy date: no rows
    data["clear"] = (("time", "y", "x"), da.from_array(clear, chunks=(-1, chunk, chunk)))
    cube = xr.Dataset(data, coords=coords)
    return cube.assign_coords(sun_elevation=("time", SUN))


def _s1(chunk: int) -> xr.Dataset:
    rng = np.random.default_rng(9)
    dates = pd.date_range("2021-05-02", periods=4, freq="6D").to_numpy()
    shape = (len(dates), GRID.shape.y, GRID.shape.x)
    vv = (-12 + 2 * rng.standard_normal(shape)).astype(np.float32)
    vh = (vv - 7).astype(np.float32)
    vh[1, :, :12] = np.nan  # no VH west of x = 240 m on one pass
    coords = {"time": dates, **xr_coords(GRID)}
    arrays = {"VV": vv, "VH": vh}
    return xr.Dataset({k: (("time", "y", "x"), da.from_array(v, chunks=(-1, chunk, chunk)))
                       for k, v in arrays.items()}, coords=coords)  # fmt: skip


def _brute_force_s2(cube: xr.Dataset, mask: np.ndarray, t: int) -> dict[str, np.ndarray]:
    bands = {b: cube[b].values[t][mask] for b in REFLECTANCE_BANDS}
    valid = cube.clear.values[t][mask] & np.all([np.isfinite(v) for v in bands.values()], axis=0)
    b = {k: v[valid].astype(np.float64) for k, v in bands.items()}
    out = dict(b)
    out["NDVI"] = (b["B08"] - b["B04"]) / (b["B08"] + b["B04"])
    out["NDTI"] = (b["B11"] - b["B12"]) / (b["B11"] + b["B12"])
    out["NDMI"] = (b["B08"] - b["B11"]) / (b["B08"] + b["B11"])
    out["BSI"] = ((b["B11"] + b["B04"]) - (b["B08"] + b["B02"])) / (
        (b["B11"] + b["B04"]) + (b["B08"] + b["B02"])
    )
    out["FCOVER"] = fcover_nadir({k: v.astype(np.float32) for k, v in b.items()}, float(SUN[t])).astype(
        np.float64
    )
    return out


def _stats(values: np.ndarray) -> list[float]:
    values = values[np.isfinite(values)]
    return [values.mean(), values.std(), values.min(), values.max(), np.median(values),
            np.quantile(values, 0.25), np.quantile(values, 0.75), values.size]  # fmt: skip


def _markers(parcels, chunk, with_s1=False):
    cube = _cube(chunk)
    codes = rasterise_parcels(parcels, GRID, cube.B02.chunks[-2:])
    return cube, codes, parcel_markers(cube, codes, parcels, s1=_s1(chunk) if with_s1 else None, batch=3)


def test_every_statistic_matches_brute_force_across_chunks(parcels):
    cube, codes, markers = _markers(parcels, chunk=8)
    assert tuple(markers.columns) == MARKER_COLUMNS
    layout = code_blocks(codes)
    code_a = parcels.frame.set_index("parcel_id").loc["A", "code"]
    assert code_a in layout.split  # A lies in several blocks: its quantiles need all its pixels
    grid = codes.values
    checked = 0
    for pid, code in zip(parcels.frame["parcel_id"], parcels.frame["code"], strict=True):
        mask = grid == code
        for t, day in enumerate(DATES):
            expected = _brute_force_s2(cube, mask, t)
            rows = markers[(markers["parcel_id"] == pid) & (markers["date"] == day)].set_index("feature")
            if expected["B02"].size == 0:
                assert rows.empty, (pid, t)  # no valid pixel (cloud, or no pixel at all): no row
                continue
            assert list(rows.index) == list(S2_FEATURES)
            for feature in S2_FEATURES:
                got = rows.loc[feature, list(MARKER_COLUMNS[4:])].to_numpy(dtype=np.float64)
                np.testing.assert_allclose(got, _stats(expected[feature]), rtol=2e-5, atol=2e-6,
                                           err_msg=f"{pid} {t} {feature}")  # fmt: skip
                checked += 1
    assert checked > 100


def test_chunking_does_not_change_the_table(parcels):
    _, _, one = _markers(parcels, chunk=64)
    _, _, many = _markers(parcels, chunk=5)
    pd.testing.assert_frame_equal(one, many, check_exact=False, rtol=1e-6)


def test_small_parcel_and_parcel_at_the_edge(parcels):
    _, codes, markers = _markers(parcels, chunk=8)
    layout = code_blocks(codes)
    checked = parcels.with_pixel_counts(layout.totals, min_pixels=3)
    report = checked.report.set_index("parcel_id")
    assert report.loc["C", "issue"] == TOO_FEW_PIXELS  # smaller than a pixel: reported, no rows
    assert "C" not in set(markers["parcel_id"])
    assert report.loc["D", "issue"] == CLIPPED
    d = checked.frame.set_index("parcel_id").loc["D"]
    assert d["n_pixels"] == 3 * 4  # centres 350, 370, 390 (x) and 170 … 230 (y) inside the grid
    assert markers[markers["parcel_id"] == "D"]["count"].max() <= 12


def test_sentinel1_markers_on_their_own_dates(parcels):
    _, codes, markers = _markers(parcels, chunk=8, with_s1=True)
    s1 = markers[markers["source"] == "S1"]
    assert set(s1["feature"]) == set(S1_FEATURES)
    assert set(s1["date"].dt.strftime("%m-%d")) == {"05-02", "05-08", "05-14", "05-20"}
    vv = _s1(8).VV.values
    code_b = parcels.frame.set_index("parcel_id").loc["B", "code"]
    row = s1[(s1["parcel_id"] == "B") & (s1["feature"] == "VV")].iloc[0]
    expected = _stats(vv[0][codes.values == code_b].astype(np.float64))
    np.testing.assert_allclose(row[list(MARKER_COLUMNS[4:])].to_numpy(np.float64), expected, rtol=1e-5)
    # VH missing over the west half on the second pass: parcel A (x 102–222 m) has no VH row that day
    second = s1[(s1["parcel_id"] == "A") & (s1["date"] == s1["date"].min() + pd.Timedelta(days=6))]
    assert set(second["feature"]) == {"VV"}


def test_wide_export_has_sen4cap_names_and_the_long_values(parcels):
    _, _, markers = _markers(parcels, chunk=8, with_s1=True)
    wide = wide_markers(markers, parcels)
    assert list(wide.columns[:2]) == ["NewID", "geometry"] and wide.crs.to_epsg() == 3035
    assert list(wide["NewID"]) == list(parcels.frame["parcel_id"])
    assert wide.columns[2] == "20210501_mean_L2A_B2"
    assert "20210502_valid_pixels_cnt_AMP_VH" in wide.columns and "20210501_p75_FCOVER" in wide.columns
    row = markers[(markers["parcel_id"] == "A") & (markers["feature"] == "B8A")].iloc[0]
    name = sen4cap_column(row["date"], "median", "S2", "B8A")
    assert name == f"{row['date']:%Y%m%d}_median_L2A_B8A"
    assert wide.set_index("NewID").loc["A", name] == pytest.approx(row["median"])
    assert wide.set_index("NewID").loc["C"].drop("geometry").isna().all()  # no pixel: an empty row
    dates = [c.split("_")[0] for c in wide.columns[2:]]
    assert dates == sorted(dates)


def test_snow_pixels_are_counted_as_a_feature_of_their_own(parcels):
    """A view of snow is a view of a parcel that is not bare: its snowy pixels are counted, on dates
    when no other feature has a row (snow is not clear sky)."""
    cube = _cube(chunk=8)
    snow = np.zeros(cube.clear.shape, bool)
    snow[2] = True  # the fully cloudy date: Sen2Cor calls it snow everywhere
    cube["snow"] = (("time", "y", "x"), da.from_array(snow, chunks=(-1, 8, 8)))
    codes = rasterise_parcels(parcels, GRID, cube.B02.chunks[-2:])
    markers = parcel_markers(cube, codes, parcels, batch=3)
    rows = markers[markers["feature"] == SNOW]
    assert set(rows["date"]) == {DATES[2]} and set(rows["source"]) == {"S2"}
    assert set(markers[markers["date"] == DATES[2]]["feature"]) == {SNOW}
    n_pixels = (codes.values == parcels.frame.set_index("parcel_id").loc["A", "code"]).sum()
    a = rows[rows["parcel_id"] == "A"].iloc[0]
    assert a["count"] == n_pixels and a["mean"] == 1.0
    without = _markers(parcels, chunk=8)[2]
    pd.testing.assert_frame_equal(markers[markers["feature"] != SNOW].reset_index(drop=True), without)


@pytest.mark.parametrize("chunk", [8, 64])
def test_the_pass_keeps_every_parcel_pixel_ndvi_in_grid_order(parcels, chunk):
    cube = _cube(chunk)
    codes = rasterise_parcels(parcels, GRID, cube.B02.chunks[-2:])
    passed = markers_pass(cube, codes, parcels, batch=3, keep_ndvi=True)
    pd.testing.assert_frame_equal(passed.table, parcel_markers(cube, codes, parcels, batch=3))
    kept = passed.pixel_ndvi
    assert kept is not None
    flat = np.flatnonzero(codes.values.ravel() > 0)
    np.testing.assert_array_equal(kept.flat, flat)
    np.testing.assert_array_equal(kept.days, DATES.astype("datetime64[D]").astype(np.int64))
    red, nir = (cube[b].values.reshape(len(DATES), -1)[:, flat] for b in ("B04", "B08"))
    clear = cube.clear.values.reshape(len(DATES), -1)[:, flat]
    # clear alone decides, not the other bands: a view missing B11 still has its NDVI
    expected = np.where(clear, (nir - red) / (nir + red), np.nan).astype(np.float32)
    assert kept.values.dtype == np.float32
    np.testing.assert_array_equal(kept.values, expected)
    assert markers_pass(cube, codes, parcels, batch=3).pixel_ndvi is None
