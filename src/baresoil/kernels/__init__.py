"""Pure numpy/numba kernels over plain arrays (time first, NaN for missing).

Nothing here imports xarray or dask or does I/O; the labelled, dask-aware
wrappers live with the stages that use them (``cube``, ``products``).
"""
