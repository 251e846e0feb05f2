"""SoilSuite on hand-made scenes with known answers: the product on an in-memory cube of them, the run on
their catalog end to end."""

from datetime import datetime, timedelta

import numpy as np
import pytest
import xarray as xr
from odc.geo.xr import xr_coords

from baresoil.catalog.layouts import EARTH_SEARCH, REFLECTANCE_BANDS
from baresoil.catalog.source import StacSource, TimeRange
from baresoil.config import Config, CubeConfig, SoilSuiteConfig
from baresoil.grid import area_from_bbox
from baresoil.products.soilsuite import soilsuite

from tests.support.cubes import memory_cube
from tests.support.stac_factory import SIZE_M, lonlat_bbox, make_item, write_catalog, write_scene

SOIL = dict(zip(REFLECTANCE_BANDS, (0.08, 0.11, 0.16, 0.18, 0.20, 0.22, 0.24, 0.25, 0.30, 0.26), strict=True))
CANOPY = dict(
    zip(REFLECTANCE_BANDS, (0.03, 0.06, 0.03, 0.09, 0.25, 0.33, 0.38, 0.40, 0.20, 0.10), strict=True)
)
N10 = SIZE_M // 10
WEST = np.zeros((N10, N10), dtype=bool)
WEST[:, : N10 // 2] = True
# west half: soil on dates 0, 1, 2, 4 (4 hazy) and canopy on 3 and 5; east half: always canopy
WEST_STATES = ("soil", "soil", "soil", "canopy", "hazy soil", "canopy")
DATES = [datetime(2021, 4, 1, 10) + timedelta(days=10 * i) for i in range(6)]


def _scene_reflectance(state, west=WEST):
    surface = CANOPY if state == "canopy" else SOIL
    out = {}
    for band in REFLECTANCE_BANDS:
        value = surface[band] + (0.03 if state == "hazy soil" and band == "B02" else 0.0)
        out[band] = np.where(west, value, CANOPY[band])
    return out


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("soilsuite")
    items = []
    for i, (when, state) in enumerate(zip(DATES, WEST_STATES, strict=True)):
        paths = write_scene(tmp / f"s{i}", offset_dn=0, reflectance=_scene_reflectance(state))
        items.append(make_item(EARTH_SEARCH, f"item{i}", when, paths, "03.01"))
    return write_catalog(tmp / "stac", items)


def _utm_x(cube_or_geobox):
    """The UTM easting (the scenes' CRS) of every pixel centre of a cube or a geobox on the EEA grid."""
    from pyproj import Transformer

    from tests.support.stac_factory import EPSG

    coords = cube_or_geobox.coords if isinstance(cube_or_geobox, xr.Dataset) else xr_coords(cube_or_geobox)
    xx, yy = np.meshgrid(coords["x"].values, coords["y"].values)
    return Transformer.from_crs(3035, EPSG, always_xy=True).transform(xx, yy)[0]


def _memory_cube(states):
    """The scenes of ``states`` on the 20 m grid of the area, built in memory (no COG is read): the west half
    of the scenes (by pixel centre) in those states, the east half canopy, SCL 4 (vegetation)."""
    from tests.support.stac_factory import ORIGIN

    geobox = area_from_bbox(*lonlat_bbox(100)).geobox(20)
    west = _utm_x(geobox) < ORIGIN[0] + SIZE_M / 2
    scenes = [_scene_reflectance(state, west) for state in states]
    bands = {band: np.stack([scene[band] for scene in scenes]) for band in REFLECTANCE_BANDS}
    scl = np.full((len(states), *geobox.shape), 4, np.uint8)
    return memory_cube(bands, scl, DATES[: len(states)], geobox=geobox, chunks=(32, 32))


@pytest.fixture(scope="module")
def cube():
    return _memory_cube(WEST_STATES)


def _halves(cube):
    """Masks of the cube pixels well inside the west and east halves (away from the border)."""
    from tests.support.stac_factory import ORIGIN

    ux = _utm_x(cube)
    middle = ORIGIN[0] + SIZE_M / 2
    return ux < middle - 60, ux > middle + 60


def _run(cube, **params):
    config = Config(soilsuite=SoilSuiteConfig(**params))
    (result,) = soilsuite(cube, TimeRange.parse("2021-01-01", "2021-12-31"), config)
    return result.layers.compute()


def test_fixed_threshold_products(cube):
    out = _run(cube, threshold="0.2")
    west, east = _halves(cube)
    assert west.sum() > 50 and east.sum() > 50
    # the hazy soil date is a blue outlier: neither bare nor a valid observation
    assert np.all(out.VOBS.values[west] == 5)
    assert np.all(out.BOBS.values[west] == 3)
    np.testing.assert_allclose(out.BSF.values[west], 60.0)
    assert np.all(out.VOBS.values[east] == 6)
    assert np.all(out.MASK.values[west] == 1)
    assert np.all(out.MASK.values[east] == 2)
    assert np.all(out.BOBS.values[east] == 0)
    for i, band in enumerate(REFLECTANCE_BANDS):
        np.testing.assert_allclose(out.SRC_MEAN.values[i][west], SOIL[band], atol=1e-4)
        np.testing.assert_allclose(out.SRC_STD.values[i][west], 0.0, atol=1e-4)
    assert np.isnan(out.SRC_MEAN.values[:, east]).all()  # below the minimum bare observations
    # MREF: all six clear dates, hazy one included (below the sigma-4 filter? it's 0.03 brighter: out)
    np.testing.assert_allclose(out.MREF.values[6][east], CANOPY["B08"], atol=1e-4)
    # yearly indicators: first bare 1 April (day 91), last 21 April (day 111), one period
    assert np.all(out.FIRST_BARE.values[west] == 91)
    assert np.all(out.LAST_BARE.values[west] == 111)
    assert np.all(out.NBARE.values[west] == 1)
    assert np.isnan(out.FIRST_BARE.values[east]).all()
    np.testing.assert_allclose(out.PVIR2_THR.values[west], 0.2)


def test_min_bare_observations_decides_the_mask(cube):
    out = _run(cube, threshold="0.2", min_bare_obs=4)
    west, _ = _halves(cube)
    assert np.isnan(out.MASK.values[west]).all()  # 3 bare observations: undecided
    assert np.isnan(out.SRC_MEAN.values[:, west]).all()


def test_other_rules(cube):
    west, east = _halves(cube)
    geos3 = _run(cube, rule="geos3")
    assert np.all(geos3.BOBS.values[west] == 3) and np.all(geos3.MASK.values[east] == 2)
    sen4cap = _run(cube, rule="sen4cap")  # soil NDVI is 0.2: not bare for Sen4CAP
    assert np.all(sen4cap.BOBS.values[west] == 0)
    with pytest.raises(ValueError, match="Input should be 'pvir2', 'geos3' or 'sen4cap'"):
        _run(cube, rule="magic")  # the config refuses it before the product runs


def test_soilsuite_run_writes_cogs_stac_items_per_period_and_a_report(tmp_path, catalog):
    import json

    from baresoil.io.cog import read_layer
    from baresoil.io.report import write_report
    from baresoil.pipeline.run import Job, run_product

    source = StacSource(str(catalog))
    period = TimeRange.parse("2021-01-01", "2022-06-30")  # two calendar years
    config = Config(cube=CubeConfig(resolution=20), soilsuite=SoilSuiteConfig(threshold="0.2"))
    job = Job(source, area_from_bbox(*lonlat_bbox(100)), period, tmp_path, config, progress=False)
    items = run_product(job, "soilsuite", soilsuite)
    # the 2022 part of the period has no scene: no empty item is written for it
    assert [p.stem for p in items] == ["soilsuite_E44N27_2021-2022_R20m", "soilsuite_E44N27_2021_R20m"]
    whole = json.loads(items[0].read_text())
    assert set(whole["assets"]) == {"MASK", "BSF", "VOBS", "BOBS", "SRC_MEAN", "SRC_STD", "SRC_CI95", "MREF",
                                    "PVIR2_THR"}  # fmt: skip
    year = json.loads(items[1].read_text())
    assert {"FIRST_BARE", "LAST_BARE", "NBARE"} <= set(year["assets"])
    assert year["properties"]["start_datetime"].startswith("2021-01-01")
    assert year["properties"]["end_datetime"].startswith("2021-12-31")
    assert whole["assets"]["SRC_MEAN"]["raster:bands"][3] == {
        "data_type": "int16", "nodata": -32768, "scale": 1e-4, "offset": 0.0, "unit": "1", "name": "B05",
    }  # fmt: skip
    mask, profile = read_layer(items[0].parent / whole["assets"]["MASK"]["href"])
    assert set(np.unique(mask[np.isfinite(mask)])) <= {1.0, 2.0}
    assert profile["tags"]["CLASSES"].startswith("1=bare surface")
    report = write_report(tmp_path).read_text()
    for title in ("MASK: Bare-surface mask", "BSF: Bare-soil frequency", "SRC_MEAN: Bare-soil reflectance"):
        assert title in report
    assert "data:image/png;base64," in report
    assert 'href="soilsuite_E44N27_2021-2022_R20m/soilsuite_E44N27_2021-2022_R20m_SRC_STD.tif"' in report


def _write_lonlat_raster(path, value_west, value_east, dtype="float32"):
    """A small EPSG:4326 raster (as DLR's threshold image and ESA WorldCover are) over the scenes."""
    import rasterio
    from rasterio.transform import from_bounds

    lon0, lat0, lon1, lat1 = lonlat_bbox(-200)  # a little larger than the scenes
    from pyproj import Transformer

    from tests.support.stac_factory import EPSG, ORIGIN

    mid_lon, _ = Transformer.from_crs(EPSG, 4326, always_xy=True).transform(ORIGIN[0] + SIZE_M / 2, ORIGIN[1])
    width, height = 200, 100
    lons = np.linspace(lon0, lon1, width)
    values = np.where(lons[None, :] < mid_lon, value_west, value_east).repeat(height, axis=0).astype(dtype)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype=dtype,
        crs="EPSG:4326",
        transform=from_bounds(lon0, lat0, lon1, lat1, width, height),
    ) as dst:
        dst.write(values, 1)  # fmt: skip
    return path


