"""Built-up land and water from the series alone, on tiny (time, pixel) arrays with known answers."""

import numpy as np

from baresoil.config import BuiltUpConfig
from baresoil.kernels.surfaces import (
    MIN_SERIES_DAYS,
    bright_mineral,
    clustered,
    masked_quantile,
    mostly_water,
    spans_a_growing_season,
    steady_and_never_green,
)

DEFAULTS = BuiltUpConfig()
"""The thresholds tested are the configuration's defaults."""
DAYS = np.arange(0, 730, 10)
SEASON = 0.5 - 0.5 * np.cos(2 * np.pi * DAYS / 365)


def _series(**pixels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    return np.stack(list(pixels.values()), axis=1).astype(np.float32), list(pixels)


def test_settlements_are_steady_and_never_green_where_fields_meadows_and_woods_are_not():
    ndvi, names = _series(
        roof=np.full(DAYS.size, 0.12),
        garden=0.45 + 0.08 * SEASON,
        meadow=0.6 + 0.15 * SEASON,
        conifer=np.full(DAYS.size, 0.72),
        deciduous=0.35 + 0.5 * SEASON,
        field=np.where((DAYS % 365) < 200, 0.15 + 0.7 * np.sin(np.pi * (DAYS % 365) / 200), 0.15),
    )
    valid = np.ones(ndvi.shape, bool)
    settled = dict(zip(names, steady_and_never_green(ndvi, valid, DEFAULTS.builtup_green_share), strict=True))
    assert settled == {"roof": True, "garden": True, "meadow": False, "conifer": False, "deciduous": False,
                       "field": False}  # fmt: skip


def test_cloudy_observations_do_not_count():
    """A roof whose cloudy dates read green is still a roof; a meadow beside it sets the green level."""
    cloudy = np.arange(DAYS.size) % 2 == 1
    roof = np.where(cloudy, 0.9, 0.2)
    meadow = 0.65 + 0.15 * SEASON
    ndvi, _ = _series(roof=roof, meadow=meadow)
    valid = np.stack([~cloudy, np.ones(DAYS.size, bool)], axis=1)
    assert steady_and_never_green(ndvi, valid, DEFAULTS.builtup_green_share).tolist() == [True, False]
    assert not steady_and_never_green(ndvi, np.ones_like(valid), DEFAULTS.builtup_green_share)[0], (
        "counting the cloudy dates, it looks green"
    )
    assert np.isnan(masked_quantile(ndvi, np.zeros_like(valid), 0.9)).all()


def test_mostly_water_needs_half_the_valid_observations():
    water = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 0, 1]], bool)
    valid = np.array([[1, 1, 1], [1, 1, 1], [0, 1, 1], [1, 1, 0]], bool)
    assert mostly_water(water, valid).tolist() == [True, False, False]


def test_only_clustered_flags_stay():
    flags = np.zeros((9, 9), bool)
    flags[1:5, 1:5] = True  # a village
    flags[7, 7] = True  # one odd pixel
    kept = clustered(flags.reshape(-1), (9, 9), window=3, min_share=0.3).reshape(9, 9)
    assert kept[1:5, 1:5].all() and not kept[7, 7]


def test_bright_mineral_surfaces_are_rock_not_roofs():
    blue = np.array([[0.32, 0.08, 0.06]] * 5, np.float32)
    assert bright_mineral(blue, np.ones(blue.shape, bool), DEFAULTS.mineral_blue).tolist() == [
        True,
        False,
        False,
    ]


def test_built_up_land_needs_a_series_that_spans_a_growing_season():
    day = np.datetime64("2022-01-10", "D")
    winter = day + np.arange(0, 90, 5)  # a winter: bare fields are as steady and never green as a roof
    year = day + np.arange(0, 360, 5)
    assert not spans_a_growing_season(winter)
    assert spans_a_growing_season(year)
    assert not spans_a_growing_season(np.array([], "datetime64[D]"))
    assert spans_a_growing_season(np.array([day, day + MIN_SERIES_DAYS]))


def test_masked_quantile_is_numpys_nanquantile_of_each_pixels_masked_values():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(40, 500)).astype(np.float32)
    values[rng.random(values.shape) < 0.1] = np.nan
    mask = rng.random(values.shape) < np.linspace(0, 1, 500)  # from no value to every value
    for q in (0.1, 0.5, 0.9):
        got = masked_quantile(values, mask, q)
        for pixel in range(values.shape[1]):
            kept = values[mask[:, pixel], pixel]
            kept = kept[np.isfinite(kept)]
            want = np.float32(np.quantile(kept, q)) if kept.size else np.float32(np.nan)
            assert np.array_equal(got[pixel], want, equal_nan=True), (q, pixel)
