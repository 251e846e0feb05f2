"""The real-world path: a static catalog and its COGs served over HTTP (on loopback)."""

import threading
from datetime import datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from baresoil.catalog.layouts import EARTH_SEARCH
from baresoil.catalog.source import StacSource, TimeRange
from baresoil.cube import open_cube
from baresoil.errors import CatalogError
from baresoil.grid import area_from_bbox

from tests.support.stac_factory import REFLECTANCE, lonlat_bbox, make_item, write_catalog, write_scene


class _RangeHandler(SimpleHTTPRequestHandler):
    """Static files with HTTP range requests, as object stores serve COGs."""

    def send_head(self):  # type: ignore[override]
        header = self.headers.get("Range")
        if not header or not header.startswith("bytes="):
            return super().send_head()
        path = self.translate_path(self.path)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - returned to the base class, which closes it
        except OSError:
            self.send_error(404)
            return None
        size = handle.seek(0, 2)
        first, _, last = header[6:].partition("-")
        start, end = int(first), min(int(last) if last else size - 1, size - 1)
        handle.seek(start)
        data = handle.read(end - start + 1)
        handle.close()
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(data)
        return None

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def server(tmp_path):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_RangeHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_catalog_and_cogs_over_http(tmp_path, server):
    paths = write_scene(tmp_path / "scene", offset_dn=1000)
    item = make_item(EARTH_SEARCH, "remote", datetime(2022, 6, 1, 10), paths, "04.00")
    for asset in item.assets.values():  # hrefs as a provider publishes them: URLs
        asset.href = asset.href.replace(str(tmp_path), server)
    write_catalog(tmp_path / "stac", [item])
    cube = open_cube(StacSource(f"{server}/stac/catalog.json"), area_from_bbox(*lonlat_bbox()),
                     TimeRange.parse("2022-05-01", "2022-07-01"))  # fmt: skip
    np.testing.assert_allclose(cube.B11.compute().values, REFLECTANCE["B11"], atol=1e-6)
    assert cube.SCL.compute().values.min() == 4


def test_catalog_url_not_found(server):
    with pytest.raises(CatalogError, match="cannot read STAC catalog http"):
        open_cube(StacSource(f"{server}/missing/catalog.json"), area_from_bbox(*lonlat_bbox()),
                  TimeRange.parse("2022-05-01", "2022-07-01"))  # fmt: skip


class _StacApiHandler(_RangeHandler):
    """A minimal STAC API (landing page + item search) over the items it was given."""

    items: list[dict] = []  # noqa: RUF012 - set per server in the fixture

    def do_GET(self):
        if self.path.split("?")[0] in ("/", "/api"):
            return self._json(self._landing())
        if self.path.startswith("/api/search"):
            return self._json(self._search())
        return super().do_GET()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        return self._json(self._search())

    def _landing(self):
        root = f"http://{self.headers['Host']}/api"
        return {
            "type": "Catalog", "id": "api", "stac_version": "1.1.0", "description": "test API",
            "conformsTo": ["https://api.stacspec.org/v1.0.0/core", "https://api.stacspec.org/v1.0.0/item-search"],
            "links": [{"rel": "self", "href": root}, {"rel": "root", "href": root},
                      {"rel": "search", "href": f"{root}/search", "method": "POST"},
                      {"rel": "search", "href": f"{root}/search", "method": "GET"}],
        }  # fmt: skip

    def _search(self):
        return {"type": "FeatureCollection", "features": self.items, "links": []}

    def _json(self, payload):
        import json

        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_stac_api_search(tmp_path):
    paths = write_scene(tmp_path / "scene", offset_dn=0)
    item = make_item(EARTH_SEARCH, "api-item", datetime(2021, 6, 1, 10), paths, "03.01")
    handler = type("Handler", (_StacApiHandler,), {"items": [item.to_dict(include_self_link=False)]})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/api"
        period = TimeRange.parse("2021-05-01", "2021-07-01")
        with pytest.raises(CatalogError, match="give the collection id"):
            open_cube(StacSource(url), area_from_bbox(*lonlat_bbox()), period)
        cube = open_cube(StacSource(url, "sentinel-2-c1-l2a"), area_from_bbox(*lonlat_bbox()), period)
        assert list(cube["items"].values) == ["api-item"]
        np.testing.assert_allclose(cube.B02.compute().values, REFLECTANCE["B02"], atol=1e-6)
    finally:
        httpd.shutdown()
