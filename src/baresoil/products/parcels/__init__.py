"""Parcel monitoring as Sen4CAP: tables per declared parcel, computed from the markers database.

Importing this package registers the table products ``baresoil parcels`` writes after the markers:
bare-soil periods, heterogeneity and change of agricultural category, in that order.
"""

from .bare_periods import BARE_SOIL_PRODUCT
from .category import CATEGORY_PRODUCT
from .heterogeneity import HETEROGENEITY_PRODUCT
from .tables import register_table_product

for _product in (BARE_SOIL_PRODUCT, HETEROGENEITY_PRODUCT, CATEGORY_PRODUCT):
    register_table_product(_product)

__all__ = ["BARE_SOIL_PRODUCT", "CATEGORY_PRODUCT", "HETEROGENEITY_PRODUCT"]
