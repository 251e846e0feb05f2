"""QGIS styles: classes in physical units, month classes for dates, the registry's class colours.

The parsing tests read the ``.qml`` the way QGIS applies it (QGIS applies the COG's scale and
offset first, then a discrete ramp gives a value the colour of the first class whose bound it
does not exceed).  The rendering test has QGIS itself draw the layers, where QGIS is installed.
"""

import json
import os
import subprocess
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from baresoil.grid import geobox_for_bounds
from baresoil.io.cog import LayerOutput, write_layers
from baresoil.products.registry import CLASS_COLOURS, layer, yydoy

GEOBOX = geobox_for_bounds((4_400_000, 2_780_000, 4_400_000 + 20 * 40, 2_780_000 + 20 * 20), 20)
RENDER_SCRIPT = Path(__file__).with_name("qgis_render.py")
QGIS_PYTHONS = (os.environ.get("QGIS_PYTHON", ""), "/usr/bin/python3")
"""Pythons that may have QGIS (Debian's python3-qgis is for the system Python)."""


def _columns(values):
    """A raster whose columns take the given values (rows identical)."""
    return np.tile(np.asarray(values, dtype=float), (GEOBOX.height, 1))


def _layer_values():
    """Known physical values of each layer, one per column."""
    dates = [yydoy(date(2022, 4, 10)) + round(k * 200 / 39) for k in range(40)]  # 10 April … 27 October 2022
    cpmch = _columns(dates)
    cpmch[:4] = 65532  # no season
    cpmch[4:6] = 0  # no annual cropland
    return {
        "BSF": _columns(np.linspace(0, 100, 40)),
        "PVIR2_THR": _columns(np.linspace(0.15, 0.25, 40)),
        "MASK": _columns(np.repeat([1.0, 2.0, 3.0, np.nan], 10)),
        "CPMCH": cpmch,
        "FIRST_BARE": _columns(np.linspace(60, 300, 40).round()),
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("styles")
    values = _layer_values()
    outputs = [
        LayerOutput(code, xr.DataArray(da.from_array(v, chunks=256), dims=("y", "x")), folder / f"{code}.tif")
        for code, v in values.items()
    ]
    paths = write_layers(outputs, GEOBOX)
    return {code: path for code, path in zip(values, paths, strict=True)}, values


def _ramp(tif):
    """(upper bound, label, colour) of the discrete classes of a style, in order."""
    root = ElementTree.parse(tif.with_suffix(".qml")).getroot()
    shader = root.find(".//colorrampshader")
    assert shader is not None and shader.get("colorRampType") == "DISCRETE"
    return [(float(i.get("value")), i.get("label"), i.get("color")) for i in shader.findall("item")]


def _colour_of(items, value):
    """The colour QGIS gives a physical value under a discrete ramp."""
    return next(colour for bound, _, colour in items if value <= bound)


def test_ramps_of_scaled_layers_are_in_physical_units(written):
    paths, values = written
    for code, unit in (("BSF", " %"), ("PVIR2_THR", "")):
        items = _ramp(paths[code])
        row = values[code][0]
        bounds = [bound for bound, _, _ in items[:-1]]
        assert row.min() < bounds[0] and bounds[-1] < row.max(), (code, bounds)  # within the values
        colours = {_colour_of(items, v) for v in row}
        assert len(colours) >= 4, code  # stored-value bounds (0 … 10000) would paint all one colour
        assert items[0][1] == f"≤ {bounds[0]:g}{unit}" and items[-1][1].startswith(">")
    bsf = [label for _, label, _ in _ramp(paths["BSF"])]
    assert bsf[1] == "20 – 40 %"  # round bounds, in percent
    assert _ramp(paths["PVIR2_THR"])[0][1] == "≤ 0.16"


def test_date_layers_have_a_class_per_month_labelled_as_dates(written):
    paths, _ = written
    items = _ramp(paths["CPMCH"])
    months = [label for _, label, _ in items if not label[0].isdigit()]
    assert months == ["≤ Apr 2022", "May 2022", "Jun 2022", "Jul 2022", "Aug 2022", "Sep 2022", "≥ Oct 2022"]
    august = next(bound for bound, label, _ in items if label == "Aug 2022")
    assert august == yydoy(date(2022, 8, 31))
    assert _colour_of(items, yydoy(date(2022, 8, 15))) == next(
        c for _, label, c in items if label == "Aug 2022"
    )
    greys = layer("CPMCH").flag_colours()
    assert _colour_of(items, 65532) == greys[65532] and _colour_of(items, 0) == greys[0]
    assert "65532: no season could be delineated" in [label for _, label, _ in items]
    doy = [label for _, label, _ in _ramp(paths["FIRST_BARE"])]
    assert doy == ["≤ Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "≥ Oct"]  # days of year 60 … 300


def test_the_range_of_dates_is_of_dates_that_occur(tmp_path):
    """Quantiles of YYDOY values are taken among the values: between 21300 and 22050 lies no date."""
    from baresoil.io.styles import physical_range

    values = np.full(GEOBOX.shape, 22050.0)  # 3 February 2022
    values.flat[:16] = 21300  # 27 October 2021
    values.flat[16:40] = np.nan  # 776 values: the 2 % quantile lies halfway between the two dates
    tif = tmp_path / "CPMCE.tif"
    write_layers([LayerOutput("CPMCE", xr.DataArray(da.from_array(values), dims=("y", "x")), tif)], GEOBOX)
    lo, hi = physical_range(layer("CPMCE"), tif)
    assert lo in (21300, 22050) and hi >= lo  # interpolated, it would be 21675: day 675 of 2021


def test_a_winter_to_summer_span_has_months_across_the_new_year():
    from baresoil.io.styles import qml

    root = ElementTree.fromstring(qml(layer("CPMCE"), (yydoy(date(2021, 9, 20)), yydoy(date(2022, 5, 10)))))
    labels = [i.get("label") for i in root.iter("item") if not i.get("label")[0].isdigit()]
    assert (
        labels[:5] == ["≤ Sep 2021", "Oct 2021", "Nov 2021", "Dec 2021", "Jan 2022"]
        and labels[-1] == "≥ May 2022"
    )
    long = ElementTree.fromstring(qml(layer("CPMCE"), (yydoy(date(2019, 1, 5)), yydoy(date(2023, 12, 1)))))
    assert sum(1 for i in long.iter("item") if not i.get("label")[0].isdigit()) <= 24  # months grouped


def test_a_few_whole_numbers_get_a_class_each():
    from baresoil.io.styles import qml

    items = [(float(i.get("value")), i.get("label"), i.get("color"))
             for i in ElementTree.fromstring(qml(layer("VOBS"), (3, 9))).iter("item")]  # fmt: skip
    assert [label for _, label, _ in items] == ["≤ 3", "4", "5", "6", "7", "8", "≥ 9"]
    assert len({_colour_of(items, v) for v in range(3, 10)}) == 7


def test_class_layers_get_the_registry_palette(written):
    paths, _ = written
    root = ElementTree.parse(paths["MASK"].with_suffix(".qml")).getroot()
    renderer = root.find(".//rasterrenderer")
    assert renderer.get("type") == "paletted"
    entries = [(int(e.get("value")), e.get("color"), e.get("label")) for e in root.iter("paletteEntry")]
    assert entries == [
        (1, CLASS_COLOURS[0], "1 bare surface"),
        (2, CLASS_COLOURS[1], "2 permanent vegetation"),
        (3, CLASS_COLOURS[2], "3 other surfaces (built-up, water)"),
    ]
    assert {v: c for v, c, _ in entries} == layer("MASK").class_colours()


def _qgis_python():
    for python in filter(None, QGIS_PYTHONS):
        try:
            found = subprocess.run([python, "-c", "import qgis.core"], capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if found.returncode == 0:
            return python
    return None


@pytest.fixture(scope="module")
def rendered(written):
    python = _qgis_python()
    if python is None:
        pytest.skip(
            "QGIS is not installed (Debian: apt-get install python3-qgis, or set QGIS_PYTHON to a Python "
            "with QGIS); the parsing tests check the same styles"
        )
    paths, _ = written
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(paths["BSF"].parent)}
    done = subprocess.run(
        [python, str(RENDER_SCRIPT), *(str(p) for p in paths.values())],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {Path(k).stem: v for k, v in json.loads(done.stdout).items()}


def _pixel(result, column):
    return result["pixels"][GEOBOX.height // 2][column]


def test_qgis_renders_scaled_layers_with_many_colours(rendered, written):
    _, values = written
    for code in ("BSF", "PVIR2_THR"):
        result = rendered[code]
        assert result["renderer"] == "singlebandpseudocolor"
        row = result["pixels"][GEOBOX.height // 2]
        assert len(set(row)) >= 4, code
        legend = dict(result["legend"])
        for column in (0, 20, 39):
            value = values[code][0, column]
            label = next(lb for lb, _ in result["legend"] if _in_class(lb, value))
            assert _pixel(result, column) == legend[label] + "ff", (code, value, label)


def _in_class(label, value):
    numbers = [float(t) for t in label.replace("%", "").replace("≤", "").replace(">", "").split(" – ")]
    if label.startswith("≤"):
        return value <= numbers[0]
    if label.startswith(">"):
        return value > numbers[0]
    return numbers[0] < value <= numbers[1]


def test_qgis_renders_classes_in_the_registry_colours_with_the_attribute_table(rendered):
    result = rendered["MASK"]
    assert result["renderer"] == "paletted"
    colours = layer("MASK").class_colours()
    assert [_pixel(result, c) for c in (0, 10, 20)] == [colours[v] + "ff" for v in (1, 2, 3)]
    assert _pixel(result, 35).endswith("00")  # nodata transparent
    header, *rows = result["rat"]
    assert header == ["Value", "Class", "Red", "Green", "Blue", "Alpha"]
    assert [row[:2] for row in rows] == [[str(v), name] for v, name in layer("MASK").classes.items()]


def test_qgis_renders_dates_by_month_and_flags_in_grey(rendered, written):
    _, values = written
    result = rendered["CPMCH"]
    legend = dict(result["legend"])
    assert "Aug 2022" in legend and not any(label.startswith("≤ 2") for label in legend)
    august = next(
        c for c in range(40) if date(2022, 8, 1) <= _as_date(values["CPMCH"][-1, c]) <= date(2022, 8, 31)
    )
    assert result["pixels"][-1][august] == legend["Aug 2022"] + "ff"
    assert result["pixels"][0][0] == layer("CPMCH").flag_colours()[65532] + "ff"


def _as_date(value):
    from baresoil.products.registry import decode_yydoy

    return decode_yydoy(value)
