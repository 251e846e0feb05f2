"""The observation cube: scenes from any STAC source on the EEA grid."""

from .load import data_footprint, explain_read_errors, load_cube, open_cube, read_dn

__all__ = ["data_footprint", "explain_read_errors", "load_cube", "open_cube", "read_dn"]
