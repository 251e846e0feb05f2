"""Three static catalogs, each in its provider's conventions, all pointing at the same COGs."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pystac
import pytest

from baresoil.catalog.layouts import (
    ALL_BANDS,
    CDSE,
    EARTH_SEARCH,
    LAYOUTS,
    PLANETARY_COMPUTER,
    SCL,
    detect_layout,
    parse_baseline,
    scene_property,
)

pytestmark = pytest.mark.slow

ID_PATTERNS = {
    EARTH_SEARCH.name: r"^S2[AB]_32U[PQ]U_\d{8}_0_L2A$",
    PLANETARY_COMPUTER.name: r"^S2[AB]_MSIL2A_\d{8}T\d{6}_R065_T32U[PQ]U_\d{8}T\d{6}$",
    CDSE.name: r"^S2[AB]_MSIL2A_\d{8}T\d{6}_N0(209|300|400)_R065_T32U[PQ]U_\d{8}T\d{6}$",
}
REQUIRED_PROPERTIES = {
    EARTH_SEARCH.name: {
        "eo:cloud_cover", "view:sun_elevation", "view:sun_azimuth", "platform", "constellation",
        "s2:processing_baseline", "grid:code", "proj:code",
    },
    PLANETARY_COMPUTER.name: {
        "eo:cloud_cover", "s2:mean_solar_zenith", "s2:mean_solar_azimuth", "platform",
        "s2:processing_baseline", "s2:mgrs_tile",
    },
    CDSE.name: {"eo:cloud_cover", "view:sun_elevation", "platform", "processing:version", "grid:code"},
}  # fmt: skip


def _items(path: Path) -> list[pystac.Item]:
    catalog = pystac.Catalog.from_file(str(path))
    return sorted(catalog.get_items(recursive=True), key=lambda item: (item.datetime, item.id))


@pytest.fixture(scope="module")
def items(tiny_sim) -> dict[str, list[pystac.Item]]:
    return {layout.name: _items(tiny_sim.catalog(layout.name)) for layout in LAYOUTS}


def test_catalogs_are_self_contained_with_a_sentinel2_collection(tiny_sim, tiny_truth):
    for layout in LAYOUTS:
        path = tiny_sim.catalog(layout.name)
        assert path == tiny_sim.root / "stac" / layout.name / "catalog.json"
        catalog = pystac.Catalog.from_file(str(path))
        assert [c.id for c in catalog.get_children()] == ["sentinel-2-l2a"]
        assert len(list(catalog.get_items(recursive=True))) == 2 * len(tiny_truth.dates)
        saved = json.loads(path.read_text())
        assert saved["type"] == "Catalog"
        assert all(not Path(link["href"]).is_absolute() for link in saved["links"])
        assert "self" not in {link["rel"] for link in saved["links"]}


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: lay.name)
def test_items_carry_the_layouts_asset_keys_and_properties(items, layout):
    for item in items[layout.name]:
        assert re.match(ID_PATTERNS[layout.name], item.id), item.id
        assert set(item.assets) == {layout.asset_key(band) for band in ALL_BANDS}
        assert detect_layout(set(item.assets)) is layout
        assert REQUIRED_PROPERTIES[layout.name] <= set(item.properties), item.id
        assert item.collection_id == "sentinel-2-l2a"
        assert 0.0 <= item.properties["eo:cloud_cover"] <= 100.0
        for band in ALL_BANDS:
            asset = item.assets[layout.asset_key(band)]
            assert asset.media_type == "image/tiff; application=geotiff; profile=cloud-optimized"
            assert not Path(asset.href).is_absolute()
            assert Path(asset.get_absolute_href()).exists()
            assert asset.extra_fields["proj:code"] == "EPSG:32632"
            shape, transform = asset.extra_fields["proj:shape"], asset.extra_fields["proj:transform"]
            assert transform[0] == -transform[4] == (10 if band in ("B02", "B03", "B04", "B08") else 20)
            assert len(shape) == 2 and len(asset.extra_fields["proj:bbox"]) == 4


def test_earth_search_and_cdse_declare_scale_and_offset_by_baseline(items):
    for name in (EARTH_SEARCH.name, CDSE.name):
        layout = EARTH_SEARCH if name == EARTH_SEARCH.name else CDSE
        for item in items[name]:
            baseline = scene_property(item.properties, "processing_baseline")
            after = parse_baseline(baseline) >= (4, 0)
            assert after == (item.datetime.date() >= date(2022, 1, 25))
            for band in ALL_BANDS:
                (raster,) = item.assets[layout.asset_key(band)].extra_fields["raster:bands"]
                assert raster["nodata"] == 0
                if band == SCL:
                    assert raster["data_type"] == "uint8"
                    assert "scale" not in raster and "offset" not in raster
                else:
                    assert raster["data_type"] == "uint16"
                    assert raster["scale"] == 0.0001
                    assert raster["offset"] == (-0.1 if after else 0.0)


def test_planetary_computer_has_no_scale_offset_and_its_own_property_names(items):
    for item in items[PLANETARY_COMPUTER.name]:
        assert item.properties["platform"] in ("Sentinel-2A", "Sentinel-2B")
        assert "view:sun_elevation" not in item.properties
        assert item.properties["s2:mgrs_tile"] in ("32UPU", "32UQU")
        for asset in item.assets.values():
            assert "raster:bands" not in asset.extra_fields


def test_layouts_describe_the_same_scenes(items, tiny_truth):
    """Through the alias table every layout yields the same canonical properties."""
    by_layout = {name: lst for name, lst in items.items()}
    reference = by_layout[EARTH_SEARCH.name]
    for name, lst in by_layout.items():
        assert len(lst) == len(reference)
        for a, b in zip(reference, lst, strict=True):
            assert a.datetime == b.datetime
            for prop in ("sun_elevation", "cloud_cover", "platform", "processing_baseline", "mgrs_tile"):
                va, vb = scene_property(a.properties, prop), scene_property(b.properties, prop)
                assert va == pytest.approx(vb, abs=1e-3) if isinstance(va, float) else va == vb, (name, prop)
            assert (
                a.assets["red"].get_absolute_href()
                == b.assets[
                    {"earth-search": "red", "planetary-computer": "B04", "cdse": "B04_10m"}[name]
                ].get_absolute_href()
            )
    sun = {
        d: e
        for d, e in zip(
            tiny_truth.observations["date"], tiny_truth.observations["sun_elevation"], strict=True
        )
    }
    for item in reference:
        assert scene_property(item.properties, "sun_elevation") == pytest.approx(sun[item.datetime.date()])


def test_same_day_items_share_the_datetime_within_a_second_and_alternate_platforms(items):
    reference = items[EARTH_SEARCH.name]
    days: dict[date, list[pystac.Item]] = {}
    for item in reference:
        days.setdefault(item.datetime.date(), []).append(item)
    assert all(len(group) == 2 for group in days.values())
    for group in days.values():
        assert abs(group[0].datetime - group[1].datetime) < timedelta(seconds=1)
        assert {i.properties["grid:code"] for i in group} == {"MGRS-32UPU", "MGRS-32UQU"}
        assert group[0].properties["platform"] == group[1].properties["platform"]
        assert group[0].datetime.time().hour == 10
    platforms = [group[0].properties["platform"] for _, group in sorted(days.items())]
    assert platforms[::2] == ["sentinel-2a"] * len(platforms[::2])
    assert platforms[1::2] == ["sentinel-2b"] * len(platforms[1::2])


def test_low_winter_sun_is_reported(items):
    elevations = {i.datetime.date(): i.properties["view:sun_elevation"] for i in items[EARTH_SEARCH.name]}
    assert all(e < 20 for d, e in elevations.items() if date(2021, 12, 5) <= d <= date(2022, 1, 10))
    assert all(e > 20 for d, e in elevations.items() if d >= date(2022, 1, 25))
