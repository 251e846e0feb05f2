"""Reading STAC JSON over HTTP that survives faults: retries with back-off, a timeout and a deadline.

Two layers, each from a maintained library where it fits:

* each HTTP request is retried by urllib3's ``Retry`` on 429 and 5xx answers, refused or reset
  connections and timeouts, with exponential back-off (``read.retries``, ``read.retry_delay_s``) and
  a timeout per request (``read.timeout_s``): pystac reads static catalogs through
  :class:`RetryingStacIO`, pystac-client searches APIs through :func:`api_io` (requests on urllib3);
* :func:`with_retries` retries what urllib3 cannot (an answer whose body breaks off: requests reads
  bodies after urllib3 has returned) and enforces the overall deadline (``read.deadline_s``, checked
  between attempts; an attempt in flight ends at its timeout).

A document that still cannot be read is a :class:`~baresoil.errors.CatalogError` naming its href
(redacted) and the last reason, never a library's exception.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pystac
import urllib3
from pystac.stac_io import DefaultStacIO
from urllib3.util.retry import Retry

from ..config import ReadConfig
from ..errors import CatalogError
from ..redact import redact

log = logging.getLogger(__name__)

RETRY_STATUS = (429, 500, 502, 503, 504)
"""Answers that say "try again" (too many requests, server errors, gateways)."""
_BROKEN_OFF = re.compile(
    r"Connection (broken|reset|aborted)|RemoteDisconnected|IncompleteRead|Empty reply|ProtocolError|"
    r"timed? ?out",
    re.IGNORECASE,
)
T = TypeVar("T")


def is_transient(exc: BaseException) -> bool:
    """A failure that urllib3 did not retry and that may not happen again: an answer whose body broke
    off, a connection lost while reading.  An HTTP status and urllib3's "max retries exceeded" are
    final: urllib3 has retried those already."""
    if getattr(exc, "status_code", None) or getattr(exc, "status", None):
        return False
    if isinstance(exc, urllib3.exceptions.MaxRetryError) or "Max retries exceeded" in str(exc):
        return False
    if isinstance(exc, TimeoutError | ConnectionError | urllib3.exceptions.HTTPError):
        return True
    return bool(_BROKEN_OFF.search(f"{type(exc).__name__}: {exc}"))


def with_retries(read: Callable[[], T], what: str, config: ReadConfig) -> T:
    """``read()``, tried again after a transient failure until ``config.deadline_s`` has passed.

    ``what`` names the document in the error (``STAC catalog https://…``); it is redacted."""
    started = time.monotonic()
    delay = config.retry_delay_s
    attempt = 0
    while True:
        attempt += 1
        try:
            return read()
        except CatalogError:
            raise
        except Exception as exc:
            reason = _first_line(exc)
            elapsed = time.monotonic() - started
            if not is_transient(exc):
                raise CatalogError(f"cannot read {redact(what)}: {reason}") from exc
            if attempt > config.retries or elapsed + delay > config.deadline_s:
                raise CatalogError(
                    f"cannot read {redact(what)}: {reason} (tried {attempt} times in {elapsed:.0f} s)"
                ) from exc
            log.debug("reading %s failed (%s); trying again in %.1f s", what, reason, delay)
            time.sleep(delay)
            delay *= 2


def request_retry(config: ReadConfig, methods: frozenset[str] = frozenset({"GET", "HEAD"})) -> Retry:
    """urllib3's retry of one request: 429/5xx answers, connection and read errors, with back-off."""
    return Retry(
        total=config.retries,
        connect=config.retries,
        read=config.retries,
        status=config.retries,
        status_forcelist=RETRY_STATUS,
        allowed_methods=methods,
        backoff_factor=config.retry_delay_s,
        backoff_max=config.deadline_s / 4,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer is returned and reported with its status
    )


class RetryingStacIO(DefaultStacIO):
    """pystac's I/O with pooled connections, urllib3 retries, a timeout and a deadline per document."""

    def __init__(self, config: ReadConfig, headers: dict[str, str] | None = None) -> None:
        super().__init__(headers)
        self.config = config
        self._pool = urllib3.PoolManager(
            retries=request_retry(config), timeout=urllib3.Timeout(total=config.timeout_s)
        )

    def read_text_from_href(self, href: str) -> str:
        if not href.startswith(("http://", "https://")):
            return str(super().read_text_from_href(href))
        return with_retries(lambda: self._get(href), f"{_kind(href)} {href}", self.config)

    def _get(self, href: str) -> str:
        headers = {"User-Agent": f"baresoil (pystac/{pystac.__version__})", **self.headers}
        response = self._pool.request("GET", href, headers=headers)
        if response.status >= 400:
            raise _HttpStatusError(response.status, response.reason)
        return str(response.data.decode("utf-8"))


def _kind(href: str) -> str:
    name = href.split("?", 1)[0].rsplit("/", 1)[-1]
    return {"catalog.json": "STAC catalog", "collection.json": "STAC collection"}.get(name, "STAC document")


class _HttpStatusError(Exception):
    def __init__(self, status: int, reason: str | None) -> None:
        super().__init__(f"HTTP {status} {reason or ''}".rstrip())
        self.status = status


def api_io(config: ReadConfig) -> Any:
    """pystac-client's I/O for STAC APIs with the same retries, timeout and deadline."""
    from pystac_client.stac_api_io import StacApiIO

    class RetryingStacApiIO(StacApiIO):
        def request(self, href: str, *args: Any, **kwargs: Any) -> str:
            return with_retries(
                lambda: str(StacApiIO.request(self, href, *args, **kwargs)), f"STAC API {href}", config
            )

    return RetryingStacApiIO(
        timeout=config.timeout_s,
        max_retries=request_retry(config, frozenset({"GET", "HEAD", "POST"})),
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return redact(text[0] if text else type(exc).__name__)


__all__ = ["RetryingStacIO", "api_io", "is_transient", "request_retry", "with_retries"]
