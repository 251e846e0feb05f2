"""Parcel analytics on hand-made markers and cubes: bare-soil periods, heterogeneity, category change."""

from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import xarray as xr

from baresoil.config import Config, ParcelsConfig
from baresoil.kernels.trees import TreeEnsemble
from baresoil.products.parcels import residue
from baresoil.products.parcels.bare_periods import MarkersTableError, bare_soil_periods, wide_means
from baresoil.products.parcels.category import (
    DeclarationError,
    category_change,
    category_of_crop,
    declarations_from_columns,
)
from baresoil.products.parcels.heterogeneity import DECISION_COLUMNS, heterogeneity
from baresoil.products.parcels.markers import SNOW
from baresoil.products.parcels.tables import PixelNdvi

# Parcel means of a bare and a green observation (reflectance, indices, FCOVER).
BARE = {"B02": 0.08, "B03": 0.10, "B04": 0.12, "B08": 0.18, "B11": 0.28, "B12": 0.24, "NDVI": 0.10,
        "NDTI": 0.05, "BSI": 0.20, "FCOVER": 0.02}  # fmt: skip
GREEN = {"B02": 0.03, "B03": 0.06, "B04": 0.03, "B08": 0.40, "B11": 0.20, "B12": 0.10, "NDVI": 0.80,
         "NDTI": 0.33, "BSI": -0.30, "FCOVER": 0.80}  # fmt: skip
START = date(2021, 1, 1)
SEN4CAP = Config(parcels=ParcelsConfig(bs_classifier="sen4cap"))
"""Sen4CAP's forest kept within the bare envelope (the tests of that classifier and of the state machine)."""


