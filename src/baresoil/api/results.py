"""A finished job's results as openEO wants them: a STAC collection whose assets are the files of the
result's STAC items (the COGs, cubes or tables the pipeline wrote) and the reports beside its catalog
(a soil run's ``cv_report.json`` and figures), downloadable from the API."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

from ..io.stac import CATALOG_FILE, output_item_paths
from .store import JobRecord


def _items(out: Path) -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text()) | {"_folder": path.parent} for path in sorted(output_item_paths(out))
    ]


def _reports(out: Path) -> list[Path]:
    """Files the run wrote beside its catalog (not in an item): reports and their figures."""
    return sorted(
        p for p in out.iterdir() if p.is_file() and p.name != CATALOG_FILE and not p.name.startswith(".")
    )


def result_assets(out: Path) -> dict[str, Path]:
    """Asset name (the file's name, unique in a result) -> file, over every item of the result."""
    files: dict[str, Path] = {}
    for item in _items(out):
        for asset in item.get("assets", {}).values():
            path = (item["_folder"] / asset["href"]).resolve()
            if path.is_file():
                files[path.name] = path
    return files


def result_layers(out: Path) -> dict[str, tuple[Path, str]]:
    """Asset name -> (file, layer code: the item's asset key) over every item of the result."""
    found: dict[str, tuple[Path, str]] = {}
    for item in _items(out):
        for code, asset in item.get("assets", {}).items():
            path = (item["_folder"] / asset["href"]).resolve()
            if path.is_file():
                found[path.name] = (path, str(code))
    return found


def results_collection(job: JobRecord, out: Path, assets_href: str) -> dict[str, Any]:
    items = _items(out)
    root = out.resolve()
    assets: dict[str, Any] = {}
    boxes, starts, ends = [], [], []
    for item in items:
        if item.get("bbox"):
            boxes.append(item["bbox"])
        props = item.get("properties", {})
        starts.append(props.get("start_datetime") or props.get("datetime"))
        ends.append(props.get("end_datetime") or props.get("datetime"))
        for key, asset in item.get("assets", {}).items():
            path = (item["_folder"] / asset["href"]).resolve()
            if not path.is_file():
                continue
            entry = {k: v for k, v in asset.items() if k not in ("href", "alternate")}
            entry.update(
                href=f"{assets_href}/{path.relative_to(root).as_posix()}",
                roles=["data"],
                title=asset.get("title", key),
                **{"file:size": path.stat().st_size},
            )
            entry["baresoil:item"] = item["id"]
            assets[path.name] = entry
    bbox = (
        [
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        ]
        if boxes
        else [-180, -90, 180, 90]
    )
    for path in _reports(out):
        assets[path.name] = {
            "href": f"{assets_href}/{path.name}",
            "type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            "roles": ["metadata"],
            "title": path.stem,
            "file:size": path.stat().st_size,
        }
    known_starts = sorted(s for s in starts if s)
    known_ends = sorted(e for e in ends if e)
    interval = [known_starts[0] if known_starts else None, known_ends[-1] if known_ends else None]
    return {
        "stac_version": "1.0.0",
        "stac_extensions": ["https://stac-extensions.github.io/file/v2.1.0/schema.json"],
        "type": "Collection",
        "id": job.id,
        "title": job.title or f"Results of job {job.id}",
        "description": job.description
        or "Outputs of a baresoil job: COGs (or cubes) as the command line writes.",
        "license": "proprietary",
        "extent": {"spatial": {"bbox": [bbox]}, "temporal": {"interval": [interval]}},
        "assets": assets,
        "links": [],
    }
