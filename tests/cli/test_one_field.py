"""Every product on one field and one year of a real-like series (``field_series``): small areas,
a series that starts on a winter crop sown the autumn before, and one that ends before its harvest."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
from pyproj import Transformer

from baresoil.cli.main import main
from baresoil.kernels import seasons as k
from baresoil.registry import decode_yydoy

from tests.support import field_series as fs
from tests.support.cli_runner import run_cli
from tests.support.stac_factory import EPSG

pytestmark = pytest.mark.slow

YEAR = ("--start", "2020-01-01", "--end", "2020-12-31")
Grid = tuple[np.ndarray, rasterio.Affine]


@pytest.fixture(scope="module")
def series(tmp_path_factory) -> fs.FieldSeries:
    return fs.write_field_series(tmp_path_factory.mktemp("one-field"))


def bbox(box: tuple[float, float, float, float]) -> list[str]:
    return ["--bbox", *(f"{v:.7f}" for v in box)]


FIELD = bbox(fs.field_bbox())
PIXEL = bbox(fs.field_bbox(margin_m=45))
"""A 10 m box at the field's centre: one pixel at 20 m, one or two at 10 m."""


def run(*args: object) -> None:
    """``baresoil ARGS``, which must succeed."""
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        raise AssertionError(f"baresoil {args[0]} exited with {exc.code}") from exc


@pytest.fixture(scope="module")
def seasons_run(series, tmp_path_factory) -> Path:
    """Seasons per pixel of the field's box, on the year from January."""
    out = tmp_path_factory.mktemp("seasons")
    run("seasons", "--stac", series.catalog, *FIELD, "--year", "2020", "--out", out)
    return out


@pytest.fixture(scope="module")
def cube_runs(series, tmp_path_factory) -> dict[str, Path]:
    """Observation counts of the field's box, of one pixel and of the scene but a 100 m margin."""
    runs = {}
    for name, area in (("field", FIELD), ("pixel", PIXEL), ("scene", bbox(fs.scene_bbox()))):
        runs[name] = tmp_path_factory.mktemp(f"cube-{name}")
        run("cube", "--stac", series.catalog, *area, *YEAR, "--out", runs[name])
    return runs


