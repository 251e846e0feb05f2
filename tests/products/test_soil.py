"""Soil maps end to end on a hand-made landscape whose covariates determine SOC and clay."""

import json

import numpy as np
import pytest

from baresoil.config import Config, SoilMapConfig
from baresoil.io.cog import read_layer
from baresoil.io.stac import output_item_paths
from baresoil.pipeline.soilmap import NO_COVARIATES, OUTSIDE, SoilMapJob, run_soil_maps
from baresoil.products.soil import (
    PROPERTIES,
    CovariateError,
    SampleError,
    covariate_stack,
    find_covariate_sources,
    find_covariate_tiles,
    parse_property,
    predict_layers,
)
from baresoil.products.soil.covariates import raster_blocks
from baresoil.registry import layer

from tests.support.soil_factory import GAP, PIXELS, make_landscape

SOIL = SoilMapConfig(trees=60, chunk_size=24, cv_block_m=320, cv_neighbour_m=50, tpi_radii_m=(60, 200),
                     lab_error=("soc=2%", "clay=0.5"))  # the factory's lab noise  # fmt: skip
CONFIG = Config(soil=SOIL)


def _job(land, out, samples=None, config=CONFIG, props=("soc", "clay")):
    return SoilMapJob(
        samples=samples or land.samples,
        properties=tuple(parse_property(p) for p in props),
        covariates=(land.covariates,),
        out_dir=out,
        dem=land.dem,
        config=config,
        progress=False,
    )


@pytest.fixture(scope="module")
def land(tmp_path_factory):
    return make_landscape(tmp_path_factory.mktemp("landscape"))


@pytest.fixture(scope="module")
def mapped(land, tmp_path_factory):
    out = tmp_path_factory.mktemp("soilmaps")
    return run_soil_maps(_job(land, out)), out


def _mec(truth, predicted):
    ok = np.isfinite(truth) & np.isfinite(predicted)
    return 1 - np.sum((predicted[ok] - truth[ok]) ** 2) / np.sum((truth[ok] - truth[ok].mean()) ** 2)


@pytest.mark.parametrize(
    ("code", "value", "stored"),
    [("SOC_Q50", 12.34, 123), ("PH_Q05", 6.5, 65), ("CLAY_Q95", 23.4, 234), ("BULK_DENSITY_Q50", 1.45, 145),
     ("N_Q50", 1.234, 123), ("SOC_UNC", 0.57, 57), ("SAND_Q50", 100.0, 1000)],
)  # fmt: skip
def test_soilgrids_scaled_integers_round_trip(code, value, stored):
    spec = layer(code)
    encoded = spec.encode(np.array([value, np.nan]))
    assert encoded.dtype == np.int16
    assert encoded.tolist() == [stored, -32768]
    decoded = spec.decode(encoded)
    assert decoded[0] == pytest.approx(value, abs=spec.scale / 2)
    assert np.isnan(decoded[1])


def test_every_property_has_four_registered_layers():
    for prop in PROPERTIES.values():
        specs = [layer(code) for code in prop.layer_codes]
        assert {s.family for s in specs} == {"soil"}
        assert [s.quicklook for s in specs] == [False, True, False, True]
        assert specs[1].unit == prop.unit and specs[3].unit == "1"


def test_maps_are_written_as_cogs_with_a_stac_item(mapped, land):
    output, out = mapped
    (item_path,) = output.items
    item = json.loads(item_path.read_text())
    assert item["id"] == "soil_E44N28_2021-2022_R20m"
    assert set(item["assets"]) == {f"{p}_{s}" for p in ("SOC", "CLAY") for s in ("Q05", "Q50", "Q95", "UNC")}
    assert item["assets"]["SOC_Q50"]["raster:bands"] == [
        {"data_type": "int16", "nodata": -32768, "scale": 0.1, "offset": 0.0, "unit": "g/kg"}
    ]
    assert item["properties"]["start_datetime"].startswith("2021-01-01")
    assert output_item_paths(out) == [out / item["id"] / f"{item['id']}.json"]


