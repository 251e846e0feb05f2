"""Quality report of the observation cube: speed and memory of building it (``bench_cube``)."""

from __future__ import annotations

from collections.abc import Mapping

from .results import Column, Run, missing, records_table

CUBE_COLUMNS: tuple[Column, ...] = (
    ("resolution (m)", "resolution_m"),
    ("chunk (px)", "chunk_px"),
    ("dates", "dates"),
    ("pixels", "pixels"),
    ("pixel-observations", "pixel_observations"),
    ("cube (s)", "cube_seconds"),
    ("pixel-observations/s", "pixel_observations_per_second"),
    ("decoding only (s)", "decode_seconds"),
    ("cube / decoding", "ratio_cube_to_decode"),
    ("peak memory (MB)", "peak_rss_mb"),
    ("clear observations per pixel (mean)", "clear_observations_mean"),
)


def cube_page(runs: Mapping[str, Run]) -> list[str]:
    run = runs.get("bench_cube")
    if run is None:
        return [missing("bench_cube")]
    text = (
        "Building the cube of the default world and reducing every band of every date, against "
        "decoding the same COGs with GDAL at native resolution."
    )
    table = records_table(run.named("cube"), CUBE_COLUMNS)
    return [f"## Speed and memory\n\n{run.provenance()}\n\n{text}\n\n{table}"]
