"""The soil properties that can be mapped, and their layers in the product registry.

Each property gets four layers, named as SoilGrids names its maps: the 5 %, 50 %
and 95 % quantiles of the prediction and the uncertainty, the width of the 90 %
prediction interval relative to the median, (Q95 - Q05) / Q50, as SoilGrids and
CUP4SOIL define it.  Values are stored as SoilGrids stores them, as scaled
integers: SOC in dg/kg (g/kg x 10), pH x 10, texture in g/kg (% x 10), bulk
density in cg/cm3 (g/cm3 x 100), nitrogen in cg/kg (g/kg x 100).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import Layer, register

FAMILY = "soil"
QUANTILES = (0.05, 0.5, 0.95)
NODATA = -32768


@dataclass(frozen=True)
class SoilProperty:
    name: str
    """Name on the command line and default sample column, e.g. ``soc``."""
    code: str
    """Layer code prefix (asset keys ``<code>_Q05`` …), e.g. ``SOC``."""
    title: str
    unit: str
    scale: float
    """Physical value per stored integer (SoilGrids' conversion factor)."""

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


def _layers(prop: SoilProperty) -> list[Layer]:
    what = f"{prop.title} of the topsoil"
    q05, q50, q95, unc = prop.layer_codes
    return [
        Layer(q05, FAMILY, f"{prop.title}, 5 % quantile",
              f"{what}: lower bound of the 90 % prediction interval (quantile regression forest).",
              "int16", NODATA, scale=prop.scale, unit=prop.unit, quicklook=False),
        Layer(q50, FAMILY, f"{prop.title}, median",
              f"{what}: median prediction (quantile regression forest).",
              "int16", NODATA, scale=prop.scale, unit=prop.unit),
        Layer(q95, FAMILY, f"{prop.title}, 95 % quantile",
              f"{what}: upper bound of the 90 % prediction interval (quantile regression forest).",
              "int16", NODATA, scale=prop.scale, unit=prop.unit, quicklook=False),
        Layer(unc, FAMILY, f"{prop.title}, uncertainty",
              "Width of the 90 % prediction interval relative to the median, (Q95 - Q05) / Q50 "
              "(SoilGrids); nodata where the median is 0.",
              "int16", NODATA, scale=UNC_SCALE, unit="1"),
    ]  # fmt: skip


for _prop in PROPERTIES.values():
    register(*_layers(_prop))
