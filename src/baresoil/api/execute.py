"""Run a request through the pipeline, exactly as the command line does (``baresoil composite``,
``baresoil soilsuite``, ``baresoil seasons``): same job, same functions, same outputs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..catalog.source import StacSource
from ..pipeline.composite import run_composite
from ..pipeline.progress import ProgressReport
from ..pipeline.run import Job, run_product
from ..products import seasons as seasons_module
from ..products import soilsuite as soilsuite_module
from .graph import Request

COMPLETE = ".complete"
"""Marker written in a result folder once its run finished: identical requests reuse the folder."""


def run_request(
    request: Request,
    collections: Mapping[str, StacSource],
    out_dir: Path,
    report: ProgressReport | None = None,
) -> list[Path]:
    """Write the request's outputs (COGs or cubes and their STAC catalog) in ``out_dir``; a folder left by
    an interrupted run is resumed (complete tiles kept)."""
    job = Job(
        source=collections[request.collection],
        area=request.area,
        period=request.period,
        out_dir=out_dir,
        config=request.config(),
        resume=True,
        progress=False,
        report=report,
    )
    if request.family == "composite":
        items = run_composite(job)
    elif request.family == "soilsuite":
        items = run_product(job, soilsuite_module.FAMILY, soilsuite_module.soilsuite)
    elif request.family == "seasons":
        product = seasons_module.seasons_product(None, None)
        items = run_product(job, seasons_module.FAMILY, product, seasons_module.file_name)
    else:
        raise ValueError(f"no pipeline for {request.family}")
    (out_dir / COMPLETE).write_text("\n".join(str(p.relative_to(out_dir)) for p in items) + "\n")
    return items


def is_complete(out_dir: Path) -> bool:
    return (out_dir / COMPLETE).exists()
