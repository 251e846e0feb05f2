"""``baresoil soil`` on a hand-made landscape: outputs, and one-line errors for bad samples."""

import json

import pytest

from baresoil.cli.main import main
from baresoil.io.stac import output_item_paths
from cli_runner import run_cli
from soil_factory import make_landscape


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
    assert "soc: n " in printed and "90 % PI coverage" in printed
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


def test_unknown_property(capsys, land, tmp_path):
    code, _, err = run_cli(capsys, *soil_args(land, tmp_path / "out", "--property", "organic"))
    assert_one_line(code, err, "unknown soil property 'organic'", "soc")


def test_samples_outside_the_area_and_too_few(capsys, land, tmp_path):
    table = land.table[["sample_id", "lon", "lat", "soc"]].copy()
    table["lon"] = table["lon"] - 3  # all 60 far west of the covariates
    table.to_csv(tmp_path / "far.csv", index=False)
    code, _, err = run_cli(
        capsys, *soil_args(land, tmp_path / "out", "--property", "soc", samples=tmp_path / "far.csv")
    )
    assert_one_line(code, err, "soc: only 0 usable sample(s) of 60", "outside the covariates' area 60")


def test_covariates_that_are_not_soilsuite_outputs(capsys, land, tmp_path):
    args = soil_args(land, tmp_path / "out", "--property", "soc")
    args[args.index("--covariates") + 1] = str(tmp_path)
    code, _, err = run_cli(capsys, *args)
    assert_one_line(code, err, "no STAC catalog of SoilSuite outputs")
