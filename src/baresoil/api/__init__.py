"""baresoil as an openEO back-end: ``baresoil serve``.

A layer above :mod:`baresoil.pipeline`: process graphs are translated into the same
pipeline calls the command line makes (``run_composite``, ``run_product``), jobs are
kept in a SQL store under the server's folder and run on the same dask scheduler.
"""
