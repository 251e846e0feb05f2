"""Every registered layer's encoding, drawn by hypothesis: measurements survive encode → decode to the
layer's precision, flags and nodata pass through as themselves, and nothing else becomes one of them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import baresoil.products  # noqa: F401 - registers every product family's layers
from baresoil.registry import Layer, layer, layers

GENERIC_SOIL = "OM_Q50"
"""A layer made at run time (a soil property named by the user: float32)."""


def _encodings() -> dict[str, Layer]:
    """One layer per distinct encoding (dtype, nodata, scale, offset, flags), named by the first and last
    of the codes that share it."""
    groups: dict[tuple[object, ...], list[Layer]] = {}
    for spec in [*layers(), layer(GENERIC_SOIL)]:
        key = (spec.dtype, spec.nodata, spec.scale, spec.offset, tuple(sorted(spec.flags)))
        groups.setdefault(key, []).append(spec)
    return {"..".join(dict.fromkeys([group[0].code, group[-1].code])): group[0] for group in groups.values()}


ENCODINGS = _encodings()
LAYERS = list(ENCODINGS.values())


def _reserved(spec: Layer) -> set[float]:
    return {float(spec.nodata), *map(float, spec.flags)}


def _measurements(spec: Layer) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """(physical values, the stored values they must encode to): a stored value anywhere within the
    layer's limits that is no flag or nodata, plus less than half a step."""
    low, high = spec.stored_limits()
    reserved = _reserved(spec)
    if np.dtype(spec.dtype).kind == "f":
        finite = st.floats(low, high, width=32, allow_nan=False).filter(lambda v: v not in reserved)
        return st.lists(finite, min_size=1, max_size=20).map(
            lambda v: (np.array(v, np.float64), np.array(v, spec.dtype))
        )
    stored = st.integers(int(low), int(high)).filter(lambda s: float(s) not in reserved)
    off_grid = st.floats(-0.49, 0.49)  # rint rounds halves to even: stay clear of them
    pairs = st.lists(st.tuples(stored, off_grid), min_size=1, max_size=20)
    return pairs.map(
        lambda p: (
            np.array([(s + f) * spec.scale + spec.offset for s, f in p]),
            np.array([s for s, _ in p], spec.dtype),
        )
    )


@pytest.mark.parametrize("spec", LAYERS, ids=list(ENCODINGS))
@given(data=st.data())
def test_a_measurement_survives_encode_and_decode_to_the_layers_precision(spec, data):
    values, expected = data.draw(_measurements(spec))
    stored = spec.encode(values)
    assert stored.dtype == np.dtype(spec.dtype)
    np.testing.assert_array_equal(stored, expected)
    decoded = spec.decode(stored)
    assert np.isfinite(decoded).all()
    if np.dtype(spec.dtype).kind == "f":
        np.testing.assert_array_equal(decoded, values.astype(np.float32))
    else:
        tolerance = spec.scale / 2 * (1 + 1e-6)
        assert np.all(np.abs(decoded - values) <= tolerance), (values, decoded)


@pytest.mark.parametrize("spec", LAYERS, ids=list(ENCODINGS))
@given(data=st.data())
def test_only_nodata_and_the_registry_flags_decode_to_no_value(spec, data):
    """A stored value is missing after decoding exactly when it is the nodata or a flag of the registry;
    a missing measurement (NaN) is written as nodata and a flag code as itself."""
    kind = np.dtype(spec.dtype).kind
    if kind == "f":
        stored = data.draw(st.lists(st.floats(width=32, allow_nan=False), min_size=1, max_size=20))
    else:
        info = np.iinfo(spec.dtype)
        codes = sorted(_reserved(spec))
        anywhere = st.integers(int(info.min), int(info.max))
        stored = data.draw(st.lists(st.one_of(st.sampled_from(codes), anywhere), min_size=1, max_size=20))
    stored_array = np.array(stored, spec.dtype)
    missing = np.isnan(spec.decode(stored_array))
    np.testing.assert_array_equal(missing, np.isin(stored_array.astype(np.float64), list(_reserved(spec))))
    flags = np.array(sorted(spec.flags), np.float64)
    written = spec.encode(np.concatenate([flags, [np.nan]]))
    np.testing.assert_array_equal(written, np.array([*flags, spec.nodata]).astype(spec.dtype))


INTEGER = {codes: spec for codes, spec in ENCODINGS.items() if np.dtype(spec.dtype).kind != "f"}


@pytest.mark.parametrize("spec", list(INTEGER.values()), ids=list(INTEGER))
@given(value=st.floats(-1e9, 1e9))
def test_no_measurement_is_written_as_a_flag_or_nodata_however_far_out_of_range(spec, value):
    """Beyond the limits a value is clipped to the nearest one, never onto a code that means something
    else (a bare-soil day count of 0 would read as "no annual cropland", 65535 as no data)."""
    if value in spec.flags:
        return  # flag codes pass through as themselves (above)
    stored = float(spec.encode(np.array([value]))[0])
    assert stored not in _reserved(spec), (value, stored)
    low, high = spec.stored_limits()
    assert low <= stored <= high