def s2_rows(pid: object, states: str, first: date = START, step: int = 5, seed: int = 0) -> list[tuple]:
    """Markers rows of a parcel: an observation every ``step`` days, ``b`` bare, ``g`` green, ``.`` cloud."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, state in enumerate(states):
        if state == ".":
            continue
        day = pd.Timestamp(first + timedelta(days=step * i))
        for feature, value in (BARE if state == "b" else GREEN).items():
            rows.append((pid, day, "S2", feature, value + rng.normal(0, 0.005), 100))
    return rows


def table(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["parcel_id", "date", "source", "feature", "mean", "count"])


def calibration_parcels(n: int = 4) -> list[tuple]:
    """Parcels that give the forest both classes."""
    rows = []
    for k in range(n):
        rows += s2_rows(f"cal{k}", "g" * 10 + "b" * 8 + "g" * 10, seed=k)
    return rows


# --- bare-soil periods ------------------------------------------------------------------------


def test_periods_with_sen4cap_columns_and_the_edge_cases():
    rows = calibration_parcels()
    rows += s2_rows("A", "gggggbbbbbbggggggggg")  # one period: days 25 … 50
    rows += s2_rows("ends_bare", "ggggggggggbbbb")  # the series ends bare
    rows += s2_rows("one_obs", "b")
    rows += [(*r[:5], 7) for r in s2_rows("edge", "ggggbbbbbggggg")]  # few pixels (cut by the area's edge)
    parcels = pd.DataFrame(
        {"parcel_id": ["A", "ends_bare", "one_obs", "no_obs", "edge"]}
    )  # no_obs: under a pixel
    result = bare_soil_periods(table(rows), START, date(2021, 12, 31), SEN4CAP, parcels=parcels)
    out = result.markers_all.set_index("parcel_id")
    expected = ["START_S2_1", "END_S2_1", "Conf_S2_1", "START_S2_3", "NbrTTS2", "LastObsS2", "TTdaysS2",
                "TTdaysS1S2", "START_S1_4", "END_S1_4", "Conf_S1_4", "NbrTTS1", "LastObsS1",
                "TTdaysS1"]  # fmt: skip
    assert all(c in out.columns for c in expected)
    assert out.loc["A", "START_S2_1"] == "2021-01-26" and out.loc["A", "END_S2_1"] == "2021-02-20"
    assert out.loc["A", "Conf_S2_1"] in ("Strong", "Good") and out.loc["A", "TTdaysS2"] == 25
    # seen green on Jan 21 and bare on Jan 26: it became bare on one of Jan 22 … 26
    assert out.loc["A", "START_EST_S2_1"] == "2021-01-24" and out.loc["A", "START_UNC_S2_1"] == 2
    # no view before the first day of the analysis: taken as bare since the window opened
    assert out.loc["one_obs", "START_EST_S2_1"] == "2021-01-01" and out.loc["one_obs", "START_UNC_S2_1"] == 0
    assert out.loc["one_obs", "START_SRC_S2_1"] == "S2_before"
    assert out.loc["ends_bare", "END_S2_1"] == "Continue" and out.loc["ends_bare", "TTdaysS2"] == 15
    assert out.loc["one_obs", "END_S2_1"] == "Continue" and out.loc["one_obs", "Conf_S2_1"] == "Poor"
    assert out.loc["no_obs", "NbrTTS2"] == 0 and pd.isna(out.loc["no_obs", "START_S2_1"])
    assert pd.isna(out.loc["no_obs", "TTdaysS2"]) and pd.isna(out.loc["A", "TTdaysS1S2"])
    assert out.loc["edge", "START_S2_1"] == "2021-01-21"  # classified, though too small to train the forest
    detail = result.markers_s2.set_index("parcel_id")
    names = {"M1_S2_1", "M6_S2_3", "STARTBS_S2_2", "ENDBS_S2_1", "NbrS2BS_1", "Look_nextS2_1"}
    assert names <= set(detail.columns)
    assert result.markers_s1 is None and result.s1_trained is None and result.s2_trained
    obs = result.observations
    assert set(obs.columns) == {"parcel_id", "source", "date", "cat", "pred", "conf"}
    assert set(obs["pred"].dropna()) == {"BS", "NBS"}


def test_a_period_first_seen_after_snow_began_after_the_snow_not_at_the_last_green_view():
    """Green until 26 January, then clouds; snow seen on 15 and 20 February; bare from 2 March:
    soil under snow is not bare, so the start lies between the last snowy view and 2 March."""
    rows = calibration_parcels()
    rows += s2_rows("S", "ggggg" + "....." + "...." + "bbbbbbbggg")  # bare first seen on day 70 (12 March)
    rows += s2_rows("N", "ggggg" + "....." + "...." + "bbbbbbbggg")  # the same parcel without snow views
    rows += [("S", pd.Timestamp(START + timedelta(days=d)), "S2", SNOW, 1.0, 100) for d in (45, 50)]
    out = bare_soil_periods(table(rows), START, date(2021, 12, 31)).markers_all.set_index("parcel_id")
    assert out.loc["S", "START_S2_1"] == out.loc["N", "START_S2_1"] == "2021-03-12"
    assert out.loc["N", "START_EST_S2_1"] == "2021-02-16"  # the middle of 22 January … 12 March
    assert out.loc["S", "START_EST_S2_1"] == "2021-03-03"  # the middle of 21 February … 12 March
    assert out.loc["S", "START_UNC_S2_1"] < out.loc["N", "START_UNC_S2_1"]
    # with the area's start days, N's long window leans on S's shorter one (the same weather): later
    prior = Config(parcels=ParcelsConfig(bs_start_area_prior=True))
    area = bare_soil_periods(table(rows), START, date(2021, 12, 31), prior).markers_all.set_index("parcel_id")
    assert "2021-02-16" < area.loc["N", "START_EST_S2_1"] <= "2021-03-12"


def test_analysis_window_limits_the_observations():
    rows = calibration_parcels() + s2_rows("A", "gggggbbbbbbggggggggg")
    result = bare_soil_periods(table(rows), date(2021, 2, 1), date(2021, 3, 1), SEN4CAP)
    row = result.markers_all.set_index("parcel_id").loc["A"]
    assert row["NbrTTS2"] == 5  # Feb 5, 10, 15, 20, 25
    # bare on 31 January, before the window: the period was under way when the window opened
    assert row["START_S2_1"] == "2021-02-01" and row["START_SRC_S2_1"] == "S2_before"
    green_before = result.markers_all.set_index("parcel_id").loc["cal0"]  # green on 31 January
    assert green_before["START_S2_1"] == "2021-02-20" and green_before["START_SRC_S2_1"] == "S2_window"


def test_without_both_classes_the_labels_are_used_as_they_are():
    rows = s2_rows("A", "gggbbbggg") + s2_rows("B", "ggggg")
    result = bare_soil_periods(table(rows), START, date(2021, 12, 31), SEN4CAP)
    assert not result.s2_trained  # no parcel with 50 pixels of both classes: labels only
    assert result.markers_all.set_index("parcel_id").loc["A", "START_S2_1"] == "2021-01-16"


def test_geometry_follows_the_parcels():
    rows = calibration_parcels() + s2_rows("A", "gggbbbggg")
    parcels = gpd.GeoDataFrame({"parcel_id": ["A"]}, geometry=[shapely.box(0, 0, 10, 10)], crs="EPSG:3035")
    out = bare_soil_periods(table(rows), START, date(2021, 12, 31), parcels=parcels).markers_all
    assert isinstance(out, gpd.GeoDataFrame) and out.crs == "EPSG:3035"
    assert out.set_index("parcel_id").loc["A", "geometry"].area == 100


def test_missing_feature_or_column_is_a_clear_error():
    rows = table(calibration_parcels())
    with pytest.raises(MarkersTableError, match="NDTI"):
        bare_soil_periods(rows[rows["feature"] != "NDTI"], START, date(2021, 12, 31))
    with pytest.raises(MarkersTableError, match="count"):
        bare_soil_periods(rows.drop(columns="count"), START, date(2021, 12, 31))


def test_envelope_keeps_residue_out_of_the_bare_class():
    residue = dict(BARE, NDVI=0.22, NDTI=0.16, FCOVER=0.05)  # nearer bare soil than green: Sen4CAP says BS
    rows = calibration_parcels()
    for i in range(20):
        day = pd.Timestamp(START + timedelta(days=5 * i))
        values = residue if 5 <= i < 10 else GREEN
        rows += [("R", day, "S2", f, v, 100) for f, v in values.items()]
    rows += s2_rows("R", "b", first=START + timedelta(days=300))  # the parcel's own soil
    sen4cap = Config(
        parcels=ParcelsConfig(bs_classifier="sen4cap", bs_max_ndti=np.inf, bs_max_ndvi_rise=np.inf)
    )
    off = bare_soil_periods(table(rows), START, date(2021, 6, 30), sen4cap).markers_all.set_index("parcel_id")
    on = bare_soil_periods(table(rows), START, date(2021, 6, 30), SEN4CAP).markers_all.set_index("parcel_id")
    assert off.loc["R", "START_S2_1"] == "2021-01-26"
    assert pd.isna(on.loc["R", "START_S2_1"])


def s1_rows(pid: object, states: str, first: date, step: int = 6, seed: int = 0) -> list[tuple]:
    rng = np.random.default_rng(seed)
    rows = []
    for i, state in enumerate(states):
        day = pd.Timestamp(first + timedelta(days=step * i))
        vv, vh = (-14.0, -22.0) if state == "b" else (-9.0, -14.0)
        rows.append((pid, day, "S1", "VV", vv + rng.normal(0, 0.2), 100))
        rows.append((pid, day, "S1", "VH", vh + rng.normal(0, 0.2), 100))
    return rows


def test_s1_periods_confirm_s2_periods():
    rows = []
    for k in range(4):
        rows += s2_rows(f"cal{k}", "g" * 10 + "b" * 8 + "g" * 10, seed=k)
        rows += s1_rows(f"cal{k}", "g" * 8 + "b" * 7 + "g" * 9, START, seed=k)
    result = bare_soil_periods(table(rows), START, date(2021, 12, 31))
    out = result.markers_all.set_index("parcel_id")
    assert result.s1_trained
    assert out.loc["cal0", "Conf_S2_1"].endswith("_S1")
    assert out.loc["cal0", "TTdaysS1S2"] > 0 and out.loc["cal0", "NbrTTS1"] == 24
    assert result.markers_s1 is not None and "M1_S1_4" in result.markers_s1.columns


def test_s1_without_transferable_labels_or_periods_does_not_fail():
    rows = calibration_parcels()
    far = START + timedelta(days=400)  # S1 a year away from every S2 label: no label moves
    rows += s1_rows("cal0", "gggg", far)
    result = bare_soil_periods(table(rows), START, far + timedelta(days=30))
    out = result.markers_all.set_index("parcel_id")
    assert result.s1_trained is False
    assert out.loc["cal0", "TTdaysS1S2"] == 0 and pd.isna(out.loc["cal0", "START_S1_1"])
    assert not out.loc["cal0", "Conf_S2_1"].endswith("_S1")


def test_s1_backscatter_step_dates_the_start_inside_the_s2_window():
    rows = calibration_parcels()
    rows += s2_rows("T", "ggggg...bbbbbgggggggg")  # green on day 20, clouds, bare on day 40
    rows += s2_rows("U", "ggggg...bbbbbgggggggg", seed=1)  # the same, without a step in S1
    for k, pid in enumerate(["cal0", "cal1", "cal2", "cal3", "U"]):
        rows += [(pid, pd.Timestamp(START + timedelta(days=6 * i)), "S1", "VH", -20.0 + 0.1 * (k - 2), 100)
                 for i in range(12)]  # fmt: skip
    # ploughing between the acquisitions of days 30 and 36 raises VH by 3 dB
    rows += [("T", pd.Timestamp(START + timedelta(days=6 * i)), "S1", "VH", -20.0 + 3.0 * (i >= 6), 100)
             for i in range(12)]  # fmt: skip
    out = bare_soil_periods(table(rows), START, date(2021, 12, 31)).markers_all.set_index("parcel_id")
    assert out.loc["T", "START_S2_1"] == "2021-02-10"  # day 40
    assert out.loc["T", "START_SRC_S2_1"] == "S1_step"
    # days 31 … 36
    assert out.loc["T", "START_EST_S2_1"] == "2021-02-04" and out.loc["T", "START_UNC_S2_1"] == 3
    assert out.loc["U", "START_SRC_S2_1"] == "S2_window"  # days 21 … 40
    assert out.loc["U", "START_EST_S2_1"] == "2021-02-01" and out.loc["U", "START_UNC_S2_1"] == 10
    off = Config(parcels=ParcelsConfig(bs_start_s1_step_db=np.inf))
    out = bare_soil_periods(table(rows), START, date(2021, 12, 31), off).markers_all.set_index("parcel_id")
    assert out.loc["T", "START_SRC_S2_1"] == "S2_window" and out.loc["T", "START_UNC_S2_1"] == 10


def test_s1_drop_dates_the_harvest_of_a_green_crop():
    rows = calibration_parcels() + s2_rows("B", "ggggg...bbbbbgggggggg")  # green (NDVI 0.8) on day 20
    # the harvest drops VH by 4 dB between days 24 and 30; the bare soil wets up by 2 dB by day 36
    vh = [0.0] * 5 + [-4.0] + [-2.0] * 6
    rows += [
        ("B", pd.Timestamp(START + timedelta(days=6 * i)), "S1", "VH", -20.0 + v, 100)
        for i, v in enumerate(vh)
    ]
    out = bare_soil_periods(table(rows), START, date(2021, 12, 31)).markers_all.set_index("parcel_id")
    assert (
        out.loc["B", "START_SRC_S2_1"] == "S1_step" and out.loc["B", "START_EST_S2_1"] == "2021-01-29"
    )  # day 28
    stubble = Config(parcels=ParcelsConfig(bs_start_canopy_ndvi=np.inf))  # as if the last view were stubble
    out = bare_soil_periods(table(rows), START, date(2021, 12, 31), stubble).markers_all.set_index(
        "parcel_id"
    )
    assert out.loc["B", "START_EST_S2_1"] == "2021-02-04"  # the rise, days 31 … 36


def test_s1_step_of_a_lone_parcel_uses_its_own_backscatter():
    rows = calibration_parcels() + s2_rows("T", "ggggg...bbbbbgggggggg")
    rows += [("T", pd.Timestamp(START + timedelta(days=6 * i)), "S1", "VH", -20.0 + 3.0 * (i >= 6), 100)
             for i in range(12)]  # fmt: skip
    out = bare_soil_periods(table(rows), START, date(2021, 12, 31)).markers_all.set_index("parcel_id")
    assert out.loc["T", "START_SRC_S2_1"] == "S1_step" and out.loc["T", "START_EST_S2_1"] == "2021-02-04"


def test_residue_is_judged_against_the_parcel_own_soil():
    # parcel L: a soil of NDTI 0.03 under residue of NDTI 0.08 (below the fixed 0.12, 0.05 above its
    # soil); parcel H: a soil of NDTI 0.09, bare as it is
    rows = calibration_parcels()
    for pid, soil, seen in (("L", 0.03, 0.08), ("H", 0.09, 0.09)):
        for i in range(20):
            day = pd.Timestamp(START + timedelta(days=5 * i))
            values = dict(BARE, NDTI=seen) if 5 <= i < 10 else GREEN
            rows += [(pid, day, "S2", f, v, 100) for f, v in values.items()]
        for i in range(4):  # its own bare soil, later in the year
            day = pd.Timestamp(START + timedelta(days=300 + 5 * i))
            rows += [(pid, day, "S2", f, v, 100) for f, v in dict(BARE, NDTI=soil).items()]
    out = bare_soil_periods(table(rows), START, date(2021, 6, 30), SEN4CAP).markers_all.set_index("parcel_id")
    assert pd.isna(out.loc["L", "START_S2_1"]) and out.loc["H", "START_S2_1"] == "2021-01-26"
    off = Config(parcels=ParcelsConfig(bs_classifier="sen4cap", bs_max_ndti_rise=np.inf))
    out = bare_soil_periods(table(rows), START, date(2021, 6, 30), off).markers_all.set_index("parcel_id")
    assert out.loc["L", "START_S2_1"] == "2021-01-26"


def test_an_envelope_veto_is_a_weak_not_bare_call():
    residue = dict(BARE, NDVI=0.22, NDTI=0.16, FCOVER=0.05)  # the forest says bare, the envelope says no
    rows = calibration_parcels()
    for i in range(6):
        day = pd.Timestamp(START + timedelta(days=5 * i))
        rows += [("R", day, "S2", f, v, 100) for f, v in (residue if i >= 3 else GREEN).items()]
    obs = bare_soil_periods(table(rows), START, date(2021, 6, 30), SEN4CAP).observations
    vetoed = obs[(obs["parcel_id"] == "R") & (obs["date"] >= "2021-01-16")]
    assert (vetoed["pred"] == "NBS").all() and (vetoed["conf"] < 0.5).all()


def test_wide_means_pivots_one_source():
    wide = wide_means(table(s2_rows("A", "bg")), "S2", ["NDVI", "NDTI"])
    assert list(wide.columns) == ["parcel_id", "date", "NDTI", "NDVI", "count"]
    assert len(wide) == 2 and wide["date"].dtype.kind == "M"


# --- heterogeneity ----------------------------------------------------------------------------


def _cube(codes: np.ndarray, ndvi_of: list[tuple[object, object]], days: int = 365) -> xr.Dataset:
    """A cube whose pixels follow NDVI curves (function of day of year) per parcel code or pixel mask."""
    times = pd.date_range("2021-01-01", periods=days // 5, freq="5D")
    doy = np.asarray(times.day_of_year, np.float64)
    ny, nx = codes.shape
    ndvi = np.full((len(times), ny, nx), 0.3)
    for key, curve in ndvi_of:
        mask = codes == key if isinstance(key, int) else key
        ndvi[:, mask] = np.asarray(curve(doy))[:, None]
    rng = np.random.default_rng(0)
    ndvi = ndvi + rng.normal(0, 0.01, ndvi.shape)
    red = 0.12 - 0.1 * ndvi
    nir = red * (1 + ndvi) / (1 - ndvi)
    data = {"B02": red * 0.7, "B03": red * 0.9, "B04": red, "B08": nir}
    coords = {"time": times, "y": 1000.0 - 10 * np.arange(ny), "x": 10 * np.arange(nx) + 5.0}
    cube = xr.Dataset({k: (("time", "y", "x"), v.astype(np.float32)) for k, v in data.items()}, coords=coords)
    cube["clear"] = (("time", "y", "x"), np.ones(ndvi.shape, bool))
    cube.attrs["resolution"] = 10.0
    return cube


def _winter(doy):
    return 0.25 + 0.6 * np.exp(-(((doy - 140) / 45.0) ** 2))


def _summer(doy):
    return 0.2 + 0.65 * np.exp(-(((doy - 220) / 35.0) ** 2))


def _split_area(method: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Decision and per-period table of an area with a split parcel, a tiny one, one cut by the edge and
    one without pixels."""
    codes = np.zeros((24, 40), np.int64)
    codes[1:11, 1:13] = 1  # homogeneous, winter crop
    codes[1:11, 15:27] = 2  # split: left half winter crop, right half summer crop
    codes[13:23, 1:13] = 3  # homogeneous, summer crop
    codes[20, 20] = 4  # a parcel of one pixel
    codes[13:23, 33:40] = 5  # crosses the area's edge: only the part inside has pixels
    right_half = np.zeros_like(codes, bool)
    right_half[1:11, 21:27] = True
    curves = [(1, _winter), (2, _winter), (3, _summer), (4, _summer), (5, _winter), (right_half, _summer)]
    cube = _cube(codes, curves)
    ids = ["h1", "split", "h3", "tiny", "edge", "none"]
    frame = pd.DataFrame({"code": [1, 2, 3, 4, 5, 6], "parcel_id": ids, "category": ["arable"] * 6})
    config = Config(parcels=ParcelsConfig(hete_method=method, hete_s2_clusters=4, hete_min_cluster_pixels=20))
    result = heterogeneity(cube, codes, date(2021, 1, 1), date(2021, 12, 31), config, parcels=frame)
    assert list(result.decision.columns) == list(DECISION_COLUMNS) and result.periods_s1 is None
    decision = result.decision.set_index("parcel_id")
    assert decision.loc["split", "C_INDEX"] in ("STRONG", "MODERATE", "WEAK")
    assert not np.isnan(decision.loc["split", "P_Hete_L"])
    for pid in ("h1", "h3", "edge"):  # a homogeneous parcel may be split by noise (POOR), not more
        assert decision.loc[pid, "C_INDEX"] in ("NO", "POOR"), pid
    assert decision.loc["tiny", "C_INDEX"] == decision.loc["none", "C_INDEX"] == "NO"
    assert decision.loc["none", "HoleS2"] == 0
    assert (decision["LC"] == 1).all()
    return decision, result.periods_s2


