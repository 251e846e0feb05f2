"""The kernel adapter on tiny arrays: pixels flattened and restored, any chunking, neighbours across chunk
edges, outputs by name."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from baresoil.products.apply import (
    Input,
    at_pixels,
    compute,
    compute_batches,
    per_block,
    per_chunk,
    per_chunk_groups,
    per_field,
    per_neighbourhood,
)

NY, NX, NT = 5, 7, 3


def _cube(chunks: tuple[int, int]) -> tuple[np.ndarray, da.Array]:
    values = np.arange(NT * NY * NX, dtype=np.float32).reshape(NT, NY, NX)
    return values, da.from_array(values, chunks=(-1, *chunks))


@pytest.mark.parametrize("chunks", [(NY, NX), (2, 3), (1, 1), (4, 2)])
def test_pixels_round_trip_in_any_chunking(chunks: tuple[int, int]) -> None:
    values, cube = _cube(chunks)
    seen_shapes = []

    def kernel(series: np.ndarray, *, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        seen_shapes.append((series.shape, shape))
        assert series.shape == (NT, shape[0] * shape[1])  # (time, pixel)
        return {"FIRST": series[0], "SUM": series.sum(axis=0), "ALL": series}

    out = per_chunk(kernel, [Input(cube, "tyx")], {"FIRST": 1, "SUM": 1, "ALL": NT},
                      y=np.arange(NY), x=np.arange(NX), bands=["a", "b", "c"])  # fmt: skip
    out = out.compute()
    np.testing.assert_array_equal(out.FIRST.values, values[0])
    np.testing.assert_array_equal(out.SUM.values, values.sum(axis=0))
    np.testing.assert_array_equal(out.ALL.values, values)
    assert out.ALL.dims == ("band", "y", "x") and list(out.ALL.band.values) == ["a", "b", "c"]
    assert out.FIRST.dims == ("y", "x")
    assert len(seen_shapes) == len(cube.chunks[1]) * len(cube.chunks[2])


def test_stacked_and_missing_inputs() -> None:
    values, cube = _cube((2, 3))

    def kernel(refl: np.ndarray, mask: np.ndarray, extra: None, *, shape: tuple[int, int]) -> dict:
        assert extra is None
        assert refl.shape == (2, NT, shape[0] * shape[1])
        return {"D": np.where(mask, refl[1] - refl[0], np.nan).sum(axis=0)}

    mask = cube > 10
    out = per_chunk(kernel, [Input([cube, 2 * cube], "btyx"), Input(mask, "tyx"), None], {"D": 1},
                      y=np.arange(NY), x=np.arange(NX))  # fmt: skip
    expected = np.where(values > 10, values, np.nan).sum(axis=0)
    np.testing.assert_array_equal(out.D.values, expected)


@pytest.mark.parametrize(
    ("chunks", "depth"), [((NY, NX), 1), ((2, 3), 1), ((1, 2), 1), ((3, 4), 1), ((1, 2), 3), ((2, 3), 9)]
)
def test_overlap_gives_neighbours_across_chunk_edges(chunks: tuple[int, int], depth: int) -> None:
    values, cube = _cube(chunks)
    image = values[0]

    def window_max(image: np.ndarray) -> np.ndarray:
        padded = np.pad(image, 1, constant_values=-np.inf)
        return np.max([padded[dy : dy + image.shape[0], dx : dx + image.shape[1]]
                       for dy in range(3) for dx in range(3)], axis=0)  # fmt: skip

    def kernel(series: np.ndarray, *, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        return {"MAX": window_max(series[0].reshape(shape))}

    out = per_chunk(kernel, [Input(cube, "tyx")], {"MAX": 1}, y=np.arange(NY), x=np.arange(NX), depth=depth)
    assert out.MAX.shape == (NY, NX)
    np.testing.assert_array_equal(out.MAX.values, window_max(image))


def test_groups_are_named_by_position_and_checked() -> None:
    _, cube = _cube((2, 3))

    def kernel(series: np.ndarray, *, shape: tuple[int, int]) -> dict:
        return {(1, "N"): series[0] + 1, (0, "N"): series[0]}  # any order

    first, second = per_chunk_groups(kernel, [Input(cube, "tyx")], [{"N": 1}, {"N": 1}], y=np.arange(NY),
                              x=np.arange(NX))  # fmt: skip
    np.testing.assert_array_equal(second.N.values - first.N.values, np.ones((NY, NX)))

    def wrong(series: np.ndarray, *, shape: tuple[int, int]) -> dict:
        return {"M": series[0]}

    out = per_chunk(wrong, [Input(cube, "tyx")], {"N": 1}, y=np.arange(NY), x=np.arange(NX))
    with pytest.raises(ValueError, match="missing"):
        out.compute()

    def too_many(series: np.ndarray, *, shape: tuple[int, int]) -> dict:
        return {"N": series}

    out = per_chunk(too_many, [Input(cube, "tyx")], {"N": 1}, y=np.arange(NY), x=np.arange(NX))
    with pytest.raises(ValueError, match="planes"):
        out.compute()


def test_inputs_must_end_in_space() -> None:
    with pytest.raises(ValueError, match="yx"):
        Input(np.zeros((2, 3, 4)), "ytx")


def test_time_reaches_the_kernel_whole_however_chunked() -> None:
    values = np.arange(NT * NY * NX, dtype=np.float32).reshape(NT, NY, NX)
    cube = da.from_array(values, chunks=(1, 2, 3))

    def kernel(series: np.ndarray, *, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        assert series.shape[0] == NT
        return {"LAST": series[-1]}

    out = per_chunk(kernel, [Input(cube, "tyx")], {"LAST": 1}, y=np.arange(NY), x=np.arange(NX))
    np.testing.assert_array_equal(out.LAST.values, values[-1])


@pytest.mark.parametrize("fails", [False, True])
def test_prepare_runs_once_before_the_chunks_and_its_failure_is_no_failure(fails: bool) -> None:
    values, cube = _cube((2, 3))
    events: list[str] = []

    def prepare() -> None:
        events.append("prepare")
        if fails:
            raise RuntimeError("no cache")

    def kernel(series: np.ndarray, *, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        events.append("chunk")
        return {"SUM": series.sum(axis=0)}

    out = per_chunk(kernel, [Input(cube, "tyx")], {"SUM": 1}, y=np.arange(NY), x=np.arange(NX),
                    prepare=prepare).compute()  # fmt: skip
    np.testing.assert_array_equal(out.SUM.values, values.sum(axis=0))
    assert events[0] == "prepare" and events.count("prepare") == 1
    assert events.count("chunk") == len(cube.chunks[1]) * len(cube.chunks[2])


@pytest.mark.parametrize("chunks", [(NY, NX), (2, 3), (1, 1)])
def test_per_field_sums_every_chunk_and_paints_the_fields(chunks: tuple[int, int]) -> None:
    values, cube = _cube(chunks)
    values[1, 0, :] = np.nan  # a cloudy row on the second date
    cube = da.from_array(values, chunks=(-1, *chunks))
    ids = (np.arange(NY * NX).reshape(NY, NX) % 3).astype(np.int32)  # fields 1 and 2, and none (0)

    def kernel(sums: np.ndarray, absent: None) -> dict[str, np.ndarray]:
        assert absent is None and sums.shape == (3, NT, 3)
        total, valid, pixels = sums
        return {"MEAN": total[1] / valid[1], "PIXELS": pixels[0]}

    fields = da.from_array(ids, chunks=chunks)
    out = per_field(kernel, [Input(cube, "tyx"), None], fields, 2, ["MEAN", "PIXELS"], y=np.arange(NY),
                    x=np.arange(NX)).compute()  # fmt: skip
    for field in range(3):
        mine = ids == field
        assert np.allclose(out.MEAN.values[mine], np.nanmean(values[1][mine]))
        assert (out.PIXELS.values[mine] == mine.sum()).all()
    assert out.MEAN.dtype == np.float32


def test_per_block_reads_each_block_whole_in_time_and_batches_keep_the_order() -> None:
    values, cube = _cube((2, 3))
    layout = ((3, 2), (4, 3))  # another layout than the cube's chunks
    blocks = [(1, 1), (0, 0), (0, 1)]
    tasks = per_block(
        lambda a, b, k: (a.shape, b is None, k), [cube, None], layout, blocks, lambda i, j: (i * 10 + j,)
    )
    results = [r for batch in compute_batches(tasks, 2) for r in batch]
    assert results == [((NT, 2, 3), True, 11), ((NT, 3, 4), True, 0), ((NT, 3, 3), True, 1)]
    sums = per_block(np.sum, [[cube, cube]], layout, [(0, 0)])
    assert compute(*sums) == (2 * values[:, :3, :4].sum(),)


def _box_sum(image: np.ndarray, boundary: str) -> np.ndarray:
    """Sum over the 3 x 3 window of each pixel of the whole image (edge: nothing, or the edge repeated)."""
    padded = np.pad(image, 1, mode="edge") if boundary == "nearest" else np.pad(image, 1)
    return sum(
        padded[dy : dy + image.shape[0], dx : dx + image.shape[1]] for dy in range(3) for dx in range(3)
    )


@pytest.mark.parametrize("chunks", [(NY, NX), (2, 3), (1, 1), (4, 2)])
@pytest.mark.parametrize("boundary", ["none", "nearest"])
def test_per_neighbourhood_equals_the_whole_image_in_any_chunking(
    chunks: tuple[int, int], boundary: str
) -> None:
    values, cube = _cube(chunks)

    def box_sum(block: np.ndarray, scale: float) -> np.ndarray:
        # the block's own edge ring is trimmed, except at the image's edges, where the padding is the rule's
        return scale * np.stack([_box_sum(image, boundary) for image in block])

    out = per_neighbourhood(box_sum, cube, {0: 0, 1: 1, 2: 1}, boundary=boundary, scale=2.0)
    assert out.dtype == np.float32 and out.shape == values.shape
    expected = 2.0 * np.stack([_box_sum(image, boundary) for image in values])
    np.testing.assert_array_equal(compute(out)[0], expected)


def test_per_neighbourhood_clips_a_depth_beyond_the_array() -> None:
    values, cube = _cube((2, 3))
    out = per_neighbourhood(lambda block: block.sum(axis=(1, 2), keepdims=True) + 0 * block, cube, 9,
                            boundary="none")  # fmt: skip
    [result] = compute(out)
    assert result.shape == values.shape
    # every chunk sees the whole image: each pixel gets its date's total
    np.testing.assert_array_equal(
        result, np.broadcast_to(values.sum(axis=(1, 2), keepdims=True), values.shape)
    )


def test_at_pixels_reads_points_first() -> None:
    values, cube = _cube((2, 3))
    rows, cols = np.array([0, 4, 2]), np.array([6, 0, 3])
    np.testing.assert_array_equal(at_pixels(cube, rows, cols), values[:, rows, cols].T)
    np.testing.assert_array_equal(at_pixels(values[0], rows, cols), values[0, rows, cols])
