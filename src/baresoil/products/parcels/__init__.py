"""Parcel monitoring as Sen4CAP: tables per declared parcel, computed from the markers database."""