def test_sen4cap_heterogeneity_finds_the_split_parcel_and_handles_tiny_and_edge_parcels():
    decision, periods = _split_area("sen4cap")
    assert decision.loc["split", "M3"] >= 2 and np.isnan(decision.loc["none", "M1"])
    assert decision[["ZONE_SHARE", "ZONE_SEP", "ZONE_DATES"]].isna().all().all()
    assert set(periods["period"]) == set(range(1, 13))
    assert (periods.loc[periods["parcel_id"] == "tiny", "Hete"] <= 1).all()


def test_two_zones_find_the_split_parcel_its_share_and_when_its_halves_differ():
    decision, periods = _split_area("zones")
    split = decision.loc["split"]
    assert split["C_INDEX"] == "STRONG" and split["ZONE_SHARE"] == pytest.approx(0.5)
    assert split["ZONE_SEP"] >= 6 and split["ZONE_DATES"] >= 3 and np.isnan(split["M1"])
    # the halves differ most between the winter crop's peak (May) and the summer crop's (August)
    assert 4 <= split["P_Hete_L"] <= 9
    assert decision.loc["h1", "ZONE_DATES"] == 0 and np.isnan(decision.loc["tiny", "ZONE_SEP"])
    mine = periods[periods["parcel_id"] == "split"]
    assert set(mine["period"]) == set(range(1, 14)) and mine["ZONE_DATES"].sum() == split["ZONE_DATES"]
    assert "tiny" not in set(periods["parcel_id"])  # never split: no period rows


