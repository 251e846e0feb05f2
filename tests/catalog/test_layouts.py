"""The alias table's rules: layout detection, property aliases, where scale and offset come from."""

from datetime import date

import pytest

from baresoil.catalog.layouts import (
    CDSE,
    EARTH_SEARCH,
    EARTH_SEARCH_L2A,
    EARTH_SEARCH_V0,
    OFFSET_SOURCES,
    PLANETARY_COMPUTER,
    Scaling,
    asset_nodata,
    boa_offset_applied,
    detect_layout,
    reflectance_scaling,
    scene_property,
)

ES_KEYS = {"red", "scl", "nir"}
BAND_KEYS = {"B04", "SCL", "B08"}
AFTER = date(2022, 3, 1)
BEFORE = date(2021, 12, 1)
RASTER_BANDS = {"raster:bands": [{"nodata": 0, "data_type": "uint16", "scale": 0.0001, "offset": -0.1}]}


def test_layouts_are_detected_from_asset_keys_then_collection_then_markers():
    assert detect_layout({"B04_10m", "SCL_20m"}) is CDSE
    assert detect_layout({"visual", "thumbnail"}) is None
    # Earth Search v1: two collections with the same keys
    assert detect_layout(ES_KEYS, {}, "sentinel-2-c1-l2a") is EARTH_SEARCH
    assert detect_layout(ES_KEYS, {}, "sentinel-2-l2a") is EARTH_SEARCH_L2A
    assert detect_layout(ES_KEYS, {"earthsearch:boa_offset_applied": True}, None) is EARTH_SEARCH_L2A
    flag_false = {"earthsearch:boa_offset_applied": False}
    assert detect_layout(ES_KEYS, flag_false, "sentinel-2-c1-l2a") is EARTH_SEARCH
    assert detect_layout(ES_KEYS) is EARTH_SEARCH
    # Earth Search v0 has the Planetary Computer's keys, and is not the Planetary Computer
    assert detect_layout(BAND_KEYS, {}, "sentinel-s2-l2a-cogs") is EARTH_SEARCH_V0
    assert detect_layout(BAND_KEYS, {"sentinel:product_id": "S2A_MSIL2A_x_N0400_y"}, None) is EARTH_SEARCH_V0
    assert detect_layout(BAND_KEYS, {"s2:mgrs_tile": "32UPU"}, "sentinel-2-l2a") is PLANETARY_COMPUTER
    assert detect_layout(BAND_KEYS) is PLANETARY_COMPUTER


def test_processing_baseline_aliases_of_every_provider():
    assert scene_property({"s2:processing_baseline": "05.09"}, "processing_baseline") == "05.09"
    assert scene_property({"processing:version": "05.10"}, "processing_baseline") == "05.10"
    assert scene_property({"sentinel:processing_baseline": "05.11"}, "processing_baseline") == "05.11"
    # Earth Search v0 before 2022 and anything else with a product id: its N-number
    v0 = {"sentinel:product_id": "S2B_MSIL2A_20210221T095029_N0214_R079_T33SVB_20210221T115149"}
    assert scene_property(v0, "processing_baseline") == "02.14"
    uri = {"s2:product_uri": "S2A_MSIL2A_20230628T070631_N0509_R106_T39QTA_20230628T113955.SAFE"}
    assert scene_property(uri, "processing_baseline") == "05.09"
    assert scene_property({"sentinel:product_id": "no-number-here"}, "processing_baseline") is None
    both = {"sentinel:product_id": "S2A_MSIL2A_x_N0400_y", "sentinel:processing_baseline": "05.11"}
    assert scene_property(both, "processing_baseline") == "05.11"


def test_sun_elevation_aliases():
    assert scene_property({"view:sun_elevation": 25.0}, "sun_elevation") == 25.0
    assert scene_property({"s2:mean_solar_zenith": 60.0}, "sun_elevation") == pytest.approx(30.0)
    assert scene_property({"s2:mean_solar_zenith_angle": 55.0}, "sun_elevation") == pytest.approx(35.0)
    assert scene_property({"eo:sun_elevation": 12.5}, "sun_elevation") == 12.5
    assert scene_property({"sentinel:utm_zone": 32, "view:off_nadir": 0}, "sun_elevation") is None
    assert scene_property({"platform": "Sentinel-2B"}, "platform") == "sentinel-2b"


def test_raster_bands_come_before_stac11_fields_before_baseline_before_date():
    stac11 = {"raster:scale": 0.0002, "raster:offset": -0.2}
    baseline = {"s2:processing_baseline": "04.00"}
    both = {**RASTER_BANDS, **stac11}
    assert reflectance_scaling(both, baseline, BEFORE) == Scaling(0.0001, -0.1, "raster:bands")
    assert reflectance_scaling(stac11, baseline, BEFORE) == Scaling(0.0002, -0.2, "asset")
    assert reflectance_scaling({}, baseline, BEFORE) == Scaling(0.0001, -0.1, "baseline")
    assert reflectance_scaling({}, {}, AFTER) == Scaling(0.0001, -0.1, "date")
    assert reflectance_scaling({}, {}, BEFORE) == Scaling(0.0001, 0.0, "date")
    assert list(OFFSET_SOURCES) == ["raster:bands", "asset", "baseline", "date", "applied-flag"]


def test_stac11_band_fields_override_the_asset_fields():
    fields = {"raster:scale": 0.0001, "raster:offset": 0.0, "bands": [{"name": "B04", "raster:offset": -0.1}]}
    assert reflectance_scaling(fields, {}, BEFORE) == Scaling(0.0001, -0.1, "asset")


def test_offset_applied_flag_overrides_every_declared_offset():
    flagged = {"earthsearch:boa_offset_applied": True, "s2:processing_baseline": "05.11"}
    assert reflectance_scaling(RASTER_BANDS, flagged, AFTER) == Scaling(0.0001, 0.0, "applied-flag")
    assert reflectance_scaling({}, {"sentinel:boa_offset_applied": "true"}, AFTER).offset == 0.0
    assert reflectance_scaling(RASTER_BANDS, {"earthsearch:boa_offset_applied": False}, AFTER).offset == -0.1
    assert boa_offset_applied({"sentinel:boa_offset_applied": True})
    assert not boa_offset_applied({"earthsearch:boa_offset_applied": "false"})
    assert not boa_offset_applied({})


def test_nodata_from_raster_bands_then_bands_then_asset():
    assert asset_nodata(RASTER_BANDS) == 0
    assert asset_nodata({"bands": [{"nodata": 65535}], "nodata": 1}) == 65535
    assert asset_nodata({"nodata": 1}) == 1
    assert asset_nodata({}) == 0
