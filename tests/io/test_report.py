"""The HTML report on a small hand-made output folder whose every value is known.

:func:`build_outputs` writes, with the library's own writers, a SoilSuite item
(MASK half bare, half permanent vegetation, its last rows nodata; BSF a ramp;
a reflectance composite), a crop-seasons item (harvest dates with a block of
the 'no season' flag) and a parcels item (four square parcels, their markers
and a bare-soil table with one Strong and one Doubtful period).  The browser
test uses it too.
"""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import dask.array as da
import geopandas as gpd
import matplotlib.colors as mcolors
import matplotlib.image as mimage
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from odc.geo.geobox import GeoBox
from shapely.geometry import box

from baresoil import __version__
from baresoil.catalog.layouts import REFLECTANCE_BANDS
from baresoil.config import Config
from baresoil.errors import OutputError
from baresoil.io.cog import LayerOutput, write_layers
from baresoil.io.report import write_report
from baresoil.io.report_images import quicklook
from baresoil.io.report_parcels import CLASS_COLOURS as PARCEL_COLOURS
from baresoil.io.stac import (
    OutputItem,
    TableAsset,
    output_item_paths,
    update_catalog,
    write_item,
    write_table_item,
)
from baresoil.io.tables import PARQUET_MEDIA_TYPE, table_columns, write_parquet
from baresoil.products import seasons as _seasons  # noqa: F401  (registers the layers)
from baresoil.products import soilsuite as _soilsuite  # noqa: F401
from baresoil.products.registry import layer

X0, Y0, SIZE, RES = 4_400_000.0, 2_800_000.0, 64, 20.0
NODATA_ROWS = 8
SOILSUITE = "soilsuite_E44N28_2021-2022_R20m"
SEASONS = "seasons_E44N28_2022_R20m"
PARCELS = "parcels_fields_2022_R20m"


def _geobox() -> GeoBox:
    return GeoBox.from_bbox((X0, Y0, X0 + SIZE * RES, Y0 + SIZE * RES), crs="EPSG:3035", resolution=RES)


def _array(values: np.ndarray, geobox: GeoBox) -> xr.DataArray:
    dims = ("y", "x") if values.ndim == 2 else ("band", "y", "x")
    return xr.DataArray(da.from_array(values.astype(np.float32), chunks=32), dims=dims)


def _raster_item(
    out: Path, item_id: str, start: date, end: date, layers: dict[str, np.ndarray], config: Config
) -> None:
    geobox = _geobox()
    folder = out / item_id
    folder.mkdir(parents=True)
    outputs = [
        LayerOutput(code, _array(v, geobox), folder / f"{item_id}_{code}.tif") for code, v in layers.items()
    ]
    write_layers(outputs, geobox)
    properties = {
        "baresoil:family": item_id.split("_")[0],
        "baresoil:source": "hand-made",
        "baresoil:config": config.to_dict(),
    }
    write_item(
        out, OutputItem(item_id, "E44N28", start, end, geobox, {o.code: o.path for o in outputs}, properties)
    )


