"""A tiny simulated world with Sentinel-1 for the parcel tests, simulated once per test session.

600 m, April to June 2021: crops grow, some fields are tilled and sown, so parcel
NDVI and backscatter change; about twenty parcels.  Modules share it through
``parcel_world(tmp_path_factory)``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pyproj import Transformer

from baresoil.catalog.source import TimeRange
from baresoil.grid import Area, area_from_bbox
from baresoil.simulate import Simulation, WorldSpec, simulate

SPEC = WorldSpec(size_m=600, start=date(2021, 4, 1), end=date(2021, 6, 30))
PERIOD = TimeRange(SPEC.start, SPEC.end)
_CACHE: dict[str, Simulation] = {}


def parcel_world(tmp_path_factory: pytest.TempPathFactory) -> Simulation:
    if "sim" not in _CACHE:
        _CACHE["sim"] = simulate(tmp_path_factory.mktemp("parcel-world"), SPEC)
    return _CACHE["sim"]


def world_area(spec: WorldSpec = SPEC, margin_m: float = 0.0) -> Area:
    """The world's lon/lat box (shrunk by ``margin_m``)."""
    x0, y0 = spec.origin
    x1, y1 = x0 + spec.size_m - margin_m, y0 + spec.size_m - margin_m
    to_ll = Transformer.from_crs(spec.epsg, 4326, always_xy=True)
    lons, lats = to_ll.transform(
        [x0 + margin_m, x1, x0 + margin_m, x1], [y0 + margin_m, y0 + margin_m, y1, y1]
    )
    return area_from_bbox(min(lons), min(lats), max(lons), max(lats))


def s2_catalog(sim: Simulation) -> Path:
    return sim.catalog("earth-search")
