"""baresoil: bare-soil information from Sentinel-2 time series, on the EEA reference grid.

The library reads as the data flow::

    import baresoil as bs

    area = bs.area_from_tile("E44N27")                       # or area_from_bbox / area_from_file
    period = bs.TimeRange.parse("2021-01-01", "2022-12-31")
    cube = bs.open_cube("sim/stac/earth-search/catalog.json", area, period)   # lazy xr.Dataset
    layers = bs.soilsuite(cube, period, bs.Config())          # one ProductPeriod per period

and ``bs.run_product(bs.Job(...), "soilsuite", bs.soilsuite)`` writes COGs and a STAC catalog.
"""

__version__ = "0.1.0"

from .catalog import StacSource, TimeRange
from .config import Config, CubeConfig, SceneFilter, SoilSuiteConfig, load_config
from .cube import open_cube
from .errors import BaresoilError
from .grid import area_from_bbox, area_from_file, area_from_tile
from .pipeline.run import Job, run_product
from .products.observations import observation_counts
from .products.soilsuite import soilsuite

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
