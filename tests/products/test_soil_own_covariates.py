"""Soil maps from the user's own covariate rasters (a Meuse-like floodplain in EPSG:28992), any numeric
property, CRS-less rasters, samples at the DEM's nodata edge and calibrated intervals."""

import json

import numpy as np
import pytest
import rasterio

from baresoil.config import Config, SoilMapConfig
from baresoil.io.cog import read_layer
from baresoil.io.stac import output_item_paths
from baresoil.kernels.blockcv import interval_metrics
from baresoil.pipeline.soilmap import NO_COVARIATES, SoilMapJob, run_soil_maps
from baresoil.products.soil import CovariateError, SampleColumns, covariate_stack, parse_property
from baresoil.products.soil.covariates import find_covariate_sources, map_grids
from baresoil.products.soil.model import STATED_COVERAGE, Validation, calibrate, widen

from tests.support.meuse_factory import (
    COLS,
    CRS,
    NO_OM,
    RIVER,
    RIVERSIDE,
    ROWS,
    X0,
    Y1,
    make_floodplain,
    write_raster,
)

SOIL = SoilMapConfig(trees=40, chunk_size=16, cv_block_m=400, cv_neighbour_m=30, tpi_radii_m=(80,))
COLUMNS = SampleColumns(id="id", x="x", y="y", crs=CRS)


