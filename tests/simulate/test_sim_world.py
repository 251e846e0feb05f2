"""The static world: land-cover shares, parcels, terrain and soil fields."""

from __future__ import annotations

import numpy as np
import pytest

from baresoil.simulate import WorldSpec
from baresoil.simulate.world import (
    CROPLAND,
    FOREST_CONIFEROUS,
    FOREST_DECIDUOUS,
    GARDEN,
    GRASSLAND,
    PAVED,
    ROCK,
    ROOF,
    WATER,
    build_world,
    parcel_geometries,
)


@pytest.fixture(scope="module")
def world():
    return build_world(WorldSpec())


def _share(world, *codes):
    return float(np.isin(world.landcover, codes).mean())


def test_land_cover_shares_are_those_of_a_bavarian_landscape(world):
    assert _share(world, CROPLAND) == pytest.approx(0.60, abs=0.06)
    assert _share(world, GRASSLAND) == pytest.approx(0.13, abs=0.03)
    assert _share(world, FOREST_DECIDUOUS, FOREST_CONIFEROUS) == pytest.approx(0.12, abs=0.03)
    assert _share(world, ROOF, PAVED, GARDEN) == pytest.approx(0.08, abs=0.03)
    assert _share(world, WATER) == pytest.approx(0.03, abs=0.01)
    assert _share(world, ROCK) == pytest.approx(0.02, abs=0.01)
    assert _share(world, FOREST_DECIDUOUS) > 0 and _share(world, FOREST_CONIFEROUS) > 0


def test_parcels_are_one_to_eight_hectares_and_mostly_interior(world):
    crop = world.parcels[world.parcels["kind"] == "cropland"]
    hectares = crop["n_pixels"] / 100
    assert hectares.between(0.6, 8.5).all()
    assert 1.5 < hectares.median() < 5
    ids = world.parcel_id
    interior = (ids[1:-1, 1:-1] == ids[:-2, 1:-1]) & (ids[1:-1, 1:-1] == ids[2:, 1:-1])
    interior &= (ids[1:-1, 1:-1] == ids[1:-1, :-2]) & (ids[1:-1, 1:-1] == ids[1:-1, 2:])
    assert interior[world.landcover[1:-1, 1:-1] == CROPLAND].mean() > 0.75


def test_parcel_geometries_match_the_raster(world):
    frame = parcel_geometries(world)
    assert set(frame["parcel_id"]) == set(world.parcels["parcel_id"])
    np.testing.assert_allclose(frame.geometry.area / 100, frame["n_pixels"])
    assert frame.crs.to_epsg() == 32632


def test_terrain_and_soil(world):
    assert world.dem.min() >= 450 and world.dem.max() <= 550
    soil = world.soil
    np.testing.assert_allclose(soil["clay"] + soil["silt"] + soil["sand"], 100, atol=1e-3)
    crop = world.landcover == CROPLAND
    assert np.corrcoef(world.wetness[crop], np.log(soil["soc"][crop]))[0, 1] > 0.2, "more SOC in hollows"
    assert np.corrcoef(world.wetness[crop], soil["clay"][crop])[0, 1] > 0.2, "more clay in hollows"
    assert np.corrcoef(soil["soc"][crop], soil["bulk_density"][crop])[0, 1] < -0.5
    assert np.percentile(soil["soc"][crop], 5) < 13 and np.percentile(soil["soc"][crop], 95) > 20


def test_tiny_worlds_still_have_every_land_use():
    world = build_world(WorldSpec(size_m=600))
    kinds = set(world.parcels["kind"])
    assert {"cropland", "grassland", "village", "water", "rock"} <= kinds
    assert kinds & {"forest_deciduous", "forest_coniferous"}
    assert (world.parcels["kind"] == "cropland").sum() >= 5
