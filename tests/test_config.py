"""Configuration layers: defaults < TOML file < flags."""

import pytest

from baresoil.config import Config, load_config
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
        ("[cube]\nresolution = 'ten'\n", "not a valid float"),
        ("[cube\n", "not valid TOML"),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)
