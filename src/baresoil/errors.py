"""The one exception tree of baresoil.

Every error a user can cause (a wrong path, an empty search, a broken asset) is a
:class:`BaresoilError`; the CLI prints its message on one line and exits non-zero.
Messages name the file, the item and the band involved, so that they can be acted on.
"""

from __future__ import annotations


class BaresoilError(Exception):
    """Root of all errors that are the user's input, not a bug."""


class CatalogError(BaresoilError):
    """A STAC source cannot be opened or searched."""


class NoItemsError(CatalogError):
    """A search found no usable scenes for the area and time."""


class AssetError(BaresoilError):
    """A band is missing from an item, or its asset cannot be read."""


class AreaError(BaresoilError):
    """The area of interest is malformed or outside the EEA reference grid."""


class TimeRangeError(BaresoilError):
    """The time range is malformed (for example end before start)."""


class ConfigError(BaresoilError):
    """A configuration file or option is invalid."""


class OutputError(BaresoilError):
    """An output cannot be written."""
