"""Quality report of the observation cube: speed and memory of building it (``bench_cube``)."""

from __future__ import annotations

from collections.abc import Mapping

from ..tables import markdown_table
from .results import Run, fmt, missing


def cube_page(runs: Mapping[str, Run]) -> list[str]:
    run = runs.get("bench_cube")
    if run is None:
        return [missing("bench_cube")]
    rows: list[tuple[object, ...]] = [
        (
            fmt(r.get("resolution_m")),
            r.get("chunk_px"),
            r.get("dates"),
            fmt(r.get("pixels")),
            fmt(r.get("pixel_observations")),
            fmt(r.get("cube_seconds")),
            fmt(r.get("pixel_observations_per_second")),
            fmt(r.get("decode_seconds")),
            fmt(r.get("ratio_cube_to_decode")),
            fmt(r.get("peak_rss_mb")),
            fmt(r.get("clear_observations_mean")),
        )
        for r in run.named("cube")
    ]
    header = (
        "resolution (m)",
        "chunk (px)",
        "dates",
        "pixels",
        "pixel-observations",
        "cube (s)",
        "pixel-observations/s",
        "decoding only (s)",
        "cube / decoding",
        "peak memory (MB)",
        "clear observations per pixel (mean)",
    )
    text = (
        "Building the cube of the default world and reducing every band of every date, against "
        "decoding the same COGs with GDAL at native resolution."
    )
    return [f"## Speed and memory\n\n{run.provenance()}\n\n{text}\n\n{markdown_table(header, rows)}"]
