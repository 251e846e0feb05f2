"""The inputs a user brings: declarations, lab samples, WorldCover, DEM."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio

from baresoil.simulate.world import WORLDCOVER_CLASS

pytestmark = pytest.mark.slow


def test_declared_parcels(tiny_sim, tiny_truth):
    declared = gpd.read_file(tiny_sim.inputs_dir / "parcels.gpkg")
    assert list(declared.columns) == ["parcel_id", "crop_2021", "crop_2022", "area_ha", "geometry"]
    assert declared.crs.to_epsg() == 25832
    truth = tiny_truth.parcels.set_index("parcel_id")
    assert set(truth.loc[declared["parcel_id"], "landcover"]) <= {"cropland", "grassland"}
    assert declared["parcel_id"].is_unique
    same = (
        declared.set_index("parcel_id")["crop_2022"] == truth.loc[declared["parcel_id"], "crop_2022"]
    ).mean()
    assert same > 0.8
    np.testing.assert_allclose(declared["area_ha"], truth.loc[declared["parcel_id"], "area_ha"], rtol=1e-3)


def test_soil_samples_as_a_lab_delivers_them(tiny_sim, tiny_truth):
    samples = pd.read_csv(tiny_sim.inputs_dir / "soil_samples.csv")
    columns = ["sample_id", "lon", "lat", "soc", "clay", "silt", "sand", "ph", "n", "bulk_density"]
    assert list(samples.columns) == columns
    assert len(samples) == tiny_truth.spec.n_samples
    np.testing.assert_allclose(samples["clay"] + samples["silt"] + samples["sand"], 100, atol=0.05)
    assert samples["lon"].between(11.4, 11.45).all() and samples["lat"].between(48.18, 48.2).all()
    true = tiny_truth.samples.set_index("sample_id").loc[samples["sample_id"]]
    err = samples["soc"].to_numpy() / true["soc"].to_numpy() - 1
    assert 0.02 < err.std() < 0.1, "lab noise of a few percent"
    assert np.corrcoef(samples["clay"], true["clay"])[0, 1] > 0.8
    points = gpd.read_file(tiny_sim.inputs_dir / "soil_samples.gpkg")
    assert points.crs.to_epsg() == 4326 and len(points) == len(samples)
    assert (true["landcover"] == 1).mean() >= 0.85


def test_worldcover_is_on_its_own_lonlat_grid(tiny_sim, tiny_truth):
    with rasterio.open(tiny_sim.inputs_dir / "worldcover.tif") as src:
        assert src.crs.to_epsg() == 4326
        assert src.dtypes[0] == "uint8" and src.nodata == 0
        assert src.res[0] == pytest.approx(1 / 12000) and src.res[1] == pytest.approx(1 / 12000)
        assert (src.transform.c * 12000) == pytest.approx(round(src.transform.c * 12000))
        classes = src.read(1)
    assert set(np.unique(classes)) <= {0, *WORLDCOVER_CLASS.values()}
    assert {40, 30, 80} <= set(np.unique(classes))
    assert (classes == 40).sum() > (classes == 10).sum()


def test_dem_is_smooth_terrain(tiny_sim):
    with rasterio.open(tiny_sim.inputs_dir / "dem.tif") as src:
        dem = src.read(1)
        assert src.dtypes[0] == "float32" and src.res == (10.0, 10.0) and src.crs.to_epsg() == 32632
    assert dem.min() >= 450 and dem.max() <= 550
    assert np.abs(np.diff(dem, axis=1)).max() < 5, "no cliffs between neighbouring pixels"
