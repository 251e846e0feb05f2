"""``baresoil seasons`` end to end on a tiny simulated world (Sentinel-2 and -1, parcels)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio

from baresoil.io.stac import output_item_paths
from baresoil.kernels.seasons import LAYERS

from tests.support.cli_runner import run_cli
from tests.support.parcel_world import parcel_world, s2_catalog, world_area

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return parcel_world(tmp_path_factory)


def _args(sim, out, *extra):
    bbox = [f"{v:.6f}" for v in world_area(margin_m=50).lonlat_bounds]
    return ["seasons", "--stac", str(s2_catalog(sim)), "--bbox", *bbox, "--year", "2021", "--out", str(out),
            *extra]  # fmt: skip


def test_per_field_with_sentinel1_writes_every_hrl_layer_with_styles(sim, tmp_path, capsys):
    out = tmp_path / "seasons"
    extra = ("--parcels", str(sim.inputs_dir / "parcels.gpkg"), "--id-column", "parcel_id",
             "--crop-column", "crop_2021", "--s1", str(sim.s1_catalog))  # fmt: skip
    code, stdout, stderr = run_cli(capsys, *_args(sim, out, *extra))
    assert code == 0, stderr
    assert "catalog" in stdout
    (item_path,) = output_item_paths(out)
    item = json.loads(item_path.read_text())
    assert set(item["assets"]) == set(LAYERS)
    assert item["properties"]["start_datetime"].startswith("2021-01-01")
    href = item["assets"]["CPBSA"]["href"]
    assert href.endswith("_CPBSA_S2021_R10m_" + item["id"].split("_")[1] + "_03035.tif")
    tif = item_path.parent / href
    assert tif.with_suffix(".qml").exists()
    with rasterio.open(tif) as src:
        stored = src.read(1)
        assert src.dtypes[0] == "uint16" and src.nodata == 65535
    # April to June only: no complete season, so every field pixel carries a flag, and pixels
    # between fields the per-field flag
    assert np.all((stored >= 65527) | (stored == 0))
    assert (stored == 65527).any()


def test_parcels_need_their_id_column(sim, tmp_path, capsys):
    code, _, stderr = run_cli(
        capsys, *_args(sim, tmp_path / "x", "--parcels", str(sim.inputs_dir / "parcels.gpkg"))
    )
    assert code == 1
    assert "--parcels and --id-column go together" in stderr


def test_the_crop_column_needs_parcels_and_must_exist(sim, tmp_path, capsys):
    code, _, stderr = run_cli(capsys, *_args(sim, tmp_path / "x", "--crop-column", "crop_2021"))
    assert code == 1
    assert "--crop-column needs --parcels" in stderr
    parcels = ("--parcels", str(sim.inputs_dir / "parcels.gpkg"), "--id-column", "parcel_id")
    code, _, stderr = run_cli(capsys, *_args(sim, tmp_path / "y", *parcels, "--crop-column", "crop_1999"))
    assert code == 1
    assert "no column 'crop_1999'" in stderr
