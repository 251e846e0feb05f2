"""The product documentation in docs/, kept true by construction.

Hand-written Markdown pages (algorithm descriptions, user manuals, getting
started) hold generated blocks between marker comments: the encoding tables
from the product registry, the configuration defaults from ``config.py``, the
command options from the CLI, and family facts (season windows, soil
properties, parcel columns).  The quality reports in docs/quality/ are
generated whole from the benchmarks' recorded figures.  ``make docs`` (that is,
``python -m tools.docs`` from the repository root, or ``baresoil docs`` in a
source checkout) rebuilds them; ``--check`` only reports stale pages.

Repository tooling, not part of the installed package: it reads every layer of
``baresoil`` (the CLI included) to document it, so it sits above them all, outside
``src/`` (docs/architecture.md).
"""

from .blocks import DocsError, fill
from .build import generate, render

__all__ = ["DocsError", "fill", "generate", "render"]
