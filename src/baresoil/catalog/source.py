"""Find the STAC items for an area and a time range, from an API or a static catalog.

A source is either a STAC API root URL plus a collection id, or a path/URL to a
static ``catalog.json`` or ``collection.json``.  Both end in the same list of
``pystac.Item``; nothing here reads pixels.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from urllib.parse import urlparse

import pystac
import shapely
from shapely.geometry import shape

from ..config import ReadConfig
from ..errors import CatalogError, NoItemsError, TimeRangeError
from ..grid import Area
from ..redact import redact
from .http import RetryingStacIO, api_io
from .signing import SasSigner, default_token_url


@dataclass(frozen=True)
class TimeRange:
    """A closed range of days, ``start`` and ``end`` both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise TimeRangeError(f"time range reversed: end {self.end} is before start {self.start}")

    @classmethod
    def parse(cls, start: str | date, end: str | date) -> TimeRange:
        return cls(_as_date(start, "start"), _as_date(end, "end"))

    @property
    def start_datetime(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_datetime(self) -> datetime:
        return datetime.combine(self.end, time.max, tzinfo=UTC)

    def contains(self, moment: datetime) -> bool:
        return self.start_datetime <= moment <= self.end_datetime

    def years(self) -> list[int]:
        return list(range(self.start.year, self.end.year + 1))

    def __str__(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


@dataclass(frozen=True)
class StacSource:
    """Where scenes come from."""

    location: str
    """STAC API root URL, or path/URL of a static catalog.json / collection.json."""
    collection: str | None = None
    """Collection id; required for an API, optional filter for a static catalog."""
    token_url: str | None = None
    """SAS token endpoint (``…/token/{collection}``) whose token signs the asset hrefs; Planetary
    Computer's is used without being given (see :mod:`baresoil.catalog.signing`)."""

    @property
    def signer(self) -> SasSigner | None:
        url = self.token_url or default_token_url(self.location)
        return SasSigner(url) if url else None

    @property
    def is_static(self) -> bool:
        parsed = urlparse(self.location)
        if parsed.scheme in ("http", "https"):
            return parsed.path.endswith(".json")
        return True

    def __str__(self) -> str:
        """The source as it may be shown: credentials and query values redacted."""
        return redact(self.location) + (f" [{self.collection}]" if self.collection else "")


def find_items(
    source: StacSource, area: Area, period: TimeRange, reads: ReadConfig | None = None
) -> list[pystac.Item]:
    """The items of ``source`` that touch ``area`` within ``period``, oldest first.

    Documents are read over HTTP with retries, a timeout and a deadline (``reads``, see
    :mod:`baresoil.catalog.http`)."""
    reads = reads or ReadConfig()
    items = (
        _static_items(source, area, period, reads)
        if source.is_static
        else _api_items(source, area, period, reads)
    )
    if not items:
        raise NoItemsError(f"no items in {source} for {area.label} between {period.start} and {period.end}")
    signer = source.signer
    if signer is not None:
        items = [signer.sign(item) for item in items]
    return sorted(items, key=lambda it: (_item_datetime(it), it.id))


def _static_items(source: StacSource, area: Area, period: TimeRange, reads: ReadConfig) -> list[pystac.Item]:
    root = _read_static(source.location, reads)
    footprint = area.lonlat_geometry
    found = []
    for item in _walk_items(root, str(source)):
        if source.collection and item.collection_id not in (None, source.collection):
            continue
        if not period.contains(_item_datetime(item)):
            continue
        if item.geometry is not None and not shape(item.geometry).intersects(footprint):
            continue
        found.append(item)
    return found


def _read_static(location: str, reads: ReadConfig) -> pystac.STACObject:
    parsed = urlparse(location)
    if parsed.scheme not in ("http", "https"):
        path = Path(location)
        if path.is_dir():
            path = next((p for p in (path / "catalog.json", path / "collection.json") if p.exists()), path)
        if not path.is_file():
            raise CatalogError(f"STAC catalog not found: {location}")
        location = str(path)
    try:
        return pystac.read_file(location, stac_io=RetryingStacIO(reads))
    except CatalogError:
        raise
    except Exception as exc:
        cause = _catalog_cause(exc)
        raise cause or CatalogError(
            f"cannot read STAC catalog {redact(location)}: {_first_line(exc)}"
        ) from exc


def _walk_items(root: pystac.STACObject, source: str) -> Iterator[pystac.Item]:
    """Every item under ``root``; a child or item that cannot be read (or parsed) is an error naming it."""
    if isinstance(root, pystac.Item):
        yield root
        return
    if not isinstance(root, pystac.Catalog):  # Collection is a Catalog
        raise CatalogError(f"{redact(root.self_href)}: not a STAC catalog, collection or item")
    try:
        yield from root.get_items(recursive=True)
    except CatalogError:
        raise
    except Exception as exc:
        cause = _catalog_cause(exc)  # pystac wraps what our I/O raised: that names the document
        raise cause or CatalogError(f"cannot read the items of {source}: {_first_line(exc)}") from exc


def _catalog_cause(exc: BaseException) -> CatalogError | None:
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, CatalogError):
            return current
        current = current.__cause__ or current.__context__
    return None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return redact(lines[0] if lines else type(exc).__name__)


def _api_items(source: StacSource, area: Area, period: TimeRange, reads: ReadConfig) -> list[pystac.Item]:
    import pystac_client  # deferred: only API sources need it

    if not source.collection:
        raise CatalogError(f"STAC API {source}: give the collection id (--collection)")

    try:
        client = pystac_client.Client.open(source.location, stac_io=api_io(reads))
        search = client.search(
            collections=[source.collection],
            intersects=shapely.geometry.mapping(area.lonlat_geometry),
            datetime=[period.start_datetime, period.end_datetime],
        )
        return list(search.items())
    except CatalogError:
        raise
    except Exception as exc:
        raise CatalogError(f"cannot search STAC API {source}: {_first_line(exc)}") from exc


def _item_datetime(item: pystac.Item) -> datetime:
    moment = item.datetime or item.common_metadata.start_datetime
    if moment is None:
        raise CatalogError(f"item {item.id} has no datetime")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _as_date(value: str | date, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise TimeRangeError(f"{what} date {value!r} is not YYYY-MM-DD") from exc
