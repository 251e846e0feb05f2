"""The STAC catalog of outputs: a collection per family, items that stack by period, odc-stac loading."""

import json
from datetime import date, datetime, timedelta

import dask.array as da
import numpy as np
import odc.stac
import pystac
import pytest
import xarray as xr
from odc.geo.geobox import GeoBox
from pyproj import CRS
from pystac.extensions.classification import ClassificationExtension
from pystac.extensions.eo import EOExtension
from pystac.extensions.raster import RasterExtension

from baresoil.catalog.layouts import EARTH_SEARCH, REFLECTANCE_BANDS
from baresoil.catalog.source import StacSource, TimeRange
from baresoil.config import Config, CubeConfig, SoilSuiteConfig
from baresoil.grid import area_from_bbox, geobox_for_bounds
from baresoil.io.cog import LayerOutput, write_layers
from baresoil.io.stac import (
    CLASSIFICATION_EXT,
    EO_EXT,
    FILE_EXT,
    PROJECTION_EXT,
    RASTER_EXT,
    OutputItem,
    TableAsset,
    load_outputs,
    nominal_datetime,
    output_item_paths,
    update_catalog,
    write_item,
    write_table_item,
)
from baresoil.pipeline.run import Job, run_product
from baresoil.products.soilsuite import soilsuite
from baresoil.registry import layer, layers

from tests.support.stac_factory import lonlat_bbox, make_item, write_catalog, write_scene

SOIL = dict(zip(REFLECTANCE_BANDS, (0.08, 0.11, 0.16, 0.18, 0.20, 0.22, 0.24, 0.25, 0.30, 0.26), strict=True))
CANOPY = dict(
    zip(REFLECTANCE_BANDS, (0.03, 0.06, 0.03, 0.09, 0.25, 0.33, 0.38, 0.40, 0.20, 0.10), strict=True)
)
# every pixel: 2021 soil, soil, soil, canopy (BSF 75 %); 2022 soil, soil, soil (100 %); both 6 of 7
STATES = {2021: ("soil", "soil", "soil", "canopy"), 2022: ("soil", "soil", "soil")}
BSF = {"2021": 75.0, "2022": 100.0, "2021-2022": 600 / 7}
PERIODS = ("2021", "2021-2022", "2022")
"""The items' periods in the order of their datetimes."""
GEOBOX = geobox_for_bounds((4_400_000, 2_780_000, 4_400_000 + 20 * 30, 2_780_000 + 20 * 20), 20)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """A SoilSuite run over two years: three items (2021-2022, 2021, 2022) in one catalog."""
    tmp = tmp_path_factory.mktemp("output_stac")
    items = []
    for year, states in STATES.items():
        for i, state in enumerate(states):
            when = datetime(year, 4, 1, 10) + timedelta(days=10 * i)
            paths = write_scene(
                tmp / f"s{year}_{i}", offset_dn=0, reflectance=SOIL if state == "soil" else CANOPY
            )
            items.append(make_item(EARTH_SEARCH, f"item{year}_{i}", when, paths, "03.01"))
    catalog = write_catalog(tmp / "stac", items)
    config = Config(cube=CubeConfig(resolution=20), soilsuite=SoilSuiteConfig(threshold="0.2"))
    period = TimeRange.parse("2021-01-01", "2022-12-31")
    job = Job(StacSource(str(catalog)), area_from_bbox(*lonlat_bbox(100)), period, tmp / "out", config,
              progress=False)  # fmt: skip
    run_product(job, "soilsuite", soilsuite)
    return tmp / "out"


def _items(out):
    return list(pystac.Catalog.from_file(str(out / "catalog.json")).get_items(recursive=True))


def test_the_catalog_holds_a_collection_per_family_with_its_items(outputs):
    root = pystac.Catalog.from_file(str(outputs / "catalog.json"))
    (collection,) = root.get_children()
    assert isinstance(collection, pystac.Collection)
    assert collection.id == "baresoil-soilsuite"
    assert (outputs / "soilsuite" / "collection.json").exists()
    assert sorted(it.id for it in collection.get_items()) == sorted(f"soilsuite_E44N27_{p}_R20m" for p in BSF)
    assert sorted(p.parent.name for p in output_item_paths(outputs)) == sorted(
        it.id for it in _items(outputs)
    )
    for item in _items(outputs):
        assert item.collection_id == "baresoil-soilsuite"
        assert item.get_parent().id == "baresoil-soilsuite" and item.get_root().id == "baresoil-outputs"


