"""Registry encodings, COG writing and the STAC catalog of outputs."""

import json
from datetime import date
from xml.etree import ElementTree

import dask.array as da
import matplotlib.colors as mcolors
import numpy as np
import pystac
import pytest
import rasterio
import xarray as xr

from baresoil.grid import geobox_for_bounds
from baresoil.io.cog import LayerOutput, read_layer, write_layers
from baresoil.io.stac import OutputItem, output_item_paths, update_catalog, write_item
from baresoil.products.registry import CLASS_COLOURS, Layer, layer, register

register(
    Layer(
        "TEST_REFL",
        "test",
        "Test reflectance",
        "A scaled multi-band layer.",
        "int16",
        -32768,
        scale=1e-4,
        unit="1",
        bands=("B02", "B03", "B04"),
    ),
    Layer(
        "TEST_CLASS",
        "test",
        "Test classes",
        "A categorical layer.",
        "uint8",
        0,
        classes={1: "bare", 2: "vegetation", 3: "other"},
    ),
    Layer(
        "TEST_DATE",
        "test",
        "Test date",
        "A layer with flags.",
        "uint16",
        65535,
        flags={65533: "outside window", 65534: "not computable"},
    ),
)
GEOBOX = geobox_for_bounds((4_400_000, 2_780_000, 4_400_000 + 20 * 700, 2_780_000 + 20 * 600), 20)


def test_encode_decode_round_trip_with_scale_nodata_and_flags():
    refl = layer("TEST_REFL")
    values = np.array([0.1234, -0.05, np.nan, 5.0])
    stored = refl.encode(values)
    assert stored.dtype == np.int16
    assert stored.tolist() == [1234, -500, -32768, 32767]
    np.testing.assert_allclose(refl.decode(stored)[:2], [0.1234, -0.05])
    assert np.isnan(refl.decode(stored)[2])
    dates = layer("TEST_DATE")
    stored = dates.encode(np.array([22001.0, 70000.0, np.nan]))
    assert stored.tolist() == [22001, 65532, 65535]  # clipped below the flag codes


def test_registry_refuses_a_conflicting_redefinition():
    with pytest.raises(ValueError, match="registered twice"):
        register(Layer("TEST_CLASS", "test", "x", "y", "uint16", 0))


def test_cog_round_trip_of_chunked_layers(tmp_path):
    rng = np.random.default_rng(0)
    refl = rng.uniform(0, 0.5, size=(3, GEOBOX.height, GEOBOX.width))
    refl[:, :10, :10] = np.nan
    classes = rng.integers(1, 4, size=(GEOBOX.height, GEOBOX.width)).astype(float)
    outputs = [
        LayerOutput(
            "TEST_REFL",
            xr.DataArray(da.from_array(refl, chunks=(3, 256, 256)), dims=("band", "y", "x")),
            tmp_path / "a" / "refl.tif",
        ),
        LayerOutput(
            "TEST_CLASS",
            xr.DataArray(da.from_array(classes, chunks=256), dims=("y", "x")),
            tmp_path / "a" / "class.tif",
        ),
    ]
    paths = write_layers(outputs, GEOBOX)
    # no partials left; the class layer has its style and attribute table, the composite needs neither
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "class.qml",
        "class.tif",
        "class.tif.aux.xml",
        "refl.tif",
    ]
    values, profile = read_layer(paths[0])
    np.testing.assert_allclose(values, refl, atol=0.5e-4)
    assert np.isnan(values[:, :10, :10]).all()
    assert profile["crs"] == "EPSG:3035" and profile["transform"] == GEOBOX.transform
    assert profile["scales"] == (1e-4,) * 3
    with rasterio.open(paths[0]) as src:
        assert src.descriptions == ("B02", "B03", "B04")
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.overviews(1), "a COG of 700 px carries overviews"
        assert src.profile["blockxsize"] == 512
    stored_classes, _ = read_layer(paths[1])
    np.testing.assert_array_equal(stored_classes, classes)


def test_output_catalog_items_and_raster_bands(tmp_path):
    values = xr.DataArray(da.zeros((GEOBOX.height, GEOBOX.width), chunks=256) + 2, dims=("y", "x"))
    path = tmp_path / "t_2021" / "t_2021_TEST_CLASS.tif"
    write_layers([LayerOutput("TEST_CLASS", values, path)], GEOBOX)
    item = OutputItem("t_2021", "E44N27", date(2021, 1, 1), date(2021, 12, 31), GEOBOX, {"TEST_CLASS": path})
    write_item(tmp_path, item)
    update_catalog(tmp_path, ["t_2021"])
    update_catalog(tmp_path, ["t_2021"])  # idempotent
    assert output_item_paths(tmp_path) == [tmp_path / "t_2021" / "t_2021.json"]
    stac_item = json.loads((tmp_path / "t_2021" / "t_2021.json").read_text())
    props = stac_item["properties"]
    assert (
        props["start_datetime"] == "2021-01-01T00:00:00Z" and props["end_datetime"] == "2021-12-31T23:59:59Z"
    )
    assert props["datetime"].startswith("2021-07-02T12:")  # the middle of the year
    asset = stac_item["assets"]["TEST_CLASS"]
    assert asset["href"] == "t_2021_TEST_CLASS.tif"
    assert asset["raster:bands"] == [{"data_type": "uint8", "nodata": 0}]
    assert asset["proj:code"] == "EPSG:3035" and asset["proj:shape"] == [600, 700]
    assert stac_item["collection"] == "baresoil-test"
    read_back = pystac.Catalog.from_file(str(tmp_path / "catalog.json"))
    assert [it.id for it in read_back.get_items(recursive=True)] == ["t_2021"]


def test_class_layers_carry_the_registry_colours_and_an_attribute_table(tmp_path):
    """The COG's colour table, the .aux.xml attribute table GDAL reads, the report and the style agree."""
    classes = np.repeat([1.0, 2.0, 3.0, np.nan], GEOBOX.width // 4)[None].repeat(GEOBOX.height, axis=0)
    values = xr.DataArray(da.from_array(classes, chunks=256), dims=("y", "x"))
    (path,) = write_layers([LayerOutput("TEST_CLASS", values, tmp_path / "class.tif")], GEOBOX)
    colours = layer("TEST_CLASS").class_colours()
    assert colours == {1: CLASS_COLOURS[0], 2: CLASS_COLOURS[1], 3: CLASS_COLOURS[2]}
    with rasterio.open(path) as src:
        table = src.colormap(1)
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    for value, colour in colours.items():
        assert table[value] == (*(round(255 * c) for c in mcolors.to_rgb(colour)), 255)
    assert table[0][3] == 0  # nodata transparent
    rat = ElementTree.parse(path.with_name("class.tif.aux.xml")).find(
        "PAMRasterBand/GDALRasterAttributeTable"
    )
    assert rat is not None and rat.get("tableType") == "thematic"
    names = [f.findtext("Name") for f in rat.findall("FieldDefn")]
    usages = [int(f.findtext("Usage")) for f in rat.findall("FieldDefn")]
    assert names == ["Value", "Class", "Red", "Green", "Blue", "Alpha"]
    assert usages == [5, 2, 6, 7, 8, 9]  # GFU_MinMax, GFU_Name, GFU_Red …
    rows = [[cell.text for cell in row.findall("F")] for row in rat.findall("Row")]
    assert rows == [
        [str(value), name, *(str(round(255 * c)) for c in mcolors.to_rgb(colours[value])), "255"]
        for value, name in layer("TEST_CLASS").classes.items()
    ]
