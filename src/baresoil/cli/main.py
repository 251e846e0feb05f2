"""The ``baresoil`` command: a thin shell over the library.

Each subcommand lives in its own module, parses its options, builds a config and
a job, and calls one library function.  Errors caused by input are printed on
one line (exit status 1) without a traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import logging
import sys
import warnings
from typing import Annotated

import click
import typer
from rasterio.errors import NotGeoreferencedWarning

from .. import __version__
from ..errors import BaresoilError
from . import cube, demo, docs, parcels, report, seasons, simulate, soil, soilsuite

app = typer.Typer(
    name="baresoil",
    help="Bare-soil information from Sentinel-2 time series, on the EEA reference grid.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("simulate")(simulate.simulate_command)
app.command("cube")(cube.cube_command)
app.command("soilsuite")(soilsuite.soilsuite_command)
app.command("soil")(soil.soil_command)
app.command("seasons")(seasons.seasons_command)
app.command("parcels")(parcels.parcels_command)
app.command("demo")(demo.demo_command)
app.command("report")(report.report_command)
app.command("docs")(docs.docs_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"baresoil {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logging.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logging (-v, -vv).")] = 0,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    level = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        # odc-loader's threaded warps occasionally trip rasterio's "no geotransform" warning although
        # every source is georeferenced (outputs are checked against the truth); keep the console clean
        warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the app and turn user errors into one-line messages."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    try:
        app(args=args, standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BaresoilError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    except Exception as exc:
        if debug:
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr
        )
        sys.exit(2)