def test_zones_read_the_kept_ndvi_as_they_read_the_cube():
    codes = np.zeros((12, 26), np.int64)
    codes[1:11, 1:13] = 1
    codes[1:11, 14:26] = 2
    half = np.zeros_like(codes, bool)
    half[1:11, 20:26] = True
    cube = _cube(codes, [(1, _winter), (2, _winter), (half, _summer)])
    flat = np.flatnonzero(codes.ravel() > 0)
    days = cube.time.values.astype("datetime64[D]").astype(np.int64)
    red, nir = (cube[b].values.reshape(days.size, -1)[:, flat] for b in ("B04", "B08"))
    kept = PixelNdvi(days, flat, ((nir - red) / (nir + red)).astype(np.float32))
    window = date(2021, 3, 1), date(2021, 10, 31)
    read = heterogeneity(cube, codes, *window)
    shared = heterogeneity(cube, codes, *window, pixel_ndvi=kept)
    pd.testing.assert_frame_equal(shared.decision, read.decision)
    pd.testing.assert_frame_equal(shared.periods_s2, read.periods_s2)
    assert read.decision.set_index("parcel_id").loc[2, "C_INDEX"] == "STRONG"
    with pytest.raises(ValueError, match="parcel pixels"):
        heterogeneity(cube, codes, *window, pixel_ndvi=PixelNdvi(days, flat[1:], kept.values[:, 1:]))