def test_threshold_raster_is_resampled_onto_the_grid(cube, tmp_path):
    path = _write_lonlat_raster(tmp_path / "thresholds.tif", 0.05, 0.3)
    out = _run(cube, threshold=str(path))
    west, east = _halves(cube)
    np.testing.assert_allclose(out.PVIR2_THR.values[west], 0.05, atol=1e-4)
    np.testing.assert_allclose(out.PVIR2_THR.values[east], 0.3, atol=1e-4)
    # soil PVIR2 is 0.16: below 0.05 nothing is bare in the west any more
    assert np.all(out.BOBS.values[west] == 0)


def test_landcover_excludes_built_up_and_sets_other_surfaces(cube, tmp_path):
    path = _write_lonlat_raster(tmp_path / "worldcover.tif", 50, 30, dtype="uint8")  # west built-up
    out = _run(cube, threshold="0.2", landcover=str(path))
    west, east = _halves(cube)
    assert np.all(out.MASK.values[west] == 3)
    assert np.all(out.BOBS.values[west] == 0)  # built-up is never bare
    assert np.all(out.MASK.values[east] == 2)


def test_a_spring_of_bare_fields_is_not_taken_for_built_up_land(caplog):
    # west: bare in every view of a short series, as steady and never green as a roof; east: a crop
    spring = _memory_cube(["soil"] * len(DATES))
    out = _run(spring, threshold="0.2")
    west, east = _halves(spring)
    assert np.all(out.MASK.values[west] == 1) and np.all(out.BOBS.values[west] == 6)
    assert np.all(out.MASK.values[east] == 2)
    assert "growing season" in caplog.text
