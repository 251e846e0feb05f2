"""Moved to :mod:`baresoil.registry` (a leaf the io layer reads too); kept while branches move over."""

from ..registry import *  # noqa: F403
from ..registry import __all__ as __all__
