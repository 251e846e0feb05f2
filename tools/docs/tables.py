"""Markdown tables generated from the code: the product registry, the typed config, the command line.

Each public function renders one kind of generated block (see :mod:`.blocks`);
the documentation pages name them, e.g. ``<!-- generated: layers soilsuite -->``.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import typing
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from baresoil import config as config_module
from baresoil.config import Config
from baresoil.io.stac import raster_asset_fields
from baresoil.registry import Layer, layers

from .blocks import DocsError


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; cells are escaped for pipes and newlines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _number(value: float) -> str:
    """Scale, offset and nodata as a reader copies them: 0.0001, -32768, 65535."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:g}"


def family_layers(family: str) -> list[Layer]:
    found = [lay for lay in layers(family) if lay.listed]
    if not found:
        raise DocsError(f"no layer of family {family!r} in the product registry")
    return found


def layers_table(args: list[str]) -> str:
    """Encoding of every layer of a family: the COG tags and the STAC ``raster:bands``."""
    (family,) = args
    rows = []
    for lay in family_layers(family):
        bands = f"{lay.count}: {', '.join(lay.bands)}" if lay.bands else "1"
        rows.append(
            (
                f"`{lay.code}`",
                lay.title,
                lay.description,
                lay.dtype,
                _number(lay.nodata),
                _number(lay.scale),
                _number(lay.offset),
                lay.unit or "",
                bands,
                "drawn" if lay.quicklook else "linked",
            )
        )
    header = (
        "code (asset key)",
        "title",
        "meaning",
        "dtype",
        "nodata",
        "scale",
        "offset",
        "unit",
        "bands",
        "in the report",
    )
    note = (
        "Physical value = stored value × scale + offset, except nodata and the values of the "
        "classes and flags below."
    )
    return markdown_table(header, rows) + "\n\n" + note


def values_table(args: list[str]) -> str:
    """Class values and flags of a family's layers (flags shared by many layers listed once)."""
    (family,) = args
    family_codes = [lay.code for lay in family_layers(family)]
    parts = []
    class_rows = [
        (f"`{lay.code}`", value, name) for lay in family_layers(family) for value, name in lay.classes.items()
    ]
    if class_rows:
        parts.append("Classes:\n\n" + markdown_table(("layer", "value", "class"), class_rows))
    flags: dict[tuple[int, str], list[str]] = {}
    for lay in family_layers(family):
        for value, meaning in lay.flags.items():
            flags.setdefault((value, meaning), []).append(lay.code)
    if flags:
        rows = []
        for (value, meaning), codes in sorted(flags.items()):
            where = "all layers" if codes == family_codes else ", ".join(f"`{c}`" for c in codes)
            rows.append((value, meaning, where))
        parts.append(
            "Flags (values with a meaning of their own):\n\n"
            + markdown_table(("value", "meaning", "layers"), rows)
        )
    nodata = sorted({_number(lay.nodata) for lay in family_layers(family)})
    parts.append(f"Nodata: {', '.join(nodata)} (declared in each COG and in `raster:bands`).")
    return "\n\n".join(parts)


def stac_table(args: list[str]) -> str:
    """One asset of the family as the output items carry it (and the collection's ``item_assets``)."""
    (family,) = args
    found = family_layers(family)
    scaled = next((lay for lay in found if lay.scale != 1.0), found[0])
    chosen = next((lay for lay in found if lay.bands), scaled)  # the most telling: bands, else a scale
    fields = {"href": f"./…_{chosen.code}.tif", **raster_asset_fields(chosen)}
    fields.pop("description")
    cut = []
    for key, value in fields.items():
        if isinstance(value, list) and len(value) > 2:
            cut.append(f"`{key}`: first two of {len(value)}")
            fields[key] = value[:2]
    text = json.dumps({chosen.code: fields}, indent=2, ensure_ascii=False)
    more = f" ({'; '.join(cut)})" if cut else ""
    return (
        f"Asset `{chosen.code}` of an output item{more}, besides its `description`, `proj:*` and `file:size`:"
        f"\n\n```json\n{text}\n```"
    )


