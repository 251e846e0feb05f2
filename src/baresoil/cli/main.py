"""The ``baresoil`` command: a thin shell over the library.

Each subcommand lives in its own module, parses its options, builds a config and
a job, and calls one library function.  How a run ends:

* usage errors (no command, a missing option, a value of the wrong type): typer prints the
  usage line and the error, exit status 2;
* errors caused by input (:class:`~baresoil.errors.BaresoilError`): one line, exit status 1,
  without a traceback unless ``--debug`` is given;
* a failure of an I/O library (rasterio, GDAL, pystac, a file or the network) that no library code turned
  into such an error: one line too, exit status 1, never called "unexpected";
* SIGINT (Ctrl-C) and SIGTERM: one line saying what was kept, exit status 130 and 143.

Every line printed, every log record and warning passes through :func:`baresoil.redact.redact`: no
token, signature or password of a signed href leaves the process (tracebacks with ``--debug`` too).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module
from types import FrameType
from typing import Annotated, Any

import typer

from .. import __version__
from ..errors import BaresoilError
from ..redact import install as install_redaction
from ..redact import redact

PROG = "baresoil"

COMMANDS = {
    "simulate": "simulate:simulate_command",
    "plan": "plan:plan_command",
    "cube": "cube:cube_command",
    "composite": "composite:composite_command",
    "soilsuite": "soilsuite:soilsuite_command",
    "soil": "soil:soil_command",
    "seasons": "seasons:seasons_command",
    "parcels": "parcels:parcels_command",
    "demo": "demo:demo_command",
    "report": "report:report_command",
    "docs": "docs:docs_command",
    "serve": "serve:serve_command",
}
"""Each command, in the order ``baresoil --help`` lists them, and its ``module:function`` in this package."""
GROUPS = {"users": "serve:users_app"}
"""Command groups (a typer app of their own) and where they live."""


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(import_module(f"{__package__}.{module}"), name)


def build_app(only: str | None = None) -> typer.Typer:
    """The ``baresoil`` app with every command, or with the command or group ``only`` alone.

    ``main`` builds the app of the command it runs: the command's module, and what it imports, is all
    that is imported (the other commands' libraries are not: matplotlib, scikit-learn, the API server);
    its options, help and errors are the same as in the whole app."""
    app = typer.Typer(
        name=PROG,
        help="Bare-soil information from Sentinel-2 time series, on the EEA reference grid.",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
    )
    for name, target in COMMANDS.items():
        if only in (None, name):
            app.command(name)(_load(target))
    for name, target in GROUPS.items():
        if only in (None, name):
            app.add_typer(_load(target), name=name)
    app.callback()(_global_options)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole app, built once on first use (docs tooling, tests)
        globals()["app"] = whole = build_app()
        return whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"baresoil {__version__}")
        raise typer.Exit()


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
        from rasterio.errors import NotGeoreferencedWarning

        # odc-loader's threaded warps occasionally trip rasterio's "no geotransform" warning although
        # every source is georeferenced (outputs are checked against the truth); keep the console clean
        warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived.  A BaseException, as KeyboardInterrupt is, so that no ``except
    Exception`` on the way swallows it, while every ``finally`` runs (partial files are removed)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_KEPT_ON_INTERRUPT = {
    **dict.fromkeys(
        ("cube", "soilsuite", "seasons"),
        "finished tiles and the blocks of the tiles in progress are kept, partial files removed; "
        "a rerun with --resume continues from them (see OUT/<product>/manifest.jsonl)",
    ),
    "composite": "the files and items of finished tiles are kept, partial files removed; "
    "a rerun with --resume skips those tiles and lists them in catalog.json",
    **dict.fromkeys(
        ("parcels", "soil", "demo"),
        "complete files are kept, partial files removed; catalog.json, written last, does not list this run",
    ),
    "simulate": "complete files are kept, partial files removed; the catalogs, written last, are missing",
}
"""What an interrupted command leaves: every file is written under a temporary name, removed unless
it completes (``io.atomic``, ``simulate.files``); items come after their files, catalogs last
(``pipeline.run``, ``pipeline.parcels``, ``pipeline.soilmap``, ``simulate``); the tile commands record
finished tiles and staged blocks in their manifest (``pipeline.manifest``)."""


def _io_failures() -> tuple[type[BaseException], ...]:
    """OSError and the exception roots of rasterio/GDAL, pystac, pystac-client, urllib3 and requests."""
    found: list[type[BaseException]] = [OSError]
    for module, name in (
        ("rasterio.errors", "RasterioError"),
        ("rasterio._err", "CPLE_BaseError"),
        ("pystac.errors", "STACError"),
        ("pystac_client.exceptions", "APIError"),
        ("urllib3.exceptions", "HTTPError"),
        ("requests.exceptions", "RequestException"),
    ):
        try:
            found.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


def interrupted_message(signum: int, args: list[str]) -> str:
    """The line printed when ``baresoil ARGS`` is interrupted by ``signum``."""
    command = next((a for a in args if not a.startswith("-")), "")
    kept = _KEPT_ON_INTERRUPT.get(command, "complete files are kept, partial files removed")
    return f"interrupted by {signal.Signals(signum).name}: {kept}"


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` in the main thread; a second signal gets the
    handler that was there before (Ctrl-C twice ends a slow clean-up).  Outside the main thread
    (``main`` called from a thread) signals cannot be handled and are left alone."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    watched = (signal.SIGINT, signal.SIGTERM)
    before = {signum: signal.getsignal(signum) for signum in watched}

    def interrupt(signum: int, frame: FrameType | None) -> None:
        for other, handler in before.items():
            signal.signal(other, handler)
        raise Interrupted(signum)

    for signum in watched:
        signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: typer handles usage errors (usage line, exit 2) and exit codes; input
    errors become one line (exit 1), signals one line on what was kept (exit 128 + signal).

    Returns when the command succeeds (exit status 0); raises SystemExit otherwise."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    install_redaction()
    try:
        with _signals_interrupt():
            build_app(_command_of(args))(args=args, prog_name=PROG, standalone_mode=True)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    except Interrupted as exc:
        print(interrupted_message(exc.signum, args), file=sys.stderr)
        sys.exit(128 + exc.signum)
    except BaresoilError as exc:
        if debug:
            raise  # the traceback is printed by sys.excepthook, redacted (see baresoil.redact.install)
        _fail(f"error: {exc}")
    except _io_failures() as exc:
        if debug:
            raise
        _fail(f"error: {type(exc).__name__}: {_first_line(exc)}")
    except Exception as exc:
        if debug:
            raise
        _fail(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)")


def _command_of(args: list[str]) -> str | None:
    """The command or group ``args`` run (the first word: the global options take no value), or None
    when it is none of them (help, a usage error, completion: these need the whole app)."""
    command = next((a for a in args if not a.startswith("-")), None)
    return command if command in COMMANDS or command in GROUPS else None


def _fail(line: str) -> None:
    """Print ``line``, redacted, and exit with status 1."""
    print(redact(line), file=sys.stderr)
    sys.exit(1)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "(no message)"
