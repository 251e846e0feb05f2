"""A server on loopback for the API tests (``tests.support.api_server``), shared by the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from baresoil.api.app import ServerSettings
from baresoil.api.users import add_user
from baresoil.catalog.source import StacSource
from baresoil.config import ServiceConfig

from tests.support.api_server import (
    USERS,
    Server,
    composite_catalog,
    soilsuite_catalog,
    start_server,
    stop_server,
)


@pytest.fixture(scope="session")
def catalogs(tmp_path_factory) -> dict[str, Path]:
    return {
        "S2": composite_catalog(tmp_path_factory.mktemp("api_composite")),
        "S2_SOIL": soilsuite_catalog(tmp_path_factory.mktemp("api_soilsuite")),
    }


@pytest.fixture(scope="session")
def api(tmp_path_factory, catalogs) -> Iterator[Server]:
    """The server all API tests share (limits as the defaults, but a synchronous request is small)."""
    workdir = tmp_path_factory.mktemp("api_server")
    for name, password in USERS.items():
        add_user(workdir, name, password)
    limits = ServiceConfig(sync_max_area_period=100.0)
    sources = {cid: StacSource(str(path)) for cid, path in catalogs.items()}
    server, thread, url = start_server(ServerSettings(workdir, sources, limits=limits))
    yield Server(url, workdir, catalogs)
    stop_server(server, thread)
