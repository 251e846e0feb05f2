"""Each date is two MGRS tiles that overlap; same-day items agree where they overlap."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from baresoil.catalog.layouts import ALL_BANDS

pytestmark = pytest.mark.slow


def _open(sim, scene, band):
    with rasterio.open(sim.scenes_dir / scene / f"{band}.tif") as src:
        return src.read(1), src.transform, src.bounds


def test_two_tiles_cover_the_world_with_an_overlap(tiny_sim, tiny_truth):
    spec = tiny_truth.spec
    west, east = tiny_truth.observations.loc[0, "items"].split(";")
    assert "_32UPU_" in west and "_32UQU_" in east
    _, _, wb = _open(tiny_sim, west, "B04")
    _, _, eb = _open(tiny_sim, east, "B04")
    x0, y0, x1, y1 = spec.bounds
    assert wb.left == x0 and eb.right == x1
    assert wb.bottom == eb.bottom == y0 and wb.top == eb.top == y1
    assert eb.left < wb.right, "the tiles overlap"
    assert 0.5 < (wb.right - wb.left) / spec.size_m < 0.75
    assert (wb.right - wb.left) < spec.size_m, "no tile covers the whole world: readers must mosaic"


@pytest.mark.parametrize("band", ALL_BANDS)
def test_same_day_tiles_agree_in_their_overlap(tiny_sim, tiny_truth, band):
    for row in tiny_truth.observations.itertuples():
        west, east = row.items.split(";")
        a, ta, _ = _open(tiny_sim, west, band)
        b, tb, _ = _open(tiny_sim, east, band)
        res = ta.a
        start = round((tb.c - ta.c) / res)  # first column of the east tile inside the west tile
        overlap = a.shape[1] - start
        assert overlap > 0
        np.testing.assert_array_equal(a[:, start:], b[:, :overlap], err_msg=f"{row.date} {band}")
