"""Catalogs: find scenes in any STAC source and resolve provider layouts."""

from .scenes import Scene, SceneItem, select_scenes
from .source import StacSource, TimeRange, find_items

__all__ = ["Scene", "SceneItem", "StacSource", "TimeRange", "find_items", "select_scenes"]