def _soilsuite_layers() -> dict[str, np.ndarray]:
    mask = np.where(np.arange(SIZE)[None, :] < SIZE // 2, 1.0, 2.0) * np.ones((SIZE, 1))
    mask[-NODATA_ROWS:] = np.nan
    bsf = np.tile(np.linspace(0, 100, SIZE), (SIZE, 1))
    rng = np.random.default_rng(0)
    src = 0.05 + 0.25 * rng.random((len(REFLECTANCE_BANDS), SIZE, SIZE))
    return {"MASK": mask, "BSF": bsf, "SRC_MEAN": src, "SRC_STD": src / 10}


def _seasons_layers() -> dict[str, np.ndarray]:
    harvest = np.tile(np.linspace(22150, 22250, SIZE).round(), (SIZE, 1))
    harvest[:16, :16] = 65532  # no season
    bsa = np.tile(np.linspace(10, 150, SIZE).round(), (SIZE, 1))
    confidence = np.tile(np.linspace(5, 30, SIZE).round()[:, None], (1, SIZE))
    return {"CPMCH": harvest, "CPBSA": bsa, "CPBSACL": confidence}


def _parcels(out: Path) -> None:
    folder = out / PARCELS
    folder.mkdir(parents=True)
    side = SIZE * RES / 2
    squares = [
        box(X0 + i * side, Y0 + j * side, X0 + (i + 1) * side, Y0 + (j + 1) * side)
        for j in range(2)
        for i in range(2)
    ]
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ["A", "B", "C", "D"],
            "category": ["maize", "winter_wheat", "grass", "maize"],
            "issues": ["", "", "too_few_pixels", ""],
        },
        geometry=squares,
        crs="EPSG:3035",
    )
    days = pd.date_range("2022-01-05", "2022-12-25", freq="20D")
    rows = []
    for pid, low in zip("ABCD", (0.1, 0.12, 0.6, 0.2), strict=True):
        ndvi = low + 0.6 * np.sin(np.linspace(0, np.pi, len(days))) ** 2
        for day, value in zip(days, ndvi, strict=True):
            rows.append((pid, day, "S2", "NDVI", value, value - 0.05, value + 0.05))
            rows.append((pid, day, "S2", "NDTI", 0.05, 0.0, 0.1))
            rows.append((pid, day, "S1", "VV", -10.0, -11.0, -9.0))
            rows.append((pid, day, "S1", "VH", -16.0 + 3 * value, -17.0, -15.0))
    markers = pd.DataFrame(rows, columns=["parcel_id", "date", "source", "feature", "mean", "p25", "p75"])
    bare = pd.DataFrame(
        {
            "parcel_id": ["A", "B", "C", "D"],
            "START_S2_1": ["2022-01-05", "2022-11-11", None, "2022-01-05"],
            "END_S2_1": ["2022-02-14", "Continue", None, "2022-01-05"],
            "Conf_S2_1": ["Strong", "Good", None, "Doubtful"],
            "LastObsS2": ["2022-12-21"] * 4,
        }
    )
    assets = {}
    for key, frame in (("parcels", parcels), ("markers", markers), ("bare_soil", bare)):
        path = write_parquet(frame, folder / f"{key}.parquet")
        assets[key] = TableAsset(path, key, key, PARQUET_MEDIA_TYPE, table_columns(frame), len(frame))
    footprint = box(6.0, 50.0, 6.1, 50.1)
    write_table_item(
        out,
        PARCELS,
        footprint,
        date(2022, 1, 1),
        date(2022, 12, 31),
        assets,
        {"baresoil:family": "parcels", "baresoil:parcel_file": "fields.gpkg"},
    )


def build_outputs(out: Path) -> Path:
    """A hand-made output folder (SoilSuite, seasons, parcels items and their catalog)."""
    config = Config().override(**{"soilsuite.threshold": "0.2"})
    _raster_item(out, SOILSUITE, date(2021, 1, 1), date(2022, 12, 31), _soilsuite_layers(), config)
    _raster_item(out, SEASONS, date(2022, 1, 1), date(2022, 12, 31), _seasons_layers(), Config())
    _parcels(out)
    update_catalog(out, [SOILSUITE, SEASONS, PARCELS])
    return out


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_outputs(tmp_path_factory.mktemp("outputs"))


@pytest.fixture(scope="module")
def page(outputs: Path) -> str:
    return write_report(outputs, outputs / "report.html", title="test report").read_text()


def _image(look_png: bytes) -> np.ndarray:
    return mimage.imread(io.BytesIO(look_png), format="png")


