"""The seasons product on a hand-made cube: per pixel, per field, chunking, COG encoding and QGIS styles."""

from __future__ import annotations

from datetime import date, timedelta

import dask.array as da
import numpy as np
import pytest
import rasterio
import xarray as xr
from odc.geo.geobox import GeoBox

from baresoil.config import Config
from baresoil.io.cog import LayerOutput, write_layers
from baresoil.io.styles import write_layer_style
from baresoil.kernels import seasons as k
from baresoil.kernels.events import SOWN_IN_AUTUMN, SOWN_IN_SPRING, SOWN_UNKNOWN
from baresoil.products.seasons import (
    analysis_window,
    file_name,
    seasons,
    sowing_of_crop,
    sowing_of_crops,
)
from baresoil.registry import decode_yydoy

from tests.support.cubes import ndvi_cube

START = date(2021, 7, 1)
DATES = [START + timedelta(days=d) for d in range(2, 730, 5)]
MAIZE = (date(2022, 5, 15), date(2022, 10, 10))
BEET = (date(2022, 4, 25), date(2022, 10, 25))
NY, NX = 4, 6


def _curve(emergence: date, harvest: date) -> np.ndarray:
    t = np.array([(d - emergence).days for d in DATES], float)
    length = (harvest - emergence).days
    x = np.clip(t / 60, 0, 1)  # canopy closes two months after emergence
    ndvi = 0.18 + 0.7 * x * x * (3 - 2 * x)
    ndvi[t >= length] = 0.22
    return ndvi


