import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _local_dask_scheduler():
    """Tests run on the synchronous-free default threaded scheduler unless they set a cluster."""
    import dask

    with dask.config.set(scheduler="threads"):
        yield