def test_heterogeneity_with_s1():
    codes = np.zeros((12, 26), np.int64)
    codes[1:11, 1:13] = 1
    codes[1:11, 14:26] = 2
    cube = _cube(codes, [(1, _winter), (2, _summer)])
    times = pd.date_range("2021-01-03", periods=60, freq="6D")
    vv = np.where(codes[None] == 2, -15.0, -9.0) + np.zeros((len(times), 1, 1))
    s1 = xr.Dataset({"VV": (("time", "y", "x"), vv), "VH": (("time", "y", "x"), vv - 7)},
                    coords={"time": times, "y": cube.y, "x": cube.x})  # fmt: skip
    result = heterogeneity(cube, codes, date(2021, 1, 1), date(2021, 12, 31), s1=s1)
    assert result.periods_s1 is not None
    assert {"M5", "M6", "M7"} <= set(result.periods_s1.columns)
    assert (result.periods_s1["M5"] == 0).all()  # each parcel is one backscatter level


# --- change of agricultural category ----------------------------------------------------------


def _two_years(pid: str, first: str, second: str, seed: int) -> list[tuple]:
    return s2_rows(pid, first, START, seed=seed) + s2_rows(pid, second, date(2022, 1, 1), seed=seed + 100)


def test_ploughed_grassland_is_a_change_and_stable_parcels_are_not():
    meadow = "g" * 72
    crop = "g" * 20 + "b" * 10 + "g" * 30 + "b" * 12
    ploughed = "g" * 14 + "b" * 12 + "g" * 46  # bare in spring, a different course afterwards
    rows = []
    for k in range(8):
        rows += _two_years(f"grass{k}", meadow, meadow, k)
        rows += _two_years(f"crop{k}", crop, crop, 50 + k)
    rows += _two_years("ploughed", meadow, ploughed, 99)
    rows += _two_years("declared", meadow, crop, 98)
    rows += s2_rows("only_2021", meadow, START)
    decl = pd.DataFrame(
        [(f"grass{k}", y, "permanent_grassland") for k in range(8) for y in (2021, 2022)]
        + [(f"crop{k}", y, "maize") for k in range(8) for y in (2021, 2022)]
        + [("ploughed", 2021, "permanent_grassland"), ("ploughed", 2022, "permanent_grassland"),
           ("declared", 2021, "permanent_grassland"), ("declared", 2022, "maize"),
           ("only_2021", 2021, "permanent_grassland")],
        columns=["parcel_id", "year", "crop"],
    )  # fmt: skip
    out = category_change(table(rows), decl, (2021, 2022)).set_index("parcel_id")
    assert "only_2021" not in out.index  # matched by id: declared in both years only
    assert out.loc["ploughed", "pred_changeP2"] == 1 and out.loc["ploughed", "ChangeP2"] >= 3
    assert out.loc["ploughed", "TTdaysS2_P2"] > 0 and out.loc["ploughed", "TTdaysS2_P1"] == 0
    assert not out.loc["ploughed", "declared_change"] and out.loc["ploughed", "change"]
    assert out.loc["declared", "LC_P1"] == 3 and out.loc["declared", "LC_P2"] == 1
    assert out.loc["declared", "declared_change"] and out.loc["declared", "change"]
    stable = [f"grass{k}" for k in range(8)]
    assert (out.loc[stable, "pred_change_P1_P2"] == 0).all() and not out.loc[stable, "change"].any()
    crops = [f"crop{k}" for k in range(8)]
    assert (out.loc[crops, "ChangeP2"] == 0).all()  # arable and bare: no sign of grassland
    assert np.isfinite(out.loc["grass0", "AreaVeg_P1"]) and out.loc["grass0", "AreaVeg_P1"] > 200


