"""Secrets never leave the process: every text that does is passed through :func:`redact`.

Signed hrefs carry their secret in the query string (a Planetary Computer SAS token ``…&sig=…``, a
pre-signed S3 URL ``…&X-Amz-Signature=…``), credentials may sit in a URL (``https://user:pw@host``) or
in a header (``Authorization: Bearer …``).  :func:`redact` replaces the value of every query parameter,
the user information of every URL, the value of such headers and any secret registered with
:func:`register_secret` (a token fetched at run time) by ``<redacted>``; names stay, so a line still
says which parameter or header was there.

What leaves the process: messages of errors, log records (baresoil's and the libraries': rasterio
passes GDAL's warnings to :mod:`logging`), Python warnings, tracebacks, the run manifest and STAC
provenance.  :func:`install` redacts every log record when it is made (whatever handler shows it),
every warning and the traceback of an uncaught exception, and keeps the libraries' retry chatter
(one warning per retried HTTP request, each with its full URL) out of the log: :data:`RETRIES`
counts those instead.  Hrefs used to *read* are never
redacted, only their text on the way out.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
import warnings
from collections import Counter
from types import TracebackType
from typing import Any

MASK = "<redacted>"

_QUERY_VALUE = re.compile(r"([?&][A-Za-z0-9_.\-~%]+=)[^&#\s'\"<>(),;\]]+")
"""The value of a query parameter (``?sig=…``, ``&X-Amz-Signature=…``), in a URL or a bare file name."""
_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.\-]*://)[^/@\s'\"<>]+@")
"""``user:password@`` after a URL's scheme."""
_HEADER = re.compile(
    r"((?:authorization|proxy-authorization|x-api-key|api-key|cookie|set-cookie|x-amz-security-token"
    r"|x-ms-sas|ocp-apim-subscription-key)['\"]?\s*[:=]\s*['\"]?)(?:(?:bearer|basic|token)\s+)?[^\s'\",}]+",
    re.IGNORECASE,
)
"""A credential header and its value, as ``Authorization: Bearer x`` or ``'authorization': 'x'``."""

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(secret: str) -> None:
    """Redact ``secret`` wherever it appears from now on (a token fetched at run time)."""
    if len(secret) >= 8:  # shorter strings would mask ordinary words
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str) -> str:
    """``text`` with query values, URL credentials, credential headers and registered secrets masked."""
    if not text:
        return text
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    text = _HEADER.sub(rf"\1{MASK}", text)
    return _QUERY_VALUE.sub(rf"\1{MASK}", text)


def redact_value(value: Any) -> Any:
    """A JSON-like value with every string in it redacted (for manifests and STAC properties)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(inner) for inner in value]
    return value


# --- logging and warnings --------------------------------------------------------------------------

RETRIES: Counter[str] = Counter()
"""Retried requests the libraries announced (and :func:`install` kept out of the log), by library."""

_RETRY_CHATTER = (
    ("gdal", re.compile(r"Retrying again in")),  # GDAL's vsicurl, through rasterio
    ("urllib3", re.compile(r"^Retrying \(Retry\(")),  # urllib3's connection pool
    ("odc", re.compile(r"^(Failed to load|Ignoring read failure)")),  # odc-loader, before we report
)
_CHATTY_LOGGERS = ("rasterio._env", "rasterio._err", "urllib3.connectionpool", "odc.loader._rio")
_installed = False
_install_lock = threading.Lock()


def install() -> None:
    """Redact every log record and warning of this process from now on (idempotent)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        _installed = True
    make_record = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a record whose arguments do not fit its format
            message = str(record.msg)
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacted_record)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).addFilter(_retry_chatter)
    show = warnings.showwarning

    def redacted_warning(message: Warning | str, *args: Any, **kwargs: Any) -> None:
        text = redact(str(message))
        show(type(message)(text) if isinstance(message, Warning) else text, *args, **kwargs)

    warnings.showwarning = redacted_warning
    show_exception = sys.excepthook

    def redacted_traceback(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            show_exception(kind, exc, tb)
            return
        sys.stderr.write(redact("".join(traceback.format_exception(kind, exc, tb))))

    sys.excepthook = redacted_traceback


def _retry_chatter(record: logging.LogRecord) -> bool:
    """Keep a library's note that it retries out of the log (counted in RETRIES) unless debugging, where
    it shows at DEBUG level."""
    for library, pattern in _RETRY_CHATTER:
        if pattern.search(str(record.msg)):
            RETRIES[library] += 1
            if not logging.getLogger().isEnabledFor(logging.DEBUG):
                return False
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
    return True


__all__ = ["MASK", "RETRIES", "install", "redact", "redact_value", "register_secret"]
