"""A small STAC catalog of COGs (``stac_factory``'s scenes) served over HTTP by the fault server."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pystac

from baresoil.catalog.layouts import EARTH_SEARCH

from tests.support.stac_factory import lonlat_bbox, make_item, write_scene

SCENE_DAYS = (datetime(2021, 6, 1, 10), datetime(2021, 6, 6, 10), datetime(2021, 6, 11, 10))
START, END = "2021-05-01", "2021-07-01"


def item_id(index: int) -> str:
    return f"S2A_32UPU_{SCENE_DAYS[index]:%Y%m%d}_0_L2A"


def write_scenes(root: Path) -> None:
    """Three dates of COGs under ``root/s0 …/s2``; the second has a cloud in the north-west."""
    cloudy = np.full((50, 50), 4)
    cloudy[5:10, 5:10] = 9
    for index in range(len(SCENE_DAYS)):
        write_scene(root / f"s{index}", offset_dn=0, scl=cloudy if index == 1 else None)


def write_http_catalog(root: Path, base_url: str, query: str = "", cog_url: str | None = None) -> str:
    """A static catalog in ``root/stac`` whose assets are ``<cog_url or base_url>/s<i>/<band>.tif<query>``;
    returns the catalog's URL (under ``base_url``)."""
    cog_url = cog_url or base_url
    items = []
    for index, day in enumerate(SCENE_DAYS):
        paths = {p.stem: p for p in sorted((root / f"s{index}").glob("*.tif"))}
        item = make_item(EARTH_SEARCH, item_id(index), day, paths, "03.01")
        for asset in item.assets.values():
            asset.href = f"{cog_url}/{Path(asset.href).relative_to(root).as_posix()}{query}"
        items.append(item)
    catalog = pystac.Catalog("test", "hand-made scenes over HTTP")
    catalog.add_items(items)
    catalog.normalize_hrefs(str(root / "stac"))
    catalog.save(pystac.CatalogType.SELF_CONTAINED)
    return f"{base_url}/stac/catalog.json"


def cube_args(catalog: str, out: Path, *extra: str) -> list[str]:
    bbox = [f"{v:.6f}" for v in lonlat_bbox(50)]
    return ["cube", "--stac", catalog, "--bbox", *bbox, "--start", START, "--end", END, "--out", str(out),
            "--resolution", "20", *extra]  # fmt: skip
