"""Chunked ≡ unchunked: a product computed on the same small cube in any spatial chunking gives the same
layers, to the last bit, as on the cube in one chunk.

Cubes are drawn (surfaces, clouds, missing bands, crops) and built in memory (``tests.support.cubes``);
chunkings are drawn too, uneven ones included, with chunks smaller than the cloud buffer's reach.

SoilSuite's haze screen, cover screen and built-up detection estimate scene statistics (endmembers,
the green level, windows of neighbours) per chunk, so their results depend on the chunking (see
docs/soilsuite/algorithm.md); the SoilSuite property holds with those three off, for every rule and
threshold.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import xarray as xr
from hypothesis import given
from hypothesis import strategies as st

from baresoil.catalog.source import TimeRange
from baresoil.config import Config, SeasonsConfig, SoilSuiteConfig
from baresoil.products.base import ProductPeriod
from baresoil.products.observations import observation_counts
from baresoil.products.seasons import analysis_window, seasons
from baresoil.products.soilsuite import soilsuite

from tests.support.cubes import memory_cube, ndvi_cube, surface_bands, surface_scl


def chunkings(n: int) -> st.SearchStrategy[tuple[int, ...]]:
    """Chunk sizes along an axis of ``n`` pixels: one to four chunks, not necessarily even."""
    cuts = st.lists(st.integers(1, n - 1), max_size=3, unique=True) if n > 1 else st.just([])
    return cuts.map(lambda c: tuple(int(d) for d in np.diff([0, *sorted(c), n])))


def assert_same_layers(whole: list[ProductPeriod], chunked: list[ProductPeriod]) -> None:
    assert [p.label for p in whole] == [p.label for p in chunked]
    for one, other in zip(whole, chunked, strict=True):
        assert list(one.layers.data_vars) == list(other.layers.data_vars)
        a, b = one.layers.compute(), other.layers.compute()
        for code in a.data_vars:
            np.testing.assert_array_equal(a[code].values, b[code].values, err_msg=f"{one.label} {code}")


# --- SoilSuite and the observation counts: surfaces over two seasons ---------------------------------

SOIL_TIMES = [date(2021, 3, 1) + timedelta(days=12 * i) for i in range(12)] + [
    date(2022, 3, 5) + timedelta(days=15 * i) for i in range(6)
]
SOIL_PERIOD = TimeRange(date(2021, 1, 1), date(2022, 12, 31))


def _surfaces(seed: int, ny: int, nx: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Fields bare for a while and then green, meadows, a pond (every other seed); clouds (with their
    buffer), haze on the blue band, a missing band now and then: (reflectance bands, SCL)."""
    rng = np.random.default_rng(seed)
    n_time = len(SOIL_TIMES)
    green_from = rng.integers(0, n_time + 1, (ny, nx))  # the date a field's crop covers it (n: never)
    surface = np.where(np.arange(n_time)[:, None, None] < green_from[None], "soil", "canopy").astype(object)
    surface[:, rng.random((ny, nx)) < 0.15] = "canopy"  # meadows
    if seed % 2:
        surface[:, :2, :2] = "water"
    bands = surface_bands(surface, noise=0.03, seed=seed)
    bands["B02"] += np.where(rng.random(surface.shape) < 0.1, np.float32(0.03), np.float32(0))
    bands["B8A"][rng.random(surface.shape) < 0.02] = np.nan
    scl = surface_scl(surface)
    scl[rng.random(surface.shape) < 0.08] = 9  # clouds: their buffer reaches over chunk edges
    return bands, scl


@given(
    seed=st.integers(0, 2**16),
    shape=st.tuples(st.integers(3, 12), st.integers(3, 12)),
    data=st.data(),
    rule=st.sampled_from(["pvir2", "geos3", "sen4cap"]),
    threshold=st.sampled_from(["auto", "0.2"]),
    min_bare_obs=st.integers(1, 4),
)
def test_soilsuite_layers_do_not_depend_on_the_chunking(seed, shape, data, rule, threshold, min_bare_obs):
    bands, scl = _surfaces(seed, *shape)
    chunks = (data.draw(chunkings(shape[0])), data.draw(chunkings(shape[1])))
    per_pixel = {"haze_limit": 0, "min_soil_fraction": 0, "builtup_from_data": False}
    config = Config(soilsuite=SoilSuiteConfig(rule=rule, threshold=threshold, min_bare_obs=min_bare_obs,
                                              **per_pixel))  # fmt: skip
    whole = soilsuite(memory_cube(bands, scl, SOIL_TIMES), SOIL_PERIOD, config)
    chunked = soilsuite(memory_cube(bands, scl, SOIL_TIMES, chunks=chunks), SOIL_PERIOD, config)
    assert_same_layers(whole, chunked)