def _job(plain, out, covariates=None, **kwargs):
    return SoilMapJob(
        samples=kwargs.pop("samples", plain.samples),
        properties=tuple(parse_property(p) for p in kwargs.pop("props", ("om", "zinc"))),
        covariates=covariates or (plain.covariates,),
        out_dir=out,
        dem=kwargs.pop("dem", plain.dem),
        columns=COLUMNS,
        config=Config(soil=SOIL),
        progress=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return make_floodplain(tmp_path_factory.mktemp("floodplain"))


@pytest.fixture(scope="module")
def mapped(plain, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    return run_soil_maps(_job(plain, out)), out


def test_maps_from_a_folder_of_rasters_on_the_first_rasters_grid(mapped, plain):
    output, out = mapped
    (item_path,) = output.items
    item = json.loads(item_path.read_text())
    assert item["id"] == "soil_dist_R40m"
    assert item["properties"]["proj:code"] == "EPSG:28992" and "eea:tile" not in item["properties"]
    assert item["properties"]["baresoil:covariates"] == [
        "DEM",
        "DEM_SLOPE",
        "DEM_TPI80M",
        "DIST",
        "FFREQ",
        "SOIL",
    ]
    asset = item["assets"]["ZINC_Q50"]
    assert asset["proj:shape"] == [ROWS, COLS]
    assert asset["proj:transform"] == [40.0, 0.0, X0, 0.0, -40.0, Y1]
    assert asset["raster:bands"] == [{"data_type": "float32", "nodata": -9999.0}]
    assert set(item["assets"]) == {f"{p}_{s}" for p in ("OM", "ZINC") for s in ("Q05", "Q50", "Q95", "UNC")}
    zinc, profile = read_layer(item_path.parent / asset["href"])
    assert profile["crs"] == rasterio.crs.CRS.from_string(CRS) and zinc.shape == (ROWS, COLS)
    # in the samples' own unit (ppm), with no elevation over the river and a value everywhere else
    assert np.isnan(zinc[:, :RIVER]).all() and np.isfinite(zinc[:, RIVER:]).all()
    assert np.nanmin(zinc) > 40 and np.nanmax(zinc) < 2500
    near, far = np.nanmean(zinc[:, RIVER : RIVER + 3]), np.nanmean(zinc[:, -3:])
    assert near > 4 * far
    report = json.loads((out / "cv_report.json").read_text())
    for name in ("om", "zinc"):
        entry = report["properties"][name]
        assert entry["unit"] == "" and entry["storage"]["dtype"] == "float32"
        assert entry["spatial_cv"]["mec"] > 0.6, name
    assert report["samples"]["missing_values"]["om"] == list(NO_OM)
    assert report["covariates"]["grids"][0]["crs"] == "EPSG:28992"
    # the soil collection lists the run-time property layers, on the user's grid; each has its style
    assert output_item_paths(out) == [item_path] and item["collection"] == "baresoil-soil"
    collection = json.loads((out / "soil" / "collection.json").read_text())
    assert collection["summaries"]["proj:code"] == ["EPSG:28992"]
    assert "grid of a raster given by the user (EPSG:28992)" in collection["description"]
    assert collection["item_assets"]["ZINC_Q50"]["raster:bands"] == asset["raster:bands"]
    assert (item_path.parent / asset["href"]).with_suffix(".qml").exists()


def test_several_covariate_paths_and_a_grid_of_its_own(plain, tmp_path):
    """A file and a folder as covariates; the maps on the 80 m grid of --grid."""
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "ffreq.tif").write_bytes((plain.covariates / "ffreq.tif").read_bytes())
    coarse = write_raster(
        tmp_path / "grid80.tif", np.zeros((ROWS // 2, COLS // 2), np.float32), resolution=80.0
    )
    job = _job(plain, tmp_path / "out", covariates=(plain.covariates / "dist.tif", folder), grid=coarse,
               props=("zinc",))  # fmt: skip
    output = run_soil_maps(job)
    item = json.loads(output.items[0].read_text())
    assert item["id"] == "soil_grid80_R80m"
    assert item["assets"]["ZINC_Q50"]["proj:shape"] == [ROWS // 2, COLS // 2]
    assert item["properties"]["baresoil:covariates"] == ["DEM", "DEM_SLOPE", "DEM_TPI80M", "DIST", "FFREQ"]


def test_a_raster_without_crs_is_refused_by_name_or_read_in_the_crs_given(plain, tmp_path):
    folder = tmp_path / "covariates"
    folder.mkdir()
    with rasterio.open(plain.covariates / "dist.tif") as src:
        dist = src.read(1)
    write_raster(folder / "dist.tif", dist, crs=None)
    (folder / "soil.tif").write_bytes((plain.covariates / "soil.tif").read_bytes())
    with pytest.raises(
        CovariateError, match=rf"covariate raster {folder / 'dist.tif'} has no CRS.*--covariate-crs"
    ):
        run_soil_maps(_job(plain, tmp_path / "out", covariates=(folder,)))
    assert not (tmp_path / "out" / "catalog.json").exists()
    # the same raster as a non-first covariate (not the grid) is refused as well
    with pytest.raises(CovariateError, match=r"dist\.tif has no CRS"):
        run_soil_maps(_job(plain, tmp_path / "out", covariates=(plain.covariates / "ffreq.tif", folder)))
    # with its CRS given, it reads as the raster that has one
    sources = find_covariate_sources([folder])
    (grid,) = map_grids(sources, crs=CRS)
    assert str(grid.geobox.crs) == CRS and grid.geobox.shape == (ROWS, COLS)
    given = covariate_stack(grid, sources, SOIL, crs=CRS)
    assert given.names == ("DIST", "SOIL")
    np.testing.assert_allclose(given.data[0].compute(), dist)
    output = run_soil_maps(
        _job(plain, tmp_path / "out", covariates=(folder,), covariate_crs=CRS, props=("om",))
    )
    assert len(output.samples) == len(plain.table)


def test_samples_at_the_dems_nodata_edge_keep_their_terrain(mapped, plain):
    """The six riverside samples (the richest) sit next to the DEM's nodata: none is left out."""
    output, _ = mapped
    assert output.samples.excluded == {}
    assert set(RIVERSIDE) <= set(output.results["zinc"].ids)
    sources = find_covariate_sources([plain.covariates])
    (grid,) = map_grids(sources)
    stack = covariate_stack(grid, sources, SOIL, plain.dem)
    riverside = plain.table[plain.table.id.isin(RIVERSIDE)]
    x, y = riverside.x.to_numpy(), riverside.y.to_numpy()
    from pyproj import Transformer

    ex, ey = Transformer.from_crs(CRS, 3035, always_xy=True).transform(x, y)
    values, inside = stack.sample(ex, ey)
    assert inside.all() and np.isfinite(values).all()
    zinc = output.results["zinc"]
    richest = zinc.ids[np.argsort(zinc.observed)[-4:]]
    assert set(richest) & set(RIVERSIDE)


def test_samples_without_a_covariate_are_reported_by_id_with_what_they_lacked(plain, tmp_path):
    table = plain.table[["id", "x", "y", "om", "zinc", "landuse"]].copy()
    table.loc[len(table)] = ["in-river", X0 + 60, Y1 - 500, "9.0", 1500, "W"]  # no elevation in the river
    table.to_csv(tmp_path / "samples.csv", index=False)
    output = run_soil_maps(_job(plain, tmp_path / "out", samples=tmp_path / "samples.csv", props=("zinc",)))
    assert output.samples.excluded == {NO_COVARIATES: ("in-river",)}
    assert output.missing_covariates == {"in-river": ("DEM", "DEM_SLOPE", "DEM_TPI80M")}
    report = json.loads((tmp_path / "out" / "cv_report.json").read_text())
    assert report["samples"]["missing_covariates"] == {"in-river": ["DEM", "DEM_SLOPE", "DEM_TPI80M"]}


def test_intervals_are_calibrated_and_both_coverages_reported(mapped, plain):
    output, out = mapped
    report = json.loads((out / "cv_report.json").read_text())
    for name in ("om", "zinc"):
        result, interval = output.results[name], report["properties"][name]["interval"]
        assert interval["stated_coverage"] == 0.9
        assert interval["observed_coverage"] == pytest.approx(0.9, abs=0.04), name
        # no lab error declared for these properties: the calibration folds' coverage is the observed one
        assert interval["lab_error"] == 0.0 and interval["width_factor"] == 1.0
        assert interval["calibration_cv"]["picp90"] == pytest.approx(interval["observed_coverage"])
        assert interval["calibration_folds"]["method"] in ("random", "blocks")
        # what is reported per sample is what the block folds' intervals hold (the map's, on blocks)
        entry = report["properties"][name]
        rows = entry["predictions"]
        inside = [r["q05"] <= r["observed"] <= r["q95"] for r in rows]
        assert np.mean(inside) == pytest.approx(entry["spatial_cv"]["picp90"])
        raw = [r["q05_uncalibrated"] <= r["observed"] <= r["q95_uncalibrated"] for r in rows]
        assert np.mean(raw) == pytest.approx(entry["spatial_cv_uncalibrated"]["picp90"])
        # the maps carry the margin of all calibration folds: Q05/Q95 are the forest's moved by it
        model = result.model
        assert model.margin == interval["margin"]
        X = np.array([[7.0, 0.5, 0.1, 200.0, 1.0, 2.0]])
        forest_q = np.asarray(model.forest.predict(X, quantiles=[0.05, 0.5, 0.95])).reshape(1, 3).T
        forest_q = np.expm1(forest_q) if model.log else forest_q
        np.testing.assert_allclose(model.quantiles(X), widen(forest_q, model.margin, model.log))


@pytest.mark.parametrize(("half_width", "log"), [(0.3, False), (3.0, False), (0.1, True)])
def test_calibration_brings_too_narrow_or_too_wide_intervals_to_the_stated_coverage(half_width, log):
    """Out-of-fold intervals of a known half width around values with unit (log: 0.3) noise in the model's
    space: the cross-fitted coverage of the calibrated intervals is near 0.90 either way."""
    rng = np.random.default_rng(5)
    n = 600
    centre = rng.uniform(1, 3, n)
    model_values = centre + rng.normal(0, 0.3 if log else 1.0, n)
    back = np.expm1 if log else np.asarray
    values = back(model_values)
    quantiles = np.stack([back(centre - half_width), back(centre), back(centre + half_width)])
    folds = rng.integers(0, 5, n)
    raw = Validation(folds, quantiles, interval_metrics(values, *quantiles))
    calibrated, calibration = calibrate(raw, values, log, SOIL)
    assert calibration.stated == STATED_COVERAGE == 0.9
    assert calibration.observed_uncalibrated == raw.metrics["picp90"]
    assert abs(raw.metrics["picp90"] - 0.9) > 0.08
    assert calibration.observed == pytest.approx(0.9, abs=0.03)
    assert (calibration.margin > 0) == (raw.metrics["picp90"] < 0.9)
    assert np.all(calibrated.quantiles[0] <= calibrated.quantiles[1])
    assert np.all(calibrated.quantiles[1] <= calibrated.quantiles[2])
    off = calibrate(raw, values, log, SoilMapConfig(calibrate=False))[1]
    assert off.observed == off.observed_uncalibrated and off.margin == 0.0


def test_lab_error_in_model_space_known_answers():
    from baresoil.products.soil.model import lab_error_in_model_space

    config = SoilMapConfig(lab_error=("soc=5%", "clay=1.5", "om=2%", "zinc=10"))
    values = np.array([9.0, 19.0, 29.0])  # median 19
    assert lab_error_in_model_space("soc", values, True, config) == pytest.approx(0.05 * 19 / 20)
    assert lab_error_in_model_space("zinc", values, True, config) == pytest.approx(10 / 20)
    assert lab_error_in_model_space("clay", values, False, config) == 1.5
    assert lab_error_in_model_space("om", values, False, config) == pytest.approx(0.02 * 19)
    assert lab_error_in_model_space("ph", values, False, config) == 0.0


def test_lab_error_narrows_the_calibrated_intervals_about_the_median():
    """Lab values = truth + N(0, 1); residuals N(0, sqrt 2): the width factor is sqrt(1/2) and the
    calibrated intervals hold about 90 % of the true values."""
    rng = np.random.default_rng(7)
    n = 2000
    centre = rng.uniform(1, 3, n)
    truth = centre + rng.normal(0, 1.0, n)
    values = truth + rng.normal(0, 1.0, n)
    quantiles = np.stack([centre - 1.0, centre, centre + 1.0])
    raw = Validation(rng.integers(0, 5, n), quantiles, interval_metrics(values, *quantiles))
    calibrated, calibration = calibrate(raw, values, False, SOIL, lab_error=1.0)
    assert calibration.width_factor == pytest.approx(np.sqrt(0.5), abs=0.03)
    assert calibration.observed == pytest.approx(0.9, abs=0.03)  # of the lab values, before
    np.testing.assert_allclose(calibrated.quantiles[1], centre)
    low, _, high = calibrated.quantiles
    assert np.mean((truth >= low) & (truth <= high)) == pytest.approx(0.9, abs=0.03)
