"""Secrets are masked in every text that leaves the process."""

import logging
import warnings

import pytest

from baresoil.redact import MASK, RETRIES, install, redact, redact_value, register_secret

SAS = "st=2024-01-01T00%3A00%3A00Z&se=2024-01-02&sp=rl&sv=2021-06-08&sr=c&skoid=abc&sig=SeCrEt%2Bsig%3D"


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        (
            f"https://acc.blob.core.windows.net/c/B04.tif?{SAS}",
            ["SeCrEt", "skoid=abc"],
            ["B04.tif?st=", "&sig="],
        ),
        ("s3://b/k.tif?X-Amz-Credential=AKIAX%2F&X-Amz-Signature=deadbeef", ["AKIAX", "deadbeef"], ["k.tif"]),
        (
            "https://alice:pa55word@host.example/stac/catalog.json",
            ["alice", "pa55word"],
            ["host.example/stac"],
        ),
        ("B11.tif?sig=abc, band 1: IReadBlock failed", ["abc"], ["B11.tif?sig=", "band 1: IReadBlock"]),
        ("headers {'Authorization': 'Bearer eyJhbGciOi.xyz'}", ["eyJhbGciOi"], ["Authorization"]),
        ("X-Api-Key: k-123456", ["k-123456"], ["X-Api-Key"]),
        ("/c.json?sig=SECRET&i=1': Retrying", ["SECRET"], ["/c.json?sig="]),
    ],
)
def test_secrets_are_masked_and_names_kept(text, gone, kept):
    out = redact(text)
    for secret in gone:
        assert secret not in out, out
    for part in kept:
        assert part in out, out
    assert MASK in out


def test_text_without_secrets_is_unchanged():
    text = "item S2A_32UPU_20210601_0_L2A: band B11 cannot be read (/data/s1/B11.tif): truncated? yes"
    assert redact(text) == text


def test_a_registered_secret_is_masked_anywhere():
    register_secret("tok-0123456789abcdef")
    assert "tok-0123456789abcdef" not in redact("the token tok-0123456789abcdef expired")
    register_secret("short")  # too short to be told from words: ignored
    assert redact("a short word") == "a short word"


def test_values_in_json_like_structures_are_redacted():
    value = {"href": "http://h/x.tif?sig=S3CR3T", "list": ["https://u:p4ss@h/"], "n": 3}
    out = redact_value(value)
    assert "S3CR3T" not in str(out) and "p4ss" not in str(out) and out["n"] == 3


def test_log_records_and_warnings_are_redacted(caplog, capsys):
    install()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("some.library").error("cannot open %s", "http://h/a.tif?sig=TOPSECRET1")
    assert "TOPSECRET1" not in caplog.text
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("reading http://h/a.tif?sig=TOPSECRET2 is slow", UserWarning, stacklevel=1)
    assert "TOPSECRET2" not in capsys.readouterr().err


def test_library_retry_chatter_is_counted_not_logged(caplog):
    install()
    before = RETRIES["gdal"]
    with caplog.at_level(logging.WARNING):
        logging.getLogger("rasterio._env").warning(
            "CPLE_AppDefined in HTTP error code: 503 - http://h/a.tif?sig=x. Retrying again in 0.5 secs"
        )
    assert RETRIES["gdal"] == before + 1
    assert "Retrying" not in caplog.text