def test_the_collection_says_what_every_item_holds(outputs):
    collection = pystac.Collection.from_file(str(outputs / "soilsuite" / "collection.json"))
    # item_assets: every SoilSuite layer, also those of yearly items only (FIRST_BARE …)
    assert set(collection.item_assets) == {lay.code for lay in layers("soilsuite")}
    bsf = collection.item_assets["BSF"]
    assert bsf.title == "Bare-soil frequency" and bsf.media_type == pystac.MediaType.COG
    assert bsf.properties["raster:bands"] == [{"data_type": "uint16", "nodata": 65535, "scale": 0.01,
                                               "offset": 0.0, "unit": "%"}]  # fmt: skip
    assert collection.license == "other"
    assert collection.get_single_link("license").href.startswith("https://sentinels.copernicus.eu/")
    assert {role for p in collection.providers for role in p.roles} >= {"producer", "licensor", "processor"}
    (interval,) = collection.extent.temporal.intervals
    assert interval[0] == datetime(2021, 1, 1, tzinfo=interval[0].tzinfo)
    assert interval[1].date() == date(2022, 12, 31)
    west, south, east, north = lonlat_bbox(100)
    (bbox,) = collection.extent.spatial.bboxes
    assert bbox[0] <= west and bbox[1] <= south and bbox[2] >= east and bbox[3] >= north
    assert collection.summaries.get_list("gsd") == [20]
    assert "Copernicus Sentinel data [2021–2022]" in collection.description
    assert set(collection.stac_extensions) == {RASTER_EXT, EO_EXT, CLASSIFICATION_EXT, PROJECTION_EXT}


def test_reflectance_bands_carry_common_names_and_odc_names(outputs):
    collection = pystac.Collection.from_file(str(outputs / "soilsuite" / "collection.json"))
    bands = collection.item_assets["SRC_MEAN"].properties["eo:bands"]
    assert [b["name"] for b in bands] == [f"SRC_MEAN.{b}" for b in REFLECTANCE_BANDS]
    assert [b.get("common_name") for b in bands][:3] == ["blue", "green", "red"]
    assert bands[2]["center_wavelength"] == pytest.approx(0.665)
    item = _items(outputs)[0]
    eo = EOExtension.ext(item.assets["SRC_MEAN"])
    assert eo.bands[8].common_name == "swir16"
    assert RasterExtension.ext(item.assets["SRC_MEAN"]).bands[2].scale == 1e-4


def test_every_extension_used_is_declared_and_classes_have_colours(outputs):
    for item in _items(outputs):
        assert set(item.stac_extensions) == {PROJECTION_EXT, RASTER_EXT, EO_EXT, CLASSIFICATION_EXT, FILE_EXT}
        classes = ClassificationExtension.ext(item.assets["MASK"]).classes
        colours = layer("MASK").class_colours()
        assert [(c.value, c.name) for c in classes[:3]] == [
            (1, "bare_surface"),
            (2, "permanent_vegetation"),
            (3, "other_surfaces_built-up_water"),
        ]
        assert [f"#{c.color_hint.lower()}" for c in classes[:3]] == [colours[v] for v in (1, 2, 3)]
        assert classes[3].value == 0 and classes[3].nodata is True


def test_items_of_different_periods_are_different_time_slices_in_odc_stac(outputs):
    items = _items(outputs)
    assert len(items) == 3
    stored = odc.stac.load(items, bands=["BSF", "SRC_MEAN.B04"])
    assert stored.sizes["time"] == 3  # the whole period and each year: none merged
    assert stored["SRC_MEAN.B04"].dtype == np.int16
    data = load_outputs(items, ["BSF", "SRC_MEAN.B04", "MASK"])
    assert data.sizes["time"] == 3 and data["BSF"].dtype == np.float32
    by_period = {it.properties["start_datetime"][:4] + ("-2022" if "2021-2022" in it.id else ""): it
                 for it in items}  # fmt: skip
    for t, period in enumerate(PERIODS):
        assert np.datetime64(by_period[period].datetime.replace(tzinfo=None)) == data.time.values[t]
        bsf = data["BSF"].isel(time=t).values
        red = data["SRC_MEAN.B04"].isel(time=t).values
        assert np.isfinite(bsf).mean() > 0.9, period
        np.testing.assert_allclose(bsf[np.isfinite(bsf)], BSF[period], atol=0.01)  # percent, scale applied
        np.testing.assert_allclose(red[np.isfinite(red)], SOIL["B04"], atol=1e-4)  # reflectance
        assert set(np.unique(data["MASK"].isel(time=t).values[np.isfinite(bsf)])) == {1.0}


