"""baresoil: bare-soil information from Sentinel-2 time series, on the EEA reference grid.

The library reads as the data flow::

    import baresoil as bs

    area = bs.area_from_tile("E44N27")                       # or area_from_bbox / area_from_file
    period = bs.TimeRange.parse("2021-01-01", "2022-12-31")
    cube = bs.open_cube("sim/stac/earth-search/catalog.json", area, period)   # lazy xr.Dataset
    layers = bs.soilsuite(cube, period, bs.Config())          # one ProductPeriod per period

and ``bs.run_product(bs.Job(...), "soilsuite", bs.soilsuite)`` writes COGs and a STAC catalog.

The names below are imported on first use (PEP 562): ``import baresoil``, and with it every
``import baresoil.<module>`` and the ``baresoil`` command's start, costs no xarray, dask, odc-stac,
scipy or scikit-learn until something uses them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from .lazy import exports
from .registry import add_loader

__version__ = "0.1.0"

_PUBLIC = {
    "BaresoilError": "errors",
    "Config": "config",
    "CubeConfig": "config",
    "Job": "pipeline.run",
    "SceneFilter": "config",
    "SoilSuiteConfig": "config",
    "StacSource": "catalog.source",
    "TimeRange": "catalog.source",
    "area_from_bbox": "grid",
    "area_from_file": "grid",
    "area_from_tile": "grid",
    "load_config": "config",
    "observation_counts": "products.observations",
    "open_cube": "cube.load",
    "run_product": "pipeline.run",
    "soilsuite": "products.soilsuite",
}
"""Each public name and the module defining it."""

if TYPE_CHECKING:
    from .catalog.source import StacSource, TimeRange
    from .config import Config, CubeConfig, SceneFilter, SoilSuiteConfig, load_config
    from .cube.load import open_cube
    from .errors import BaresoilError
    from .grid import area_from_bbox, area_from_file, area_from_tile
    from .pipeline.run import Job, run_product
    from .products.observations import observation_counts
    from .products.soilsuite import soilsuite


__getattr__ = exports(__name__, _PUBLIC)


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


def _register_every_layer() -> None:
    import_module(".products", __name__).register_all()


# every product family declares its layers in its own module; a reader of the registry (COG writer,
# STAC, report, docs) that asks for a layer before the family's module was imported gets them loaded
add_loader(_register_every_layer)

__all__ = [
    "BaresoilError",
    "Config",
    "CubeConfig",
    "Job",
    "SceneFilter",
    "SoilSuiteConfig",
    "StacSource",
    "TimeRange",
    "__version__",
    "area_from_bbox",
    "area_from_file",
    "area_from_tile",
    "load_config",
    "observation_counts",
    "open_cube",
    "run_product",
    "soilsuite",
]
