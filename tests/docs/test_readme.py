"""The README and the manuals say what the code does: the Python example runs as written after
`make demo`, item names carry the resolution their family writes, readers return the shapes stated."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from baresoil.config import PRODUCT_DEFAULTS, load_config

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(), re.DOTALL | re.MULTILINE)


def demo_folder() -> str:
    """Where `make demo` writes (the Makefile's DEMO); the demo puts its world in DEMO/simulation."""
    match = re.search(r"^DEMO\s*\?=\s*(\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, "no DEMO folder in the Makefile"
    return match.group(1)


@pytest.mark.slow
def test_the_readme_python_example_runs_as_written_after_make_demo(tmp_path, monkeypatch):
    from baresoil.simulate import WorldSpec, simulate

    (example,) = python_blocks(ROOT / "README.md")
    # the demo's world (seed 42, the same place), small and short: the example's tile and period hold it
    simulate(tmp_path / demo_folder() / "simulation", WorldSpec(size_m=600, start=date(2021, 5, 1),
                                                                end=date(2021, 6, 30)))  # fmt: skip
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    cube = namespace["cube"]
    assert isinstance(cube, xr.Dataset)
    assert {"B02", "B04", "B12", "SCL", "clear", "snow"} <= set(cube.data_vars)
    assert cube.B04.dims == ("time", "y", "x") and cube.sizes["time"] > 0
    median = cube.B04.where(cube.clear).median("time").compute()
    assert 0 < float(median.mean()) < 0.5  # reflectance, not digital numbers


EEA_TILE = re.compile(r"_(E\d+N\d+|<TILE>|\{tile\})_")
ITEM_ID = re.compile(r"\b(observations|soilsuite|seasons|parcels|soil)_[\w{},-]+?_R(\d+)m\b")


def test_item_names_in_the_docs_carry_their_family_resolution():
    """``parcels_…_R10m``: the parcel and season families default to 10 m (``PRODUCT_DEFAULTS``), the
    others to 20 m (soil maps on the grid of the 20 m composites; a soil map on the grid of a raster,
    ``soil_dist_R40m``, has no tile in its name and the raster's resolution)."""
    found = 0
    for page in PAGES:
        for match in ITEM_ID.finditer(page.read_text()):
            family, resolution = match.group(1), float(match.group(2))
            if family == "soil" and not EEA_TILE.search(match.group(0)):
                continue
            product = family if family in PRODUCT_DEFAULTS else None
            expected = load_config(product=product).cube.resolution
            where = f"{page.relative_to(ROOT)}: {match.group(0)}"
            assert resolution == expected, f"{where} (the family's default: {expected:g} m)"
            found += 1
    assert found > 10


def test_read_layer_returns_the_shapes_the_docs_state(tmp_path):
    """One band: (rows, cols); several: (bands, rows, cols); as the manuals' comments say."""
    from baresoil.grid import geobox_for_bounds
    from baresoil.io.cog import LayerOutput, read_layer, write_layers
    from baresoil.products import soilsuite  # noqa: F401  (registers the layers)

    geobox = geobox_for_bounds((4_400_000, 2_700_000, 4_400_640, 2_700_480), 20)
    rows, cols = geobox.shape
    coords = {"y": geobox.coords["y"].values, "x": geobox.coords["x"].values}
    bsf = xr.DataArray(np.full((rows, cols), 12.5), coords=coords, dims=("y", "x"))
    src = xr.DataArray(np.full((10, rows, cols), 0.1), coords=coords, dims=("band", "y", "x"))
    paths = write_layers([LayerOutput("BSF", bsf, tmp_path / "BSF.tif"),
                          LayerOutput("SRC_MEAN", src, tmp_path / "SRC_MEAN.tif")], geobox)  # fmt: skip
    assert read_layer(paths[0])[0].shape == (rows, cols)
    assert read_layer(paths[1])[0].shape == (10, rows, cols)
    outputs = (ROOT / "docs" / "outputs.md").read_text()
    assert "# (rows, cols) float, '%'" in outputs
    soilsuite_manual = (ROOT / "docs" / "soilsuite" / "manual.md").read_text()
    assert "# (10, rows, cols) reflectance" in soilsuite_manual


def test_the_docs_say_which_layers_get_a_qgis_style(tmp_path):
    """Single-band layers get a ``.qml``; multi-band composites none (QGIS shows them in colour)."""
    from baresoil.grid import geobox_for_bounds
    from baresoil.io.cog import LayerOutput, write_layers
    from baresoil.io.styles import write_layer_style
    from baresoil.products import soilsuite  # noqa: F401  (registers the layers)

    geobox = geobox_for_bounds((4_400_000, 2_700_000, 4_400_320, 2_700_320), 20)
    coords = {"y": geobox.coords["y"].values, "x": geobox.coords["x"].values}
    mask = xr.DataArray(np.ones(geobox.shape), coords=coords, dims=("y", "x"))
    src = xr.DataArray(np.full((10, *geobox.shape), 0.1), coords=coords, dims=("band", "y", "x"))
    outputs = [
        LayerOutput("MASK", mask, tmp_path / "MASK.tif"),
        LayerOutput("SRC_MEAN", src, tmp_path / "S.tif"),
    ]
    mask_tif, src_tif = write_layers(outputs, geobox)
    assert write_layer_style("MASK", mask_tif) == tmp_path / "MASK.qml"
    assert write_layer_style("SRC_MEAN", src_tif) is None
    page = " ".join((ROOT / "docs" / "outputs.md").read_text().split())
    assert "`.qml` of every single-band layer" in page
