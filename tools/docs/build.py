"""Build docs/: fill the generated blocks of the hand-written pages and write the quality reports.

``generate(root)`` renders every page of ``root/docs`` and writes those that
changed; with ``check=True`` it writes nothing and returns the pages that
differ from what the code and the recorded benchmarks produce now (the test
suite calls it so, and fails on stale documentation).
"""

from __future__ import annotations

import os
from pathlib import Path

from . import families, tables
from .blocks import DocsError, Renderer, fill
from .quality import PAGES, load_results, quality_page

RENDERERS: dict[str, Renderer] = {
    "layers": tables.layers_table,
    "values": tables.values_table,
    "stac": tables.stac_table,
    "config": tables.config_table,
    "product-defaults": tables.product_defaults_table,
    "cli": tables.cli_table,
    "processes": tables.processes_table,
    "signature": tables.signature_table,
    "constants": tables.constants_table,
    "stac-layouts": families.stac_layouts,
    "seasons-windows": families.seasons_windows,
    "seasons-files": families.seasons_files,
    "soil-properties": families.soil_properties,
    "parcels-features": families.parcels_features,
    "parcels-columns": families.parcels_columns,
    "parcels-products": families.parcels_products,
    "world-priors": families.world_priors,
}
"""Block name -> renderer (see the ``<!-- generated: … -->`` comments in docs/)."""

QUALITY_DIR = "quality"


def _register_all_products() -> None:
    """Import every product family so that the registry holds all layers."""
    from baresoil.products import composite, observations, parcels, seasons, soilsuite  # noqa: F401
    from baresoil.products.soil import properties  # noqa: F401


def default_root() -> Path:
    """The source checkout this tooling lives in (``tools/docs`` -> the repository)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").exists() or not (root / "docs").is_dir():
        raise DocsError(f"{root}: not a baresoil source checkout with a docs/ folder (give --root)")
    return root


def render(root: Path) -> dict[Path, str]:
    """Every page of ``root/docs`` as the generator writes it now."""
    _register_all_products()
    docs = root / "docs"
    if not docs.is_dir():
        raise DocsError(f"{docs}: no such folder")
    pages: dict[Path, str] = {}
    for page in sorted(docs.rglob("*.md")):
        if page.parent == docs / QUALITY_DIR:
            continue  # wholly generated below
        pages[page] = fill(page.read_text(), RENDERERS, str(page.relative_to(root)))
    runs = load_results(root / "benchmarks" / "results")
    for family in PAGES:
        pages[docs / QUALITY_DIR / f"{family}.md"] = quality_page(family, runs)
    return pages


def generate(root: Path, check: bool = False) -> list[Path]:
    """Pages whose content differs from the generator's; written unless ``check``."""
    stale = [path for path, text in render(root).items() if not path.exists() or path.read_text() != text]
    if not check:
        pages = render(root)
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial")
            partial.write_text(pages[path])
            os.replace(partial, path)
    return stale
