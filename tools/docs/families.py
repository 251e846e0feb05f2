"""Generated blocks particular to one product family: what the code defines beyond the registry.

The provider layouts of the catalog alias table, season windows of the HRL
climate zones, the HRL file names, the soil properties and their SoilGrids
scaling, the parcel markers' columns, features and Sen4CAP column names, and
the parcel table products registered.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from baresoil.catalog.layouts import BOA_OFFSET_APPLIED_FLAGS, LAYOUTS, OFFSET_SOURCES, PROPERTY_ALIASES, SCL
from baresoil.products.parcels.markers import (
    FEATURE_UNITS,
    S1,
    S1_FEATURES,
    S2,
    S2_FEATURES,
    SEN4CAP_ID,
    SEN4CAP_STATS,
    SNOW,
    sen4cap_column,
)
from baresoil.products.parcels.tables import table_products
from baresoil.products.seasons import file_name, season_windows
from baresoil.products.soil.properties import PROPERTIES, UNC_SCALE
from baresoil.registry import yydoy

from .tables import markdown_table

EXAMPLE_YEAR = 2022
EXAMPLE_TILE = "E43N32"


def stac_layouts(args: list[str]) -> str:
    """The provider layouts of the alias table and the properties read for each scene fact."""
    rows = [
        (
            f"`{layout.name}`",
            layout.title,
            ", ".join(f"`{c}`" for c in layout.collections),
            f"`{layout.asset_key('B04')}`, `{layout.asset_key(SCL)}`",
            ", ".join(f"`{m}`" for m in layout.markers) or "",
        )
        for layout in LAYOUTS
    ]
    layouts = markdown_table(("layout", "provider", "collections", "red and SCL keys", "markers"), rows)
    facts = markdown_table(
        ("scene fact", "STAC properties read, in order"),
        [(name, ", ".join(f"`{key}`" for key, _ in aliases)) for name, aliases in PROPERTY_ALIASES.items()],
    )
    *ordered, flag_source = OFFSET_SOURCES
    flags = " or ".join(f"`{flag}`" for flag in BOA_OFFSET_APPLIED_FLAGS)
    return (
        f"{layouts}\n\n{facts}\n\nScale and offset of a reflectance asset come from the first of "
        f"{', '.join(f'`{source}`' for source in ordered)} that the item has; when {flags} is true the "
        f"offset is 0 whatever was declared (`{flag_source}`). The cube's `offset_source` coordinate "
        "names the one that decided, per date."
    )


def seasons_windows(args: list[str]) -> str:
    """The HRL season windows of both climate zones, for an example reference year."""
    names = {
        "winter_emergence": "main season, winter crop: emergence",
        "winter_harvest": "main season, winter crop: harvest",
        "spring_emergence": "main season, spring crop: emergence",
        "spring_harvest": "main season, spring crop: harvest",
        "before_main": "secondary season before the main one (both events)",
        "after_main": "secondary season after the main one (both events)",
    }
    zone1, zone2 = season_windows(EXAMPLE_YEAR, 1), season_windows(EXAMPLE_YEAR, 2)
    rows = [(label, _span(zone1[key]), _span(zone2[key])) for key, label in names.items()]
    header = ("window", f"zone 1 (reference year {EXAMPLE_YEAR})", "zone 2")
    return markdown_table(header, rows)


def _span(bounds: tuple[date, date]) -> str:
    first, last = bounds
    return f"{first.isoformat()} → {last.isoformat()}"


def seasons_files(args: list[str]) -> str:
    """The HRL-style file names of a reference year and tile."""
    from baresoil.registry import layers

    rows = [
        (f"`{lay.code}`", f"`{file_name(lay.code, EXAMPLE_TILE, str(EXAMPLE_YEAR), 10.0)}`")
        for lay in layers("seasons")
    ]
    example = yydoy(date(EXAMPLE_YEAR, 8, 1))
    return (
        markdown_table(("layer", f"file of tile {EXAMPLE_TILE}, {EXAMPLE_YEAR}, 10 m"), rows)
        + f"\n\nYYDOY example: 1 August {EXAMPLE_YEAR} is stored as `{example}`; "
        + f"a winter crop sown on 1 October {EXAMPLE_YEAR - 1} as `{yydoy(date(EXAMPLE_YEAR - 1, 10, 1))}`."
    )


def soil_properties(args: list[str]) -> str:
    """The properties that can be mapped: names, layer codes, units and SoilGrids-style scaling."""
    rows = []
    for prop in PROPERTIES.values():
        q05, q50, q95, unc = prop.layer_codes
        stored = f"{prop.unit} ÷ {_number(prop.scale)}"
        rows.append(
            (
                f"`{prop.name}`",
                prop.title,
                f"`{q05}`, `{q50}`, `{q95}`, `{unc}`",
                prop.unit,
                _number(prop.scale),
                stored,
            )
        )
    header = ("`--property`", "property", "asset keys", "unit", "scale", "stored as")
    note = (
        f"The uncertainty layers (`…_UNC`) are (Q95 − Q05) / Q50 stored × {_number(1 / UNC_SCALE)} "
        f"(scale {_number(UNC_SCALE)})."
    )
    return markdown_table(header, rows) + "\n\n" + note


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def parcels_features(args: list[str]) -> str:
    """Features of the markers database, their units, and their Sen4CAP wide column names."""
    day = np.datetime64(f"{EXAMPLE_YEAR}-05-14")
    s2 = (*S2_FEATURES, SNOW)
    rows = [(f"`{f}`", S2, FEATURE_UNITS[f], f"`{sen4cap_column(day, 'mean', S2, f)}`") for f in s2]
    rows += [(f"`{f}`", S1, FEATURE_UNITS[f], f"`{sen4cap_column(day, 'mean', S1, f)}`") for f in S1_FEATURES]
    table = markdown_table(("feature", "source", "unit", f"wide column of its mean on {day}"), rows)
    stats = ", ".join(f"`{ours}` → `{theirs}`" for ours, theirs in SEN4CAP_STATS.items())
    return (
        f"{table}\n\n`{SNOW}` counts the parcel's pixels flagged snow (Sen2Cor's snow class; not clear "
        "sky, so no other feature has them): its `count` is that number, its `mean` 1. A view of snow is "
        "a view of a parcel that is not bare; the bare-soil periods use it to bound when a period began.\n\n"
        f"Statistics, long name → Sen4CAP wide name: {stats}. The wide table's parcel id "
        f"column is `{SEN4CAP_ID}`."
    )


def parcels_columns(args: list[str]) -> str:
    """Columns of the long markers table."""
    from baresoil.pipeline.parcels import MARKER_DESCRIPTIONS

    return markdown_table(("column", "meaning"), [(f"`{k}`", v) for k, v in MARKER_DESCRIPTIONS.items()])


def parcels_products(args: list[str]) -> str:
    """The parcel table products the markers run feeds (registered in the code)."""
    products = table_products()
    if not products:
        return (
            "No parcel table product is registered in this version: `baresoil parcels` writes the "
            "markers database and the parcel tables only."
        )
    rows = [(f"`{p.name}`", p.title, p.description) for p in products]
    return markdown_table(("product", "title", "description"), rows)


def world_priors(args: list[str]) -> str:
    """The simulator's priors per world profile (``baresoil.simulate.physics``): one row per parameter."""
    from baresoil.simulate.physics import LANDSCAPES, PROFILES, Physics

    demo = Physics().to_json()
    drawn = [p for p in PROFILES if p != "demo"]
    keys = sorted({k for p in drawn for k in (*PROFILES[p], *(f"spec.{n}" for n in LANDSCAPES[p]))})

    def describe(profile: str, key: str) -> str:
        group, name = key.split(".")
        prior = LANDSCAPES[profile].get(name) if group == "spec" else PROFILES[profile].get(key)
        return _prior_text(prior) if prior is not None else "demo's"

    def demo_value(key: str) -> str:
        group, name = key.split(".")
        return "spec" if group == "spec" else f"`{demo[group][name]}`"

    rows = [(f"`{key}`", demo_value(key), *(describe(p, key) for p in drawn)) for key in keys]
    return markdown_table(("parameter", "demo", *drawn), rows)


def _prior_text(prior: object) -> str:
    from baresoil.simulate import physics

    if isinstance(prior, physics.LogUniform):
        return f"log-uniform {prior.lo:g} … {prior.hi:g}"
    if isinstance(prior, physics.Uniform):
        return f"{prior.lo:g} … {prior.hi:g}"
    if isinstance(prior, physics.Days):
        return f"{prior.lo:+d} … {prior.hi:+d} d"
    if isinstance(prior, physics.Chance):
        return f"yes with p = {prior.p:g}"
    if isinstance(prior, physics.Range):
        return f"low {prior.lo[0]:g} … {prior.lo[1]:g}, width {prior.width[0]:g} … {prior.width[1]:g}"
    if isinstance(prior, physics.Cuts):
        return f"{prior.lo[0]} … {prior.lo[1]} (+0 or 1)"
    return f"`{prior}`"
