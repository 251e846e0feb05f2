"""Configuration layers: defaults < TOML file < flags, each value checked by type and range."""

import re

import pytest

from baresoil.config import Config, CubeConfig, SeasonsConfig, describe_type, load_config
from baresoil.errors import ConfigError


def test_defaults_follow_scmap():
    config = Config()
    assert config.scenes.max_cloud_cover == 80.0
    assert config.scenes.min_sun_elevation == 20.0
    assert config.cube.cloud_buffer_m == 100.0
    assert config.cube.clear_classes == (4, 5, 6)


def test_file_then_flags(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[cube]\nresolution = 10\ncloud_buffer_m = 60\n[scenes]\nmax_cloud_cover = 50\n")
    config = load_config(path)
    assert config.cube.resolution == 10.0 and config.cube.cloud_buffer_m == 60.0
    config = config.override(**{"cube.cloud_buffer_m": 40, "scenes.max_cloud_cover": None})
    assert config.cube.cloud_buffer_m == 40.0
    assert config.scenes.max_cloud_cover == 50.0  # an unset flag keeps the file's value


def test_product_defaults_lie_between_the_defaults_and_the_file(tmp_path):
    seasons = load_config(product="seasons")
    assert seasons.cube.resolution == 10.0
    assert seasons.scenes.max_cloud_cover == 100.0  # clouds masked per pixel, every scene kept
    assert seasons.scenes.min_sun_elevation == Config().scenes.min_sun_elevation
    assert load_config(product="parcels").scenes.max_cloud_cover == 80.0
    path = tmp_path / "c.toml"
    path.write_text("[cube]\nresolution = 20\n[scenes]\nmax_cloud_cover = 90\n")
    config = load_config(path, "seasons")
    assert config.cube.resolution == 20.0 and config.scenes.max_cloud_cover == 90.0
    assert config.override(**{"cube.resolution": 10.0}).cube.resolution == 10.0
    with pytest.raises(ConfigError, match="no product defaults for 'soilsuit'"):
        load_config(product="soilsuit")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cube]\nresolutoin = 10\n", "unknown key cube.resolutoin"),
        ("[cubes]\nx = 1\n", "unknown config section"),
        ("[cube]\nresolution = 'ten'\n", r'cube\.resolution = "ten": expected a number$'),
        ("[cube\n", "not valid TOML"),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a boolean is no number (it ran at 1 m), a fraction no integer (2.7 became 2), a string no boolean
        ("[cube]\nresolution = true", "cube.resolution = true: expected a number"),
        ("[soilsuite]\nmin_bare_obs = 2.7", "soilsuite.min_bare_obs = 2.7: expected an integer ≥ 1"),
        ('[soil]\nspectral_indices = "false"', 'soil.spectral_indices = "false": expected true or false'),
        ("[soil]\ncompare_covariates = 0", "soil.compare_covariates = 0: expected true or false"),
        ('[seasons]\nyear = "2022"', 'seasons.year = "2022": expected an integer ≥ 0'),
        # ranges
        (
            "[cube]\nresolution = 15",
            "cube.resolution = 15: expected a number: a pixel size in metres that divides the 100 km EEA "
            "tiles (10, 20, 25 …)",
        ),
        ("[cube]\nresolution = -20", "cube.resolution = -20: expected a number: a pixel size"),
        ("[scenes]\nmax_cloud_cover = 120", "scenes.max_cloud_cover = 120: expected a number from 0 to 100"),
        ("[seasons]\nzone = 3", "seasons.zone = 3: expected an integer from 1 to 2"),
        ("[soilsuite]\nmin_bare_obs = 0", "soilsuite.min_bare_obs = 0: expected an integer ≥ 1"),
        ("[soil]\nmax_features = 0", "soil.max_features = 0: expected a number > 0 and ≤ 1"),
        (
            "[cube]\nclear_classes = [4, 5, 12]",
            "cube.clear_classes = [4, 5, 12]: expected a list of integers from 0 to 11",
        ),
        (
            "[cube]\nclear_classes = [4, 5.0]",
            "cube.clear_classes = [4, 5.0]: expected a list of integers from 0 to 11",
        ),
        ("[soil]\nlog_properties = [1]", "soil.log_properties = [1]: expected a list of strings"),
        # choices
        (
            '[soilsuite]\nrule = "ndvi"',
            'soilsuite.rule = "ndvi": expected one of "pvir2", "geos3", "sen4cap"',
        ),
        ('[seasons]\ncombine = "mean"', 'seasons.combine = "mean": expected one of "sum", "average"'),
        (
            '[seasons]\nconfidence = "width"',
            'seasons.confidence = "width": expected one of "slope", "crossing"',
        ),
        (
            '[composite]\nevery = "week"',
            'composite.every = "week": expected one of "10d", "month", "quarter", "year"',
        ),
        (
            '[composite]\nstat = "max"',
            'composite.stat = "max": expected one of "median", "mean", "geomedian"',
        ),
        (
            '[parcels]\nhete_method = "kmeans"',
            'parcels.hete_method = "kmeans": expected one of "zones", "sen4cap"',
        ),
        # a rule between two keys of a section
        (
            "[seasons]\nmin_event_confidence = 50",
            "seasons.min_event_confidence must be between 0 and seasons.max_event_confidence (40), got 50",
        ),
    ],
)
def test_values_are_checked_by_type_and_range_naming_file_key_and_type(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: {message}"), str(info.value)


def test_flags_are_checked_as_the_file_is():
    with pytest.raises(
        ConfigError, match=re.escape("flags: cube.resolution = 15.0: expected a number: a pixel")
    ):
        Config().override(**{"cube.resolution": 15.0})
    with pytest.raises(
        ConfigError, match=re.escape("flags: seasons.zone = 0: expected an integer from 1 to 2")
    ):
        load_config(product="seasons").override(**{"seasons.zone": 0})


@pytest.mark.parametrize("resolution", [10, 20, 25, 50, 100, 2.5, 1000])
def test_every_resolution_that_divides_the_tiles_is_taken(tmp_path, resolution):
    path = tmp_path / "c.toml"
    path.write_text(f"[cube]\nresolution = {resolution}\n")
    value = load_config(path).cube.resolution
    assert value == resolution and isinstance(value, float)


def test_what_the_file_may_write_as_it_likes():
    """Integers for numbers, arrays for tuples, a number for the PVIR2 threshold (a text field that also
    holds paths and ``auto``), inf where a limit is off."""
    given = {"cube.cloud_buffer_m": 60, "soilsuite.threshold": 0.22, "soil.tpi_radii_m": [50, 150],
             "parcels.bs_max_fcover": float("inf")}  # fmt: skip
    config = Config().override(**given)
    assert config.cube.cloud_buffer_m == 60.0 and isinstance(config.cube.cloud_buffer_m, float)
    assert config.soilsuite.threshold == "0.22"
    assert config.soil.tpi_radii_m == (50.0, 150.0)
    assert config.parcels.bs_max_fcover == float("inf")


def test_sections_made_in_code_are_checked_too():
    with pytest.raises(ValueError, match="divides the 100 km EEA tiles"):
        CubeConfig(resolution=15)
    with pytest.raises(ValueError, match="valid integer"):
        SeasonsConfig(zone=True)  # type: ignore[arg-type]


def test_every_default_is_valid_and_stated_once():
    """The defaults (and each product's) pass their own checks; each field has a type the errors can name."""
    import dataclasses
    import typing

    from baresoil.config import PRODUCT_DEFAULTS

    for product in (None, *PRODUCT_DEFAULTS):
        config = load_config(product=product)
        for section in dataclasses.fields(config):
            value = getattr(config, section.name)
            hints = typing.get_type_hints(type(value), include_extras=True)
            for f in dataclasses.fields(value):
                assert describe_type(hints[f.name]).startswith(("a ", "an ", "one of", "true or false")), (
                    f.name
                )


def test_lab_error_entries_are_read_and_checked(tmp_path):
    from baresoil.config import parse_lab_error

    assert parse_lab_error(("soc=5%", " clay = 1.5", "ph=0")) == {
        "soc": (0.05, True),
        "clay": (1.5, False),
        "ph": (0.0, False),
    }
    path = tmp_path / "c.toml"
    path.write_text('[soil]\nlab_error = ["soc=3%", "clay=2"]\n')
    soil = load_config(path).soil
    assert soil.lab_error_of("soc") == (0.03, True) and soil.lab_error_of("silt") == (0.0, False)
    for bad in ('["soc"]', '["soc=-1"]', '["=1"]', '["clay=a%"]'):
        path.write_text(f"[soil]\nlab_error = {bad}\n")
        with pytest.raises(ConfigError, match=r"soil\.lab_error = .*expected name=error"):
            load_config(path)


def test_the_kernels_records_built_from_the_default_config_are_the_kernels_own_defaults():
    """Each default is written once, in the kernel's record: the parcels keys default to it, and the records
    the product builds from a default config are the kernels' defaults (Sen4CAP's where they say so)."""
    import dataclasses

    from baresoil.config import ParcelsConfig
    from baresoil.kernels.baresoil_periods import (
        CalibrationThresholds,
        CoverRules,
        ForestSettings,
        PeriodRules,
    )
    from baresoil.kernels.category import Consolidation
    from baresoil.kernels.heterogeneity import ClusterRules, DecisionRules, ZoneRules

    parcels = ParcelsConfig()
    assert parcels.calibration() == CalibrationThresholds()
    assert parcels.forest() == ForestSettings()
    assert parcels.cover_rules() == CoverRules()
    assert parcels.cluster_rules() == ClusterRules()
    assert parcels.decision_rules() == DecisionRules()
    assert parcels.zone_rules() == ZoneRules()
    assert parcels.consolidation() == Consolidation()
    # the one departure: the next period is searched from the first view after END (Sen4CAP waits p_short)
    assert parcels.period_rules("s2") == dataclasses.replace(PeriodRules(), next_gap=0)


@pytest.mark.parametrize(
    ("key", "value", "record", "field"),
    [
        ("bs_calib_bs_ndvi", 0.2, "calibration", "bs_ndvi"),
        ("bs_calib_bs_ndti", 0.2, "calibration", "bs_ndti"),
        ("bs_calib_nbs_ndvi", 0.5, "calibration", "nbs_ndvi"),
        ("bs_calib_nbs_ndti", 0.3, "calibration", "nbs_ndti"),
        ("bs_calib_nbs_fcover", 0.1, "calibration", "nbs_fcover"),
        ("bs_trees", 7, "forest", "trees"),
        ("bs_random_state", 3, "forest", "random_state"),
        ("bs_max_ndti", 0.3, "bare_envelope", "max_ndti"),
        ("bs_max_fcover", 0.3, "bare_envelope", "max_fcover"),
        ("bs_max_ndvi_rise", 0.3, "bare_envelope", "max_ndvi_rise"),
        ("bs_max_ndti_rise", 0.3, "bare_envelope", "max_ndti_rise"),
        ("bs_min_soil", 0.6, "cover_rules", "min_soil"),
        ("bs_soil_quantile", 5.0, "cover_rules", "soil_quantile"),
        ("bs_residue_quantile", 90.0, "cover_rules", "residue_quantile"),
        ("bs_residue_noise", 2.0, "cover_rules", "residue_noise"),
        ("bs_cover_scale", 0.1, "cover_rules", "scale"),
        ("hete_per_hetero", 0.8, "cluster_rules", "per_hetero"),
        ("hete_min_cluster_pixels", 9, "cluster_rules", "min_cluster_pixels"),
        ("hete_min_cluster_pixels", 9, "zone_rules", "min_zone_pixels"),
        ("hete_ndvi_distance", 0.2, "cluster_rules", "ndvi_distance"),
        ("hete_compactness", 2.0, "cluster_rules", "compactness"),
        ("hete_isolated_threshold", 2, "cluster_rules", "isolated_threshold"),
        ("hete_isolated_radius", 2, "cluster_rules", "isolated_radius"),
        ("hete_connectivity_radius", 2, "cluster_rules", "connectivity_radius"),
        ("hete_full_connectivity", True, "cluster_rules", "full_connectivity"),
        ("hete_window", 4, "decision_rules", "window"),
        ("hete_decision_compactness", 2.0, "decision_rules", "compactness"),
        ("hete_skip_empty_periods", True, "decision_rules", "skip_empty"),
        ("hete_zone_min_clear", 0.5, "zone_rules", "min_clear"),
        ("hete_zone_separation", 3.0, "zone_rules", "separation"),
        ("change_p1_threshold", 1.0, "consolidation", "p1_threshold"),
        ("change_p2_threshold", 1.0, "consolidation", "p2_threshold"),
    ],
)
def test_each_parcels_key_reaches_its_kernels_record(tmp_path, key, value, record, field):
    path = tmp_path / "c.toml"
    path.write_text(f"[parcels]\n{key} = {str(value).lower()}\n")
    built = getattr(load_config(path).parcels, record)()
    assert getattr(built, field) == value


def test_the_marker_rules_of_each_sensor_come_from_its_own_keys():
    config = Config().override(**{"parcels.bs_thr_bs_s1": 0.6, "parcels.bs_thr_nbs_s2": 0.9,
                                  "parcels.bs_s1_periods": 2, "parcels.bs_p_short": 20,
                                  "parcels.bs_p_long": 50, "parcels.bs_next_gap_days": 5})  # fmt: skip
    s2, s1 = config.parcels.period_rules("s2"), config.parcels.period_rules("s1")
    assert (s2.thr_bs, s2.thr_nbs, s2.n_periods) == (0.75, 0.9, 3)
    assert (s1.thr_bs, s1.thr_nbs, s1.n_periods) == (0.6, 0.70, 2)
    assert {(r.p_short, r.p_long, r.next_gap) for r in (s2, s1)} == {(20, 50, 5)}


def test_the_built_up_keys_are_defined_once_and_read_in_both_sections(tmp_path):
    """``soilsuite.builtup_*`` and ``seasons.builtup_*`` are one definition; each section keeps its keys,
    its values and their documentation."""
    import dataclasses

    from baresoil.config import BuiltUpConfig, SoilSuiteConfig, field_docs

    shared = [f.name for f in dataclasses.fields(BuiltUpConfig)]
    assert "builtup_share" in shared and "mineral_blue" in shared
    for cls in (SoilSuiteConfig, SeasonsConfig):
        assert issubclass(cls, BuiltUpConfig)
        assert all(field_docs()[cls.__name__][name] == field_docs()["BuiltUpConfig"][name] for name in shared)
    path = tmp_path / "c.toml"
    path.write_text("[soilsuite]\nbuiltup_share = 0.4\n[seasons]\nbuiltup_share = 0.5\nmineral_blue = 0.25\n")
    config = load_config(path)
    assert (config.soilsuite.builtup_share, config.seasons.builtup_share) == (0.4, 0.5)
    assert (config.soilsuite.mineral_blue, config.seasons.mineral_blue) == (0.2, 0.25)