def test_parcel_without_observations_in_a_year_has_no_score():
    rows = _two_years("g1", "g" * 30, "g" * 30, 1) + s2_rows("g2", "g" * 30, START)
    decl = pd.DataFrame([("g1", 2021, 3), ("g1", 2022, 3), ("g2", 2021, 3), ("g2", 2022, 3)],
                        columns=["parcel_id", "year", "category"])  # fmt: skip
    out = category_change(table(rows), decl, (2021, 2022)).set_index("parcel_id")
    assert np.isnan(out.loc["g2", "ChangeP2"]) and out.loc["g2", "pred_changeP2"] == 0
    assert out.loc["g2", "NbrTTS2_P2"] == 0


def test_declarations_are_checked_and_read_from_year_columns():
    frame = pd.DataFrame({"parcel_id": [1, 2], "crop_2021": ["permanent_grassland", "maize"],
                          "crop_2022": ["maize", "vineyard"]})  # fmt: skip
    decl = declarations_from_columns(frame, {2021: "crop_2021", 2022: "crop_2022"})
    assert len(decl) == 4 and set(decl.columns) == {"parcel_id", "year", "crop"}
    crops = ("permanent_grassland", "maize", "vineyard", "", None)
    assert [category_of_crop(c) for c in crops] == [3, 1, 2, 0, 0]
    with pytest.raises(DeclarationError, match="2023"):
        category_change(table(s2_rows(1, "gg")), decl, (2021, 2023))
    with pytest.raises(DeclarationError, match="category"):
        category_change(table(s2_rows(1, "gg")), decl.drop(columns="crop"), (2021, 2022))