def test_raster_bands_alone_give_the_physical_values(outputs):
    """What a client without baresoil does: scale and offset from the asset's raster:bands."""
    items = _items(outputs)
    stored = odc.stac.load(items, bands=["SRC_MEAN.B04"])["SRC_MEAN.B04"]
    band = RasterExtension.ext(items[0].assets["SRC_MEAN"]).bands[REFLECTANCE_BANDS.index("B04")]
    red = stored.where(stored != band.nodata) * band.scale + band.offset
    np.testing.assert_allclose(red.values[np.isfinite(red.values)], SOIL["B04"], atol=1e-4)


def test_nominal_datetimes_of_nested_periods_differ_and_stay_in_the_middle():
    three_years = nominal_datetime(date(2021, 1, 1), date(2023, 12, 31))
    middle_year = nominal_datetime(date(2022, 1, 1), date(2022, 12, 31))
    assert three_years != middle_year  # the same middle, 2 July 2022 at noon
    assert three_years.date() == middle_year.date() == date(2022, 7, 2)
    assert middle_year - datetime(2022, 7, 2, 12, tzinfo=middle_year.tzinfo) == timedelta(seconds=365)
    assert nominal_datetime(date(2021, 1, 1), date(2021, 12, 31)).year == 2021


def _class_item(out, item_id, code, values, start=date(2022, 1, 1), end=date(2022, 12, 31)):
    path = out / item_id / f"{item_id}_{code}.tif"
    write_layers([LayerOutput(code, xr.DataArray(da.from_array(values, chunks=256), dims=("y", "x")), path)],
                 GEOBOX)  # fmt: skip
    return write_item(out, OutputItem(item_id, "E44N27", start, end, GEOBOX, {code: path}))


def test_seasons_flags_are_classification_values(tmp_path):
    values = np.full((GEOBOX.height, GEOBOX.width), 22213.0)
    values[:5] = 65529
    item_path = _class_item(tmp_path, "seasons_E44N27_2022_R20m", "CPBSA", values)
    update_catalog(tmp_path, [item_path.stem])
    item = pystac.Item.from_file(str(item_path))
    classes = {c.value: c for c in ClassificationExtension.ext(item.assets["CPBSA"]).classes}
    assert set(classes) == {*layer("CPBSA").flags, 65535}
    assert classes[65529].description == "the bare-soil period is not within the year"
    assert classes[65529].name == "the_bare-soil_period_is_not_within_the_year"
    assert classes[65535].nodata is True
    assert CLASSIFICATION_EXT in item.stac_extensions and EO_EXT not in item.stac_extensions
    collection = json.loads((tmp_path / "seasons" / "collection.json").read_text())
    assert set(collection["item_assets"]) == {lay.code for lay in layers("seasons")}
    assert collection["item_assets"]["CPMCH"]["classification:classes"][0] == {
        "value": 0,
        "name": "no_annual_cropland",
        "description": "no annual cropland",
        "color_hint": layer("CPMCH").flag_colours()[0].lstrip("#").upper(),
    }
    assert EO_EXT not in collection["stac_extensions"] and CLASSIFICATION_EXT in collection["stac_extensions"]


def test_a_catalog_listing_its_items_directly_is_converted(tmp_path):
    """Output folders written before collections existed: their items join the family's collection."""
    old = _class_item(tmp_path, "soilsuite_E44N27_2021_R20m", "MASK", np.ones((GEOBOX.height, GEOBOX.width)),
                      date(2021, 1, 1), date(2021, 12, 31))  # fmt: skip
    item = json.loads(old.read_text())
    item.pop("collection")
    item["properties"]["datetime"] = None
    item["links"] = [{"rel": "root", "href": "../catalog.json"}, {"rel": "parent", "href": "../catalog.json"}]
    old.write_text(json.dumps(item))
    (tmp_path / "catalog.json").write_text(json.dumps({
        "type": "Catalog", "stac_version": "1.1.0", "id": "baresoil-outputs", "description": "old",
        "links": [{"rel": "root", "href": "./catalog.json"},
                  {"rel": "item", "href": f"./{old.stem}/{old.name}"}]}))  # fmt: skip
    assert output_item_paths(tmp_path) == [old]  # still readable as it is
    new = _class_item(tmp_path, "soilsuite_E44N27_2022_R20m", "MASK", np.ones((GEOBOX.height, GEOBOX.width)))
    update_catalog(tmp_path, [new.stem])
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    assert [ln["rel"] for ln in catalog["links"]] == ["root", "child"]
    assert sorted(output_item_paths(tmp_path)) == sorted([old, new])
    converted = pystac.Item.from_file(str(old))
    assert converted.collection_id == "baresoil-soilsuite"
    assert converted.datetime == nominal_datetime(date(2021, 1, 1), date(2021, 12, 31))
    update_catalog(tmp_path, [new.stem])  # idempotent
    assert sorted(output_item_paths(tmp_path)) == sorted([old, new])


