"""The openEO API server of the API tests on loopback: two tiny catalogs (composites, SoilSuite), two users.

``tests/api/conftest.py`` starts one for the session; tests that need a server of their own (a restart,
a killed worker) use :func:`start_server` and :func:`stop_server` directly.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import uvicorn

from baresoil.api.app import ServerSettings, create_app
from baresoil.catalog.layouts import EARTH_SEARCH, PLANETARY_COMPUTER, REFLECTANCE_BANDS

from tests.support.stac_factory import SIZE_M, lonlat_bbox, make_item, write_catalog, write_scene

DAYS = (
    datetime(2021, 6, 2, 10),
    datetime(2021, 6, 24, 10),
    datetime(2021, 7, 4, 10),
    datetime(2021, 7, 19, 10),
)
"""Two scenes in June, two in July; the second is cloudy in a corner."""
SOIL = dict(zip(REFLECTANCE_BANDS, (0.08, 0.11, 0.16, 0.18, 0.20, 0.22, 0.24, 0.25, 0.30, 0.26), strict=True))
CANOPY = dict(
    zip(REFLECTANCE_BANDS, (0.03, 0.06, 0.03, 0.09, 0.25, 0.33, 0.38, 0.40, 0.20, 0.10), strict=True)
)
SOIL_DAYS = [datetime(2021, 4, 1, 10) + timedelta(days=10 * i) for i in range(6)]
USERS = {"alice": "alice-secret", "bob": "bob-secret"}


def composite_catalog(folder: Path) -> Path:
    rng = np.random.default_rng(3)
    n10, n20 = SIZE_M // 10, SIZE_M // 20
    items = []
    for i, when in enumerate(DAYS):
        values = {b: rng.uniform(0.02, 0.45, (n10, n10)) for b in REFLECTANCE_BANDS}
        scl = np.full((n20, n20), 4)
        if i == 1:
            scl[5:15, 5:15] = 9
        paths = write_scene(folder / f"s{i}", offset_dn=0, scl=scl, reflectance=values)
        items.append(make_item(PLANETARY_COMPUTER, f"item{i}", when, paths, "03.01"))
    return write_catalog(folder / "stac", items)


def soilsuite_catalog(folder: Path) -> Path:
    """West half bare soil on four of six dates, east half always canopy (as tests/products' SoilSuite)."""
    west = np.zeros((SIZE_M // 10, SIZE_M // 10), dtype=bool)
    west[:, : SIZE_M // 20] = True
    items = []
    for i, bare in enumerate((True, True, True, False, True, False)):
        surface = SOIL if bare else CANOPY
        values = {b: np.where(west, surface[b], CANOPY[b]) for b in REFLECTANCE_BANDS}
        paths = write_scene(folder / f"s{i}", offset_dn=0, reflectance=values)
        items.append(make_item(EARTH_SEARCH, f"item{i}", SOIL_DAYS[i], paths, "03.01"))
    return write_catalog(folder / "stac", items)


def bbox() -> dict[str, float]:
    west, south, east, north = lonlat_bbox(100)
    return {"west": west, "south": south, "east": east, "north": north}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    workdir: Path
    catalogs: dict[str, Path]


def start_server(settings: ServerSettings) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=30)
