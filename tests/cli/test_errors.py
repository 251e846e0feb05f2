"""Errors a user must see clearly: one line, exit status != 0, no traceback unless --debug."""

from datetime import datetime

import pytest

from baresoil.catalog.layouts import EARTH_SEARCH
from baresoil.cli.main import main

from tests.support.stac_factory import lonlat_bbox, make_item, write_catalog, write_scene


@pytest.fixture
def catalog(tmp_path):
    items = []
    for i, day in enumerate((datetime(2021, 6, 1, 10), datetime(2021, 6, 11, 10))):
        paths = write_scene(tmp_path / f"s{i}", offset_dn=0)
        items.append(make_item(EARTH_SEARCH, f"S2A_32UPU_2021060{i}_0_L2A", day, paths, "03.01"))
    return write_catalog(tmp_path / "stac", items)


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    captured = capsys.readouterr()
    return exit_info.value.code, captured.err


def cube_args(catalog, tmp_path, *extra, start="2021-05-01", end="2021-07-01"):
    bbox = [f"{v:.6f}" for v in lonlat_bbox()]
    return [
        "cube",
        "--stac",
        str(catalog),
        "--bbox",
        *bbox,
        "--start",
        start,
        "--end",
        end,
        "--out",
        str(tmp_path / "out"),
        *extra,
    ]


def assert_one_line(code, err, *fragments):
    assert code not in (0, None)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_catalog_not_found(capsys, tmp_path):
    code, err = run(capsys, *cube_args(tmp_path / "nowhere" / "catalog.json", tmp_path))
    assert_one_line(code, err, "STAC catalog not found", "nowhere")


def test_no_items_for_area_and_time(capsys, tmp_path, catalog):
    code, err = run(capsys, *cube_args(catalog, tmp_path, start="2020-01-01", end="2020-02-01"))
    assert_one_line(code, err, "no items", "2020-01-01")


def test_band_missing_from_an_item(capsys, tmp_path, catalog):
    import json

    item_file = next((catalog.parent).rglob("S2A_32UPU_20210601_0_L2A.json"))
    data = json.loads(item_file.read_text())
    del data["assets"]["swir22"]
    item_file.write_text(json.dumps(data))
    code, err = run(capsys, *cube_args(catalog, tmp_path))
    assert_one_line(code, err, "item S2A_32UPU_20210601_0_L2A", "band B12", "swir22")


def test_asset_unreadable(capsys, tmp_path, catalog):
    """Left out, named on one line, exit 0; with --strict the run ends on that line."""
    from tests.support.cli_runner import run_cli

    (tmp_path / "s1" / "SCL.tif").write_bytes(b"this is not a GeoTIFF")
    code, err = run(capsys, *cube_args(catalog, tmp_path, "--strict"))
    assert_one_line(code, err, "item S2A_32UPU_20210601_0_L2A", "band SCL", "cannot be read", "s1/SCL.tif")
    code, _out, err = run_cli(capsys, *cube_args(catalog, tmp_path))
    assert code == 0
    assert len(err.strip().splitlines()) == 1, err
    assert "left out 1 unreadable scene-band(s)" in err and "item S2A_32UPU_20210601_0_L2A band SCL" in err


def test_a_truncated_20m_cog_is_left_out_not_the_run(capsys, tmp_path, catalog):
    """B11 (native 20 m) cut short: that scene-band is left out, the run goes on."""
    from tests.support.cli_runner import run_cli

    path = tmp_path / "s1" / "B11.tif"
    path.write_bytes(path.read_bytes()[: path.stat().st_size - 200])
    code, _out, err = run_cli(capsys, *cube_args(catalog, tmp_path))
    assert code == 0, err
    assert "unexpected" not in err
    assert "item S2A_32UPU_20210601_0_L2A band B11" in err
    code, err = run(capsys, *cube_args(catalog, tmp_path, "--strict"))
    assert_one_line(code, err, "item S2A_32UPU_20210601_0_L2A", "band B11", "cannot be read", "s1/B11.tif")


def test_area_outside_the_grid(capsys, tmp_path, catalog):
    code, err = run(
        capsys,
        "cube",
        "--stac",
        str(catalog),
        "--bbox",
        "-75",
        "40",
        "-74",
        "41",
        "--start",
        "2021-01-01",
        "--end",
        "2021-12-31",
        "--out",
        str(tmp_path / "o"),
    )
    assert_one_line(code, err, "outside the EEA reference grid")
    code, err = run(
        capsys,
        *cube_args(catalog, tmp_path)[:3],
        "--tile",
        "E01N01",
        "--start",
        "2021-01-01",
        "--end",
        "2021-12-31",
        "--out",
        str(tmp_path / "o"),
    )
    assert_one_line(code, err, "E01N01", "outside the EEA reference grid")


def test_reversed_time_range(capsys, tmp_path, catalog):
    code, err = run(capsys, *cube_args(catalog, tmp_path, start="2021-07-01", end="2021-05-01"))
    assert_one_line(code, err, "time range reversed")


def test_two_areas_at_once(capsys, tmp_path, catalog):
    code, err = run(capsys, *cube_args(catalog, tmp_path, "--tile", "E44N27"))
    assert_one_line(code, err, "exactly one area")


def test_debug_shows_the_traceback(tmp_path, catalog):
    from baresoil.errors import TimeRangeError

    with pytest.raises(TimeRangeError):
        main(["--debug", *cube_args(catalog, tmp_path, start="2021-07-01", end="2021-05-01")])