# --- as table products of ``baresoil parcels`` ------------------------------------------------


def _context(markers: pd.DataFrame, ids: list[str], categories: list[object] | None, start: str, end: str):
    from baresoil.catalog.source import TimeRange
    from baresoil.inputs.parcels import REPORT_COLUMNS, ParcelSet
    from baresoil.products.parcels.tables import ParcelContext

    frame = gpd.GeoDataFrame(
        {"parcel_id": ids, "code": np.arange(1, len(ids) + 1, dtype=np.int32)},
        geometry=[shapely.box(i * 100, 0, i * 100 + 90, 90) for i in range(len(ids))],
        crs="EPSG:3035",
    )
    if categories is not None:
        frame["category"] = categories
    parcels = ParcelSet(frame, pd.DataFrame(columns=list(REPORT_COLUMNS)), "test.gpkg", "parcel_id", 5.0)
    return ParcelContext(parcels, markers, TimeRange.parse(start, end), Config(), has_s1=False)


def test_bare_soil_tables_for_a_parcel_run():
    from baresoil.products.parcels.bare_periods import BARE_SOIL_PRODUCT

    rows = calibration_parcels() + s2_rows("A", "gggggbbbbbbggggggggg")
    context = _context(table(rows), ["A", "cal0", "empty"], None, "2021-01-01", "2021-12-31")
    tables = BARE_SOIL_PRODUCT.run(context)
    assert set(tables) == {"bare_soil_periods", "bare_soil_markers_s2", "bare_soil_observations"}
    periods = tables["bare_soil_periods"]
    assert isinstance(periods, gpd.GeoDataFrame) and periods.crs == "EPSG:3035"
    assert set(periods["parcel_id"]) >= {"A", "cal0", "empty"}


