"""Repository tooling: code that works on this source checkout (its docs/, its recorded benchmarks)
rather than on satellite data.  Not installed with ``baresoil``; run from the repository root
(``python -m tools.docs``), where it is importable as ``tests`` is."""
