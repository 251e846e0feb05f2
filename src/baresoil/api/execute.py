"""Run a request through the pipeline, exactly as the command line does (``baresoil composite``,
``baresoil soilsuite``, ``baresoil seasons``, ``baresoil parcels``, ``baresoil soil``): same job, same
functions, same outputs.

The user's parcels or samples are written to ``inputs/`` of the result folder first, as the files the
command would be given.  ``baresoil_soil`` is the two commands a user would run: ``baresoil soilsuite``
into ``covariates/``, then ``baresoil soil --covariates covariates/``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from ..catalog.source import StacSource
from ..pipeline.composite import run_composite
from ..pipeline.parcels import ParcelJob, run_parcels
from ..pipeline.progress import ProgressReport
from ..pipeline.run import Job, run_product
from ..pipeline.soilmap import SoilMapJob, run_soil_maps
from ..products import seasons as seasons_module
from ..products import soilsuite as soilsuite_module
from ..products.soil import SampleColumns, parse_property
from .graph import Request

COMPLETE = ".complete"
"""Marker written in a result folder once its run finished: identical requests reuse the folder."""
INPUTS = "inputs"
"""Folder of a result holding the user's GeoJSON as the pipeline read it."""
COVARIATES = "covariates"
"""Folder of a soil result holding the SoilSuite outputs its maps are made from."""


def run_request(
    request: Request,
    collections: Mapping[str, StacSource],
    out_dir: Path,
    report: ProgressReport | None = None,
) -> list[Path]:
    """Write the request's outputs (COGs or cubes or tables, and their STAC catalog) in ``out_dir``; a
    folder left by an interrupted run is resumed (complete tiles kept)."""
    source = collections[request.collection]
    config = request.config()
    job = Job(source=source, area=request.area, period=request.period, out_dir=out_dir, config=config,
              resume=True, progress=False, report=report)  # fmt: skip
    if request.family == "composite":
        items = run_composite(job)
    elif request.family == "soilsuite":
        items = run_product(job, soilsuite_module.FAMILY, soilsuite_module.soilsuite)
    elif request.family == "seasons":
        product = seasons_module.seasons_product(None, None)
        items = run_product(job, seasons_module.FAMILY, product, seasons_module.file_name)
    elif request.family == "parcels" and request.parcels is not None:
        parcels = request.parcels
        parcel_job = ParcelJob(
            source=source,
            parcels=parcels.features.write(out_dir / INPUTS / parcels.FILE),
            id_column=parcels.id_column,
            period=request.period,
            out_dir=out_dir,
            category_column=parcels.category_column,
            config=config,
            progress=False,
            report=report,
        )
        items = [run_parcels(parcel_job).item]
    elif request.family == "soil" and request.samples is not None:
        covariates = out_dir / COVARIATES
        run_product(dataclasses.replace(job, out_dir=covariates), soilsuite_module.FAMILY,
                    soilsuite_module.soilsuite)  # fmt: skip
        samples = request.samples
        soil_job = SoilMapJob(
            samples=samples.features.write(out_dir / INPUTS / samples.FILE),
            properties=tuple(parse_property(p) for p in samples.properties),
            covariates=(covariates,),
            out_dir=out_dir,
            columns=SampleColumns(id=samples.id_column),
            config=config,
            progress=False,
            report=report,
        )
        items = run_soil_maps(soil_job).items
    else:
        raise ValueError(f"no pipeline for {request.family}")
    (out_dir / COMPLETE).write_text("\n".join(str(p.relative_to(out_dir)) for p in items) + "\n")
    return items


def is_complete(out_dir: Path) -> bool:
    return (out_dir / COMPLETE).exists()
