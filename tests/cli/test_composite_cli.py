"""``baresoil composite`` end to end on hand-made scenes: values, periods, grids, formats and STAC."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
import xarray as xr

from baresoil.catalog.layouts import PLANETARY_COMPUTER, REFLECTANCE_BANDS
from baresoil.catalog.source import TimeRange
from baresoil.config import Config, CubeConfig
from baresoil.cube.load import open_cube
from baresoil.grid import area_from_bbox
from baresoil.io.cog import read_layer
from baresoil.io.stac import load_outputs, output_item_paths

from tests.support.cli_runner import run_cli
from tests.support.stac_factory import ORIGIN, SIZE_M, lonlat_bbox, make_item, write_catalog, write_scene

DAYS = (datetime(2021, 6, 2, 10), datetime(2021, 6, 9, 10), datetime(2021, 6, 24, 10),
        datetime(2021, 7, 4, 10), datetime(2021, 7, 14, 10), datetime(2021, 7, 19, 10))  # fmt: skip
"""Three scenes in June (two in its first dekad, none in its second), three in July."""
CLOUD = np.s_[10:20, 10:20]
"""Where the second and fifth scenes are cloudy (SCL 9, 20 m pixels); they are very bright there."""
RES = 20


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """A catalog of six scenes with random reflectance per band and date; the 20 m reflectance each
    holds (10 m arrays averaged) and its SCL."""
    folder = tmp_path_factory.mktemp("composite")
    rng = np.random.default_rng(7)
    n10, n20 = SIZE_M // 10, SIZE_M // RES
    items, reflectance, scl = [], [], []
    for i, when in enumerate(DAYS):
        values = {b: rng.uniform(0.02, 0.45, (n10, n10)) for b in REFLECTANCE_BANDS}
        classes = np.full((n20, n20), 4)
        if i in (1, 4):
            classes[CLOUD] = 9
            for band in REFLECTANCE_BANDS:
                values[band].reshape(n20, 2, n20, 2)[CLOUD] = 0.9
        paths = write_scene(folder / f"s{i}", offset_dn=0, scl=classes, reflectance=values)
        items.append(make_item(PLANETARY_COMPUTER, f"item{i}", when, paths, "03.01"))
        reflectance.append({b: v.reshape(n20, 2, n20, 2).mean(axis=(1, 3)) for b, v in values.items()})
        scl.append(classes)
    return write_catalog(folder / "stac", items), reflectance, np.array(scl)


def _bbox():
    return [f"{v:.6f}" for v in lonlat_bbox(100)]


def _run(capsys, scenes, out, *extra, start="2021-06-01", end="2021-07-31"):
    catalog = scenes[0]
    code, _, stderr = run_cli(capsys, "composite", "--stac", catalog, "--bbox", *_bbox(), "--start", start,
                              "--end", end, "--out", out, *extra)  # fmt: skip
    assert code == 0, stderr
    return [json.loads(p.read_text()) | {"folder": p.parent} for p in sorted(output_item_paths(out))]


def _read(item, code):
    values, _ = read_layer(item["folder"] / item["assets"][code]["href"])
    return values


def _xarray_composites(catalog, start, end):
    """What a user writes by hand: the clear-sky cube, all bands present, resampled by month."""
    config = Config(cube=CubeConfig(resolution=RES))
    area = area_from_bbox(*(float(v) for v in _bbox()))
    cube = open_cube(str(catalog), area, TimeRange.parse(start, end), config).compute()
    refl = cube[list(REFLECTANCE_BANDS)]
    valid = cube.clear & refl.to_array().notnull().all("variable")
    return refl.where(valid).resample(time="1MS").median(), valid.resample(time="1MS").sum()


def test_monthly_median_equals_a_clear_sky_xarray_resample(scenes, tmp_path, capsys):
    items = _run(capsys, scenes, tmp_path / "out", "--every", "month", "--stat", "median")
    assert [it["id"] for it in items] == ["composite_E44N27_2021-06_R20m", "composite_E44N27_2021-07_R20m"]
    expected, counts = _xarray_composites(scenes[0], "2021-06-01", "2021-07-31")
    for item, month in zip(items, expected.time.values, strict=True):
        assert set(item["assets"]) == {*REFLECTANCE_BANDS, "NVALID"}
        props = item["properties"]
        assert props["start_datetime"][:10] == str(month)[:10]
        assert props["baresoil:stat"] == "median" and props["baresoil:every"] == "month"
        assert props["proj:code"] == "EPSG:3035" and props["eea:tile"] == "E44N27"
        nvalid = _read(item, "NVALID")
        np.testing.assert_array_equal(nvalid, counts.sel(time=month).values)
        for band in REFLECTANCE_BANDS:
            # int16 × 1e-4: half a step of rounding
            want = expected[band].sel(time=month).values
            np.testing.assert_allclose(_read(item, band), want, atol=0.5e-4 + 1e-7)
    # the clouds took one June and one July view out where they lay, and their brightness stayed out
    assert set(np.unique(_read(items[0], "NVALID"))) >= {2, 3}
    assert np.nanmax(_read(items[0], "B02")) < 0.46


def test_dekads_on_a_utm_grid_equal_a_numpy_median_of_the_inputs(scenes, tmp_path, capsys):
    """Cloud buffer 0 and a 20 m UTM grid on the scenes' own pixels: the composite is the median of the
    input 20 m values over the dates whose SCL is clear, computed here with numpy alone."""
    _, reflectance, scl = scenes
    items = _run(capsys, scenes, tmp_path / "utm", "--every", "10d", "--crs", "EPSG:32632", "--resolution",
                 "20", "--bands", "B04,B8A", "--cloud-buffer", "0", end="2021-07-20")  # fmt: skip
    labels = [it["properties"]["baresoil:period"] for it in items]
    assert labels == ["2021-06-D1", "2021-06-D2", "2021-06-D3", "2021-07-D1", "2021-07-D2"]
    dekads = {it["properties"]["baresoil:period"]: it for it in items}
    first = dekads["2021-06-D1"]
    assert first["properties"]["proj:code"] == "EPSG:32632" and "eea:tile" not in first["properties"]
    assert first["id"] == "composite_EPSG32632_2021-06-D1_R20m"
    assert set(first["assets"]) == {"B04", "B8A", "NVALID"}
    with rasterio.open(first["folder"] / first["assets"]["B04"]["href"]) as src:
        assert src.crs.to_epsg() == 32632 and src.res == (RES, RES)
        col0 = round((src.transform.c - ORIGIN[0]) / RES)
        row0 = round((ORIGIN[1] - src.transform.f) / RES)
        window = np.s_[row0 : row0 + src.height, col0 : col0 + src.width]
    dates = np.array([d.date().isoformat() for d in DAYS])
    for label, (first_day, last_day) in {"2021-06-D1": ("2021-06-01", "2021-06-10"),
                                         "2021-07-D2": ("2021-07-11", "2021-07-20")}.items():  # fmt: skip
        when = np.flatnonzero((dates >= first_day) & (dates <= last_day))
        clear = scl[when][(slice(None), *window)] == 4
        np.testing.assert_array_equal(_read(dekads[label], "NVALID"), clear.sum(axis=0))
        for band in ("B04", "B8A"):
            stack = np.array([reflectance[i][band][window] for i in when])
            expected = np.nanmedian(np.where(clear, stack, np.nan), axis=0)
            # three roundings of half a step (1e-4) each: the 10 m DN written, their 20 m average read as
            # an integer DN, the composite stored as int16 × 1e-4
            np.testing.assert_allclose(_read(dekads[label], band), expected, atol=1.5e-4 + 1e-7)
    # a dekad without any scene is written all the same: no valid observation, no composite
    empty = dekads["2021-06-D2"]
    assert np.all(_read(empty, "NVALID") == 0) and np.all(np.isnan(_read(empty, "B04")))


def _weiszfeld(points, iterations=3000):
    """The geometric median of (n, bands) points by plain Weiszfeld iterations from the mean."""
    estimate = points.mean(axis=0)
    for _ in range(iterations):
        distance = np.maximum(np.linalg.norm(points - estimate, axis=1), 1e-12)
        estimate = (points / distance[:, None]).sum(axis=0) / (1 / distance).sum()
    return estimate


def test_mean_and_geometric_median_of_a_quarter(scenes, tmp_path, capsys):
    catalog = scenes[0]
    means = _run(capsys, scenes, tmp_path / "mean", "--every", "quarter", "--stat", "mean")
    medians = _run(capsys, scenes, tmp_path / "gm", "--every", "quarter", "--stat", "geomedian")
    assert [it["properties"]["baresoil:period"] for it in medians] == ["2021-Q2", "2021-Q3"]
    config = Config(cube=CubeConfig(resolution=RES))
    area = area_from_bbox(*(float(v) for v in _bbox()))
    cube = open_cube(str(catalog), area, TimeRange.parse("2021-06-01", "2021-06-30"), config).compute()
    stack = np.stack([cube[b].values for b in REFLECTANCE_BANDS])  # (band, time, y, x)
    valid = cube.clear.values & np.isfinite(stack).all(axis=0)
    mean = np.nanmean(np.where(valid, stack, np.nan), axis=1)
    for i, band in enumerate(REFLECTANCE_BANDS):
        np.testing.assert_allclose(_read(means[0], band), mean[i], atol=0.5e-4 + 1e-7)
    geomedian = np.stack([_read(medians[0], b) for b in REFLECTANCE_BANDS])
    for y, x in ((0, 0), (12, 12), (30, 7), (40, 40)):
        points = stack[:, valid[:, y, x], y, x].T.astype(np.float64)
        np.testing.assert_allclose(geomedian[:, y, x], _weiszfeld(points), atol=0.5e-4 + 1e-6)
    # where the clouds left two views, every point between them is a geometric median: their midpoint
    two = valid.sum(axis=0) == 2
    assert two.sum() > 50
    np.testing.assert_allclose(geomedian[:, two], mean[:, two], atol=0.5e-4 + 1e-6)


def test_netcdf_and_zarr_hold_every_period_with_the_cogs_values(scenes, tmp_path, capsys):
    cogs = _run(capsys, scenes, tmp_path / "cog", "--every", "month", "--bands", "B02,B03,B04")
    formats = (("netcdf", ".nc", "application/netcdf"), ("zarr", ".zarr", "application/vnd+zarr"))
    for fmt, suffix, media in formats:
        (item,) = _run(capsys, scenes, tmp_path / fmt, "--every", "month", "--bands", "B02,B03,B04",
                       "--format", fmt)  # fmt: skip
        assert item["id"] == "composite_E44N27_2021_month_R20m"
        asset = item["assets"]["data"]
        assert asset["type"] == media and asset["href"].endswith(suffix)
        assert "https://stac-extensions.github.io/datacube/v2.2.0/schema.json" in item["stac_extensions"]
        assert asset["cube:dimensions"]["time"]["values"][1].startswith("2021-07-01")
        assert asset["cube:variables"]["B04"]["scale"] == 1e-4
        path = item["folder"] / asset["href"]
        with xr.open_dataset(path, engine="zarr" if fmt == "zarr" else None) as cube:
            assert list(cube.period.values) == ["2021-06", "2021-07"]
            assert set(cube.data_vars) == {"B02", "B03", "B04", "NVALID", "time_bounds"}
            # netCDF keeps the float32 scale factor (float32 values); Zarr's JSON attributes do not
            assert cube.B04.dtype == (np.float32 if fmt == "netcdf" else np.float64)
            assert str(cube.time_bounds.values[0, 1])[:10] == "2021-07-01"
            assert cube.odc.geobox.crs.epsg == 3035
            for t, cog in enumerate(cogs):
                np.testing.assert_array_equal(cube.NVALID.isel(time=t).values, _read(cog, "NVALID"))
                for code in ("B02", "B04"):  # float32 unpacking
                    np.testing.assert_allclose(cube[code].isel(time=t).values, _read(cog, code), rtol=1e-6)


def test_outputs_load_with_odc_stac_as_a_time_series(scenes, tmp_path, capsys):
    out = tmp_path / "out"
    cogs = _run(capsys, scenes, out, "--every", "month", "--bands", "B04,B08")
    items = [pystac.Item.from_file(str(p)) for p in output_item_paths(out)]
    loaded = load_outputs(items, ["B04", "NVALID"], groupby="time")
    assert loaded.sizes["time"] == 2
    for t, cog in enumerate(sorted(cogs, key=lambda it: it["properties"]["start_datetime"])):
        np.testing.assert_array_equal(loaded.NVALID.isel(time=t).values, _read(cog, "NVALID"))
        np.testing.assert_allclose(loaded.B04.isel(time=t).values, _read(cog, "B04"), rtol=1e-6)
    collection = json.loads((out / "composite" / "collection.json").read_text())
    assert collection["id"] == "baresoil-composite"
    assert {"B04", "B12", "NVALID"} <= set(collection["item_assets"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--bands", "B04,B99"), "unknown band(s) B99"),
        (("--every", "week"), "composite.every"),
        (("--stat", "max"), "composite.stat"),
        (("--crs", "EPSG:4326"), "not a projected CRS: give the resolution"),
        (("--crs", "EPSG:99999"), "not a coordinate reference system"),
        (("--format", "hdf"), "composite.format"),
    ],
)
def test_bad_options_are_one_clear_line(scenes, tmp_path, capsys, extra, message):
    args = ("--start", "2021-06-01", "--end", "2021-06-30", "--out", tmp_path / "x", *extra)
    code, _, stderr = run_cli(capsys, "composite", "--stac", scenes[0], "--bbox", *_bbox(), *args)
    assert code == 1
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not Path(tmp_path / "x" / "catalog.json").exists()