def _cube(chunks: tuple[int, int], west: tuple[date, date] = MAIZE) -> xr.Dataset:
    """West half maize (or ``west``), east half sugar beet; reflectance with exactly that NDVI, every
    date clear."""
    ndvi = np.empty((len(DATES), NY, NX))
    ndvi[:, :, : NX // 2] = _curve(*west)[:, None, None]
    ndvi[:, :, NX // 2 :] = _curve(*BEET)[:, None, None]
    return ndvi_cube(ndvi, DATES, chunks=chunks)


def _fields() -> xr.DataArray:
    ids = np.zeros((NY, NX), np.int32)
    ids[:3, : NX // 2] = 1
    ids[:3, NX // 2 :] = 2  # the last row lies outside every field
    return xr.DataArray(da.from_array(ids, chunks=(2, 3)), dims=("y", "x"))


def _run(chunks=(NY, NX), fields=None) -> dict[str, np.ndarray]:
    (result,) = seasons(_cube(chunks), analysis_window(2022), Config().override(**{"seasons.year": 2022}),
                        fields, 2 if fields is not None else 0)  # fmt: skip
    assert result.label == "2022" and result.period.start == date(2022, 1, 1)
    return {code: result.layers[code].values for code in result.layers.data_vars}


def _day(value: float) -> date:
    return decode_yydoy(int(value))


def test_per_pixel_dates_of_two_crops():
    out = _run()
    for cols, (emergence, harvest) in ((slice(0, 3), MAIZE), (slice(3, 6), BEET)):
        assert np.all(np.abs([(_day(v) - harvest).days for v in out["CPMCH"][:, cols].ravel()]) <= 6)
        assert np.all(np.abs([(_day(v) - emergence).days for v in out["CPMCE"][:, cols].ravel()]) <= 8)
    assert np.all(out["CPCSY"] == 1)


def test_chunking_does_not_change_the_result():
    whole, chunked = _run(), _run(chunks=(2, 3))
    for code in k.LAYERS:
        np.testing.assert_array_equal(whole[code], chunked[code])


def test_per_field_results_are_painted_on_the_fields_and_flag_the_rest():
    out = _run(chunks=(2, 3), fields=_fields())
    assert np.all(out["CPMCE"][3] == 65527)  # no field delineated there
    for cols, (_, harvest) in ((slice(0, 3), MAIZE), (slice(3, 6), BEET)):
        field = out["CPMCH"][:3, cols]
        assert len(np.unique(field)) == 1
        assert abs((_day(field[0, 0]) - harvest).days) <= 6


def test_a_field_declared_sown_in_spring_keeps_its_march_emergence():
    barley = (date(2022, 3, 22), date(2022, 7, 25))  # its rise, seen in April, is dated back to March
    config = Config().override(**{"seasons.year": 2022})
    runs = {}
    for name, sowing in (("unknown", None), ("declared", np.array([0, SOWN_IN_SPRING, SOWN_UNKNOWN]))):
        (result,) = seasons(_cube((NY, NX), west=barley), analysis_window(2022), config, _fields(), 2,
                            sowing=sowing)  # fmt: skip
        runs[name] = _day(result.layers["CPMCE"].values[0, 0])
    assert runs["unknown"] < date(2021, 12, 1)  # taken for a winter crop's green-up
    assert abs((runs["declared"] - barley[0]).days) <= 8


def test_sowing_codes_must_cover_every_field():
    config = Config().override(**{"seasons.year": 2022})
    with pytest.raises(ValueError, match=r"one code per field id 0\.\.2, got shape \(2,\)"):
        seasons(_cube((NY, NX)), analysis_window(2022), config, _fields(), 2, sowing=np.zeros(2, np.int8))


@pytest.mark.parametrize(
    ("label", "sowing"),
    [
        ("winter_common_soft_wheat", SOWN_IN_AUTUMN),
        ("Winterweizen", SOWN_IN_AUTUMN),
        ("winter_rapeseed", SOWN_IN_AUTUMN),
        ("spring_barley", SOWN_IN_SPRING),
        ("grain_maize_corn_popcorn", SOWN_IN_SPRING),
        ("Sugar beet", SOWN_IN_SPRING),
        ("potatoes", SOWN_IN_SPRING),
        ("orge de printemps", SOWN_IN_SPRING),
        ("wheat", SOWN_UNKNOWN),  # winter or spring wheat: the label does not say
        ("", SOWN_UNKNOWN),
        (None, SOWN_UNKNOWN),
        (float("nan"), SOWN_UNKNOWN),
    ],
)
def test_sowing_season_of_a_declared_crop_label(label, sowing):
    assert sowing_of_crop(label) == sowing


def test_sowing_per_field_id():
    sowing = sowing_of_crops(np.array([2, 1]), ["maize", "winter_wheat"], 3)
    assert sowing.tolist() == [SOWN_UNKNOWN, SOWN_IN_AUTUMN, SOWN_IN_SPRING, SOWN_UNKNOWN]


def test_layers_are_written_as_uint16_with_flags_and_a_qgis_style(tmp_path):
    out = _run(fields=_fields())
    geobox = GeoBox.from_bbox((4_000_000, 3_000_000, 4_000_060, 3_000_040), "EPSG:3035", resolution=10)
    outputs = []
    for code in ("CPMCH", "CPBSA", "CPBSACL"):
        values = xr.DataArray(da.from_array(out[code].astype(np.float32)), dims=("y", "x"))
        outputs.append(LayerOutput(code, values, tmp_path / file_name(code, "E40N30", "2022", 10)))
    paths = write_layers(outputs, geobox)
    assert paths[0].name == "baresoil_CPMCH_S2022_R10m_E40N30_03035.tif"
    with rasterio.open(paths[0]) as src:
        stored = src.read(1)
        assert src.dtypes[0] == "uint16" and src.nodata == 65535
    assert np.all(stored[3] == 65527) and stored[0, 0] == out["CPMCH"][0, 0]
    style = write_layer_style("CPBSA", paths[1]).read_text()
    assert paths[1].with_suffix(".qml").exists()
    assert 'value="65529"' in style and "not within the year" in style
    assert 'value="0" label="0: no annual cropland"' in style


def test_a_year_without_scenes_is_an_error():
    from baresoil.errors import TimeRangeError

    with pytest.raises(TimeRangeError, match="2030"):
        seasons(_cube((NY, NX)), analysis_window(2030), Config().override(**{"seasons.year": 2030}))


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("combine", "max", 'one of "sum", "average"'),
        ("confidence", "width", 'one of "slope", "crossing"'),
        ("harvest_confidence", "gap", 'one of "band", "views"'),
        ("min_event_confidence", -1, "an integer ≥ 0"),
    ],
)
def test_an_invalid_confidence_setting_is_refused_by_the_config(key, value, expected):
    from baresoil.errors import ConfigError

    with pytest.raises(ConfigError, match=rf"seasons\.{key} = .*: expected {expected}"):
        Config().override(**{f"seasons.{key}": value})


def test_a_least_confidence_beyond_the_largest_is_refused_when_the_config_is_made():
    from baresoil.errors import ConfigError

    # every event would be flagged: refused before any data is read, naming both keys
    with pytest.raises(ConfigError, match=r"^flags: seasons\.min_event_confidence must be .*\(40\), got 50$"):
        Config().override(**{"seasons.min_event_confidence": 50})


def test_cross_ratio_averages_speckle_in_linear_power_and_skips_gaps():
    from baresoil.products.seasons import cross_ratio

    rng = np.random.default_rng(2)
    vh = 10 * np.log10(0.02 * rng.gamma(4.4, 1 / 4.4, (3, 12, 12)))  # speckled, mean -17 dB
    vh[0, 0, 0] = np.nan  # no data
    vv = np.full(vh.shape, -10.0)
    s1 = xr.Dataset({band: (("time", "y", "x"), da.from_array(v.astype(np.float32), chunks=(3, 6, 6)))
                     for band, v in (("VH", vh), ("VV", vv))})  # fmt: skip
    raw, smooth = cross_ratio(s1, 1).values, cross_ratio(s1, 5).values
    assert np.isnan(raw[0, 0, 0]) and np.isfinite(smooth[0, 0, 0])  # filled from its neighbours
    assert np.nanstd(smooth) < 0.5 * np.nanstd(raw)
    assert abs(np.nanmean(smooth) - (-17 + 10)) < 0.5


@pytest.mark.parametrize("side", [1, 2])
def test_cross_ratio_of_an_area_smaller_than_the_boxcar(side):
    from baresoil.products.seasons import _boxcar, cross_ratio

    vh = np.linspace(-18.0, -16.0, 3 * side * side).reshape(3, side, side)
    s1 = xr.Dataset({band: (("time", "y", "x"), da.from_array(v.astype(np.float32), chunks=(3, 1, 1)))
                     for band, v in (("VH", vh), ("VV", np.full(vh.shape, -10.0)))})  # fmt: skip
    ratio = cross_ratio(s1, 5).values  # the 5 x 5 boxcar reaches beyond the area: its nearest values
    whole = _boxcar((10 ** (vh / 10)).astype(np.float32), 5)  # the whole array at once
    assert np.allclose(ratio, 10 * np.log10(whole) + 10, atol=1e-4)
    if side == 1:
        assert np.allclose(ratio, vh + 10, atol=1e-4)


def test_multiband_layers_get_no_single_band_style(tmp_path):
    from baresoil.io.styles import write_layer_style

    assert write_layer_style("SRC_MEAN", tmp_path / "never_read.tif") is None
