"""Tables out: Parquet (GeoParquet when the table has a geometry) and CSV, written atomically.

Every file is written under a temporary name beside its final one and renamed
when complete, so a half-written table never looks finished.  Day columns
(``datetime64`` at midnight, e.g. ``date``) are stored as Parquet ``date32``,
the type spreadsheet and SQL readers show as a date.  :func:`table_columns`
describes a table for the STAC ``table:columns`` field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from .atomic import atomic_path

PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
CSV_MEDIA_TYPE = "text/csv"


def write_parquet(frame: pd.DataFrame, path: Path, day_columns: Sequence[str] = ("date",)) -> Path:
    """``frame`` as Parquet; a GeoDataFrame as GeoParquet (geometry as WKB, CRS in the metadata)."""
    table = _days_as_dates(frame, day_columns)
    with atomic_path(path) as partial:
        if isinstance(table, gpd.GeoDataFrame):
            table.to_parquet(partial, index=False)
        else:
            table.to_parquet(partial, index=False, engine="pyarrow")
    return path


def write_csv(frame: pd.DataFrame, path: Path, day_columns: Sequence[str] = ("date",)) -> Path:
    """``frame`` as comma-separated text, without the geometry column; days as ``YYYY-MM-DD``."""
    table = pd.DataFrame(_days_as_dates(frame, day_columns))
    if isinstance(frame, gpd.GeoDataFrame):
        table = table.drop(columns=[frame.geometry.name])
    # pyarrow's writer: a markers database is thousands of columns wide, which pandas writes value by
    # value, several times slower; text is quoted, as RFC 4180 allows
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    with atomic_path(path) as partial:
        pa_csv.write_csv(arrow, partial, pa_csv.WriteOptions(quoting_style="needed"))
    return path


def table_columns(frame: pd.DataFrame, descriptions: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """STAC ``table:columns``: name, type (and description where given) of each column."""
    descriptions = descriptions or {}
    out = []
    for name, dtype in frame.dtypes.items():
        entry: dict[str, Any] = {"name": str(name), "type": _type_name(frame, str(name), dtype)}
        if str(name) in descriptions:
            entry["description"] = descriptions[str(name)]
        out.append(entry)
    return out


def _type_name(frame: pd.DataFrame, name: str, dtype: Any) -> str:
    if isinstance(frame, gpd.GeoDataFrame) and name == frame.geometry.name:
        return "geometry"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    return str(dtype)


def _days_as_dates(frame: pd.DataFrame, day_columns: Sequence[str]) -> pd.DataFrame:
    is_day = pd.api.types.is_datetime64_any_dtype
    columns = [c for c in day_columns if c in frame.columns and is_day(frame[c])]
    if not columns:
        return frame
    table = frame.copy()
    for column in columns:
        table[column] = table[column].dt.date
    return table