# --- the typed configuration ---------------------------------------------------------------


def _section(name: str) -> Any:
    if name == "service":  # the server's own section, read by `baresoil serve --config`
        return config_module.ServiceConfig()
    for f in dataclasses.fields(Config):
        if f.name == name:
            return getattr(Config(), name)
    raise DocsError(
        f"no config section {name!r}; known: {', '.join(f.name for f in dataclasses.fields(Config))}"
    )


def _default(value: object) -> str:
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple | dict):
        return "`" + json.dumps(value) + "`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def config_table(args: list[str]) -> str:
    """Every key of one config section: TOML key, default and meaning (config.py's own words)."""
    (name,) = args
    section = _section(name)
    docs = config_module.field_docs().get(type(section).__name__, {})
    rows = [
        (f"`{name}.{f.name}`", _default(getattr(section, f.name)), docs.get(f.name, ""))
        for f in dataclasses.fields(section)
    ]
    return markdown_table(("key", "default", "meaning"), rows)


def product_defaults_table(args: list[str]) -> str:
    """The keys a product family sets otherwise than the general defaults (``config.PRODUCT_DEFAULTS``)."""
    if args:
        raise DocsError(f"product-defaults takes no arguments, got {args}")
    general = Config()
    rows = []
    for product, values in config_module.PRODUCT_DEFAULTS.items():
        for dotted, value in values.items():
            section, _, key = dotted.partition(".")
            rows.append(
                (
                    f"`{product}`",
                    f"`{dotted}`",
                    _default(value),
                    _default(getattr(getattr(general, section), key)),
                )
            )
    return markdown_table(("product", "key", "its default", "general default"), rows)


# --- the command line ----------------------------------------------------------------------


def _command(name: str) -> Any:
    """The click command behind ``baresoil NAME`` (typer vendors its own click: duck-typed)."""
    import typer.main

    from baresoil.cli.main import app

    group: Any = typer.main.get_command(app)
    command = group.commands.get(name)
    if command is None:
        raise DocsError(f"no command {name!r}; known: {', '.join(sorted(group.commands))}")
    return command


def cli_table(args: list[str]) -> str:
    """Options of one ``baresoil`` command, from the command itself."""
    (name,) = args
    command = _command(name)
    rows = []
    for param in command.params:
        if param.param_type_name == "argument":
            rows.append((f"`{(param.metavar or param.name or 'ARG').upper()}`", _help(param), "", "argument"))
            continue
        if param.param_type_name != "option" or param.hidden:
            continue
        flags = ", ".join(f"`{o}`" for o in param.opts)
        if not param.is_flag:
            flags += f" {_metavar(param)}"
        empty = param.default is None or param.default is False or param.default == ()
        default = "" if empty or param.required else f"`{param.default}`"
        notes = ["required"] if param.required else []
        if param.multiple:
            notes.append("repeatable")
        if param.envvar:
            notes.append(f"env `{param.envvar}`")
        rows.append((flags, _help(param), default, ", ".join(notes)))
    summary = " ".join((command.help or "").split())
    return f"`baresoil {name}`: {summary}\n\n" + markdown_table(("option", "meaning", "default", ""), rows)


def _help(param: Any) -> str:
    return " ".join(str(getattr(param, "help", "") or "").split())


def _metavar(param: Any) -> str:
    """TEXT, PATH, N, X for an option's value, from its annotation (X X X X for a 4-tuple), unless the
    option names its values itself (``--bbox W S E N``)."""
    if param.metavar:
        return str(param.metavar)
    if param.nargs > 1:
        return " ".join(["X"] * param.nargs)
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", str)
    kinds = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    kind = typing.get_origin(kinds[0]) or kinds[0]
    if kind is list:
        kind = (typing.get_args(kinds[0]) or (str,))[0]
    names = {str: "TEXT", int: "N", float: "X", bool: "", Path: "PATH"}
    return names.get(kind, "VALUE")


