"""The soil properties that can be mapped, and their layers in the product registry.

Each property gets four layers, named as SoilGrids names its maps: the 5 %, 50 %
and 95 % quantiles of the prediction and the uncertainty, the width of the 90 %
prediction interval relative to the median, (Q95 - Q05) / Q50, as SoilGrids and
CUP4SOIL define it.  The known properties (``PROPERTIES``) are stored as
SoilGrids stores them, as scaled integers: SOC in dg/kg (g/kg x 10), pH x 10,
texture in g/kg (% x 10), bulk density in cg/cm3 (g/cm3 x 100), nitrogen in
cg/kg (g/kg x 100).  Any other numeric column of the samples (organic matter,
zinc …) can be mapped too: its range and unit are unknown, so its quantiles are
stored as float32 in the samples' own unit, under the code made of its name
(:func:`soil_property`); any reader of the registry finds these layers by code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import BaresoilError
from ...registry import Layer, layer, register, register_factory

FAMILY = "soil"
QUANTILES = (0.05, 0.5, 0.95)
NODATA = -32768
GENERIC_NODATA = -9999.0
"""Nodata of the float32 quantile layers of properties other than the known ones."""


@dataclass(frozen=True)
class SoilProperty:
    name: str
    """Name on the command line and default sample column, e.g. ``soc``."""
    code: str
    """Layer code prefix (asset keys ``<code>_Q05`` …), e.g. ``SOC``."""
    title: str
    unit: str
    """Unit of the values; empty when unknown (a property named by the user)."""
    scale: float
    """Physical value per stored integer (SoilGrids' conversion factor); 1 for float32 layers."""
    dtype: str = "int16"
    """Storage type of the quantile layers: int16 (scaled) for the known properties, else float32."""
    nodata: float = NODATA
    known: bool = True
    """One of ``PROPERTIES`` (with SoilGrids' unit and scaling), not a column named by the user."""

    @property
    def layer_codes(self) -> tuple[str, str, str, str]:
        return (f"{self.code}_Q05", f"{self.code}_Q50", f"{self.code}_Q95", f"{self.code}_UNC")


PROPERTIES: dict[str, SoilProperty] = {
    p.name: p
    for p in (
        SoilProperty("soc", "SOC", "Soil organic carbon", "g/kg", 0.1),
        SoilProperty("n", "N", "Total nitrogen", "g/kg", 0.01),
        SoilProperty("ph", "PH", "pH in water", "pH", 0.1),
        SoilProperty("clay", "CLAY", "Clay", "%", 0.1),
        SoilProperty("silt", "SILT", "Silt", "%", 0.1),
        SoilProperty("sand", "SAND", "Sand", "%", 0.1),
        SoilProperty("bulk_density", "BULK_DENSITY", "Bulk density of the fine earth", "g/cm3", 0.01),
        SoilProperty("carbonates", "CARBONATES", "Carbonates (CaCO3)", "g/kg", 0.1),
        SoilProperty("cec", "CEC", "Cation exchange capacity", "cmol(c)/kg", 0.1),
    )
}
UNC_SCALE = 0.01
"""The uncertainty ratio is stored x 100."""


class PropertyNameError(BaresoilError):
    """A property name that cannot name layers."""


def soil_property(name: str) -> SoilProperty:
    """The known property ``name`` (any case), or a property of the samples' column ``name``.

    A property other than the known ones is named after its layer code, ``name``
    in capitals with other characters as ``_`` (``om`` -> ``OM_Q05`` …, name
    ``om``); its layers are float32 in the samples' unit.
    """
    key = name.strip().lower()
    if key in PROPERTIES:
        return PROPERTIES[key]
    code = re.sub(r"[^A-Za-z0-9]+", "_", name.strip()).strip("_").upper()
    if not code:
        raise PropertyNameError(f"not a usable soil property name: {name!r}")
    if code.lower() in PROPERTIES:  # e.g. "bulk density"
        return PROPERTIES[code.lower()]
    prop = _generic(code)
    try:
        layer(prop.layer_codes[0])  # registers the property's layers (see _generic_layers)
    except ValueError as exc:  # the code of another family's layers
        raise PropertyNameError(
            f"soil property {name!r}: layer codes clash with another layer ({exc})"
        ) from exc
    return prop


def _generic(code: str) -> SoilProperty:
    """A property other than the known ones, all from its layer code (so that any process that reads its
    layers makes the same)."""
    return SoilProperty(code.lower(), code, code.lower(), "", 1.0, "float32", GENERIC_NODATA, known=False)


def _generic_layers(code: str) -> list[Layer]:
    """The four layers of the property of ``code`` (``OM_Q50`` -> those of ``om``), unless known."""
    match = re.fullmatch(r"([A-Z0-9_]+)_(Q05|Q50|Q95|UNC)", code)
    if match is None or match.group(1).lower() in PROPERTIES or match.group(1).startswith("_"):
        return []
    return _layers(_generic(match.group(1)))


def _layers(prop: SoilProperty) -> list[Layer]:
    what = f"{prop.title} of the topsoil" if prop.known else f"{prop.title} (column of the samples)"
    q05, q50, q95, unc = prop.layer_codes
    bound = "bound of the 90 % prediction interval (quantile regression forest, conformally calibrated)"
    return [
        _quantile_layer(prop, q05, "5 % quantile", f"{what}: lower {bound}.", quicklook=False),
        _quantile_layer(prop, q50, "median", f"{what}: median prediction (quantile regression forest)."),
        _quantile_layer(prop, q95, "95 % quantile", f"{what}: upper {bound}.", quicklook=False),
        Layer(unc, FAMILY, f"{prop.title}, uncertainty",
              "Width of the 90 % prediction interval relative to the median, (Q95 - Q05) / Q50 "
              "(SoilGrids); nodata where the median is 0.",
              "int16", NODATA, scale=UNC_SCALE, unit="1", listed=prop.known),
    ]  # fmt: skip


def _quantile_layer(
    prop: SoilProperty, code: str, what: str, description: str, quicklook: bool = True
) -> Layer:
    title = f"{prop.title}, {what}"
    return Layer(code, FAMILY, title, description, prop.dtype, prop.nodata, scale=prop.scale,
                 unit=prop.unit or None, quicklook=quicklook, listed=prop.known)  # fmt: skip


for _prop in PROPERTIES.values():
    register(*_layers(_prop))
register_factory(_generic_layers)
