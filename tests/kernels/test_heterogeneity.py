"""Sen4CAP's heterogeneity (L4D) on hand-made pixels: resampling, clusters, filters, markers, decision."""

import numpy as np
import pytest

from baresoil.kernels import heterogeneity as kh

# --- constant-step resampling -----------------------------------------------------------------


def test_step_interpolation_is_linear_and_leaves_long_holes():
    t_obs = np.array([0, 10, 20, 60, 70])
    values = np.array([[0.0], [1.0], [np.nan], [3.0], [4.0]])
    steps = np.array([-5, 0, 5, 15, 30, 65, 75])
    out = kh.step_interpolate(t_obs, values, steps, max_dist=30)[:, 0]
    # before the first and after the last valid observation: NaN; 10 -> 60 is a 50-day hole
    np.testing.assert_allclose(out, [np.nan, 0.0, 0.5, np.nan, np.nan, 3.5, np.nan])
    no_limit = kh.step_interpolate(t_obs, values, steps, max_dist=0)[:, 0]
    np.testing.assert_allclose(no_limit[3:5], [1.0 + 2.0 * 5 / 50, 1.0 + 2.0 * 20 / 50])


def test_step_interpolation_per_pixel():
    t_obs = np.array([0, 10])
    values = np.array([[0.0, np.nan], [10.0, 5.0]])
    out = kh.step_interpolate(t_obs, values, np.array([0, 5, 10]), 30)
    np.testing.assert_allclose(out[:, 0], [0, 5, 10])
    np.testing.assert_allclose(out[:, 1], [np.nan, np.nan, 5.0])


# --- clustering -------------------------------------------------------------------------------


def test_kmeans_with_missing_values_separates_groups_and_imputes():
    rng = np.random.default_rng(0)
    a = rng.normal(0.0, 0.05, (40, 3))
    b = rng.normal(5.0, 0.05, (40, 3))
    x = np.vstack([a, b])
    x[3, 1] = np.nan  # a missing value takes its cluster's centroid
    x[45, :2] = np.nan
    x[10, :] = np.nan  # an all-missing pixel has no class
    labels = kh.kmeans_missing(x, 2, seed=1)
    assert labels[10] == 0
    assert set(labels) == {0, 1, 2}
    assert len(set(labels[:40][labels[:40] > 0])) == 1 and len(set(labels[40:])) == 1
    assert labels[0] != labels[40]


def test_kmeans_fewer_distinct_pixels_than_clusters():
    assert kh.kmeans_missing(np.ones((5, 2)), 4, seed=0).tolist() == [1] * 5
    assert kh.kmeans_missing(np.zeros((0, 3)), 4, seed=0).size == 0


# --- isolated pixels and connectivity ---------------------------------------------------------


def test_isolated_pixel_takes_the_window_majority():
    grid = np.ones((5, 5), np.int64)
    grid[2, 2] = 2  # alone in its window
    grid[0, 4] = 3  # a corner pixel: its window holds 3 neighbours of class 1
    grid[4, 0] = 0  # no data stays no data
    out = kh.remove_isolated(grid, threshold=1, radius=1)
    assert out[2, 2] == 1 and out[0, 4] == 1 and out[4, 0] == 0


def test_pairs_survive_a_threshold_of_one_and_ties_take_the_smallest_class():
    grid = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 3, 3]])
    assert (kh.remove_isolated(grid, 1, 1) == grid).all()
    tie = np.array([[2, 3], [0, 4]])  # 4 is alone; the window holds 2 and 3 once each
    assert kh.remove_isolated(tie, 1, 1)[1, 1] == 2


def test_connectivity_counts_same_class_pixels_reachable_in_the_window():
    grid = np.array(
        [
            [1, 1, 1],
            [1, 1, 2],
            [2, 2, 1],
        ]
    )
    four = kh.local_connectivity(grid, radius=1, full=False)
    # centre: 4-connected same-class pixels in its 3x3 window are the five 1s above and left
    assert four[1, 1] == 5
    assert four[2, 2] == 1  # the corner 1 touches its class only diagonally
    eight = kh.local_connectivity(grid, radius=1, full=True)
    assert eight[2, 2] == 2  # diagonal to the centre
    assert kh.local_connectivity(np.ones((4, 4), np.int64), radius=1, full=False)[1, 1] == 9