@given(seed=st.integers(0, 2**16), shape=st.tuples(st.integers(2, 12), st.integers(2, 12)), data=st.data())
def test_observation_counts_do_not_depend_on_the_chunking(seed, shape, data):
    bands, scl = _surfaces(seed, *shape)
    chunks = (data.draw(chunkings(shape[0])), data.draw(chunkings(shape[1])))
    whole = observation_counts(memory_cube(bands, scl, SOIL_TIMES), SOIL_PERIOD, Config())
    chunked = observation_counts(memory_cube(bands, scl, SOIL_TIMES, chunks=chunks), SOIL_PERIOD, Config())
    assert_same_layers(whole, chunked)


# --- seasons: crops on the HRL window of 2022 ---------------------------------------------------------

SEASON_TIMES = [date(2021, 7, 3) + timedelta(days=5 * i) for i in range(145)]
RADAR_TIMES = [date(2021, 7, 5) + timedelta(days=12 * i) for i in range(60)]


def _crops(seed: int, ny: int, nx: int) -> tuple[np.ndarray, np.ndarray]:
    """NDVI (time, y, x) of one crop per pixel, of drawn emergence, length and vigour, observed with noise,
    and an SCL with clouds."""
    rng = np.random.default_rng(seed)
    t = np.array([(d - date(2021, 7, 1)).days for d in SEASON_TIMES], float)[:, None, None]
    emergence = rng.integers(60, 400, (ny, nx))[None]
    length = rng.integers(90, 300, (ny, nx))[None]
    top = rng.uniform(0.5, 0.9, (ny, nx))[None]
    x = np.clip((t - emergence) / 60, 0, 1)
    ndvi = 0.18 + (top - 0.18) * x * x * (3 - 2 * x)
    ndvi = np.where(t >= emergence + length, 0.22, ndvi) + rng.normal(0, 0.015, (len(SEASON_TIMES), ny, nx))
    scl = np.where(rng.random(ndvi.shape) < 0.2, 9, 4).astype(np.uint8)
    return ndvi, scl


@given(
    seed=st.integers(0, 2**16),
    shape=st.tuples(st.integers(2, 8), st.integers(2, 8)),
    data=st.data(),
    per_field=st.booleans(),
    with_radar=st.booleans(),
    calendar=st.booleans(),
)
def test_seasons_layers_do_not_depend_on_the_chunking(seed, shape, data, per_field, with_radar, calendar):
    ndvi, scl = _crops(seed, *shape)
    chunks = (data.draw(chunkings(shape[0])), data.draw(chunkings(shape[1])))
    rng = np.random.default_rng(seed + 1)
    ids = rng.integers(0, 4, shape) if per_field else None  # three fields and pixels outside any
    ratio = rng.normal(-7, 1, (len(RADAR_TIMES), *shape)).astype(np.float32) if with_radar else None
    config = Config(seasons=SeasonsConfig(year=2022, scene_calendar=calendar))

    def run(spatial: tuple[tuple[int, ...], tuple[int, ...]] | None) -> list[ProductPeriod]:
        cube = ndvi_cube(ndvi, SEASON_TIMES, scl=scl, chunks=spatial)
        ys, xs = spatial or shape
        fields = None if ids is None else xr.DataArray(ids, dims=("y", "x")).chunk({"y": ys, "x": xs})
        radar = None
        if ratio is not None:
            times = {"time": np.array(RADAR_TIMES, "datetime64[ns]")}
            radar = xr.DataArray(ratio, dims=("time", "y", "x"), coords=times).chunk({"y": ys, "x": xs})
        return seasons(cube, analysis_window(2022), config, fields, 3 if per_field else 0, radar=radar)

    assert_same_layers(run(None), run(chunks))
