"""A realistic Sentinel-2 L2A simulator with ground truth: the world every demo, test and benchmark runs on.

Nothing can be downloaded where baresoil is developed and tested, so this
package writes what the providers would deliver — COGs per band and scene, in
two overlapping MGRS tiles, catalogued four ways (Earth Search ``sentinel-2-c1-l2a`` and
``sentinel-2-l2a``, Planetary Computer, CDSE) — for a small Bavarian landscape whose every state is known.

Data flow (one module per stage, frozen dataclasses between them)::

    spec ─▶ world (parcels, land cover, DEM, soil) ─▶ crops (daily cover per parcel)
         ─▶ weather (rain, moisture, snow)          ─▶ surface (per-pixel reflectance, true bare soil)
         ─▶ schedule (dates, tiles, sun, ids)       ─▶ atmosphere (clouds, shadows, haze, cirrus, SCL)
         ─▶ observe (noise, DN, truth labels)       ─▶ render (COGs) ─▶ truth, inputs ─▶ stac (last)

**True bare soil** on a date: exposed soil fraction ≥ 0.7, green vegetation
fraction < 0.1 and no snow (snow-covered fraction < 0.1), on cropland; the quarry's rock counts as a bare
surface too (the land cover tells it apart).  Built-up land, water, forest
and grassland are never bare; stubble (residue cover) is not bare.

Output layout under ``out_dir``::

    scenes/<scene id>/<BAND>.tif     uint16 DN (SCL uint8), nodata 0, native resolution, COG
    scenes/<scene id>/harmonised/<BAND>.tif  the same DN without BOA_ADD_OFFSET (from baseline 04.00)
    stac/{earth-search,earth-search-l2a,planetary-computer,cdse}/catalog.json
    sar/<item id>/{vv,vh}.tif        Sentinel-1 sigma0, float32 linear power (when ``spec.sentinel1``)
    stac/sentinel-1-rtc/catalog.json  its catalog (Planetary Computer layout, see :mod:`.sar`)
    inputs/parcels.gpkg, soil_samples.csv, soil_samples.gpkg, worldcover.tif, dem.tif
    truth/landcover.tif, soil_<prop>.tif, bare.tif, sky.tif, green.tif, soil.tif,
          observations.csv, parcels.gpkg, events.csv, bare_periods.csv,
          parcel_daily.parquet, weather.csv, soil_samples_true.csv, world.json,
          s1_observations.csv, s1_parcels.parquet (with Sentinel-1),
          practices.csv (with ``spec.practices``: split parcels, ploughed-up grassland)

Everything is a pure function of the :class:`WorldSpec` (seed included).

The names below are imported on first use (PEP 562): reading a :class:`WorldSpec`'s defaults (the
``simulate`` and ``demo`` commands' help) does not import the stages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .sar import load_s1_truth
    from .simulation import Simulation, add_sentinel1, is_simulation_of, simulate
    from .spec import WorldSpec
    from .truth import Truth, load_bare_reflectance, load_truth

_DEFINED_IN = {
    "Simulation": "simulation",
    "Truth": "truth",
    "WorldSpec": "spec",
    "add_sentinel1": "simulation",
    "is_simulation_of": "simulation",
    "load_bare_reflectance": "truth",
    "load_s1_truth": "sar",
    "load_truth": "truth",
    "simulate": "simulation",
}
"""Each name and the module defining it."""


__getattr__ = exports(__name__, _DEFINED_IN)


__all__ = [
    "Simulation",
    "Truth",
    "WorldSpec",
    "add_sentinel1",
    "is_simulation_of",
    "load_bare_reflectance",
    "load_s1_truth",
    "load_truth",
    "simulate",
]
