"""SAS signing of Planetary Computer asset URLs: token per collection, cached, blob hrefs only."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pystac
import pytest

from baresoil.catalog.signing import PLANETARY_COMPUTER_TOKEN_URL, SasSigner, default_token_url
from baresoil.catalog.source import StacSource, TimeRange, find_items
from baresoil.errors import CatalogError
from baresoil.grid import area_from_bbox

BLOB = "https://sentinel2l2a01.blob.core.windows.net/sentinel2-l2/32/U/PU/2021/06/01/B04.tif"


def _item(collection: str | None = "sentinel-2-l2a") -> pystac.Item:
    item = pystac.Item("it", {"type": "Point", "coordinates": [11.4, 48.15]}, [11.4, 48.15, 11.4, 48.15],
                       datetime(2021, 6, 1, 10, tzinfo=UTC), {}, collection=collection)  # fmt: skip
    item.add_asset("B04", pystac.Asset(BLOB))
    item.add_asset(
        "thumbnail", pystac.Asset("https://planetarycomputer.microsoft.com/api/data/v1/item/preview.png")
    )
    item.add_asset("signed", pystac.Asset(BLOB.replace("B04", "B08") + "?st=already"))
    return item


def test_planetary_computer_sources_are_signed_without_being_asked():
    assert (
        default_token_url("https://planetarycomputer.microsoft.com/api/stac/v1")
        == PLANETARY_COMPUTER_TOKEN_URL
    )
    assert default_token_url("https://earth-search.aws.element84.com/v1") is None
    assert (
        StacSource("https://planetarycomputer.microsoft.com/api/stac/v1", "sentinel-2-l2a").signer is not None
    )
    assert StacSource("sim/stac/catalog.json").signer is None


def test_blob_hrefs_get_the_collection_token_once():
    asked = []

    def fetch(url):
        asked.append(url)
        expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        return {"token": "se=2021&sig=abc", "msft:expiry": expiry}

    signer = SasSigner("https://example.test/token/{collection}", fetch)
    first, second = signer.sign(_item()), signer.sign(_item())
    assert first.assets["B04"].href == BLOB + "?se=2021&sig=abc"
    assert first.assets["thumbnail"].href.endswith("preview.png")  # not blob storage
    assert first.assets["signed"].href.endswith("?st=already")  # already signed
    assert second.assets["B04"].href == first.assets["B04"].href
    assert asked == ["https://example.test/token/sentinel-2-l2a"]  # cached
    assert _item().assets["B04"].href == BLOB  # the original is left alone


def test_an_expiring_token_is_renewed_and_errors_name_the_endpoint():
    tokens = iter(["t1", "t2"])

    def fetch(url):
        return {"token": next(tokens), "msft:expiry": (datetime.now(UTC) + timedelta(seconds=10)).isoformat()}

    signer = SasSigner("https://example.test/{collection}", fetch)
    assert signer.token("c") == "t1"
    assert signer.token("c") == "t2"  # ten seconds left: renewed
    with pytest.raises(CatalogError, match="without a token"):
        SasSigner("https://example.test/{collection}", lambda url: {}).token("c")
    with pytest.raises(CatalogError, match="no collection"):
        signer.sign(_item(collection=None))


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"token": f"sig={self.path.rsplit('/', 1)[-1]}"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_find_items_signs_with_the_token_endpoint(tmp_path):
    catalog = pystac.Catalog("cat", "test")
    catalog.add_item(_item())
    catalog.normalize_and_save(str(tmp_path / "stac"), pystac.CatalogType.SELF_CONTAINED)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        token_url = f"http://127.0.0.1:{httpd.server_address[1]}/token/{{collection}}"
        source = StacSource(str(tmp_path / "stac" / "catalog.json"), token_url=token_url)
        (item,) = find_items(
            source, area_from_bbox(11.3, 48.1, 11.5, 48.2), TimeRange.parse("2021-05-01", "2021-07-01")
        )
        assert item.assets["B04"].href == BLOB + "?sig=sentinel-2-l2a"
    finally:
        httpd.shutdown()
