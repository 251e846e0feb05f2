"""Signed asset URLs for catalogs whose files need a token (Microsoft Planetary Computer).

Planetary Computer's assets sit in Azure Blob Storage and are readable with a
shared-access-signature (SAS) token per collection, handed out by its token
endpoint (``/api/sas/v1/token/<collection>``, no account needed, valid about an
hour).  A source on ``planetarycomputer.microsoft.com`` is signed without being
asked; ``StacSource(token_url=…)`` signs any other with the same protocol.
Tokens are cached per collection until shortly before they expire.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlparse

import pystac

from ..errors import CatalogError
from ..redact import register_secret

PLANETARY_COMPUTER_HOST = "planetarycomputer.microsoft.com"
PLANETARY_COMPUTER_TOKEN_URL = "https://planetarycomputer.microsoft.com/api/sas/v1/token/{collection}"
BLOB_HOST_SUFFIX = ".blob.core.windows.net"
_RENEW_BEFORE_S = 300.0
"""A cached token is renewed when it has less than this left."""


def default_token_url(location: str) -> str | None:
    """The token endpoint of a source that needs one (Planetary Computer), else None."""
    return PLANETARY_COMPUTER_TOKEN_URL if urlparse(location).hostname == PLANETARY_COMPUTER_HOST else None


class SasSigner:
    """Appends a collection's SAS token to the blob-storage hrefs of items."""

    def __init__(self, token_url: str, fetch: Callable[[str], dict] | None = None) -> None:
        self.token_url = token_url
        self._fetch = fetch or _fetch_json
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token(self, collection: str) -> str:
        with self._lock:
            cached = self._tokens.get(collection)
            if cached and cached[1] - time.time() > _RENEW_BEFORE_S:
                return cached[0]
            url = self.token_url.format(collection=collection)
            payload = self._fetch(url)
            if "token" not in payload:
                raise CatalogError(f"token endpoint {url} answered without a token")
            token = str(payload["token"])
            register_secret(token)  # never shown, even outside a URL
            self._tokens[collection] = (token, _expiry(payload))
            return token

    def sign(self, item: pystac.Item) -> pystac.Item:
        """A copy of ``item`` whose blob-storage asset hrefs carry the token."""
        if not item.collection_id:
            raise CatalogError(f"item {item.id} has no collection: cannot ask for its token")
        signed = item.clone()
        token = None
        for asset in signed.assets.values():
            if _needs_token(asset.href):
                token = token or self.token(item.collection_id)
                asset.href = f"{asset.href}?{token}"
        return signed


def _needs_token(href: str) -> bool:
    parsed = urlparse(href)
    return bool(parsed.hostname and parsed.hostname.endswith(BLOB_HOST_SUFFIX) and not parsed.query)


def _expiry(payload: dict) -> float:
    """Seconds since the epoch at which the token expires (an hour when the endpoint does not say)."""
    when = payload.get("msft:expiry")
    if not when:
        return time.time() + 3600.0
    return datetime.fromisoformat(str(when).replace("Z", "+00:00")).timestamp()


def _fetch_json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return dict(json.loads(response.read()))
    except Exception as exc:
        raise CatalogError(f"cannot get a token from {url}: {exc}") from exc
