"""A product run end to end: tiles, COGs, STAC items; locally and on a LocalCluster."""

import json
from datetime import datetime

import numpy as np
import pytest

from baresoil.catalog.layouts import PLANETARY_COMPUTER
from baresoil.catalog.source import StacSource, TimeRange
from baresoil.config import Config, CubeConfig
from baresoil.grid import area_from_bbox
from baresoil.io.cog import read_layer
from baresoil.io.stac import output_item_paths
from baresoil.pipeline.cluster import scheduler
from baresoil.pipeline.run import Job, run_product
from baresoil.products.observations import FAMILY, observation_counts

from tests.support.stac_factory import lonlat_bbox, make_item, write_catalog, write_scene


@pytest.fixture
def catalog(tmp_path):
    """Three dates: clear; a cloud block in the north-west and snow in the south-east; clear."""
    cloudy = np.full((50, 50), 4)
    cloudy[5:10, 5:10] = 9
    cloudy[40:45, 40:45] = 11
    items = []
    for i, scl in enumerate((None, cloudy, None)):
        paths = write_scene(tmp_path / f"s{i}", offset_dn=0, scl=scl)
        items.append(
            make_item(PLANETARY_COMPUTER, f"item{i}", datetime(2021, 6, 1 + 5 * i, 10), paths, "03.01")
        )
    return write_catalog(tmp_path / "stac", items)


def _job(catalog, out):
    return Job(
        StacSource(str(catalog)),
        area_from_bbox(*lonlat_bbox(50)),
        TimeRange.parse("2021-05-01", "2021-07-01"),
        out,
        Config(cube=CubeConfig(resolution=20, cloud_buffer_m=100, chunk_size=16)),
        progress=False,
    )


def _check_outputs(out):
    (item_path,) = output_item_paths(out)
    item = json.loads(item_path.read_text())
    assert set(item["assets"]) == {"NOBS", "NCLEAR", "NSNOW"}
    folder = item_path.parent
    nobs, _ = read_layer(folder / item["assets"]["NOBS"]["href"])
    nclear, profile = read_layer(folder / item["assets"]["NCLEAR"]["href"])
    nsnow, _ = read_layer(folder / item["assets"]["NSNOW"]["href"])
    assert np.all(nobs == 3)
    assert nclear.min() == 2  # the cloudy date is lost around the cloud ...
    assert nclear.max() == 3  # ... and kept far from it
    assert nsnow.max() == 1 and nsnow.min() == 0
    assert np.all(nclear[nsnow == 1] == 2)  # snow is not clear sky
    # the 100 m buffer removes more pixels than the cloud itself (25 px at 20 m)
    assert (nclear == 2).sum() - (nsnow == 1).sum() > 2 * 25
    assert profile["crs"] == "EPSG:3035"
    return nclear


def test_run_locally(tmp_path, catalog):
    items = run_product(_job(catalog, tmp_path / "out"), FAMILY, observation_counts)
    assert [p.name for p in items] == ["observations_E44N27_2021_R20m.json"]
    _check_outputs(tmp_path / "out")


@pytest.mark.slow  # two worker processes start and import the library
def test_run_on_a_local_cluster_gives_the_same_result(tmp_path, catalog):
    from distributed import LocalCluster

    local = _check_outputs_after(run_dir := tmp_path / "local", catalog, None)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = _check_outputs_after(tmp_path / "cluster", catalog, cluster.scheduler_address)
    assert np.array_equal(local, remote)
    assert run_dir.exists()


def _check_outputs_after(out, catalog, address):
    with scheduler(address):
        run_product(_job(catalog, out), FAMILY, observation_counts)
    return _check_outputs(out)


def test_unreachable_scheduler_is_a_clear_error():
    from baresoil.errors import BaresoilError

    with (
        pytest.raises(BaresoilError, match="cannot connect to the dask scheduler"),
        scheduler("tcp://127.0.0.1:1", timeout=1),
    ):
        pass


def test_a_local_run_computes_without_importing_distributed():
    """Without --scheduler the threads compute, and dask is not left to import distributed (half a
    second) to look for a client that cannot exist."""
    import subprocess
    import sys

    code = (
        "import sys, dask.array as da\n"
        "from baresoil.pipeline.cluster import scheduler\n"
        "with scheduler(None):\n"
        "    assert int(da.ones(8, chunks=2).sum().compute()) == 8\n"
        "print('distributed' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