# --- defaults and constants of the code ----------------------------------------------------


def _resolve(dotted: str) -> tuple[Any, str]:
    """``baresoil.kernels.threshold:pixel_pvir2_threshold`` -> (module, attribute name)."""
    import importlib

    module_name, _, name = dotted.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DocsError(f"cannot import {module_name}: {exc}") from exc
    if name and not hasattr(module, name):
        raise DocsError(f"{module_name} has no {name}")
    return module, name


def signature_table(args: list[str]) -> str:
    """The keyword defaults of one function (e.g. a kernel's tuning constants)."""
    (dotted,) = args
    module, name = _resolve(dotted)
    function = getattr(module, name)
    rows = [
        (f"`{p.name}`", _default(p.default))
        for p in inspect.signature(function).parameters.values()
        if p.default is not inspect.Parameter.empty
    ]
    if not rows:
        raise DocsError(f"{dotted} has no parameter with a default")
    return f"Defaults of `{module.__name__}.{name}`:\n\n" + markdown_table(("parameter", "default"), rows)


def _module_docs(module: Any) -> dict[str, str]:
    """Module-level names -> the docstring written under their assignment."""
    tree = ast.parse(inspect.getsource(module))
    docs: dict[str, str] = {}
    body = tree.body
    for current, following in zip(body, [*body[1:], None], strict=True):
        targets = []
        if isinstance(current, ast.Assign):
            targets = [t.id for t in current.targets if isinstance(t, ast.Name)]
        elif isinstance(current, ast.AnnAssign) and isinstance(current.target, ast.Name):
            targets = [current.target.id]
        if targets and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
            for target in targets:
                docs[target] = " ".join(inspect.cleandoc(str(following.value.value)).split())
    return docs


def constants_table(args: list[str]) -> str:
    """Module constants by name, with their values and the comment the code gives them."""
    module_name, *names = args
    module, _ = _resolve(module_name)
    docs = _module_docs(module)
    rows = []
    for name in names:
        if not hasattr(module, name):
            raise DocsError(f"{module_name} has no {name}")
        value = getattr(module, name)
        rows.append(
            (
                f"`{name}`",
                _default(value if not isinstance(value, float) else round(value, 6)),
                docs.get(name, ""),
            )
        )
    return f"Constants of `{module_name}`:\n\n" + markdown_table(("name", "value", "meaning"), rows)


# --- the openEO processes of `baresoil serve` ------------------------------------------------


def _schema_words(schema: Any) -> str:
    """A parameter's JSON schema in a few words: ``one of "pvir2", "geos3"``, ``number ≥ 0``."""
    if isinstance(schema, list):
        return " or ".join(_schema_words(s) for s in schema)
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    if "subtype" in schema:
        return str(schema["subtype"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_schema_words(schema.get('items', {}))}"
    bounds = [f"{sign} {schema[key]:g}" for key, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"),
              ("maximum", "≤"), ("exclusiveMaximum", "<")) if key in schema]  # fmt: skip
    return " ".join([str(kind), *bounds])


def processes_table(args: list[str]) -> str:
    """No argument: the processes of ``GET /processes`` with their summaries; a process id: its
    parameters (the config keys it exposes, in config.py's words)."""
    from baresoil.api.processes import all_processes

    processes = {p["id"]: p for p in all_processes()}
    if not args:
        return markdown_table(
            ("process", "summary"), [(f"`{pid}`", p["summary"]) for pid, p in processes.items()]
        )
    (pid,) = args
    if pid not in processes:
        raise DocsError(f"no process {pid!r}; known: {', '.join(processes)}")
    rows: list[tuple[str, str, str, str]] = []
    for param in processes[pid]["parameters"]:
        default = "" if not param.get("optional") else f"`{json.dumps(param.get('default'))}`"
        rows.append((f"`{param['name']}`", _schema_words(param["schema"]), default, param["description"]))
    return markdown_table(("parameter", "type", "default", "meaning"), rows)
