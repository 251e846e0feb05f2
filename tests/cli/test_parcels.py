"""``baresoil parcels`` end to end on the simulator's parcels and catalogs (Sentinel-2 and -1)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from baresoil.cli.main import main
from baresoil.io.stac import output_item_paths
from baresoil.products.parcels import tables
from baresoil.products.parcels.markers import MARKER_COLUMNS, S2_FEATURES
from baresoil.products.parcels.tables import TableProduct
from baresoil.simulate import load_truth

from tests.support.cli_runner import run_cli
from tests.support.parcel_world import parcel_world, s2_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    return parcel_world(tmp_path_factory)


def _args(sim, out, *extra):
    return ["parcels", "--stac", str(s2_catalog(sim)), "--parcels", str(sim.inputs_dir / "parcels.gpkg"),
            "--id-column", "parcel_id", "--start", "2021-04-01", "--end", "2021-06-30", "--out", str(out),
            *extra]  # fmt: skip


def _sizes(context):
    """A table product of the test: the pixel count of every parcel (with geometry)."""
    frame = context.parcels.frame[["parcel_id", "n_pixels", "geometry"]]
    return {"parcel_sizes": gpd.GeoDataFrame(frame, geometry="geometry", crs=3035)}


@pytest.fixture(scope="module")
def run_output(sim, tmp_path_factory):
    out = tmp_path_factory.mktemp("parcels-out")
    product = TableProduct("sizes", "Parcel sizes", "Pixels per parcel (test product).", _sizes)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tables, "_PRODUCTS", {"sizes": product})
        main([*_args(sim, out, "--category-column", "crop_2021", "--s1", str(sim.s1_catalog))])
    return out


def test_writes_markers_tables_and_stac(run_output, sim):
    (item_path,) = output_item_paths(run_output)
    item = json.loads(item_path.read_text())
    folder = item_path.parent
    expected = {"markers", "markers_wide", "markers_wide_csv", "parcels", "parcel_report",
                "parcel_report_csv", "parcel_sizes", "parcel_sizes_csv"}  # fmt: skip
    assert set(item["assets"]) == expected
    for key, asset in item["assets"].items():
        assert (folder / asset["href"]).is_file(), key
        assert asset["type"] in ("application/vnd.apache.parquet", "text/csv")
    assert not list(folder.glob("*.partial"))
    assert [c["name"] for c in item["assets"]["markers"]["table:columns"]] == list(MARKER_COLUMNS)
    assert item["properties"]["baresoil:s1_dates"] > 10 and item["properties"]["baresoil:s2_dates"] > 10
    markers = pd.read_parquet(folder / "markers.parquet")
    assert list(markers.columns) == list(MARKER_COLUMNS)
    assert set(markers["source"]) == {"S1", "S2"}
    assert set(markers[markers["source"] == "S2"]["feature"]) == set(S2_FEATURES)
    declared = gpd.read_file(sim.inputs_dir / "parcels.gpkg")
    parcels = gpd.read_parquet(folder / "parcels.parquet")
    assert parcels.crs.to_epsg() == 3035 and set(parcels["parcel_id"]) <= set(declared["parcel_id"])
    assert (
        parcels["category"] == parcels["parcel_id"].map(declared.set_index("parcel_id")["crop_2021"])
    ).all()
    sizes = gpd.read_parquet(folder / "parcel_sizes.parquet")
    assert (sizes["n_pixels"] > 0).all()
    wide = pd.read_csv(folder / "markers_wide.csv")
    assert wide.columns[0] == "NewID" and len(wide) == len(parcels)


def test_parcel_ndvi_follows_the_truth(run_output, sim):
    """Parcel mean NDVI rises with the true green cover of the parcel on that day."""
    folder = next(p for p in run_output.iterdir() if p.is_dir())
    markers = pd.read_parquet(folder / "markers.parquet")
    ndvi = markers[(markers["feature"] == "NDVI") & (markers["count"] >= 5)].copy()
    ndvi["date"] = pd.to_datetime(ndvi["date"]).dt.date
    daily = load_truth(sim.root).parcel_daily
    joined = ndvi.merge(daily, on=["parcel_id", "date"])
    assert len(joined) > 50
    assert np.corrcoef(joined["mean"], joined["g"])[0, 1] > 0.8


def test_missing_id_column_is_one_clear_line(sim, tmp_path, capsys):
    args = _args(sim, tmp_path / "out")
    args[args.index("parcel_id")] = "NewID"
    code, _, err = run_cli(capsys, *args)
    assert code == 1
    assert "parcels.gpkg" in err and "'NewID'" in err and "parcel_id" in err and "Traceback" not in err


def test_s1_source_without_backscatter_is_a_clear_error(sim, tmp_path, capsys):
    code, _, err = run_cli(capsys, *_args(sim, tmp_path / "out", "--s1", str(s2_catalog(sim))))
    assert code == 1 and "no Sentinel-1 items with VV and VH" in err
    assert not (tmp_path / "out" / "catalog.json").exists()
