"""``baresoil soil`` on hand-made landscapes (SoilSuite outputs; a floodplain of rasters in EPSG:28992):
outputs, the console, and one-line errors for bad samples and rasters."""

import json
import re

import pandas as pd
import pytest

from baresoil.cli.main import main
from baresoil.io.stac import output_item_paths

from tests.support.cli_runner import run_cli
from tests.support.meuse_factory import RIVERSIDE, X0, Y1, make_floodplain, write_raster
from tests.support.soil_factory import make_landscape


@pytest.fixture(scope="module")
def land(tmp_path_factory):
    return make_landscape(tmp_path_factory.mktemp("landscape"), n_samples=60)


def soil_args(land, out, *extra, samples=None):
    return ["soil", "--samples", str(samples or land.samples), "--covariates", str(land.covariates),
            "--out", str(out), "--trees", "40", "--block-size", "320", *extra]  # fmt: skip


def assert_one_line(code, err, *fragments):
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_soil_command_writes_maps_report_and_catalog(capsys, land, tmp_path):
    out = tmp_path / "out"
    args = soil_args(land, out, "--property", "soc", "--property", "clay", "--extra", str(land.dem))
    main(args)
    printed = capsys.readouterr().out
    assert "left out, missing covariate values" in printed
    assert re.search(r"soc: n 59, .*90 % PI: stated 0\.90, observed 0\.\d\d \(uncalibrated forest 0\.\d\d\)",
                     printed), printed  # fmt: skip
    report = json.loads((out / "cv_report.json").read_text())
    assert set(report["properties"]) == {"soc", "clay"}
    # the DEM given as a plain extra raster is one covariate of the terrain group, as it is
    assert report["covariates"]["groups"]["DEM"] == "terrain"
    assert not any(name.startswith("DEM_TPI") for name in report["covariates"]["names"])
    (item_path,) = output_item_paths(out)
    item = json.loads(item_path.read_text())
    assert {"SOC_Q05", "SOC_Q50", "SOC_Q95", "SOC_UNC", "CLAY_Q50"} <= set(item["assets"])


def test_missing_property_column(capsys, land, tmp_path):
    code, _, err = run_cli(capsys, *soil_args(land, tmp_path / "out", "--property", "ph"))
    assert_one_line(code, err, "missing column(s) ph", "samples.csv")


def test_a_property_without_its_column(capsys, land, tmp_path):
    code, _, err = run_cli(capsys, *soil_args(land, tmp_path / "out", "--property", "organic"))
    assert_one_line(code, err, "missing column(s) organic", "columns: sample_id, lon, lat, soc, clay")


def test_samples_outside_the_area_and_too_few(capsys, land, tmp_path):
    table = land.table[["sample_id", "lon", "lat", "soc"]].copy()
    table["lon"] = table["lon"] - 3  # all 60 far west of the covariates
    table.to_csv(tmp_path / "far.csv", index=False)
    code, _, err = run_cli(
        capsys, *soil_args(land, tmp_path / "out", "--property", "soc", samples=tmp_path / "far.csv")
    )
    assert_one_line(code, err, "soc: only 0 usable sample(s) of 60", "outside the covariates' area 60")


def test_covariates_that_are_neither_soilsuite_outputs_nor_rasters(capsys, land, tmp_path):
    (tmp_path / "notes.txt").write_text("not a raster")
    args = soil_args(land, tmp_path / "out", "--property", "soc")
    args[args.index("--covariates") + 1] = str(tmp_path)
    code, _, err = run_cli(capsys, *args)
    assert_one_line(code, err, str(tmp_path), "neither an output folder of `baresoil soilsuite`",
                    "nor a folder of rasters")  # fmt: skip


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    return make_floodplain(tmp_path_factory.mktemp("floodplain"))


def floodplain_args(plain, out, *extra, covariates=None):
    return ["soil", "--samples", str(plain.samples), "--property", "om", "--property", "zinc",
            "--covariates", str(covariates or plain.covariates), "--dem", str(plain.dem), "--id-column", "id",
            "--x-column", "x", "--y-column", "y", "--crs", "EPSG:28992", "--out", str(out), "--trees", "30",
            "--block-size", "400", "--folds", "4", *extra]  # fmt: skip


def test_own_rasters_any_property_and_samples_left_out_by_id(capsys, plain, tmp_path):
    """Organic matter and zinc from a folder of rasters in EPSG:28992; the sample in the river (no
    elevation) is named with what it lacked, the riverside ones are kept."""
    table = pd.read_csv(plain.samples, dtype=str)
    table.loc[len(table)] = ["in-river", str(X0 + 60), str(Y1 - 500), "9.0", "1500", "W"]
    table.to_csv(tmp_path / "samples.csv", index=False)
    args = floodplain_args(plain, tmp_path / "out")
    args[args.index("--samples") + 1] = str(tmp_path / "samples.csv")
    (tmp_path / "soil.toml").write_text("[soil]\ncv_neighbour_m = 30.0\n")
    main([*args, "--config", str(tmp_path / "soil.toml")])
    printed = capsys.readouterr().out
    assert "left out, missing covariate values (1): in-river (lacking DEM 1, DEM_SLOPE 1" in printed, printed
    assert "no value of om (2): 40, 41" in printed
    for name in ("om", "zinc"):
        assert re.search(rf"{name}: n \d+, .*90 % PI: stated 0\.90, observed 0\.\d\d", printed), printed
    report = json.loads((tmp_path / "out" / "cv_report.json").read_text())
    assert report["samples"]["used"] == len(plain.table)
    assert set(RIVERSIDE) <= {r["sample_id"] for r in report["properties"]["zinc"]["predictions"]}


def test_a_raster_without_crs_is_one_line_naming_it(capsys, plain, tmp_path):
    folder = tmp_path / "nocrs"
    folder.mkdir()
    write_raster(folder / "dist.tif", plain.dist.astype("float32"), crs=None)
    code, _, err = run_cli(capsys, *floodplain_args(plain, tmp_path / "out", covariates=folder))
    assert_one_line(code, err, f"covariate raster {folder / 'dist.tif'} has no CRS", "--covariate-crs")
