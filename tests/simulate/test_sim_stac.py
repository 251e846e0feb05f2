"""Four static catalogs, each in its provider's conventions as published today, over the same scenes.

Field by field after the providers' documentation (docs/observations/providers.md); and each read
through the real catalog -> cube path gives the reflectance of the DN written, on both sides of
baseline 04.00.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pystac
import pytest
import rasterio
from odc.geo.geobox import GeoBox

from baresoil.catalog.layouts import (
    ALL_BANDS,
    CDSE,
    EARTH_SEARCH,
    EARTH_SEARCH_L2A,
    PLANETARY_COMPUTER,
    SCL,
    detect_layout,
    parse_baseline,
    scene_property,
)
from baresoil.catalog.scenes import select_scenes
from baresoil.catalog.source import StacSource, TimeRange, find_items
from baresoil.config import CubeConfig, SceneFilter
from baresoil.cube import load_cube
from baresoil.simulate.stac import HARMONISED_DIR, SIMULATED_LAYOUTS

from tests.support.parcel_world import world_area

pytestmark = pytest.mark.slow

ID_PATTERNS = {
    EARTH_SEARCH.name: r"^S2[AB]_T32U[PQ]U_\d{8}T\d{6}_L2A$",
    EARTH_SEARCH_L2A.name: r"^S2[AB]_32U[PQ]U_\d{8}_0_L2A$",
    PLANETARY_COMPUTER.name: r"^S2[AB]_MSIL2A_\d{8}T\d{6}_R065_T32U[PQ]U_\d{8}T\d{6}$",
    CDSE.name: r"^S2[AB]_MSIL2A_\d{8}T\d{6}_N0(209|300|400)_R065_T32U[PQ]U_\d{8}T\d{6}$",
}
EARTH_SEARCH_PROPERTIES = {
    "eo:cloud_cover",
    "view:sun_elevation",
    "view:sun_azimuth",
    "platform",
    "constellation",
    "s2:processing_baseline",
    "s2:product_uri",
    "grid:code",
    "mgrs:utm_zone",
    "proj:epsg",
}
REQUIRED_PROPERTIES = {
    EARTH_SEARCH.name: EARTH_SEARCH_PROPERTIES,
    EARTH_SEARCH_L2A.name: EARTH_SEARCH_PROPERTIES | {"earthsearch:boa_offset_applied"},
    PLANETARY_COMPUTER.name: {
        "eo:cloud_cover", "s2:mean_solar_zenith", "s2:mean_solar_azimuth", "platform",
        "s2:processing_baseline", "s2:mgrs_tile", "proj:epsg", "sat:relative_orbit",
    },
    CDSE.name: {"eo:cloud_cover", "view:sun_elevation", "platform", "processing:version", "grid:code",
                "product:type"},
}  # fmt: skip
SWITCH = date(2022, 1, 25)
SIDES = {"before": ("2021-12-01", "2022-01-24"), "after": ("2022-01-25", "2022-03-31")}


def _items(path: Path) -> list[pystac.Item]:
    catalog = pystac.Catalog.from_file(str(path))
    return sorted(catalog.get_items(recursive=True), key=lambda item: (item.datetime, item.id))


@pytest.fixture(scope="module")
def items(tiny_sim) -> dict[str, list[pystac.Item]]:
    return {layout.name: _items(tiny_sim.catalog(layout.name)) for layout in SIMULATED_LAYOUTS}


def _published(item: pystac.Item) -> dict:
    """The item as written (pystac migrates projection 1.x fields to 2.0 when it reads them)."""
    return json.loads(Path(item.get_self_href()).read_text())


def _after(item: pystac.Item) -> bool:
    return parse_baseline(scene_property(item.properties, "processing_baseline")) >= (4, 0)


def test_catalogs_are_self_contained_with_the_providers_collection(tiny_sim, tiny_truth):
    assert set(tiny_sim.catalogs) == {layout.name for layout in SIMULATED_LAYOUTS}
    for layout in SIMULATED_LAYOUTS:
        path = tiny_sim.catalog(layout.name)
        assert path == tiny_sim.root / "stac" / layout.name / "catalog.json"
        catalog = pystac.Catalog.from_file(str(path))
        assert [c.id for c in catalog.get_children()] == [layout.collections[0]]
        assert len(list(catalog.get_items(recursive=True))) == 2 * len(tiny_truth.dates)
        saved = json.loads(path.read_text())
        assert saved["type"] == "Catalog"
        assert all(not Path(link["href"]).is_absolute() for link in saved["links"])
        assert "self" not in {link["rel"] for link in saved["links"]}


@pytest.mark.parametrize("layout", SIMULATED_LAYOUTS, ids=lambda lay: lay.name)
def test_items_carry_the_layouts_asset_keys_and_properties(items, layout):
    for item in items[layout.name]:
        assert re.match(ID_PATTERNS[layout.name], item.id), item.id
        assert set(item.assets) == {layout.asset_key(band) for band in ALL_BANDS}
        assert detect_layout(set(item.assets), item.properties, item.collection_id) is layout
        published = _published(item)
        assert REQUIRED_PROPERTIES[layout.name] <= set(published["properties"]), item.id
        assert item.collection_id == layout.collections[0]
        assert 0.0 <= item.properties["eo:cloud_cover"] <= 100.0
        for band in ALL_BANDS:
            asset = item.assets[layout.asset_key(band)]
            assert asset.media_type == "image/tiff; application=geotiff; profile=cloud-optimized"
            assert not Path(asset.href).is_absolute()
            assert Path(asset.get_absolute_href()).exists()
            written = published["assets"][layout.asset_key(band)]
            if layout is CDSE:  # projection 2.0: the CRS on the asset
                assert written["proj:code"] == "EPSG:32632"
            else:  # projection 1.x: proj:epsg on the item
                assert published["properties"]["proj:epsg"] == 32632 and "proj:code" not in written
            transform = asset.extra_fields["proj:transform"]
            assert transform[0] == -transform[4] == (10 if band in ("B02", "B03", "B04", "B08") else 20)
            assert len(asset.extra_fields["proj:shape"]) == 2


@pytest.mark.parametrize("layout", [EARTH_SEARCH, EARTH_SEARCH_L2A], ids=lambda lay: lay.name)
def test_earth_search_declares_scale_and_offset_in_raster_bands(items, layout):
    for item in items[layout.name]:
        assert _after(item) == (item.datetime.date() >= SWITCH)
        for band in ALL_BANDS:
            (raster,) = item.assets[layout.asset_key(band)].extra_fields["raster:bands"]
            assert raster["nodata"] == 0
            if band == SCL:
                assert raster["data_type"] == "uint8"
                assert "scale" not in raster and "offset" not in raster
            else:  # sentinel-2-l2a declares -0.1 after 04.00 even where its DN are harmonised
                assert raster["data_type"] == "uint16"
                assert raster["scale"] == 0.0001
                assert raster["offset"] == (-0.1 if _after(item) else 0.0)


def test_earth_search_l2a_serves_harmonised_dn_from_04_and_says_so(items):
    """From 04.00 on the DN are the archive's minus 1000 (at least 1) and the flag is true."""
    reference = {(it.datetime, it.properties["grid:code"]): it for it in items[EARTH_SEARCH.name]}
    n_after = 0
    for item in items[EARTH_SEARCH_L2A.name]:
        after = _after(item)
        n_after += after
        assert item.properties["earthsearch:boa_offset_applied"] is after
        original = reference[(item.datetime, item.properties["grid:code"])]
        for band in ALL_BANDS:
            key = EARTH_SEARCH.asset_key(band)
            href, source = item.assets[key].get_absolute_href(), original.assets[key].get_absolute_href()
            if not after or band == SCL:
                assert href == source
                continue
            assert Path(href).parent.name == HARMONISED_DIR
            with rasterio.open(href) as harmonised, rasterio.open(source) as archive:
                dn, raw = harmonised.read(1).astype(int), archive.read(1).astype(int)
                assert harmonised.nodata == 0 and harmonised.overviews(1)
            np.testing.assert_array_equal(dn, np.where(raw == 0, 0, np.maximum(raw - 1000, 1)), err_msg=href)
    assert 0 < n_after < len(items[EARTH_SEARCH_L2A.name])


