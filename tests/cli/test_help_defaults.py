"""The command-line help states the defaults the configuration has: read from it, never written twice."""

from __future__ import annotations

import typing

import pytest
import typer

from baresoil.cli.main import app
from baresoil.config import load_config

COMMAND = typer.main.get_command(app)


def _help(command: str, option: str) -> str:
    for param in COMMAND.commands[command].params:
        if option in param.opts:
            return getattr(param, "help", None) or ""
    raise AssertionError(f"baresoil {command} has no option {option}")


def _default(key: str, product: str | None) -> object:
    section, _, name = key.partition(".")
    return getattr(getattr(load_config(product=product), section), name)


@pytest.mark.parametrize(
    ("command", "option", "key", "product"),
    [
        ("cube", "--resolution", "cube.resolution", None),
        ("cube", "--cloud-buffer", "cube.cloud_buffer_m", None),
        ("cube", "--max-cloud-cover", "scenes.max_cloud_cover", None),
        ("cube", "--min-sun-elevation", "scenes.min_sun_elevation", None),
        ("soilsuite", "--resolution", "cube.resolution", None),
        ("soilsuite", "--rule", "soilsuite.rule", None),
        ("soilsuite", "--threshold", "soilsuite.threshold", None),
        ("soilsuite", "--min-bare-obs", "soilsuite.min_bare_obs", None),
        ("seasons", "--resolution", "cube.resolution", "seasons"),
        ("seasons", "--max-cloud-cover", "scenes.max_cloud_cover", "seasons"),
        ("seasons", "--zone", "seasons.zone", "seasons"),
        ("parcels", "--resolution", "cube.resolution", "parcels"),
        ("parcels", "--max-cloud-cover", "scenes.max_cloud_cover", "parcels"),
        ("parcels", "--min-pixels", "parcels.min_pixels", "parcels"),
        ("soil", "--trees", "soil.trees", None),
        ("soil", "--folds", "soil.cv_folds", None),
        ("soil", "--block-size", "soil.cv_block_m", None),
        ("composite", "--every", "composite.every", None),
        ("composite", "--stat", "composite.stat", None),
        ("composite", "--min-valid-obs", "composite.min_valid_obs", None),
    ],
)
def test_the_help_states_the_default_of_the_config(command, option, key, product):
    """With the product's own defaults where the command sets them (``config.PRODUCT_DEFAULTS``):
    ``seasons --max-cloud-cover`` says 100, ``cube --max-cloud-cover`` 80."""
    value = _default(key, product)
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    assert f"(default: {shown}" in _help(command, option), _help(command, option)


@pytest.mark.parametrize(
    ("command", "option", "key"),
    [("soilsuite", "--rule", "soilsuite.rule"), ("composite", "--every", "composite.every"),
     ("composite", "--stat", "composite.stat")],
)  # fmt: skip
def test_the_help_lists_the_choices_of_the_config(command, option, key):
    section, _, name = key.partition(".")
    annotation = typing.get_type_hints(type(getattr(load_config(), section)))[name]
    help_text = _help(command, option)
    assert all(str(choice) in help_text for choice in typing.get_args(annotation)), help_text