@pytest.fixture(scope="module")
def soilsuite_run(series, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("soilsuite")
    run("soilsuite", "--stac", series.catalog, *FIELD, *YEAR, "--out", out)
    return out


def layer(out: Path, code: str) -> Grid:
    """Band 1 of layer ``code`` of a run's only item, and its transform."""
    (path,) = [p for p in out.rglob("*.tif") if p.stem.endswith(f"_{code}") or f"_{code}_" in p.name]
    with rasterio.open(path) as src:
        return src.read(1), src.transform


def inside_field(values: np.ndarray, transform: rasterio.Affine, margin_m: float = 15.0) -> np.ndarray:
    """The values of the pixels whose centre lies ``margin_m`` or more inside the field."""
    rows, cols = np.indices(values.shape)
    xs, ys = rasterio.transform.xy(transform, rows.ravel(), cols.ravel())
    ux, uy = Transformer.from_crs(3035, EPSG, always_xy=True).transform(xs, ys)
    west, south, east, north = fs.field_bounds_utm(margin_m)
    ux, uy = np.asarray(ux), np.asarray(uy)
    inside = (ux > west) & (ux < east) & (uy > south) & (uy < north)
    return values.ravel()[inside]


def overlap(small: Grid, large: Grid) -> np.ndarray:
    """The pixels of the larger run on the grid of the smaller (both on the EEA grid)."""
    values, transform = large
    row = round((small[1].f - transform.f) / transform.e)
    col = round((small[1].c - transform.c) / transform.a)
    return values[row : row + small[0].shape[0], col : col + small[0].shape[1]]


# --- issue 24: an area smaller than the cloud buffer ------------------------------------------------


def test_cube_of_one_field_and_of_one_pixel(cube_runs):
    for name in ("field", "pixel"):
        nobs, _ = layer(cube_runs[name], "NOBS")
        nclear, _ = layer(cube_runs[name], "NCLEAR")
        assert nobs.size <= 25 and np.all(nobs == len(fs.DATES))  # smaller than the 100 m buffer (5 px)
        assert np.all(nclear == len(fs.DATES) - len(fs.CLOUDY))  # the small cloud is outside the area
    assert nobs.shape == (1, 1)


def test_a_small_area_equals_a_larger_run_but_where_a_cloud_beyond_its_edge_is_buffered(cube_runs):
    small, large = (layer(cube_runs[name], "NCLEAR") for name in ("field", "scene"))
    same_place = overlap(small, large)
    nobs = layer(cube_runs["field"], "NOBS")
    assert np.array_equal(nobs[0], overlap(nobs, layer(cube_runs["scene"], "NOBS")))
    differ = small[0] != same_place
    # the larger run sees the cloud north-west of the field and masks its buffer on the field's corner;
    # the field's run does not hold that cloud: those pixels stay clear on that date, and only those
    assert differ.any() and not differ.all()
    assert np.all(small[0][differ] == same_place[differ] + 1)
    assert differ[0, 0] and not differ[-1, -1]


# --- issue 23: a series from January on a winter crop sown the autumn before ---------------------------


def test_seasons_of_one_field_from_january_date_the_harvest_and_flag_the_unseen_emergence(
    series, seasons_run, tmp_path
):
    per_field = tmp_path / "field"
    run("seasons", "--stac", series.catalog, *FIELD, "--year", "2020", "--out", per_field, "--parcels",
        series.parcels, "--id-column", "parcel_id", "--crop-column", "crop_2020")  # fmt: skip
    for run_dir in (seasons_run, per_field):
        out = {code: inside_field(*layer(run_dir, code)) for code in k.LAYERS}
        assert out["CPMCE"].size >= 4
        for code, flag in (("CPMCE", k.FEW_OBSERVATIONS), ("CPMCD", k.FEW_OBSERVATIONS),
                           ("CPMCECL", k.NO_CONFIDENCE), ("CPMCDCL", k.NO_CONFIDENCE),
                           ("CPBSB", k.BARE_OUTSIDE_YEAR), ("CPSCE", k.NO_SECONDARY)):  # fmt: skip
            assert np.all(out[code] == flag), code
        assert all(abs((decode_yydoy(int(v)) - fs.HARVEST).days) <= 6 for v in out["CPMCH"])
        truth_bsa = (fs.NEXT_EMERGENCE - fs.HARVEST).days
        assert np.all(np.abs(out["CPBSA"].astype(int) - truth_bsa) <= 10)
        assert np.all(out["CPCSY"] == 1)
    assert (layer(per_field, "CPMCH")[0] == 65527).any()  # the pixels of the box outside the field


def test_seasons_of_one_pixel_equal_the_same_pixel_of_the_field_run(series, seasons_run, tmp_path):
    run("seasons", "--stac", series.catalog, *PIXEL, "--year", "2020", "--out", tmp_path)
    for code in k.LAYERS:
        pixel = layer(tmp_path, code)
        assert np.array_equal(pixel[0], overlap(pixel, layer(seasons_run, code))), code


def test_seasons_of_a_series_ending_before_the_harvest_say_the_data_cannot_tell(series, tmp_path):
    run("seasons", "--stac", series.before_harvest, *FIELD, "--year", "2020", "--out", tmp_path)
    for code in k.LAYERS:
        assert np.all(inside_field(*layer(tmp_path, code)) == k.FEW_OBSERVATIONS), code


# --- the other products on the same field ------------------------------------------------------------


def test_soilsuite_of_one_field_is_its_soil_and_nothing_before_the_harvest(series, soilsuite_run, tmp_path):
    bare_dates = [d for d in fs.DATES if d not in fs.CLOUDY and fs.ndvi(fs.green_cover(d)) < 0.15]
    bobs = inside_field(*layer(soilsuite_run, "BOBS"), margin_m=25)
    assert bobs.size >= 1 and np.all(np.abs(bobs.astype(int) - len(bare_dates)) <= 2)
    assert np.all(inside_field(*layer(soilsuite_run, "MASK"), margin_m=25) == 1)  # bare surface
    (path,) = soilsuite_run.rglob("*_SRC_MEAN.tif")
    with rasterio.open(path) as src:
        mean = src.read() * np.array(src.scales)[:, None, None]
        names = src.descriptions
    centre = mean[:, mean.shape[1] // 2, mean.shape[2] // 2]
    assert np.allclose(centre, [fs.SOIL[b] for b in names], atol=0.003)
    run("soilsuite", "--stac", series.before_harvest, *FIELD, "--start", "2020-01-01", "--end", "2020-06-30",
        "--out", tmp_path)  # fmt: skip
    assert np.all(inside_field(*layer(tmp_path, "BOBS")) == 0)  # never bare: no composite


def test_soil_on_one_field_says_it_has_too_few_samples(soilsuite_run, tmp_path, capsys):
    from tests.support.stac_factory import write_band

    dem = tmp_path / "dem.tif"
    write_band(dem, 100 + np.arange(100)[:, None] + np.zeros((1, 100)), 10)
    lon0, lat0, lon1, lat1 = fs.field_bbox(30)
    samples = tmp_path / "samples.csv"
    pd.DataFrame({"sample_id": ["a", "b", "c"], "lon": [lon0, lon1, lon0], "lat": [lat0, lat1, lat1],
                  "soc": [1.2, 1.5, 1.1]}).to_csv(samples, index=False)  # fmt: skip
    code, _, err = run_cli(capsys, "soil", "--samples", samples, "--property", "soc", "--covariates",
                           soilsuite_run, "--dem", dem, "--out", tmp_path / "soil")  # fmt: skip
    assert code == 1 and len(err.strip().splitlines()) == 1, err  # not a crash of the terrain's neighbourhood
    assert "soc: only 3 usable sample(s) of 3, at least 20 needed" in err


def test_parcels_of_one_field_find_its_bare_period(series, tmp_path):
    parcels = ("--parcels", series.parcels, "--id-column", "parcel_id", "--category-column", "crop_2020")
    run("parcels", "--stac", series.catalog, *parcels, *YEAR, "--out", tmp_path / "year")
    (table,) = (tmp_path / "year").rglob("bare_soil_periods.parquet")
    periods = pd.read_parquet(table).iloc[0]
    start = date.fromisoformat(periods["START_S2_1"])
    assert fs.HARVEST <= start <= fs.HARVEST + timedelta(days=6)
    # a young cereal covering under a quarter of the soil leaves it bare: the period runs past emergence
    end = periods["END_S2_1"]
    assert end == "Continue" or date.fromisoformat(end) >= fs.NEXT_EMERGENCE
    assert periods["START_S2_2"] is None
    (markers,) = (tmp_path / "year").rglob("markers.parquet")
    ndvi = pd.read_parquet(markers).query("feature == 'NDVI' and source == 'S2'")
    truth = [fs.ndvi(fs.green_cover(date.fromisoformat(str(d)[:10]))) for d in ndvi["date"]]
    assert len(ndvi) == len(fs.DATES) - len(fs.CLOUDY)
    assert np.allclose(ndvi["median"], truth, atol=0.01)
    run("parcels", "--stac", series.before_harvest, *parcels, "--start", "2020-01-01", "--end", "2020-06-30",
        "--out", tmp_path / "early")  # fmt: skip
    (table,) = (tmp_path / "early").rglob("bare_soil_periods.parquet")
    assert pd.read_parquet(table).iloc[0]["START_S2_1"] is None  # the cereal stands throughout