def test_quantiles_are_ordered_uncertainty_as_soilgrids_and_nodata_without_composite(mapped, land):
    output, _ = mapped
    folder = output.items[0].parent
    for code, truth in (("SOC", land.soc), ("CLAY", land.clay)):
        q05, q50, q95, unc = (
            read_layer(folder / f"{folder.name}_{code}_{s}.tif")[0] for s in ("Q05", "Q50", "Q95", "UNC")
        )
        assert q05.shape == (PIXELS, PIXELS)
        # no bare-soil composite in the north-west corner: nodata, everywhere else a value
        assert np.isnan(q50[:GAP, :GAP]).all() and np.isnan(unc[:GAP, :GAP]).all()
        rest = np.ones_like(q50, bool)
        rest[:GAP, :GAP] = False
        assert np.isfinite(q50[rest]).all()
        ok = np.isfinite(q50)
        assert np.all(q05[ok] <= q50[ok]) and np.all(q50[ok] <= q95[ok])
        # UNC = (Q95 - Q05) / Q50 of the unrounded quantiles: within the stored rounding of both sides
        half = layer(f"{code}_Q50").scale / 2
        lowest = (q95[ok] - q05[ok] - 2 * half) / (q50[ok] + half) - 0.005
        highest = (q95[ok] - q05[ok] + 2 * half) / (q50[ok] - half) + 0.005
        assert np.all((unc[ok] >= lowest) & (unc[ok] <= highest))
        assert _mec(truth, q50) > 0.85, code
        # the intervals are calibrated for the map's pixels: they hold the true values about as stated
        inside = (truth[ok] >= q05[ok]) & (truth[ok] <= q95[ok])
        assert 0.8 <= inside.mean() <= 0.99, (code, inside.mean())


def test_cv_report(mapped, land):
    _, out = mapped
    report = json.loads((out / "cv_report.json").read_text())
    in_gap = land.table[(land.table.row < GAP) & (land.table.col < GAP)].sample_id.tolist()
    assert in_gap and report["samples"]["excluded"] == {NO_COVARIATES: in_gap}
    assert report["samples"]["read"] == len(land.table)
    assert report["samples"]["used"] == len(land.table) - len(in_gap)
    for name in ("soc", "clay"):
        entry = report["properties"][name]
        cv = entry["spatial_cv"]
        assert cv["n"] == report["samples"]["used"]
        # the map's intervals on the block folds: made for the map's distances, not for extrapolation
        assert cv["mec"] > 0.6 and 0.5 <= cv["picp90"] <= 1.0
        interval = entry["interval"]
        assert interval["calibration_folds"]["method"] in ("random", "blocks")
        assert 0.8 <= interval["observed_coverage"] <= 1.0
        assert 0.5 <= interval["width_factor"] <= 1.0 and interval["lab_error"] > 0
        assert set(entry["random_cv"]) == set(cv)
        assert [row["covariates"] for row in entry["comparison"]] == ["terrain", "terrain + MREF",
                                                                      "terrain + MREF + SRC"]  # fmt: skip
        assert entry["comparison"][-1]["mec"] == pytest.approx(cv["mec"])
        assert sum(r["importance"] for r in entry["importance"]) == pytest.approx(1.0)
        assert set(entry["importance_by_group"]) == {"terrain", "mref", "src"}
        assert len(entry["predictions"]) == cv["n"]
        assert sum(entry["folds"]["sizes"]) == cv["n"]
        assert (out / entry["plot"]).stat().st_size > 1000
    assert report["properties"]["soc"]["transform"] == "log1p"
    assert report["properties"]["clay"]["transform"] == "none"
    assert (out / report["comparison_plot"]).exists()


def test_cross_validation_never_splits_neighbours(mapped):
    output, _ = mapped
    result = output.results["soc"]
    samples = output.samples
    index = {sid: k for k, sid in enumerate(samples.ids)}
    rows = [index[i] for i in result.ids]
    x, y, folds = samples.x[rows], samples.y[rows], result.spatial.folds
    distance = np.hypot(x[:, None] - x[None], y[:, None] - y[None])
    assert not np.any((folds[:, None] != folds[None]) & (distance < SOIL.cv_neighbour_m))