def test_parcel_grid_from_pixel_positions():
    grid, flat = kh.parcel_grid(np.array([10, 10, 12]), np.array([5, 6, 5]), np.array([1, 2, 3]))
    assert grid.shape == (3, 2) and grid[0, 1] == 2 and grid[2, 0] == 3 and grid[1, 0] == 0
    assert grid.ravel()[flat].tolist() == [1, 2, 3]


# --- cluster markers (one parcel, one period) -------------------------------------------------


def _parcel(rows: int, cols: int, split_col: int | None = None):
    r, c = np.divmod(np.arange(rows * cols), cols)
    labels = np.ones(r.size, np.int64)
    ndvi = np.full((r.size, 3), 0.7)
    if split_col is not None:
        labels[c >= split_col] = 2
        ndvi[c >= split_col] = 0.2
    return labels, r, c, ndvi


def test_homogeneous_parcel_has_no_marker():
    labels, r, c, ndvi = _parcel(10, 10)
    smooth, connect = kh.filtered_labels(labels, r, c)
    out = kh.cluster_markers(smooth, connect, 10_000.0, ndvi)
    assert out["Hete"] == 0 and out["M1"] == out["M2"] == out["M3"] == out["M4"] == 0
    assert out["clP_1"] == 1.0 and out["cl_1"] == 100


def test_two_large_clusters_with_different_ndvi():
    labels, r, c, ndvi = _parcel(10, 10, split_col=6)  # 60 and 40 pixels, NDVI 0.7 vs 0.2
    smooth, connect = kh.filtered_labels(labels, r, c)
    out = kh.cluster_markers(smooth, connect, 10_000.0, ndvi)
    assert out["Hete"] == 1 and out["M1"] == 1 and out["M2"] == 1 and out["M3"] == 1
    assert out["distNDVI"] == pytest.approx(0.5)
    assert out["clP_1"] == pytest.approx(0.6) and out["cl_2"] == 40
    # compact halves: connectivity is high but CompactA = Compact / ln(area) stays under 3 (M4 0)
    assert 7 < out["Compact"] <= 9 and out["CompactA"] == pytest.approx(out["Compact"] / np.log(10_000))
    assert out["M4"] == 0


def test_small_second_cluster_does_not_count_for_m2_or_the_ndvi_distance():
    labels, r, c, ndvi = _parcel(10, 10, split_col=8)  # 80 + 20 pixels: 20 is not above 20
    smooth, connect = kh.filtered_labels(labels, r, c)
    out = kh.cluster_markers(smooth, connect, 10_000.0, ndvi)
    assert out["M1"] == 1 and out["M2"] == 0 and out["distNDVI"] == 0 and out["M3"] == 0


def test_similar_ndvi_gives_no_m3():
    labels, r, c, ndvi = _parcel(10, 10, split_col=5)
    ndvi[c >= 5] = 0.6
    out = kh.cluster_markers(*kh.filtered_labels(labels, r, c), 10_000.0, ndvi)
    assert out["M2"] == 1 and out["M3"] == 0 and out["distNDVI"] == pytest.approx(0.1)


def test_a_lag_in_senescence_counts_on_the_image_that_shows_it():
    """Barley senesces two weeks before the wheat beside it: 0.25 apart on one image of the month,
    0.05 on the others, 0.12 on the month's mean (Sen4CAP's distance would miss it)."""
    labels, r, c, ndvi = _parcel(10, 10, split_col=5)
    ndvi[:] = [0.75, 0.7, 0.6]
    ndvi[c >= 5] = [0.7, 0.65, 0.35]
    ndvi[0, 0] = np.nan  # a missing value does not change a cluster's mean on that image
    out = kh.cluster_markers(*kh.filtered_labels(labels, r, c), 10_000.0, ndvi)
    assert out["distNDVI"] == pytest.approx(0.25) and out["M3"] == 1