def test_mask_quicklook_colours_classes_and_leaves_nodata_transparent(outputs):
    look = quicklook("MASK", outputs / SOILSUITE / f"{SOILSUITE}_MASK.tif")
    rgba = _image(look.png)
    assert rgba.shape[:2] == (SIZE, SIZE)
    colours = layer("MASK").class_colours()
    bare, vegetation = (np.array(mcolors.to_rgba(colours[c])) for c in (1, 2))
    np.testing.assert_allclose(rgba[0, 0], bare, atol=1 / 255)
    np.testing.assert_allclose(rgba[0, -1], vegetation, atol=1 / 255)
    assert np.all(rgba[-NODATA_ROWS:, :, 3] == 0)
    share = 100 * (SIZE - NODATA_ROWS) / 2 / SIZE
    assert look.stats["1 bare surface"] == f"{share:.1f} %"
    assert look.stats["nodata"] == f"{100 * NODATA_ROWS / SIZE:.1f} %"
    assert "1 bare surface" in look.legend and "2 permanent vegetation" in look.legend
    assert look.bounds == pytest.approx((X0, Y0, X0 + SIZE * RES, Y0 + SIZE * RES))


def test_flag_layer_shows_flags_in_grey_and_dates_in_the_legend(outputs):
    look = quicklook("CPMCH", outputs / SEASONS / f"{SEASONS}_CPMCH.tif")
    rgba = _image(look.png)
    np.testing.assert_allclose(
        rgba[0, 0], mcolors.to_rgba(layer("CPMCH").flag_colours()[65532]), atol=1 / 255
    )
    assert "65532 no season could be delineated" in look.legend
    assert look.stats["flag 65532"] == f"{100 * 16 * 16 / SIZE**2:.1f} %"
    low, high = re.search(r"(\d{4}-\d\d-\d\d) … (\d{4}-\d\d-\d\d)", look.legend).groups()
    assert "2022-05-30" <= low < high <= "2022-09-07"  # YYDOY 22150 … 22250 read as dates


def test_page_has_every_family_a_map_with_all_quicklooks_and_the_provenance(page):
    for heading in (
        "Map",
        "SoilSuite composites",
        "Crop seasons and bare-soil periods",
        "Parcel monitoring",
        "Provenance",
    ):
        assert f">{heading}</h2>" in page, heading
    keys = re.findall(r'<img class="maplayer" data-layer="([^"]+)"', page)
    # quick-look layers only: SRC_STD is secondary (linked), every other layer is drawn
    assert sorted(keys) == sorted(
        [f"{SOILSUITE}/{c}" for c in ("MASK", "BSF", "SRC_MEAN")]
        + [f"{SEASONS}/{c}" for c in ("CPMCH", "CPBSA", "CPBSACL")]
    )
    visible = re.findall(r'<img class="maplayer" data-layer="([^"]+)" style="[^"]+" alt', page)
    assert visible == [f"{SOILSUITE}/MASK"]  # the default layer; the others carry `hidden`
    assert f'href="{SOILSUITE}/{SOILSUITE}_SRC_STD.tif"' in page
    assert "soilsuite.threshold = &quot;0.2&quot;" in page  # a parameter that differs from the defaults
    assert "Timeline" in page and f"baresoil {__version__}" in page


def test_page_is_self_contained(page):
    assert "<script src" not in page and "<link" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_parcels_overlay_and_time_series(page):
    paths = re.findall(r'<path d="[^"]+" fill="([^"]+)" data-parcel="([A-Z])">', page)
    colours = {pid: fill for fill, pid in paths}
    assert set(colours) == {"A", "B", "C", "D"}
    assert colours["A"] == PARCEL_COLOURS["Strong"] and colours["D"] == PARCEL_COLOURS["Doubtful"]
    assert colours["C"] == PARCEL_COLOURS["none"]  # no bare-soil period
    assert "bare-soil confidence of the first S2 period" in page
    assert "too_few_pixels 1" in page
    assert 'alt="parcel time series"' in page


def test_a_folder_without_outputs_is_a_clear_error(tmp_path):
    with pytest.raises(OutputError, match="no output catalog"):
        write_report(tmp_path)


def test_report_command(outputs, tmp_path):
    from typer.testing import CliRunner

    from baresoil.cli.main import app

    target = tmp_path / "page.html"
    result = CliRunner().invoke(app, ["report", str(outputs), "--out", str(target)])
    assert result.exit_code == 0, result.output
    assert f"report: {target}" in result.output
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert len(output_item_paths(outputs)) == 3