def test_planetary_computer_has_no_scale_offset_and_its_own_property_names(items):
    for item in items[PLANETARY_COMPUTER.name]:
        assert item.properties["platform"] in ("Sentinel-2A", "Sentinel-2B")
        assert "view:sun_elevation" not in item.properties
        assert item.properties["s2:mgrs_tile"] in ("32UPU", "32UQU")
        for asset in item.assets.values():
            assert not {"raster:bands", "raster:scale", "raster:offset"} & set(asset.extra_fields)


def test_cdse_declares_stac11_asset_fields_and_no_raster_bands(items):
    for item in items[CDSE.name]:
        for band in ALL_BANDS:
            fields = item.assets[CDSE.asset_key(band)].extra_fields
            assert "raster:bands" not in fields
            assert fields["nodata"] == 0
            assert fields["bands"][0]["name"] == band
            if band == SCL:
                assert fields["data_type"] == "uint8" and "raster:scale" not in fields
            else:
                assert fields["data_type"] == "uint16"
                assert fields["raster:scale"] == 0.0001
                assert fields["raster:offset"] == (-0.1 if _after(item) else 0.0)


def _world_geobox(spec, resolution=20) -> GeoBox:
    """The world's own grid (UTM, 20 m): the cube then holds the COGs' pixels unchanged."""
    n = spec.size_m // resolution
    return GeoBox((n, n), spec.transform(resolution), f"EPSG:{spec.epsg}")


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("layout", SIMULATED_LAYOUTS, ids=lambda lay: lay.name)
def test_each_catalog_reads_as_the_dn_written_on_both_sides_of_04(tiny_sim, tiny_truth, mosaic, layout, side):
    """Catalog -> scenes -> cube, on the COGs' grid: reflectance = archive DN / 10000 - 0.1 from 04.00.

    Earth Search sentinel-2-l2a serves other files from 04.00 (harmonised DN): it reads right only
    because its offset-applied flag is honoured (the darkest pixels stay at 0.0001).
    """
    period = TimeRange.parse(*SIDES[side])
    items = find_items(StacSource(str(tiny_sim.catalog(layout.name))), world_area(tiny_truth.spec), period)
    scenes = select_scenes(items, SceneFilter(max_cloud_cover=100.0, min_sun_elevation=-90.0))
    bands = ("B8A", "B11", SCL)
    cube = load_cube(scenes, _world_geobox(tiny_truth.spec), CubeConfig(resolution=20.0), bands).compute()
    dates = [d for d in tiny_truth.dates if period.start <= d <= period.end]
    assert [t.date() for t in cube.time.values.astype("datetime64[us]").tolist()] == dates
    flagged = layout is EARTH_SEARCH_L2A and side == "after"
    for t, day in enumerate(dates):
        index = tiny_truth.dates.index(day)
        offset = -0.1 if day >= SWITCH else 0.0
        for band in ("B8A", "B11"):
            dn = mosaic(tiny_sim, tiny_truth, index, band).astype(np.float64)
            expected = np.where(dn == 0, np.nan, dn * 1e-4 + offset)
            if flagged:
                expected = np.maximum(expected, 1e-4)
            np.testing.assert_allclose(cube[band].values[t], expected, atol=1e-6, err_msg=f"{day} {band}")
        np.testing.assert_array_equal(cube[SCL].values[t], mosaic(tiny_sim, tiny_truth, index, SCL))
    sources = {
        EARTH_SEARCH.name: "raster:bands",
        EARTH_SEARCH_L2A.name: "applied-flag" if flagged else "raster:bands",
        PLANETARY_COMPUTER.name: "baseline",
        CDSE.name: "asset",
    }
    assert set(cube.offset_source.values.tolist()) == {sources[layout.name]}


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
            layout = next(lay for lay in SIMULATED_LAYOUTS if lay.name == name)
            archive = Path(a.assets["swir16"].get_absolute_href())
            href = Path(b.assets[layout.asset_key("B11")].get_absolute_href())
            assert href in (archive, archive.parent / HARMONISED_DIR / archive.name)
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


def test_earth_search_l2a_catalogues_90_days_past_the_switch():
    """Its harmonised DN cost ten COGs an item: the catalog shows the switch, not the whole span."""
    from types import SimpleNamespace

    from baresoil.simulate.stac import harmonised_records

    def record(day: date):
        return SimpleNamespace(acquisition=SimpleNamespace(date=day, offset_dn=1000 if day >= SWITCH else 0))

    days = [SWITCH + timedelta(days=d) for d in range(-100, 400, 5)]
    chosen = [r.acquisition.date for r in harmonised_records([record(d) for d in days])]
    assert chosen == [d for d in days if d <= SWITCH + timedelta(days=90)]
    before = [record(d) for d in days if d < SWITCH]
    assert len(harmonised_records(before)) == len(before)
