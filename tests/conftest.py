import pytest
from hypothesis import settings

# Property tests draw few examples (the suite stays fast) and have no deadline (numba compiles on the
# first call).  `make test` runs the "gate" profile: the same examples on every run, so the gate cannot
# pass on one run and fail on the next; plain `pytest` draws new ones each time and remembers failures.
settings.register_profile("default", max_examples=25, deadline=None)
settings.register_profile("gate", max_examples=25, deadline=None, derandomize=True, database=None)
settings.load_profile("default")


@pytest.fixture(autouse=True)
def _local_dask_scheduler():
    """Tests run on the synchronous-free default threaded scheduler unless they set a cluster."""
    import dask

    with dask.config.set(scheduler="threads"):
        yield
