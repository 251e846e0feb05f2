"""The user's own vector data in a process graph: parcels and soil samples as GeoJSON.

openEO passes vector data inline, as a GeoJSON ``FeatureCollection`` in a process's argument or through
``load_geojson`` (a vector cube).  The server has no user-files route, so this is the only way in.
GeoJSON is longitude/latitude on WGS84 (RFC 7946); a collection is checked here, before any work,
strictly: each feature's geometry, the id column in every feature and unique, the named columns
present and of the right kind.  What is checked passes to the pipeline as the command line gets it: a
file (``parcels.geojson``, ``samples.geojson``) read by the same reader, so that the same features give
the same values as ``baresoil parcels --parcels`` and ``baresoil soil --samples``.  Whatever the
command line tolerates and reports (a self-intersecting parcel repaired, a sample outside the
covariates) is left to it, so the two stay alike.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WGS84_NAMES = frozenset(
    {
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "CRS84",
        "OGC:CRS84",
        "EPSG:4326",
        "urn:ogc:def:crs:EPSG::4326",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
    }
)
"""``crs`` names (GeoJSON 2008) that say what RFC 7946 implies: longitude, latitude on WGS84."""
SHOWN = 5
"""Features named in one message at most."""


class GeoJsonError(ValueError):
    """What is wrong with an inline GeoJSON, in words that name the feature and the column."""


@dataclass(frozen=True)
class InlineFeatures:
    """A checked ``FeatureCollection``: its features, as given but for the ``crs`` member."""

    features: tuple[Mapping[str, Any], ...]

    def __len__(self) -> int:
        return len(self.features)

    def document(self) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": list(self.features)}

    def digest(self) -> str:
        """The same for the same features, whatever the JSON's spacing or key order."""
        text = json.dumps(self.document(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def bounds(self) -> tuple[float, float, float, float]:
        """West, south, east, north of every coordinate."""
        lons, lats = [], []
        for feature in self.features:
            for lon, lat in _positions(feature["geometry"]):
                lons.append(lon)
                lats.append(lat)
        return (min(lons), min(lats), max(lons), max(lats))

    def write(self, path: Path) -> Path:
        """The collection as an RFC 7946 file (no ``crs``: longitude, latitude), written atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        tmp.write_text(json.dumps(self.document()))
        os.replace(tmp, path)
        return path


@dataclass(frozen=True)
class ParcelInput:
    """What ``baresoil parcels --parcels FILE --id-column … [--category-column …]`` is given."""

    features: InlineFeatures
    id_column: str
    category_column: str | None = None
    node: str = ""
    """The graph's node that took them (for messages; not part of the request's key)."""
    FILE = "parcels.geojson"

    def key(self) -> dict[str, Any]:
        return {"features": self.features.digest(), "id_column": self.id_column,
                "category_column": self.category_column}  # fmt: skip


@dataclass(frozen=True)
class SampleInput:
    """What ``baresoil soil --samples FILE --property … --id-column …`` is given."""

    features: InlineFeatures
    properties: tuple[str, ...]
    """As ``--property`` takes them: ``soc``, ``soc=SOC_gkg``, any numeric column."""
    id_column: str
    node: str = ""
    """The graph's node that took them (for messages; not part of the request's key)."""
    FILE = "samples.geojson"

    def key(self) -> dict[str, Any]:
        return {"features": self.features.digest(), "properties": list(self.properties),
                "id_column": self.id_column}  # fmt: skip


def feature_collection(value: object, geometry_types: Sequence[str]) -> InlineFeatures:
    """A GeoJSON ``FeatureCollection`` whose every feature has a geometry of ``geometry_types``."""
    if not isinstance(value, Mapping) or value.get("type") != "FeatureCollection":
        kind = value.get("type") if isinstance(value, Mapping) else type(value).__name__
        raise GeoJsonError(f"a GeoJSON FeatureCollection is needed, got {kind!r}")
    _check_crs(value.get("crs"))
    features = value.get("features")
    if not isinstance(features, list) or not features:
        raise GeoJsonError("'features' must be a non-empty array")
    checked = []
    for index, feature in enumerate(features):
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise GeoJsonError(f"features[{index}] is not a GeoJSON Feature")
        properties = feature.get("properties")
        if properties is None:
            properties = {}
        if not isinstance(properties, Mapping):
            raise GeoJsonError(f"features[{index}]: 'properties' must be an object")
        try:
            json.dumps(properties, allow_nan=False)
        except ValueError:
            raise GeoJsonError(
                f"features[{index}]: a property is NaN or infinite, which JSON has not"
            ) from None
        try:
            _check_geometry(feature.get("geometry"), geometry_types)
        except GeoJsonError as exc:
            raise GeoJsonError(f"features[{index}]: geometry: {exc}") from None
        checked.append({"type": "Feature", "geometry": feature["geometry"], "properties": dict(properties)})
    return InlineFeatures(tuple(checked))


def check_ids(features: InlineFeatures, column: str) -> None:
    """Every feature has an id in ``column`` (text or an integer), and no two the same."""
    seen: dict[str, int] = {}
    for index, feature in enumerate(features.features):
        properties = feature["properties"]
        if column not in properties:
            known = ", ".join(_columns(features)) or "none"
            raise GeoJsonError(f"features[{index}] has no property {column!r} (properties: {known})")
        value = properties[column]
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            raise GeoJsonError(
                f"features[{index}]: {column!r} must be a non-empty text or an integer, got {value!r}"
            )
        first = seen.setdefault(str(value).strip(), index)
        if first != index:
            raise GeoJsonError(f"features[{first}] and features[{index}] have the same {column!r}: {value!r}")


def check_column(features: InlineFeatures, column: str, numbers: bool) -> None:
    """``column`` is a property of some feature; its values are numbers (or null) when ``numbers``,
    else plain values (text, number, boolean or null)."""
    if not any(column in f["properties"] for f in features.features):
        known = ", ".join(_columns(features)) or "none"
        raise GeoJsonError(f"no feature has a property {column!r} (properties: {known})")
    for index, feature in enumerate(features.features):
        value = feature["properties"].get(column)
        if value is None:
            continue
        if numbers and (
            isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
        ):
            raise GeoJsonError(f"features[{index}]: {column!r} must be a number or null, got {value!r}")
        if not numbers and not isinstance(value, str | int | float | bool):
            raise GeoJsonError(
                f"features[{index}]: {column!r} must be a text, number or boolean, got {type(value).__name__}"
            )


def outside(features: InlineFeatures, bbox: tuple[float, float, float, float], id_column: str) -> list[str]:
    """The features (``features[i] (id)``) not wholly inside ``bbox`` (west, south, east, north)."""
    west, south, east, north = bbox
    found = []
    for index, feature in enumerate(features.features):
        positions = list(_positions(feature["geometry"]))
        if not all(west <= lon <= east and south <= lat <= north for lon, lat in positions):
            found.append(f"features[{index}] ({id_column} {feature['properties'].get(id_column)!r})")
    return found


def shown(names: Sequence[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def _columns(features: InlineFeatures) -> list[str]:
    return list(dict.fromkeys(str(k) for f in features.features for k in f["properties"]))


def _check_crs(crs: object) -> None:
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, Mapping) else None
    if name not in WGS84_NAMES:
        raise GeoJsonError(
            f"'crs' {name or crs!r}: GeoJSON coordinates are longitude, latitude on WGS84 (RFC 7946); "
            "reproject the features"
        )


def _check_geometry(geometry: object, types: Sequence[str]) -> None:
    if not isinstance(geometry, Mapping):
        raise GeoJsonError(f"missing; a {' or '.join(types)} is needed")
    kind = geometry.get("type")
    if kind not in types:
        raise GeoJsonError(f"{kind!r}; a {' or '.join(types)} is needed")
    coordinates = geometry.get("coordinates")
    if kind == "Point":
        _check_position(coordinates)
    elif kind == "Polygon":
        _check_polygon(coordinates)
    else:  # MultiPolygon
        if not isinstance(coordinates, list) or not coordinates:
            raise GeoJsonError("a MultiPolygon's coordinates are a non-empty array of polygons")
        for polygon in coordinates:
            _check_polygon(polygon)


def _check_polygon(rings: object) -> None:
    if not isinstance(rings, list) or not rings:
        raise GeoJsonError("a Polygon's coordinates are a non-empty array of rings")
    for ring in rings:
        if not isinstance(ring, list) or len(ring) < 4:
            count = len(ring) if isinstance(ring, list) else 0
            raise GeoJsonError(f"a ring has {count} position(s); a closed ring needs at least 4")
        for position in ring:
            _check_position(position)
        if list(ring[0][:2]) != list(ring[-1][:2]):
            raise GeoJsonError(f"a ring is not closed: it starts at {ring[0]} and ends at {ring[-1]}")


def _check_position(position: object) -> None:
    if (
        not isinstance(position, list)
        or len(position) not in (2, 3)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in position)
    ):
        raise GeoJsonError(f"a position is [longitude, latitude], got {position!r}")
    lon, lat = float(position[0]), float(position[1])
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise GeoJsonError(
            f"position {position!r} is not a longitude, latitude on WGS84 (RFC 7946); reproject the features"
        )


def _positions(geometry: Mapping[str, Any]) -> Iterator[tuple[float, float]]:
    coordinates = geometry["coordinates"]
    if geometry["type"] == "Point":
        yield float(coordinates[0]), float(coordinates[1])
        return
    polygons = [coordinates] if geometry["type"] == "Polygon" else coordinates
    for polygon in polygons:
        for ring in polygon:
            for position in ring:
                yield float(position[0]), float(position[1])