def test_soil_maps_on_a_grid_of_the_users_join_the_soil_collection(tmp_path):
    """A run-time property layer (ZINC_Q50) on a raster's grid whose CRS has no EPSG code: the item keeps
    the grid's projection (proj:wkt2) and no eea:tile; the collection lists the layer from the registry,
    without any one grid's projection; the layer gets its style."""
    import baresoil.products.soil  # noqa: F401  (registers the soil layers and their factory)

    crs = "+proj=laea +lat_0=52 +lon_0=5 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    grid = GeoBox.from_bbox((0, 0, 40 * 12, 40 * 10), crs, resolution=40)
    path = tmp_path / "soil_dist_R40m" / "soil_dist_R40m_ZINC_Q50.tif"
    zinc = np.linspace(100, 900, grid.height * grid.width).reshape(grid.shape)
    write_layers([LayerOutput("ZINC_Q50", xr.DataArray(zinc, dims=("y", "x")), path)], grid)
    day = date(2024, 5, 1)
    output = OutputItem("soil_dist_R40m", "", day, day, grid, {"ZINC_Q50": path}, {"baresoil:family": "soil"})
    item_path = write_item(tmp_path, output)
    update_catalog(tmp_path, [item_path.stem])
    assert output_item_paths(tmp_path) == [item_path]
    item = json.loads(item_path.read_text())
    assert item["collection"] == "baresoil-soil" and "eea:tile" not in item["properties"]
    assert item["properties"]["proj:code"] is None
    assert CRS.from_wkt(item["properties"]["proj:wkt2"]).equals(CRS.from_proj4(crs))
    assert item["assets"]["ZINC_Q50"]["proj:wkt2"] == item["properties"]["proj:wkt2"]
    assert PROJECTION_EXT in item["stac_extensions"]
    collection = json.loads((tmp_path / "soil" / "collection.json").read_text())
    assert "proj:code" not in collection.get("summaries", {})
    assert "grid of a raster given by the user (a CRS without EPSG code)" in collection["description"]
    described = collection["item_assets"]["ZINC_Q50"]
    assert described["raster:bands"] == layer("ZINC_Q50").raster_bands()
    assert not any(key.startswith("proj:") for key in described)
    assert {"SOC_Q50", "CLAY_UNC"} <= set(collection["item_assets"])  # the known properties' layers
    assert path.with_suffix(".qml").exists()


def test_collections_of_tables_and_of_eea_tiles_name_the_eea_grid(tmp_path):
    """Items of tables carry no projection: the parcels collection is not taken for a user's grid."""
    from shapely.geometry import box

    table = tmp_path / "parcels_run" / "markers.csv"
    table.parent.mkdir()
    table.write_text("parcel_id,bsf\n1,0.5\n")
    asset = TableAsset(table, "markers", "markers", "text/csv")
    footprint, family = box(6.0, 50.0, 6.1, 50.1), {"baresoil:family": "parcels"}
    item = write_table_item(tmp_path, "parcels_run", footprint, date(2022, 1, 1), date(2022, 12, 31),
                            {"markers": asset}, family)  # fmt: skip
    mask = _class_item(tmp_path, "soilsuite_E44N27_2022_R20m", "MASK", np.ones((GEOBOX.height, GEOBOX.width)))
    update_catalog(tmp_path, [item.stem, mask.stem])
    for family in ("parcels", "soilsuite"):
        collection = json.loads((tmp_path / family / "collection.json").read_text())
        assert "On the EEA reference grid (EPSG:3035)." in collection["description"], family
