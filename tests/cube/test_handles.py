"""Files kept open between blocks: the same pixels as a fresh open, within the budget, never stale."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from baresoil.cube.handles import HEADER_BYTES, OpenFiles

BIG = 10**9


def _write(path, value: int, size: int = 64) -> None:
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 1, "dtype": "uint16",
               "crs": "EPSG:32632", "transform": from_origin(600_000, 5_000_000, 10, 10),
               "tiled": True, "blockxsize": 32, "blockysize": 32}  # fmt: skip
    with rasterio.open(path, "w", **profile) as out:
        out.write(np.full((1, size, size), value, np.uint16))


def _read(files: OpenFiles, path, budget: int = BIG) -> np.ndarray:
    with files.opened(str(path), budget) as dataset:
        return dataset.read(1)


def test_a_kept_file_is_opened_once_and_reads_as_a_fresh_one(tmp_path):
    path = tmp_path / "a.tif"
    _write(path, 7)
    files = OpenFiles()
    first = _read(files, path)
    with files.opened(str(path), BIG) as again, rasterio.open(path) as fresh:
        assert not again.closed
        np.testing.assert_array_equal(again.read(1), fresh.read(1))
    assert (first == 7).all()
    files.close_all()
    assert again.closed


def test_a_replaced_file_is_opened_again(tmp_path):
    path = tmp_path / "a.tif"
    _write(path, 7)
    files = OpenFiles()
    assert (_read(files, path) == 7).all()
    _write(tmp_path / "b.tif", 9)
    os.replace(tmp_path / "b.tif", path)  # another inode under the same name
    assert (_read(files, path) == 9).all()
    files.close_all()


def test_past_the_budget_a_file_is_closed_after_its_read(tmp_path):
    paths = [tmp_path / f"{k}.tif" for k in range(3)]
    for k, path in enumerate(paths):
        _write(path, k)
    one = HEADER_BYTES + 32 * 32 * 2  # a header and a 32 x 32 uint16 tile
    files = OpenFiles()
    kept = []
    for path in paths:
        with files.opened(str(path), 2 * one) as dataset:
            kept.append(dataset)
    assert [d.closed for d in kept] == [False, False, True]  # no eviction: the first two stay
    with files.opened(str(paths[2]), 0) as dataset:
        assert dataset is not kept[2]
    assert dataset.closed
    files.close_all()
    assert all(d.closed for d in kept)


def test_forget_closes_the_file_so_the_next_read_opens_it_afresh(tmp_path):
    path = tmp_path / "a.tif"
    _write(path, 3)
    files = OpenFiles()
    with files.opened(str(path), BIG) as first:
        pass
    files.forget(str(path))
    assert first.closed
    with files.opened(str(path), BIG) as second:
        assert second is not first and (second.read(1) == 3).all()
    files.close_all()


def test_threads_share_a_kept_file_one_read_at_a_time(tmp_path):
    paths = [tmp_path / f"{k}.tif" for k in range(4)]
    for k, path in enumerate(paths):
        _write(path, k + 1, size=128)
    files = OpenFiles()
    wrong: list[str] = []

    def reader(seed: int) -> None:
        rng = np.random.default_rng(seed)
        for _ in range(200):
            k = int(rng.integers(len(paths)))
            with files.opened(str(paths[k]), BIG) as dataset:
                window = rasterio.windows.Window(int(rng.integers(96)), int(rng.integers(96)), 32, 32)
                if not (dataset.read(1, window=window) == k + 1).all():
                    wrong.append(f"{k}")

    threads = [threading.Thread(target=reader, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    files.close_all()
    assert wrong == []


def test_closing_all_waits_for_the_read_in_progress(tmp_path):
    path = tmp_path / "a.tif"
    _write(path, 5)
    files = OpenFiles()
    reading, closed = threading.Event(), threading.Event()
    seen: list[bool] = []

    def close() -> None:
        reading.wait()
        files.close_all()
        closed.set()

    closer = threading.Thread(target=close)
    closer.start()
    with files.opened(str(path), BIG) as dataset:
        reading.set()
        assert not closed.wait(0.2)  # the closer waits for this read
        seen.append((dataset.read(1) == 5).all())
    closer.join()
    assert seen == [True] and dataset.closed


def test_a_read_failing_inside_closes_its_kept_file_only(tmp_path):
    paths = [tmp_path / "a.tif", tmp_path / "b.tif"]
    for path in paths:
        _write(path, 4)
    files = OpenFiles()
    kept = []
    for path in paths:
        with files.opened(str(path), BIG) as dataset:
            kept.append(dataset)

    def failing_read() -> None:
        with files.opened(str(paths[0]), BIG) as dataset:
            assert dataset is kept[0]
            raise RuntimeError("read failed")

    with pytest.raises(RuntimeError, match="read failed"):
        failing_read()
    assert kept[0].closed and not kept[1].closed
    with files.opened(str(paths[0]), BIG) as fresh:
        assert fresh is not kept[0] and (fresh.read(1) == 4).all()
    files.close_all()
