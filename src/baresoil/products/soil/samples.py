"""Soil samples as labs deliver them: a CSV or a vector file of points with measured properties.

A CSV's ``lon``/``lat`` columns are read as WGS84; other coordinate columns and
CRSs are named by the caller.  A GeoPackage (or any point file GDAL reads)
carries its own geometry and CRS.  Points end up in EPSG:3035 metres, the grid's
CRS.  Whatever cannot be used is kept aside by id with the reason (no location,
duplicated id or location, no value of a property), so that the caller can
report it; missing columns are an error naming them.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from ...errors import BaresoilError
from ...grid import EEA_CRS
from .properties import PropertyNameError, SoilProperty, soil_property

CSV_SUFFIXES = (".csv", ".txt", ".tsv")
LOCATION_DECIMALS = 2
"""Two samples whose EPSG:3035 coordinates agree to the centimetre are at the same location."""


class SampleError(BaresoilError):
    """Soil samples cannot be read, lack columns, or are too few."""


@dataclass(frozen=True)
class PropertyColumn:
    """A property to map and the sample column that holds it."""

    prop: SoilProperty
    column: str


def parse_property(spec: str) -> PropertyColumn:
    """``soc`` (column ``soc``), ``soc=SOC_gkg`` (another column name) or any column, e.g. ``om``.

    The known properties (``PROPERTIES``) keep their unit and SoilGrids scaling;
    any other name is a numeric column of the samples mapped in its own unit.
    """
    name, _, column = spec.partition("=")
    try:
        prop = soil_property(name)
    except PropertyNameError as exc:
        raise SampleError(str(exc)) from exc
    return PropertyColumn(prop, column.strip() or name.strip())


@dataclass(frozen=True)
class SampleColumns:
    """Where the id and the coordinates are (defaults: ``sample_id``, ``lon``/``lat`` in WGS84)."""

    id: str = "sample_id"
    x: str = "lon"
    y: str = "lat"
    crs: str = "EPSG:4326"
    """CRS of the x/y columns of a CSV (a vector file's own CRS wins; this is its fallback)."""


@dataclass(frozen=True)
class Samples:
    """The usable samples, in EPSG:3035, and what was set aside."""

    path: Path
    ids: np.ndarray
    """Sample ids (str), unique."""
    x: np.ndarray
    y: np.ndarray
    values: Mapping[str, np.ndarray]
    """Property name -> measured value per sample (NaN where missing)."""
    excluded: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Reason -> ids of samples dropped for every property."""
    missing: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Property name -> ids of samples without a (numeric) value."""

    def __len__(self) -> int:
        return int(self.ids.size)

    def subset(self, keep: np.ndarray, reason: str, dropped: Sequence[str] | np.ndarray) -> Samples:
        """These samples restricted to ``keep``; ``dropped`` ids are recorded under ``reason``."""
        excluded = dict(self.excluded)
        if len(dropped):
            excluded[reason] = tuple(excluded.get(reason, ())) + tuple(dropped)
        kept_ids = set(self.ids[keep])
        missing = {p: tuple(i for i in ids if i in kept_ids) for p, ids in self.missing.items()}
        values = {p: v[keep] for p, v in self.values.items()}
        return Samples(self.path, self.ids[keep], self.x[keep], self.y[keep], values, excluded, missing)


def read_samples(
    path: str | Path, properties: Sequence[PropertyColumn], columns: SampleColumns = SampleColumns()
) -> Samples:
    """Read, check and project the samples of ``path`` (CSV or vector file)."""
    path = Path(path)
    if not path.exists():
        raise SampleError(f"soil samples not found: {path}")
    if path.suffix.lower() in CSV_SUFFIXES:
        table = _read_csv(path)
        _require_columns(path, table, [columns.id, columns.x, columns.y], properties)
        x, y = _project(path, table[_column(table, columns.x)], table[_column(table, columns.y)], columns.crs)
    else:
        table, x, y = _read_vector(path, columns.crs)
        _require_columns(path, table, [columns.id], properties)
    ids = table[_column(table, columns.id)].astype(str).str.strip().to_numpy()
    values = {p.prop.name: _numbers(path, table, p) for p in properties}
    missing = {name: tuple(ids[~np.isfinite(v)]) for name, v in values.items()}
    samples = Samples(path, ids, x, y, values, {}, missing)
    located = np.isfinite(x) & np.isfinite(y)
    samples = samples.subset(located, "no location", ids[~located])
    first_id = ~pd.Series(samples.ids).duplicated().to_numpy()
    samples = samples.subset(first_id, "duplicated id", samples.ids[~first_id])
    spot = pd.DataFrame({"x": samples.x.round(LOCATION_DECIMALS), "y": samples.y.round(LOCATION_DECIMALS)})
    first_spot = ~spot.duplicated().to_numpy()
    return samples.subset(first_spot, "duplicated location", samples.ids[~first_spot])


def _read_csv(path: Path) -> pd.DataFrame:
    """All columns as text (ids stay as written); the separator is one of , ; or tab."""
    try:
        head = path.read_text(errors="replace")[:65536]
        try:
            sep = csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
        except csv.Error:
            sep = ","
        return pd.read_csv(path, sep=sep, dtype=str, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SampleError(f"cannot read soil samples {path}: {exc}") from exc


def _read_vector(path: Path, fallback_crs: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    import geopandas as gpd

    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # GDAL raises many kinds; all mean "unreadable"
        raise SampleError(f"cannot read soil samples {path}: {exc}") from exc
    geometry = frame.geometry
    points = geometry.notna() & ~geometry.is_empty
    kinds = set(geometry[points].geom_type)
    if kinds - {"Point"}:
        raise SampleError(f"soil samples {path}: expected point geometries, found {', '.join(sorted(kinds))}")
    crs = frame.crs or _crs(path, fallback_crs)
    shapes = geometry.to_numpy()
    xs, ys = shapely.get_x(shapes), shapely.get_y(shapes)  # NaN for missing or empty geometries
    x, y = _project(path, pd.Series(xs), pd.Series(ys), crs)
    return pd.DataFrame(frame.drop(columns=frame.geometry.name)), x, y


def _numbers(path: Path, table: pd.DataFrame, pc: PropertyColumn) -> np.ndarray:
    """The property's column as numbers (NaN where a value is not one); a column without any is an error."""
    values = pd.to_numeric(table[_column(table, pc.column)], errors="coerce").to_numpy(np.float64)
    if len(values) and not np.isfinite(values).any():
        raise SampleError(f"soil samples {path}: column {pc.column!r} ({pc.prop.name}) holds no numbers")
    return values


def _column(table: pd.DataFrame, name: str) -> str:
    """``name`` as the table spells it: exactly, or else the one column that differs only in case."""
    if name in table.columns:
        return name
    same = [c for c in table.columns if str(c).lower() == name.lower()]
    return str(same[0]) if len(same) == 1 else name


def _require_columns(
    path: Path, table: pd.DataFrame, names: Sequence[str], properties: Sequence[PropertyColumn]
) -> None:
    wanted = [*names, *(p.column for p in properties)]
    absent = [c for c in dict.fromkeys(wanted) if _column(table, c) not in table.columns]
    if absent:
        raise SampleError(
            f"soil samples {path}: missing column(s) {', '.join(absent)} "
            f"(columns: {', '.join(map(str, table.columns))})"
        )


def _crs(path: Path, text: object) -> CRS:
    try:
        return CRS.from_user_input(text)
    except CRSError as exc:
        raise SampleError(f"soil samples {path}: not a CRS: {text!r}") from exc


def _project(path: Path, xs: pd.Series, ys: pd.Series, crs: object) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates to EPSG:3035; unparsable or unprojectable ones become NaN."""
    source = _crs(path, crs)
    x = pd.to_numeric(xs, errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(ys, errors="coerce").to_numpy(np.float64)
    if source.is_geographic:
        bad = (np.abs(x) > 180) | (np.abs(y) > 90)
        x, y = np.where(bad, np.nan, x), np.where(bad, np.nan, y)
    ex, ey = Transformer.from_crs(source, EEA_CRS, always_xy=True).transform(x, y, errcheck=False)
    ex, ey = np.asarray(ex, np.float64), np.asarray(ey, np.float64)
    bad = ~(np.isfinite(ex) & np.isfinite(ey))
    return np.where(bad, np.nan, ex), np.where(bad, np.nan, ey)