def test_category_change_table_for_a_two_year_run_with_categories():
    from baresoil.products.parcels.category import CATEGORY_PRODUCT

    rows = []
    for k in range(6):
        rows += _two_years(f"g{k}", "g" * 72, "g" * 72, k)
    rows += _two_years("ploughed", "g" * 72, "g" * 14 + "b" * 12 + "g" * 46, 99)
    ids = [f"g{k}" for k in range(6)] + ["ploughed"]
    context = _context(table(rows), ids, ["grassland"] * 7, "2021-01-01", "2022-12-31")
    out = CATEGORY_PRODUCT.run(context)["category_change"].set_index("parcel_id")
    assert out.loc["ploughed", "pred_changeP2"] == 1 and out.loc["g0", "pred_changeP2"] == 0
    one_year = _context(table(rows), ids, ["grassland"] * 7, "2022-01-01", "2022-12-31")
    assert CATEGORY_PRODUCT.run(one_year) == {}
    no_category = _context(table(rows), ids, None, "2021-01-01", "2022-12-31")
    assert CATEGORY_PRODUCT.run(no_category) == {}


def test_a_view_mostly_under_cloud_is_not_classified():
    # parcel C: bare all through, one view with a quarter of its pixels clear that reads green
    rows = calibration_parcels()
    for i in range(10):  # an area with residue: parcel R under stubble, then tilled
        day = pd.Timestamp(START + timedelta(days=5 * i))
        ndti = 0.15 if i < 6 else BARE["NDTI"]
        rows += [("R", day, "S2", f, v, 100) for f, v in dict(BARE, NDTI=ndti).items()]
    rows += s2_rows("C", "bbbbbbbbbb")
    cloudy = pd.Timestamp(START + timedelta(days=25))
    rows = [r for r in rows if not (r[0] == "C" and r[1] == cloudy)]
    rows += [("C", cloudy, "S2", f, v, 25) for f, v in GREEN.items()]
    no_veto = Config(parcels=ParcelsConfig(bs_residue_veto=0.0))  # the rule alone (the trees never saw this)
    result = bare_soil_periods(table(rows), START, date(2021, 12, 31), no_veto)
    obs = result.observations.set_index(["parcel_id", "date"])
    assert pd.isna(obs.loc[("C", "2021-01-26"), "pred"]) and obs.loc[("C", "2021-01-21"), "pred"] == "BS"
    out = result.markers_all.set_index("parcel_id")
    assert out.loc["C", "START_S2_1"] == "2021-01-01" and out.loc["C", "END_S2_1"] == "Continue"


def _constant_trees(probability: float) -> TreeEnsemble:
    """Trees of one leaf each: every view gets ``probability``."""
    one = np.zeros(1)
    return TreeEnsemble(np.zeros(1, np.int64), one, np.zeros(1, np.int64), np.zeros(1, np.int64),
                        np.ones(1, bool), one, np.zeros(1, np.int64),
                        float(np.log(probability / (1 - probability))))  # fmt: skip


@pytest.mark.parametrize(("probability", "vetoed"), [(0.02, True), (0.5, False)])
def test_the_learned_veto_takes_unlikely_bare_views_as_not_bare(monkeypatch, probability, vetoed):
    rows = calibration_parcels() + s2_rows("A", "gggggbbbbbbggggggggg")  # bare on days 25 … 50
    monkeypatch.setattr(residue, "residue_model", lambda: _constant_trees(probability))
    result = bare_soil_periods(table(rows), START, date(2021, 12, 31), Config())
    out = result.markers_all.set_index("parcel_id")
    assert pd.isna(out.loc["A", "START_S2_1"]) == vetoed
    off = Config(parcels=ParcelsConfig(bs_residue_veto=0.0))
    assert (
        bare_soil_periods(table(rows), START, date(2021, 12, 31), off)
        .markers_all.set_index("parcel_id")
        .loc["A", "START_S2_1"]
        == "2021-01-26"
    )
    if vetoed:  # a vetoed view is a not-bare call at one minus the trees' probability
        seen = result.observations
        views = seen[(seen.parcel_id == "A") & (seen.source == "S2")]
        bare_days = pd.to_datetime(views["date"]).between("2021-01-26", "2021-02-20")
        assert bare_days.sum() == 6 and (views["pred"] == "NBS").all()
        np.testing.assert_allclose(views.loc[bare_days, "conf"], 1 - probability, atol=1e-6)


def test_the_shipped_trees_read_the_features_they_were_trained_on():
    model = residue.residue_model()
    assert int(model.feature.max()) < len(residue.FEATURES) and len(model.roots) > 0
    views = table(s2_rows("A", "gggggbbbbbbggggg") + s2_rows("B", "ggbbbbbbbbgggggg", seed=1))
    wide = views.pivot_table(index=["parcel_id", "date"], columns="feature", values="mean").reset_index()
    found = residue.bare_probability(wide)
    assert found.shape == (len(wide),) and np.all((found >= 0) & (found <= 1))
