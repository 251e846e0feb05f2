"""Options shared by several commands, and their conversion to library objects."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from ..config import Config, load_config
from ..errors import AreaError, ConfigError

if TYPE_CHECKING:
    from ..grid import Area
    from ..pipeline.run import Job


def default(key: str, product: str | None = None) -> str:
    """The default of config key ``section.name`` as a help text shows it (``20``, ``auto``), with
    ``product``'s own defaults (``config.PRODUCT_DEFAULTS``): help texts read it, never repeat it."""
    section, _, name = key.partition(".")
    value = getattr(getattr(load_config(product=product), section), name)
    return f"{value:g}" if isinstance(value, float) else str(value)


def choices(key: str) -> str:
    """The choices of a config key of a ``Literal`` type, as a help text lists them: ``a, b or c``."""
    section, _, name = key.partition(".")
    cls = type(getattr(Config(), section))
    annotation = typing.get_type_hints(cls)[name]
    if typing.get_origin(annotation) is not Literal:
        raise TypeError(f"{key} is no choice of values")
    *first, last = (str(choice) for choice in typing.get_args(annotation))
    return f"{', '.join(first)} or {last}" if first else last


Stac = Annotated[
    str,
    typer.Option(
        "--stac", help="STAC API root URL, or path/URL of a static catalog.json or collection.json."
    ),
]
Collection = Annotated[
    str | None, typer.Option("--collection", help="Collection id (required for a STAC API).")
]
Bbox = Annotated[
    tuple[float, float, float, float] | None,
    typer.Option(
        "--bbox", metavar="W S E N", help="Area as a lon/lat box (WGS84 degrees).", show_default=False
    ),
]
Tile = Annotated[
    str | None,
    typer.Option("--tile", help="Area as EEA 100 km tile codes, e.g. E43N32 or E43N32,E44N32 (one run)."),
]
Aoi = Annotated[
    Path | None, typer.Option("--aoi", help="Area as a vector file (any CRS, any format GDAL reads).")
]
Start = Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")]
End = Annotated[str, typer.Option("--end", help="Last day (included), YYYY-MM-DD.")]
Out = Annotated[Path, typer.Option("--out", help="Output folder (a STAC catalog of COGs).")]
TableOut = Annotated[
    Path, typer.Option("--out", help="Output folder (a STAC catalog of GeoParquet and CSV tables).")
]
"""The output option of the commands that write tables, not rasters (``parcels``)."""
Resolution = Annotated[
    float | None,
    typer.Option(
        "--resolution", help=f"Pixel size on the EEA grid, metres (default: {default('cube.resolution')})."
    ),
]
Resolution10 = Annotated[
    float | None,
    typer.Option(
        "--resolution",
        help=f"Pixel size on the EEA grid, metres (default: {default('cube.resolution', 'seasons')}).",
    ),
]
"""The resolution option of the 10 m products (HRL layers, Sen4CAP parcels: ``config.PRODUCT_DEFAULTS``)."""
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="TOML configuration file (flags override it).")
]
Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        envvar="DASK_SCHEDULER_ADDRESS",
        help="Address of a running dask.distributed scheduler; local threads when absent.",
    ),
]
CloudBuffer = Annotated[
    float | None,
    typer.Option("--cloud-buffer", help=f"Cloud buffer, metres (default: {default('cube.cloud_buffer_m')})."),
]
MaxCloudCover = Annotated[
    float | None,
    typer.Option(
        "--max-cloud-cover", help=f"Scene filter, % (default: {default('scenes.max_cloud_cover')})."
    ),
]
MaxCloudCoverAll = Annotated[
    float | None,
    typer.Option(
        "--max-cloud-cover",
        help=f"Scene filter, % (default: {default('scenes.max_cloud_cover', 'seasons')}, clouds are masked "
        "per pixel).",
    ),
]
"""The scene filter of the seasons' daily series, which keeps every scene (``config.PRODUCT_DEFAULTS``)."""
MinSunElevation = Annotated[
    float | None,
    typer.Option(
        "--min-sun-elevation", help=f"Scene filter, degrees (default: {default('scenes.min_sun_elevation')})."
    ),
]
Resume = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Continue the run recorded in --out (same request): verified tiles and blocks are not redone.",
    ),
]
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite", help="Start afresh: remove what the previous run of this product wrote to --out."
    ),
]
Strict = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="An asset that cannot be read ends the run (by default: left out, named in the manifest).",
    ),
]


@dataclass(frozen=True)
class RunOptions:
    """How a product command runs, beyond what it computes."""

    overwrite: bool = False
    strict: bool = False
    inputs: Mapping[str, str] = field(default_factory=dict)
    """Inputs outside the config that decide the outputs (recorded in the run's request)."""


def area_from_options(
    bbox: tuple[float, float, float, float] | None, tile: str | None, aoi: Path | None
) -> Area:
    """Exactly one of --bbox, --tile, --aoi."""
    from ..grid import area_from_bbox, area_from_file, area_from_tile  # imported by the command that runs

    given = [opt for opt, value in (("--bbox", bbox), ("--tile", tile), ("--aoi", aoi)) if value is not None]
    if len(given) != 1:
        raise AreaError(
            "give exactly one area: --bbox W S E N, --tile CODE or --aoi FILE"
            + (f" (got {' and '.join(given)})" if given else "")
        )
    if bbox is not None:
        return area_from_bbox(*bbox)
    if tile is not None:
        return area_from_tile(tile)
    assert aoi is not None
    return area_from_file(aoi)


def make_job(
    stac: str,
    collection: str | None,
    area: tuple[tuple[float, float, float, float] | None, str | None, Path | None],
    start: str,
    end: str,
    out: Path,
    config_file: Path | None,
    overrides: Mapping[str, object],
    resume: bool,
    product: str | None = None,
    run: RunOptions | None = None,
) -> Job:
    """The job of a product command: source, area, period, output and layered config (with
    ``product``'s own defaults, see ``config.PRODUCT_DEFAULTS``)."""
    from ..catalog.source import StacSource, TimeRange
    from ..pipeline.run import Job

    run = run or RunOptions()
    if resume and run.overwrite:
        raise ConfigError("--resume and --overwrite exclude each other")
    config = load_config(config_file, product).override(**overrides)
    if run.strict:
        config = config.override(**{"read.strict": True})
    return Job(
        source=StacSource(stac, collection),
        area=area_from_options(*area),
        period=TimeRange.parse(start, end),
        out_dir=Path(out),
        config=config,
        resume=resume,
        overwrite=run.overwrite,
        inputs=dict(run.inputs),
    )


def report_run(job: Job, family: str, items: list[Path]) -> None:
    """The lines a product command ends with: what it wrote, and what it left out (one line)."""
    from ..pipeline.run import skipped_summary

    typer.echo(f"wrote {len(items)} item(s); catalog: {job.out_dir / 'catalog.json'}")
    skipped = skipped_summary(job.out_dir, family)
    if skipped:
        typer.echo(f"warning: {skipped}", err=True)


def cube_overrides(
    resolution: float | None,
    cloud_buffer: float | None,
    max_cloud_cover: float | None,
    min_sun_elevation: float | None,
) -> dict[str, object]:
    """Config keys of the options every cube-based command shares."""
    return {
        "cube.resolution": resolution,
        "cube.cloud_buffer_m": cloud_buffer,
        "scenes.max_cloud_cover": max_cloud_cover,
        "scenes.min_sun_elevation": min_sun_elevation,
    }
