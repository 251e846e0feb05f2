import pytest


@pytest.fixture(autouse=True)
def _local_dask_scheduler():
    """Tests run on the synchronous-free default threaded scheduler unless they set a cluster."""
    import dask

    with dask.config.set(scheduler="threads"):
        yield
