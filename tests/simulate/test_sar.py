"""Sentinel-1 in the simulator: the backscatter physics, the published layout, and S2 left untouched."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pystac
import pytest
import rasterio

from baresoil.simulate import load_s1_truth, simulate
from baresoil.simulate.crops import CropHistory
from baresoil.simulate.sar import (
    ENL,
    NODATA,
    POLARISATIONS,
    REVISIT_DAYS,
    ROUGHNESS_AFTER,
    ROUGHNESS_START,
    from_db,
    roughness_history,
    soil_db,
    speckle,
    to_db,
    water_cloud,
)
from baresoil.simulate.weather import Weather

# --- physics on tiny arrays ------------------------------------------------------------------


def test_soil_backscatter_rises_with_moisture_and_roughness():
    m = np.array([0.1, 0.5, 0.9])
    for pol in POLARISATIONS:
        dry_smooth, wet_smooth = soil_db(m[[0, 2]], np.zeros(2), pol)
        assert wet_smooth > dry_smooth + 3
        assert (
            soil_db(np.array([0.5]), np.array([1.0]), pol)[0]
            > soil_db(np.array([0.5]), np.array([0.2]), pol)[0] + 3
        )
    # roughness matters more for cross-polarisation, moisture more for co-polarisation
    assert soil_db(0.0, 1.0, "vh") - soil_db(0.0, 0.0, "vh") > soil_db(0.0, 1.0, "vv") - soil_db(
        0.0, 0.0, "vv"
    )


def test_water_cloud_model_limits():
    soil = from_db(np.array([-20.0, -8.0]))
    bare = water_cloud(np.zeros(2), soil, a=0.06, b=0.5)
    np.testing.assert_allclose(bare, soil)  # no vegetation: the soil alone
    dense = water_cloud(np.full(2, 0.95), soil, a=0.06, b=0.5)
    assert dense[0] > soil[0]  # volume scattering brightens a dark soil
    assert dense[1] < soil[1]  # attenuation hides a bright (wet, rough) soil
    assert abs(to_db(dense[0:1])[0] - to_db(dense[1:2])[0]) < abs(to_db(soil)[0] - to_db(soil)[1])


def test_speckle_has_mean_one_and_the_looks_of_the_product():
    values = speckle(np.random.default_rng(1), (200_000,))
    assert values.mean() == pytest.approx(1.0, abs=0.01)
    assert values.var() == pytest.approx(1.0 / ENL, rel=0.03)
    assert (values > 0).all()


def _history(events: list[tuple[int, str, date]], first: date, days: int) -> CropHistory:
    zeros = np.zeros((3, days), np.float32)
    table = pd.DataFrame(
        [(pid, first.year, "maize", event, when) for pid, event, when in events],
        columns=["parcel_id", "year", "crop", "event", "date"],
    )
    return CropHistory(first, zeros, zeros + 1, zeros, zeros, 2, pd.DataFrame(), table)


def test_roughness_jumps_at_tillage_and_slakes_with_rain_only():
    first, days = date(2021, 10, 1), 60
    rain = np.zeros(days, np.float32)
    rain[30:40] = 15.0  # 150 mm in ten days, a month after ploughing
    weather = Weather(first, rain, rain * 0 + 8, rain * 0, rain * 0 + 0.5)
    history = _history([(1, "ploughing", first + timedelta(days=10))], first, days)
    r = roughness_history(history, weather, 3)
    assert r[1, 5] == pytest.approx(ROUGHNESS_START)
    assert r[1, 10] == pytest.approx(ROUGHNESS_AFTER["ploughing"])
    assert r[1, 29] == pytest.approx(ROUGHNESS_AFTER["ploughing"])  # no rain: the clods stay
    assert r[1, 45] < 0.5 * r[1, 29]  # 150 mm later: mostly slaked
    assert r[2, 45] == pytest.approx(ROUGHNESS_START)  # no event on unit 2


# --- the simulated world ----------------------------------------------------------------------


@pytest.mark.slow
def test_catalog_in_planetary_computer_layout(tiny_sim, tiny_spec):
    catalog = pystac.Catalog.from_file(str(tiny_sim.s1_catalog))
    assert tiny_sim.s1_catalog == tiny_sim.root / "stac" / "sentinel-1-rtc" / "catalog.json"
    items = sorted(catalog.get_items(recursive=True), key=lambda it: it.datetime)
    assert items[0].collection_id == "sentinel-1-rtc"
    days = [it.datetime.date() for it in items]
    assert days[0] == tiny_spec.start and days[-1] > tiny_spec.end - timedelta(days=REVISIT_DAYS)
    assert set(np.diff(days)) == {timedelta(days=REVISIT_DAYS)}
    item = items[3]
    assert set(item.assets) == {"vv", "vh"}
    assert item.properties["sar:polarizations"] == ["VV", "VH"]
    assert item.properties["sat:orbit_state"] == "ascending"
    for key in ("vv", "vh"):
        asset = item.assets[key]
        assert asset.extra_fields["raster:bands"][0]["nodata"] == NODATA
        with rasterio.open(asset.get_absolute_href()) as src:
            values = src.read(1)
            assert src.dtypes[0] == "float32" and src.crs.to_epsg() == tiny_spec.epsg
            assert src.overviews(1)  # a COG
        assert values.shape == tiny_spec.shape
        assert np.isfinite(values).all() and (values > 0).all()
        assert -30 < np.median(to_db(values)) < -5


@pytest.mark.slow
def test_speckled_parcel_means_match_the_noise_free_truth(tiny_sim):
    passes, truth = load_s1_truth(tiny_sim.root)
    with rasterio.open(tiny_sim.truth_dir / "parcel_id.tif") as src:
        parcel_id = src.read(1)
    sizes = np.bincount(parcel_id.ravel())
    big = int(np.argmax(sizes[1:]) + 1)
    row = passes.iloc[2]
    with rasterio.open(tiny_sim.root / "sar" / row["item"] / "vh.tif") as src:
        vh = src.read(1)
    expected = truth[(truth["parcel_id"] == big) & (truth["date"] == row["date"])]["vh_db"].iloc[0]
    assert to_db(np.array([vh[parcel_id == big].mean()]))[0] == pytest.approx(expected, abs=0.3)


@pytest.mark.slow
def test_same_seed_gives_the_same_backscatter(tiny_sim, tiny_sim_again):
    for folder in sorted((tiny_sim.root / "sar").iterdir()):
        for pol in POLARISATIONS:
            with (
                rasterio.open(folder / f"{pol}.tif") as a,
                rasterio.open(tiny_sim_again.root / "sar" / folder.name / f"{pol}.tif") as b,
            ):
                np.testing.assert_array_equal(a.read(), b.read())


@pytest.mark.slow
def test_sentinel2_outputs_are_byte_identical_without_sentinel1(tiny_sim, tiny_spec, tmp_path):
    without = simulate(tmp_path / "no-s1", dataclasses.replace(tiny_spec, sentinel1=False))
    assert without.s1_catalog is None and not (without.root / "sar").exists()
    scenes = sorted(p.relative_to(tiny_sim.scenes_dir) for p in tiny_sim.scenes_dir.rglob("*.tif"))
    assert scenes == sorted(p.relative_to(without.scenes_dir) for p in without.scenes_dir.rglob("*.tif"))
    for rel in scenes:
        assert (tiny_sim.scenes_dir / rel).read_bytes() == (without.scenes_dir / rel).read_bytes(), rel
    for name, path in tiny_sim.catalogs.items():
        for json_file in path.parent.rglob("*.json"):
            other = without.catalogs[name].parent / json_file.relative_to(path.parent)
            assert json_file.read_text() == other.read_text()
    for name in ("bare.tif", "sky.tif", "observations.csv", "events.csv", "parcel_daily.parquet"):
        assert (tiny_sim.truth_dir / name).read_bytes() == (without.truth_dir / name).read_bytes(), name
    world = json.loads((without.truth_dir / "world.json").read_text())
    assert world["spec"]["sentinel1"] is False