def test_salt_and_pepper_is_cleaned_and_not_compact():
    labels, r, c, ndvi = _parcel(10, 10)
    labels[(r % 4 == 1) & (c % 4 == 1)] = 2  # scattered single pixels
    smooth, connect = kh.filtered_labels(labels, r, c)
    assert (smooth == 1).all()
    out = kh.cluster_markers(smooth, connect, 10_000.0, ndvi)
    assert out["Hete"] == 0


def test_holes_count_pixels_missing_all_or_some_images():
    labels, r, c, ndvi = _parcel(10, 10, split_col=5)
    ndvi[0] = np.nan
    ndvi[1, 0] = np.nan
    out = kh.cluster_markers(*kh.filtered_labels(labels, r, c), 10_000.0, ndvi)
    assert out["HoleS2"] == 1 and out["HoleS2Part"] == 1


@pytest.mark.parametrize("n", [0, 1])
def test_parcel_with_zero_or_one_pixel(n):
    labels, r, c, ndvi = _parcel(1, n) if n else (np.zeros(0, np.int64),) * 3 + (np.zeros((0, 3)),)
    smooth, connect = kh.filtered_labels(labels, r, c)
    out = kh.cluster_markers(smooth, connect, 100.0, ndvi)
    assert out["Hete"] == (kh.HETE_NO_DATA if n == 0 else 0)
    assert out["M1"] == out["M2"] == out["M3"] == out["M4"] == 0


def test_unlabelled_pixels_are_no_data():
    out = kh.cluster_markers(np.zeros(5, np.int64), np.zeros(5), 500.0, np.full((5, 3), np.nan))
    assert out["Hete"] == kh.HETE_NO_DATA and out["M1"] == 0


def test_s1_variant_gives_m5_to_m7():
    labels, r, c, _ = _parcel(10, 10, split_col=5)
    out = kh.cluster_markers(*kh.filtered_labels(labels, r, c), 10_000.0, None)
    assert set(out) == set(kh.S1_COLUMNS)
    assert out["M5"] == 1 and out["M6"] == 1 and out["M7"] == 0
    tiny = kh.cluster_markers(*kh.filtered_labels(labels, r, c), 10.0, None)
    assert tiny["M7"] == 1  # ln(10 m²) is small: CompactA above 3


# --- decision over periods --------------------------------------------------------------------


def test_decision_levels_over_windows_of_three():
    periods = np.arange(1, 7)
    m = np.zeros((6, 4))
    assert kh.period_decision(periods, m)[0] == "NO"
    m[1:4, :3] = 1  # M1..M3 in periods 2, 3, 4: 9 -> WEAK
    c_index, where, sums = kh.period_decision(periods, m)
    assert c_index == "WEAK" and where == 2 and sums.tolist() == [3, 3, 3, 0]
    m[1:4, 3] = 1  # all markers: 12 -> STRONG
    assert kh.period_decision(periods, m)[0] == "STRONG"
    m[2, 3] = 0  # 11 -> MODERATE
    assert kh.period_decision(periods, m)[0] == "MODERATE"
    m = np.zeros((6, 4))
    m[2:5, :2] = 1  # M1 + M2 only: 6 -> POOR
    assert kh.period_decision(periods, m)[:2] == ("POOR", 3.0)


def test_decision_recomputes_m4_from_compactness_and_keeps_the_last_best_window():
    periods = np.arange(1, 8)
    m = np.zeros((7, 4))
    m[:, :3] = 1
    compact = np.full(7, 1.0)
    compact[4:7] = 2.0  # only the last window has M4 = 1 (CompactA > 1.7)
    c_index, where, sums = kh.period_decision(periods, m, compact)
    assert c_index == "STRONG" and where == 5 and sums[3] == 3


