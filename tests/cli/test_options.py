"""The layered config of a product command: defaults < product defaults < --config file < flags."""

from __future__ import annotations

from baresoil.cli import options as opt


def _job(tmp_path, config_file, overrides, product):
    area = (None, "E43N32", None)
    return opt.make_job("catalog.json", None, area, "2021-07-01", "2023-06-30", tmp_path, config_file,
                        overrides, False, product=product)  # fmt: skip


def test_a_config_file_wins_over_the_product_defaults_and_flags_over_both(tmp_path):
    overrides = opt.cube_overrides(None, None, None, None)  # no flag given
    assert _job(tmp_path, None, overrides, "seasons").config.cube.resolution == 10.0
    assert _job(tmp_path, None, overrides, "seasons").config.scenes.max_cloud_cover == 100.0
    assert _job(tmp_path, None, overrides, None).config.cube.resolution == 20.0
    path = tmp_path / "c.toml"
    path.write_text("[cube]\nresolution = 20\n")
    assert _job(tmp_path, path, overrides, "seasons").config.cube.resolution == 20.0
    flags = opt.cube_overrides(10.0, None, 80.0, None)
    config = _job(tmp_path, path, flags, "seasons").config
    assert config.cube.resolution == 10.0 and config.scenes.max_cloud_cover == 80.0