def test_blockwise_prediction_equals_the_forest_on_the_whole_stack(mapped, land):
    output, _ = mapped
    sources = find_covariate_sources([land.covariates])
    (tile,) = sources[0].tiles
    stack = covariate_stack(tile.grid, sources, SOIL, land.dem)
    models = [r.model for r in output.results.values()]
    layers = predict_layers(stack, models).compute()
    values = stack.data.compute().reshape(len(stack.names), -1).T
    complete = np.isfinite(values).all(axis=1)
    _, q50, q95 = models[0].quantiles(values[complete].astype(np.float64))
    np.testing.assert_allclose(layers.SOC_Q50.values.ravel()[complete], q50, rtol=1e-5)
    np.testing.assert_allclose(layers.SOC_Q95.values.ravel()[complete], q95, rtol=1e-5)
    assert np.isnan(layers.SOC_Q05.values.ravel()[~complete]).all()


def test_covariates_read_by_blocks_match_the_files(land):
    sources = find_covariate_sources([land.covariates])
    (tile,) = sources[0].tiles
    mean, _ = read_layer(tile.assets["SRC_MEAN"])
    blocks = raster_blocks(tile.assets["SRC_MEAN"], tile.geobox, ((20, 20, 24), (30, 34))).compute()
    np.testing.assert_allclose(blocks, mean, rtol=1e-6)
    # terrain derived by overlapping blocks equals terrain derived from the whole grid at once
    small = covariate_stack(tile.grid, sources, SOIL, land.dem)
    whole_config = SoilMapConfig(chunk_size=PIXELS, tpi_radii_m=SOIL.tpi_radii_m)
    whole = covariate_stack(tile.grid, sources, whole_config, land.dem)
    assert small.names == whole.names
    assert small.names[:4] == ("DEM", "DEM_SLOPE", "DEM_TPI60M", "DEM_TPI200M")
    np.testing.assert_allclose(small.data[:4].compute(), whole.data[:4].compute(), rtol=1e-5, atol=1e-4)
    # the DEM is reprojected from UTM: elevation rises 20 m north to south and falls 10 m west to east
    dem = whole.data[0].compute()
    assert dem[-1, 0] - dem[0, 0] == pytest.approx(20 * (PIXELS - 1) / PIXELS, abs=0.5)


def test_samples_outside_the_area_are_reported_by_id(land, tmp_path):
    table = land.table[["sample_id", "lon", "lat", "soc", "clay"]].copy()
    table.loc[:2, "lon"] = 5.0  # far west of the covariates
    table.to_csv(tmp_path / "samples.csv", index=False)
    output = run_soil_maps(_job(land, tmp_path / "out", tmp_path / "samples.csv", props=("soc",)))
    assert output.samples.excluded[OUTSIDE] == ("P000", "P001", "P002")


def test_too_few_samples_is_a_clear_error(land, tmp_path):
    table = land.table[["sample_id", "lon", "lat", "soc", "clay"]].copy()
    table.loc[15:, "lon"] = 5.0
    table.to_csv(tmp_path / "samples.csv", index=False)
    with pytest.raises(
        SampleError, match=r"soc: only \d+ usable sample\(s\) of 90, at least 20 needed.*outside"
    ):
        run_soil_maps(_job(land, tmp_path / "out", tmp_path / "samples.csv", props=("soc",)))
    assert not (tmp_path / "out" / "catalog.json").exists()


def test_covariates_folder_without_soilsuite_catalog(land, tmp_path):
    with pytest.raises(CovariateError, match="no STAC catalog of SoilSuite outputs"):
        find_covariate_tiles(tmp_path)
    (tmp_path / "catalog.json").write_text(
        json.dumps({"type": "Catalog", "stac_version": "1.1.0", "id": "x", "description": "x", "links": []})
    )
    with pytest.raises(CovariateError, match="no SoilSuite items"):
        find_covariate_tiles(tmp_path)


def test_html_report_shows_the_validation(mapped):
    from baresoil.io.report import write_report

    _, out = mapped
    page = write_report(out).read_text()
    expected = ("SOC_Q50: Soil organic carbon, median", "SOC_UNC: Soil organic carbon, uncertainty",
                "Soil maps: spatial cross-validation", "Covariate comparison", "terrain + MREF + SRC",
                "soc: observed vs predicted", "MEC by covariate set", "missing covariate values")  # fmt: skip
    for text in expected:
        assert text in page, text
    assert page.count("data:image/png;base64,") >= 4 + 2 + 1
