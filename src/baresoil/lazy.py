"""Package façades that import each public name from its module on first use (PEP 562).

``import baresoil`` (or one of its packages) then costs none of the libraries its modules need until a
name is used: the command's start and the help texts stay quick.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def exports(package: str, defined_in: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``name`` is taken from ``package.<defined_in[name]>``,
    imported when first asked for, and kept in the package, so later look-ups do not come back here."""

    def look_up(name: str) -> Any:
        module = defined_in.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return look_up
