"""How a failed read of a COG over HTTP is classed: retried until the deadline, read again a few times,
or left out at once."""

import pytest

from baresoil.cube.reader import NETWORK, SHORT_READ, fault_kind


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("HTTP response code: 503", NETWORK),
        ("CURL error: Connection reset by peer", NETWORK),
        ("Operation timed out after 5000 milliseconds", NETWORK),
        ("/vsicurl/http://h/B11.tif, band 1: IReadBlock failed at X offset 0, Y offset 0", SHORT_READ),
        # a connection dropped while GDAL read the header: found by bench_production under 10 % faults
        ("B02.tif: /vsicurl/http://127.0.0.1:41673/s/B02.tif:Cannot read TIFF header", SHORT_READ),
        # GDAL's words when the first answer broke off (bench_production, 10 % faults): GDAL could not open it
        ("'/vsicurl/http://h/B02.tif' not recognized as being in a supported file format.", SHORT_READ),
        ("'/vsicurl/http://h/B02.tif' does not exist in the file system, and is not recognized", SHORT_READ),
        ("HTTP response code: 404", None),
        ("HTTP response code: 403", None),
        ("Permission denied", None),
    ],
)
def test_failures_are_classed_by_what_may_pass(reason, kind):
    assert fault_kind(reason) == kind