def test_the_last_period_can_end_a_window():
    periods = np.arange(1, 5)
    m = np.zeros((4, 4))
    m[1:4, :3] = 1  # periods 2-4
    assert kh.period_decision(periods, m)[:2] == ("WEAK", 2.0)


def test_empty_periods_break_calendar_windows_unless_skipped():
    periods = np.arange(1, 6)
    m = np.zeros((5, 4))
    m[[1, 2, 4], :3] = 1  # period 4 had no data
    has_data = np.array([True, True, True, False, True])
    assert kh.period_decision(periods, m, has_data=has_data)[0] == "POOR"
    rules = kh.DecisionRules(skip_empty=True)
    c_index, where, _ = kh.period_decision(periods, m, rules=rules, has_data=has_data)
    assert c_index == "WEAK" and where == 2.0


def test_too_few_periods_for_a_window():
    assert kh.period_decision(np.array([1, 2]), np.ones((2, 4)), span=(1, 2))[0] == "NO"
    assert kh.period_decision(np.zeros(0), np.zeros((0, 4)))[0] == "NO"


# --- two zones within a parcel -----------------------------------------------------------------


def _zoned_parcel(n_pixels: int = 200, n_dates: int = 30, texture: float = 0.03, seed: int = 0) -> np.ndarray:
    """(date, pixel) NDVI of one homogeneous parcel: a seasonal course, each pixel a constant offset
    (soil and canopy texture) and a little noise per view."""
    rng = np.random.default_rng(seed)
    course = 0.3 + 0.4 * np.sin(np.linspace(0, np.pi, n_dates))
    return (
        course[:, None] + rng.normal(0, texture, n_pixels)[None] + rng.normal(0, 0.005, (n_dates, n_pixels))
    )


def test_two_means_splits_two_groups_the_same_way_every_time():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(0, 0.1, (30, 4)), rng.normal(1, 0.1, (20, 4))])
    labels = kh.two_means(x)
    assert len(set(labels[:30])) == len(set(labels[30:])) == 1 and labels[0] != labels[30]
    assert np.array_equal(labels, kh.two_means(x)) and not kh.two_means(np.ones((5, 2))).any()


def test_one_population_split_in_two_separates_by_under_three_spreads():
    separations = [np.nanmax(kh.split_zones(_zoned_parcel(seed=s)).separation) for s in range(5)]
    assert all(2.0 < v < 3.5 for v in separations)  # about 2.7: far under the 6 that makes two zones


def test_a_strip_on_its_own_calendar_separates_on_the_dates_it_differs():
    ndvi = _zoned_parcel()
    ndvi[12:14, :80] += 0.3  # the strip (40 %) greens up ten days earlier: two views differ
    zones = kh.split_zones(ndvi)
    assert zones.share == pytest.approx(0.4) and zones.zone[:80].all() and not zones.zone[80:].any()
    differ = zones.separation >= kh.ZoneRules().separation
    assert np.flatnonzero(differ).tolist() == [12, 13]


def test_dates_with_too_few_clear_pixels_do_not_count():
    ndvi = _zoned_parcel()
    ndvi[5, :50] = np.nan  # a quarter of the parcel under a cloud: 75 % clear, under the 80 % asked
    ndvi[6, :20] = np.nan  # 90 % clear: counts, its holes do not
    zones = kh.split_zones(ndvi)
    assert np.isnan(zones.separation[5]) and np.isfinite(zones.separation[6])
    assert zones.holes[:20].max() == pytest.approx(1 / 29) and zones.holes[50:].max() == 0


def test_a_parcel_or_a_zone_under_the_least_zone_size_is_not_split():
    assert np.isnan(kh.split_zones(_zoned_parcel(n_pixels=30)).share)  # two zones of 20 need 40 pixels
    ndvi = _zoned_parcel()
    ndvi[:, :8] += 0.4  # eight odd pixels (a tree, a trough): no zone of 20
    zones = kh.split_zones(ndvi)
    assert np.isnan(zones.share) and np.isnan(zones.separation).all()
