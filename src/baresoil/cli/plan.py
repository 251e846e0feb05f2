"""``baresoil plan``: what a run would do: its tiles, scenes, pixel-observations, time and output volume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..config import PRODUCT_DEFAULTS
from ..errors import ConfigError
from . import options as opt

FAMILIES = {"cube": "observations", "soilsuite": "soilsuite", "seasons": "seasons"}
"""The tile commands and the product family each writes."""


def plan_command(
    stac: opt.Stac,
    start: opt.Start,
    end: opt.End,
    collection: opt.Collection = None,
    bbox: opt.Bbox = None,
    tile: opt.Tile = None,
    aoi: opt.Aoi = None,
    product: Annotated[
        str, typer.Option("--product", help="The command to plan: cube, soilsuite or seasons.")
    ] = "soilsuite",
    resolution: opt.Resolution = None,
    max_cloud_cover: opt.MaxCloudCover = None,
    min_sun_elevation: opt.MinSunElevation = None,
    config: opt.ConfigFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of the table.")] = False,
) -> None:
    """The EEA tiles of a run, each with its scenes, pixel-observations, projected time and output volume."""
    from ..pipeline.estimate import estimate, format_table  # here: `baresoil --help` imports every command

    if product not in FAMILIES:
        raise ConfigError(f"--product {product!r}: expected one of {', '.join(FAMILIES)}")
    overrides = opt.cube_overrides(resolution, None, max_cloud_cover, min_sun_elevation)
    family = FAMILIES[product]
    defaults = family if family in PRODUCT_DEFAULTS else None
    job = opt.make_job(
        stac, collection, (bbox, tile, aoi), start, end, Path("."), config, overrides, False, product=defaults
    )
    result = estimate(job, family)
    typer.echo(json.dumps(result.to_dict()) if as_json else format_table(result))
