"""Tiny hand-made Sentinel-2 scenes and catalogs with known values, for exact tests.

Each scene is a set of small COGs in UTM 32N with a constant reflectance per band
(so any resampling keeps the value) and an SCL array chosen by the test.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import numpy as np
import pystac
import rasterio
from rasterio.transform import from_origin

from baresoil.catalog.layouts import (
    CDSE,
    EARTH_SEARCH,
    EARTH_SEARCH_L2A,
    EARTH_SEARCH_V0,
    NATIVE_RESOLUTION,
    PLANETARY_COMPUTER,
    REFLECTANCE_BANDS,
    SCL,
    Layout,
)

EPSG = 32632
ORIGIN = (680_000.0, 5_341_000.0)  # upper-left corner
SIZE_M = 1000
REFLECTANCE = {b: 0.05 + 0.02 * i for i, b in enumerate(REFLECTANCE_BANDS)}
"""Known surface reflectance of every band."""


def write_band(path: Path, values: np.ndarray, resolution: int, origin: tuple[float, float] = ORIGIN) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = dict(
        driver="COG",
        dtype="uint16",
        count=1,
        width=values.shape[1],
        height=values.shape[0],
        crs=f"EPSG:{EPSG}",
        transform=from_origin(*origin, resolution, resolution),
        nodata=0,
        compress="deflate",
        blocksize=256,
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype("uint16"), 1)


def write_scene(
    folder: Path,
    offset_dn: int,
    scl: np.ndarray | None = None,
    reflectance: Mapping[str, float | np.ndarray] = REFLECTANCE,
) -> dict[str, Path]:
    """COGs of one scene: DN = reflectance * 10000 + offset_dn; SCL 4 everywhere unless given.

    A reflectance is a constant or a 10 m array (SIZE_M / 10 pixels a side), averaged to 20 m.
    """
    paths = {}
    for band in (*REFLECTANCE_BANDS, SCL):
        res = NATIVE_RESOLUTION[band]
        n = SIZE_M // res
        if band == SCL:
            values = scl if scl is not None else np.full((n, n), 4)
        else:
            values = np.rint(_at_resolution(reflectance[band], res) * 10000) + offset_dn
        paths[band] = folder / f"{band}.tif"
        write_band(paths[band], values, res, ORIGIN)  # the module's ORIGIN now: a test may move it
    return paths


def _at_resolution(value: float | np.ndarray, res: int) -> np.ndarray:
    n = SIZE_M // res
    if np.isscalar(value):
        return np.full((n, n), float(value))
    array = np.asarray(value, dtype=float)
    factor = array.shape[0] // n
    return array.reshape(n, factor, n, factor).mean(axis=(1, 3))


STYLES: dict[str, dict[str, object]] = {
    # how the baseline and the sun are published, and where scale/offset are declared
    EARTH_SEARCH.name: {
        "baseline": "s2:processing_baseline",
        "sun": "view:sun_elevation",
        "declare": "raster:bands",
    },
    EARTH_SEARCH_L2A.name: {
        "baseline": "s2:processing_baseline",
        "sun": "view:sun_elevation",
        "declare": "raster:bands",
    },
    PLANETARY_COMPUTER.name: {
        "baseline": "s2:processing_baseline",
        "sun": "s2:mean_solar_zenith",
        "declare": None,
    },
    EARTH_SEARCH_V0.name: {"baseline": "sentinel:processing_baseline", "sun": None, "declare": None},
    CDSE.name: {"baseline": "processing:version", "sun": "view:sun_elevation", "declare": "asset"},
}
"""Each provider's habits, as in its real items (see docs/observations/providers.md)."""
SUN_ELEVATION = 40.0
_DEFAULT = object()


