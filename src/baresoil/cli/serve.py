"""``baresoil serve``: the openEO API; ``baresoil users add``: a user of it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..config import load_service_config
from ..errors import ConfigError
from . import options as opt

Workdir = Annotated[
    Path, typer.Option("--workdir", help="Server folder: job store, results, users file and token secret.")
]


def serve_command(
    workdir: Workdir,
    collection: Annotated[
        list[str],
        typer.Option(
            "--collection",
            help="ID=STAC_SOURCE: a STAC source (static catalog or API root, as --stac takes; "
            "ID=API_ROOT#COLLECTION for an API) offered to load_collection as ID. Repeatable.",
        ),
    ],
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    scheduler: opt.Scheduler = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Job store URL (SQLAlchemy), e.g. postgresql+psycopg://…; default: SQLite in --workdir.",
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file whose [service] table sets the limits.")
    ] = None,
) -> None:
    """Serve the openEO API (1.2): products and composites on request, as batch jobs or synchronously."""
    import uvicorn

    from ..api.app import ServerSettings, create_app
    from ..api.collections import parse_collection_option

    sources = dict(parse_collection_option(text) for text in collection)
    if len(sources) != len(collection):
        raise ConfigError("--collection: an ID is given twice")
    settings = ServerSettings(
        workdir=workdir,
        collections=sources,
        scheduler=scheduler,
        database=database,
        limits=load_service_config(config),
    )
    app = create_app(settings)
    typer.echo(f"openEO API on http://{host}:{port}/ (collections: {', '.join(sources)}; folder: {workdir})")
    uvicorn.run(app, host=host, port=port, log_level="warning")


users_app = typer.Typer(help="Users of `baresoil serve` (basic authentication).", no_args_is_help=True)


@users_app.command("add")
def users_add_command(
    workdir: Workdir,
    name: Annotated[str, typer.Argument(help="User name.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (one line).")
    ] = False,
) -> None:
    """Add a user (or set a user's password); the password is stored hashed (scrypt)."""
    from ..api.users import add_user

    if not password_stdin:
        raise ConfigError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    replaced = add_user(workdir, name, password)
    typer.echo(f"{'updated' if replaced else 'added'} user {name} in {workdir / 'users.json'}")
