"""The STAC sources a server offers to ``load_collection``, described as openEO collections."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pystac

from ..catalog.layouts import BAND_CENTRE_NM, COMMON_NAME, REFLECTANCE_BANDS
from ..catalog.source import StacSource
from ..errors import ConfigError

WORLD = [-180.0, -90.0, 180.0, 90.0]


def parse_collection_option(text: str) -> tuple[str, StacSource]:
    """``ID=STAC_SOURCE`` (a static catalog or an API root, as ``--stac`` takes; ``ID=URL#COLLECTION``
    names the collection of an API)."""
    cid, sep, location = text.partition("=")
    if not sep or not cid or not location:
        raise ConfigError(f"--collection {text!r}: expected ID=STAC_SOURCE")
    location, _, collection = location.partition("#")
    return cid, StacSource(location, collection or None)


@dataclass
class ServedCollection:
    id: str
    source: StacSource

    @cached_property
    def extent(self) -> tuple[list[float], list[str | None]]:
        """Bounding box and time interval: from the items of a static catalog; the world for an API."""
        if not self.source.is_static:
            return WORLD, [None, None]
        try:
            root = pystac.read_file(self._catalog_path())
            items = list(root.get_items(recursive=True)) if isinstance(root, pystac.Catalog) else []
        except Exception:  # noqa: BLE001  (a broken catalog is reported when it is loaded, not here)
            return WORLD, [None, None]
        boxes = [it.bbox for it in items if it.bbox]
        times = sorted(it.datetime.isoformat() for it in items if it.datetime)
        bbox = (
            [
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            ]
            if boxes
            else WORLD
        )
        return bbox, [times[0], times[-1]] if times else [None, None]

    def _catalog_path(self) -> str:
        path = Path(self.source.location)
        if path.is_dir():
            for name in ("catalog.json", "collection.json"):
                if (path / name).exists():
                    return str(path / name)
        return self.source.location

    def summary(self) -> dict[str, Any]:
        bbox, interval = self.extent
        return {
            "stac_version": "1.0.0",
            "type": "Collection",
            "id": self.id,
            "title": f"Sentinel-2 L2A from {self.source}",
            "description": f"Sentinel-2 L2A surface reflectance from the STAC source {self.source}, read by "
            "baresoil (SCL cloud masking, scaling and offsets of its layout).",
            "license": "proprietary",
            "extent": {"spatial": {"bbox": [bbox]}, "temporal": {"interval": [interval]}},
            "links": [],
        }

    def metadata(self) -> dict[str, Any]:
        bbox, interval = self.extent
        bands = [
            {
                "name": b,
                "center_wavelength": BAND_CENTRE_NM[b] / 1000,
                **({"common_name": COMMON_NAME[b]} if b in COMMON_NAME else {}),
            }
            for b in REFLECTANCE_BANDS
        ]
        return {
            **self.summary(),
            "stac_extensions": ["https://stac-extensions.github.io/datacube/v2.2.0/schema.json"],
            "cube:dimensions": {
                "x": {"type": "spatial", "axis": "x", "extent": [bbox[0], bbox[2]], "reference_system": 4326},
                "y": {"type": "spatial", "axis": "y", "extent": [bbox[1], bbox[3]], "reference_system": 4326},
                "t": {"type": "temporal", "extent": interval},
                "bands": {"type": "bands", "values": list(REFLECTANCE_BANDS)},
            },
            "summaries": {"eo:bands": bands, "constellation": ["sentinel-2"]},
        }