def make_item(
    layout: Layout,
    item_id: str,
    when: datetime,
    paths: Mapping[str, Path],
    baseline: str | None,
    *,
    declare: object = _DEFAULT,
    properties: Mapping[str, object] | None = None,
    collection: object = _DEFAULT,
) -> pystac.Item:
    """An item in ``layout``'s conventions pointing at ``paths``.

    ``declare`` says where scale and offset go: ``"raster:bands"``, ``"asset"`` (STAC 1.1
    ``raster:scale``/``raster:offset`` on the asset), ``"bands"`` (on the STAC 1.1 ``bands``
    entry) or None; the default is the provider's.  A ``baseline`` of None publishes none.
    """
    from pyproj import Transformer

    style = STYLES[layout.name]
    to_ll = Transformer.from_crs(EPSG, 4326, always_xy=True)
    x0, y1 = ORIGIN
    xs, ys = to_ll.transform([x0, x0 + SIZE_M, x0 + SIZE_M, x0], [y1 - SIZE_M, y1 - SIZE_M, y1, y1])
    ring = [[x, y] for x, y in zip(xs, ys, strict=True)] + [[xs[0], ys[0]]]
    props: dict[str, object] = {"eo:cloud_cover": 10.0, "platform": "sentinel-2a"}
    props["proj:code"] = f"EPSG:{EPSG}"
    if baseline is not None:
        props[str(style["baseline"])] = baseline
    if style["sun"] == "view:sun_elevation":
        props["view:sun_elevation"] = SUN_ELEVATION
    elif style["sun"] == "s2:mean_solar_zenith":
        props["s2:mean_solar_zenith"] = 90.0 - SUN_ELEVATION
    if layout is EARTH_SEARCH_V0:
        props.update({"sentinel:utm_zone": 32, "sentinel:latitude_band": "U", "sentinel:grid_square": "PU"})
    props.update(properties or {})
    item = pystac.Item(
        item_id,
        {"type": "Polygon", "coordinates": [ring]},
        [min(xs), min(ys), max(xs), max(ys)],
        when,
        props,
        collection=layout.collections[0] if collection is _DEFAULT else collection,  # type: ignore[arg-type]
    )
    where = style["declare"] if declare is _DEFAULT else declare
    offset = -0.1 if baseline is not None and baseline >= "04.00" else 0.0
    for band, path in paths.items():
        item.add_asset(
            layout.asset_key(band),
            pystac.Asset(
                str(path), media_type=pystac.MediaType.COG, roles=["data"],
                extra_fields=_asset_fields(band, where, offset),
            ),
        )  # fmt: skip
    return item


def _asset_fields(band: str, where: object, offset: float) -> dict[str, object]:
    res = NATIVE_RESOLUTION[band]
    x0, y1 = ORIGIN
    fields: dict[str, object] = {
        "proj:shape": [SIZE_M // res, SIZE_M // res],
        "proj:transform": [res, 0.0, x0, 0.0, -res, y1],
    }
    scaling = {} if band == SCL else {"scale": 0.0001, "offset": offset}
    dtype = "uint8" if band == SCL else "uint16"
    if where == "raster:bands":
        fields["raster:bands"] = [{"data_type": dtype, "nodata": 0, "spatial_resolution": res, **scaling}]
    elif where == "asset":
        fields.update({"data_type": dtype, "nodata": 0, "bands": [{"name": band}]})
        fields.update({f"raster:{k}": v for k, v in scaling.items()})
    elif where == "bands":
        fields["bands"] = [{"name": band, "data_type": dtype, "nodata": 0,
                            **{f"raster:{k}": v for k, v in scaling.items()}}]  # fmt: skip
    return fields


def write_catalog(folder: Path, items: list[pystac.Item]) -> Path:
    catalog = pystac.Catalog("test", "hand-made scenes")
    catalog.add_items(items)
    catalog.normalize_hrefs(str(folder))
    catalog.save(pystac.CatalogType.ABSOLUTE_PUBLISHED)
    return folder / "catalog.json"


def lonlat_bbox(margin_m: float = 100) -> tuple[float, float, float, float]:
    """A lon/lat box inside the scenes (``margin_m`` from their edges)."""
    from pyproj import Transformer

    to_ll = Transformer.from_crs(EPSG, 4326, always_xy=True)
    x0, y1 = ORIGIN
    lon0, lat0 = to_ll.transform(x0 + margin_m, y1 - SIZE_M + margin_m)
    lon1, lat1 = to_ll.transform(x0 + SIZE_M - margin_m, y1 - margin_m)
    return (lon0, lat0, lon1, lat1)
