"""The package's layers import one way, as the data flows: catalog → cube → products → pipeline → cli, with
kernels and the layer registry as leaves and io beside products (neither imports the other).

Each module may import from its own layer and from the layers ranked below it, never above.  Above
them all, outside the package, is the repository tooling (``tools/``: the docs generator reads every
layer, the CLI included); the package never imports it, and ``baresoil docs`` runs it in a child
interpreter.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "baresoil"

RANK = {
    name: rank
    for rank, names in enumerate(
        [
            ("registry", "kernels"),  # leaves: layer encodings; pure numpy/numba kernels
            (
                "errors",
                "redact",
                "parallelism",
                "spans",
                "lazy",
            ),  # foundations: error types, secrets kept out of every message, threads, time spans, façades
            ("grid",),
            ("config",),
            ("catalog",),
            ("inputs", "simulate"),
            ("cube",),
            ("products", "io"),
            ("pipeline",),
            ("api",),  # the openEO service over the pipeline
            ("cli",),
        ]
    )
    for name in names
}
"""Each top-level module or sub-package of ``baresoil`` and its rank (lower ranks are imported)."""

SIBLINGS = {frozenset({"products", "io"})}
"""Layers of one rank that never import each other: products compute, io writes what pipeline hands it."""


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(path: Path, module: str) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n for n in names if n.startswith("baresoil")}
    return found


def _modules() -> list[tuple[Path, str]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((path, module))
    return out


def test_every_layer_of_the_package_has_a_rank():
    layers = {_layer(m) for _, m in _modules()} - {""}
    assert layers <= set(RANK), f"give these a rank: {sorted(layers - set(RANK))}"


def _upward(module: str, target: str) -> bool:
    """Whether ``module`` importing ``target`` goes against the flow."""
    source, layer = _layer(module), _layer(target)
    if target in ("baresoil", "baresoil.__version__") or layer == source:
        return False
    if layer not in RANK:
        return True  # a name taken from the package root (its façade) other than __version__
    if frozenset({source, layer}) in SIBLINGS:
        return True
    return RANK[layer] > RANK[source]


def test_the_check_sees_an_import_against_the_flow():
    assert _upward("baresoil.io.cog", "baresoil.products.soilsuite")
    assert _upward("baresoil.products.soilsuite", "baresoil.io.cog")
    assert _upward("baresoil.cube.load", "baresoil.products.soilsuite")
    assert _upward("baresoil.kernels.cover", "baresoil.config")
    assert _upward("baresoil.io.report", "baresoil.open_cube")
    assert not _upward("baresoil.io.cog", "baresoil.registry")
    assert not _upward("baresoil.io.stac", "baresoil.__version__")


@pytest.mark.parametrize(("path", "module"), _modules(), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_go_one_way(path, module):
    if not _layer(module):
        return  # the package's own __init__: the public façade over every layer
    upward = sorted(t for t in _imports(path, module) if _upward(module, t))
    assert not upward, f"{module} ({_layer(module)}) imports from layers above it: {upward}"


TOOLING_RUNNER = PACKAGE / "cli" / "docs.py"
"""The one module that names the repository tooling: `baresoil docs` runs ``python -m tools.docs``."""


def _tooling_references(path: Path) -> tuple[list[str], list[str]]:
    """(imports of ``tools``, string constants naming it) in one module: ``import tools.docs``,
    ``from tools import docs``; ``"tools.docs"`` (what importlib, runpy or ``python -m`` would take)."""

    def tooling(name: str) -> bool:
        return name.split(".")[0] == "tools"

    imports, names = [], []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imports += [a.name for a in node.names if tooling(a.name)]
        elif isinstance(node, ast.ImportFrom) and not node.level and tooling(node.module or ""):
            imports.append(node.module or "")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and tooling(node.value):
            names.append(node.value)
    return imports, names


def test_the_tooling_check_sees_an_import_or_a_name(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import toolsy\nfrom tools.docs import build\ndef f():\n    import tools.docs\n"
        "importlib.import_module('tools.docs.build')\nprint('tools/docs')\n"
    )
    assert _tooling_references(module) == (["tools.docs", "tools.docs"], ["tools.docs.build"])


@pytest.mark.parametrize(("path", "module"), _modules(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_package_never_imports_the_repository_tooling(path, module):
    imports, names = _tooling_references(path)
    assert not imports, f"{module} imports repository tooling {imports}: it is not installed with the package"
    if path == TOOLING_RUNNER:
        assert names == ["tools.docs"], "cli/docs.py runs `python -m tools.docs` in a child interpreter"
    else:
        assert not names, f"{module} names repository tooling {names}: only cli/docs.py runs it"


def test_importing_every_command_loads_no_repository_tooling():
    """At run time too: the whole CLI built, `baresoil docs` included, and no ``tools`` module loaded."""
    code = (
        "import sys; from baresoil.cli.main import build_app; build_app(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'tools'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


DASK_ADAPTER = PACKAGE / "products" / "apply.py"
"""The one module of ``products`` that builds dask graphs: every product reaches its kernels through it."""


def _imports_dask(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "dask"]
        elif (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and (node.module or "").split(".")[0] == "dask"
        ):
            found.append(node.module or "")
    return found


def test_the_dask_check_sees_an_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import numpy\nfrom dask import delayed\nif True:\n    import dask.array as da\n")
    assert _imports_dask(module) == ["dask", "dask.array"]


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "products").rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_only_the_adapter_imports_dask_in_products(path):
    if path == DASK_ADAPTER:
        assert _imports_dask(path), "products/apply.py is the adapter: it should be the one to use dask"
        return
    assert not _imports_dask(path), f"{path.relative_to(PACKAGE)} imports dask: go through products/apply.py"


NEIGHBOURHOOD_NAMES = {"map_neighbourhood", "map_overlap"}
"""Neighbourhood operations that build graphs (``cube.blocks``'s, and dask's or any library's own), which
only the adapter may use in ``products``: a product reaches them through ``apply.per_neighbourhood``
(or ``per_chunk``'s ``depth``)."""
BLOCKS_MODULE = "baresoil.cube.blocks"


def _neighbourhood_uses(path: Path, module: str) -> list[str]:
    """Imports of ``cube.blocks`` and uses of the names in ``NEIGHBOURHOOD_NAMES``, however reached."""
    found = [t for t in _imports(path, module) if t == BLOCKS_MODULE or t.startswith(BLOCKS_MODULE + ".")]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            # `from ..cube import blocks` resolves to baresoil.cube only: look at the names taken too
            found += [a.name for a in node.names if a.name in NEIGHBOURHOOD_NAMES | {"blocks"}]
        elif isinstance(node, ast.Attribute) and node.attr in NEIGHBOURHOOD_NAMES:
            found.append(node.attr)
        elif isinstance(node, ast.Name) and node.id in NEIGHBOURHOOD_NAMES:
            found.append(node.id)
    return found


def test_the_neighbourhood_check_sees_every_way_in(tmp_path):
    package = tmp_path / "products"
    package.mkdir()
    module = package / "m.py"
    module.write_text(
        "from ..cube.blocks import map_neighbourhood\nfrom ..cube import blocks\n"
        "x = blocks.map_neighbourhood\ny = array.map_overlap\n"
    )
    found = _neighbourhood_uses(module, "baresoil.products.m")
    assert found.count("map_neighbourhood") == 2
    assert {BLOCKS_MODULE, "blocks", "map_overlap"} <= set(found)
    module.write_text("from .apply import per_neighbourhood\nz = per_neighbourhood\n")
    assert _neighbourhood_uses(module, "baresoil.products.m") == []


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "products").rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_only_the_adapter_builds_neighbourhoods_in_products(path):
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    uses = _neighbourhood_uses(path, module)
    if path == DASK_ADAPTER:
        assert uses, "products/apply.py is the adapter: it should be the one to build neighbourhoods"
        return
    assert not uses, (
        f"{path.relative_to(PACKAGE)} uses {uses}: go through products/apply.py (per_neighbourhood)"
    )


EAGER_METHODS = {"compute", "persist"}
"""Methods that run a graph; in ``products`` only the adapter calls them (``apply.compute``,
``apply.at_pixels``), so that every computation of a product goes through one place."""


def _eager_calls(path: Path) -> list[str]:
    """Calls of ``<x>.compute(...)`` or ``.persist(...)``, with their line (``apply.compute`` is fine)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in EAGER_METHODS
            and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "apply")
        ):
            found.append(f"line {node.lineno}: .{node.func.attr}(")
    return found


def test_the_eager_check_sees_a_compute(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "a = x.compute()\nb = np.asarray(cube.sel(x=1).persist())\nc = compute(x)\nd = apply.compute(x)\n"
    )
    assert _eager_calls(module) == ["line 1: .compute(", "line 2: .persist("]


@pytest.mark.parametrize(
    "path", sorted((PACKAGE / "products").rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_only_the_adapter_computes_in_products(path):
    if path == DASK_ADAPTER:
        return  # the adapter computes through dask.compute, the one place that does
    calls = _eager_calls(path)
    assert not calls, f"{path.relative_to(PACKAGE)} computes itself ({calls}): go through products/apply.py"
