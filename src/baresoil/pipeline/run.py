"""Run a product over an area: plan EEA tiles, build each tile's cube, write COGs and STAC.

The area is searched once; each EEA tile it touches becomes one cube (clipped to
the scenes' footprint) and one dask computation that writes every layer of every
period of that tile, block by block.

A run owns its output folder while it runs (:mod:`.lock`) and keeps a manifest there
(:mod:`.manifest`): the request, each tile's and block's state, the assets it left out.
``resume`` continues the run the manifest records, after checking that the request is the
same: a tile whose outputs are all there with their recorded size and checksum is skipped, a
tile in progress computes only the blocks it has not staged yet (:mod:`baresoil.io.blocks`),
and the outputs are byte for byte those of an uninterrupted run.  An asset that cannot be read
is left out of the pixels it covers (``read.strict`` ends the run instead, see
:mod:`baresoil.cube.reader`); the manifest and the items' provenance name it.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
import xarray as xr
from shapely.geometry import shape

from .. import __version__
from ..catalog.scenes import Scene, select_scenes
from ..catalog.source import StacSource, TimeRange, find_items
from ..config import Config
from ..cube.load import data_footprint, explain_read_errors, load_cube
from ..cube.reader import FailureJournal, ReadFailure
from ..errors import AreaError, BaresoilError
from ..grid import Area, TileId
from ..io.atomic import file_digest, remove_partials
from ..io.blocks import BlockStage
from ..io.cog import LayerOutput, write_layers
from ..io.stac import OutputItem, item_path, remove_items, update_catalog, write_item
from ..products.base import ProductPeriod
from ..redact import RETRIES, install, redact
from ..spans import span
from .lock import WORK_DIR, OutputLock, new_run_id
from .manifest import Manifest, ManifestState, TileState, file_problems, manifest_path, read_manifest
from .progress import ProgressReport, tiles_progress

log = logging.getLogger(__name__)

ProductFunction = Callable[[xr.Dataset, TimeRange, Config], Sequence[ProductPeriod]]
FileNamer = Callable[[str, str, str, float], str]
"""(layer code, tile code, period label, resolution) -> file name of the layer's COG."""


@dataclass(frozen=True)
class Job:
    """Everything one product run needs to know."""

    source: StacSource
    area: Area
    period: TimeRange
    out_dir: Path
    config: Config = field(default_factory=Config)
    resume: bool = False
    """Continue the run recorded in the output folder (same request): skip verified tiles and blocks."""
    progress: bool = True
    report: ProgressReport | None = None
    """Told the blocks written after each batch (the API's job progress); may raise to stop the run."""
    overwrite: bool = False
    """Start afresh whatever the folder holds: the outputs of the family's previous run are removed."""
    inputs: Mapping[str, str] = field(default_factory=dict)
    """Other inputs that decide the outputs (a parcel file, a second source), for the run's request."""


@dataclass(frozen=True)
class TilePlan:
    tile: TileId
    area: Area
    scenes: tuple[Scene, ...]


def plan(job: Job) -> list[TilePlan]:
    """The EEA tiles of the job's area that hold data, each with its scenes (searched once)."""
    with span("search"):
        items = find_items(job.source, job.area, job.period, job.config.read)
    with span("plan"):
        return _plan(job, items)


def _plan(job: Job, items: Sequence[Any]) -> list[TilePlan]:
    scenes = select_scenes(items, job.config.scenes)
    footprint = data_footprint(items)
    plans = []
    for tile, part in job.area.split_by_tile():
        try:
            clipped = part.intersection(footprint)
        except AreaError:
            continue
        tile_scenes = tuple(s for s in scenes if _scene_touches(s, clipped))
        if tile_scenes:
            plans.append(TilePlan(tile, clipped, tile_scenes))
    if not plans:
        raise AreaError(f"{job.area.label}: the scenes found do not overlap the area")
    return plans


def job_request(job: Job, family: str) -> dict[str, Any]:
    """What decides a run's outputs: recorded in the manifest, compared on ``resume``.

    ``read.*`` and ``run.*`` are left out: they say how inputs are read and tiles scheduled, not what is
    computed."""
    config = job.config.recorded()
    config.pop("read", None)
    return {
        "family": family,
        "source": str(job.source),
        "area": {
            "label": job.area.label,
            "bounds": [round(v, 3) for v in job.area.bounds],
            "sha256": hashlib.sha256(shapely.to_wkb(job.area.geometry, output_dimension=2)).hexdigest(),
        },
        "period": str(job.period),
        "config": config,
        "inputs": dict(job.inputs),
        "version": __version__,
    }


def run_product(
    job: Job, family: str, product: ProductFunction, file_name: FileNamer | None = None
) -> list[Path]:
    """Run ``product`` on every tile of the job; returns the STAC item paths written.

    Files are named ``<item id>_<CODE>.tif`` unless ``file_name`` says otherwise.
    """
    install()
    run_id = new_run_id()
    with span("run (wall)"), OutputLock(job.out_dir, run_id):
        work = job.out_dir / WORK_DIR / family
        for stale in remove_partials(job.out_dir):
            log.debug("removed %s, left by a run that was killed", stale)
        path = manifest_path(job.out_dir, family)
        if job.overwrite:
            _remove_previous_outputs(job.out_dir, path)
        if job.resume and read_manifest(path) is None:
            log.warning("%s: no run to resume (no %s); running every tile", job.out_dir, path.name)
        manifest, state = Manifest.begin(path, run_id, job_request(job, family), resume=job.resume)
        if not job.resume:
            shutil.rmtree(work, ignore_errors=True)
        retried = Counter(RETRIES)
        try:
            written = _run_tiles(job, family, product, file_name, _Run(manifest, state, work, run_id))
        except BaseException as exc:
            state_name = "failed" if isinstance(exc, Exception) else "interrupted"
            manifest.end(state_name, redact(f"{type(exc).__name__}: {exc}"), RETRIES - retried)
            raise
        manifest.end("finished", skipped_summary(job.out_dir, family) or "", RETRIES - retried)
        return written


def skipped_summary(out_dir: Path, family: str) -> str | None:
    """One line on the assets the family's last run left out (None when it left none out)."""
    state = read_manifest(manifest_path(out_dir, family))
    if state is None or not state.skipped:
        return None
    first = state.skipped[0]
    more = f" and {len(state.skipped) - 1} more" if len(state.skipped) > 1 else ""
    return (
        f"left out {len(state.skipped)} unreadable scene-band(s), not counted as observations where they "
        f"lie: item {first['item']} band {first['band']} ({first['reason']}){more}; "
        f"see {manifest_path(out_dir, family)}"
    )


@dataclass
class _Run:
    """A run's record keeping: its manifest, the state it resumes from, its working folder."""

    manifest: Manifest
    state: ManifestState
    work: Path
    run_id: str
    recorded: set[tuple[str, str, str, str]] = field(default_factory=set)
    guard: threading.Lock = field(default_factory=threading.Lock)
    """Tiles in flight record their failures from their own threads."""

    def record_failures(self, tile: str, journal: FailureJournal) -> None:
        for failure in journal.failures():
            key = (tile, failure.item, failure.band, failure.href)
            with self.guard:
                if key in self.recorded:
                    continue
                self.recorded.add(key)
            self.manifest.skipped(tile, failure.item, failure.band, failure.href, failure.reason)


class _Stopped(BaseException):
    """Raised in a tile's thread between batches of blocks once the run is interrupted (a signal, a
    cancelled job): its staged blocks are kept for ``--resume``.  A BaseException, so that no
    ``except Exception`` on the way takes it for the tile's own failure."""


def _run_tiles(
    job: Job, family: str, product: ProductFunction, file_name: FileNamer | None, run: _Run
) -> list[Path]:
    """Run the planned tiles, ``run.tiles_in_flight`` at a time, and list the finished ones in the catalog.

    Each tile in flight is driven by a thread of this process that builds its lazy outputs and hands
    their blocks to the dask scheduler (local threads, or the distributed client, which takes work from
    several threads at once); the computing is dask's.  A tile that fails stops new tiles from starting;
    those in flight finish and are kept, listed in the catalog, and the error names the tile.
    """
    plans = plan(job)
    run.manifest.plan((p.tile.code, len(p.scenes)) for p in plans)
    finished: dict[str, list[Path]] = {}
    stop = threading.Event()
    in_flight = min(job.config.run.tiles_in_flight, len(plans))
    with tiles_progress(job.progress, job.report) as bars:

        def one(tile_plan: TilePlan) -> None:
            if stop.is_set():
                return
            code = tile_plan.tile.code
            progress = _stoppable(bars(f"{family} {code}"), stop)
            finished[code] = _run_tile(job, family, product, tile_plan, file_name, run, progress)

        failure = _each_tile(plans, one, in_flight, stop)
    written = [path for p in plans for path in finished.get(p.tile.code, [])]
    update_catalog(job.out_dir, [p.stem for p in written])
    if failure is not None:
        code, exc = failure
        if finished:
            log.warning("tile %s failed; %d finished tile(s) are kept and listed in the catalog", code,
                        len(finished))  # fmt: skip
        raise _named(exc, code) if len(plans) > 1 else exc
    return written


def _each_tile(
    plans: Sequence[TilePlan], one: Callable[[TilePlan], None], in_flight: int, stop: threading.Event
) -> tuple[str, Exception] | None:
    """Call ``one`` on every plan, ``in_flight`` at a time (in this thread when 1); returns the first
    tile that failed and its error.  An interrupt (a BaseException in this thread) stops the tiles in
    flight at their next batch of blocks and is raised once they have stopped."""
    if in_flight <= 1:
        for tile_plan in plans:
            try:
                one(tile_plan)
            except Exception as exc:  # noqa: BLE001 - any failure ends the run, after the catalog lists the others
                return tile_plan.tile.code, exc
        return None
    failure: tuple[str, Exception] | None = None
    waiting = list(plans)
    running: dict[Future[None], str] = {}
    with ThreadPoolExecutor(in_flight, thread_name_prefix="baresoil-tile") as pool:
        try:
            while waiting or running:
                while waiting and len(running) < in_flight and failure is None:
                    tile_plan = waiting.pop(0)
                    running[pool.submit(one, tile_plan)] = tile_plan.tile.code
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    code = running.pop(future)
                    error = future.exception()
                    if isinstance(error, Exception) and failure is None:
                        failure = (code, error)  # no new tile starts; those in flight finish
                    elif isinstance(error, Exception):
                        log.error("tile %s failed too: %s", code, redact(str(error)))
                    elif error is not None and not isinstance(error, (Exception, _Stopped)):
                        raise error
        except BaseException:
            stop.set()
            wait(running)
            raise
    return failure


def _stoppable(
    on_progress: Callable[[int, int], None] | None, stop: threading.Event
) -> Callable[[int, int], None]:
    """A progress callback that ends the tile between two batches of blocks once ``stop`` is set."""

    def update(done: int, total: int) -> None:
        if stop.is_set():
            raise _Stopped
        if on_progress is not None:
            on_progress(done, total)

    return update


def _named(exc: Exception, code: str) -> Exception:
    """The error of tile ``code`` among several, its message naming the tile (an error of the input keeps
    its type, so the command's status and line are as before)."""
    if isinstance(exc, BaresoilError) and len(exc.args) == 1 and not str(exc).startswith(f"tile {code}"):
        exc.args = (f"tile {code}: {exc.args[0]}",)
    else:
        log.error(
            "tile %s failed: %s: %s",
            code,
            type(exc).__name__,
            redact(str(exc).splitlines()[0] if str(exc) else ""),
        )
    return exc


def _run_tile(
    job: Job,
    family: str,
    product: ProductFunction,
    tile_plan: TilePlan,
    file_name: FileNamer | None,
    run: _Run,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    code = tile_plan.tile.code
    previous = run.state.tiles.get(code) if job.resume else None
    if previous is not None and previous.state == "done":
        problems = file_problems(job.out_dir, previous.outputs)
        if not problems:
            log.info("tile %s: outputs complete and verified, skipped", code)
            return [item_path(job.out_dir, item) for item in previous.items]
        log.warning("tile %s: %s; computing the tile again", code, "; ".join(problems[:3]))
        previous = None
    resolution = job.config.cube.resolution
    geobox = tile_plan.area.geobox(resolution)
    journal = FailureJournal(run.work / "failures" / run.run_id / code)
    with span("build the graph"):
        cube = load_cube(tile_plan.scenes, geobox, job.config.cube, reads=job.config.read, journal=journal)
        periods = product(cube, job.period, job.config)
    items, outputs = [], []
    for result in periods:
        item_id = f"{family}_{code}_{result.label}_R{resolution:g}m"
        assets = {
            str(layer): job.out_dir / item_id / _file_name(file_name, item_id, str(layer), code, result.label,
                                                           resolution)
            for layer in result.layers.data_vars
        }  # fmt: skip
        items.append((item_id, result, assets))
        outputs += [LayerOutput(code_, result.layers[code_], path) for code_, path in assets.items()]
    item_ids = [item_id for item_id, _, _ in items]
    stage = _stage(run, code, item_ids, previous, journal)
    with explain_read_errors(tile_plan.scenes):
        write_layers(outputs, geobox, on_progress, stage=stage)
    run.record_failures(code, journal)
    skipped = [s for s in _tile_skipped(run.state, code, journal.failures())]
    with span("write STAC"):
        paths = _write_items(job, family, code, geobox, items, cube, skipped)
    run.manifest.output(code, _output_files(job.out_dir, item_ids))
    stage.clear()
    return paths


def _write_items(
    job: Job,
    family: str,
    code: str,
    geobox: Any,
    items: Sequence[tuple[str, ProductPeriod, dict[str, Path]]],
    cube: xr.Dataset,
    skipped: Sequence[Mapping[str, str]],
) -> list[Path]:
    return [
        write_item(
            job.out_dir,
            OutputItem(
                item_id,
                code,
                result.period.start,
                result.period.end,
                geobox,
                assets,
                _provenance(job, family, cube, skipped),
            ),
        )
        for item_id, result, assets in items
    ]


def _stage(
    run: _Run, code: str, item_ids: list[str], previous: TileState | None, journal: FailureJournal
) -> BlockStage:
    """The tile's block stage: the blocks a previous run staged and that are intact count as done.  Each
    block is recorded when staged, after the assets its reads left out."""

    def staged(block: str, files: dict[str, tuple[int, str]], seconds: float) -> None:
        run.record_failures(code, journal)
        run.manifest.block(code, block, files, seconds)

    folder = run.work / "blocks" / code
    done = set()
    if previous is not None and previous.items == item_ids:
        done = {block for block, files in previous.blocks.items() if not file_problems(folder, files)}
        if previous.blocks:
            log.info(
                "tile %s: %d of %d blocks staged before, resumed", code, len(done), previous.blocks_total
            )
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return BlockStage(
        folder,
        done,
        on_plan=lambda total: run.manifest.tile(code, item_ids, total),
        on_done=staged,
    )


def _tile_skipped(state: ManifestState, code: str, failures: Sequence[ReadFailure]) -> list[dict[str, str]]:
    """The assets left out of a tile, by this run and the runs it resumes (once each)."""
    found: dict[tuple[str, str, str], dict[str, str]] = {}
    entries = [e for e in state.skipped if e["tile"] == code] + [f.to_dict() for f in failures]
    for entry in entries:
        found.setdefault(
            (entry["item"], entry["band"], entry["href"]),
            {key: entry[key] for key in ("item", "band", "href", "reason")},
        )
    return list(found.values())


def _output_files(out_dir: Path, item_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
    """Every file of the items' folders (COGs, styles, attribute tables, item JSON) with its checksum."""
    files = {}
    for item_id in item_ids:
        for path in sorted((out_dir / item_id).iterdir()):
            if path.is_file() and ".partial" not in path.name:
                files[str(path.relative_to(out_dir))] = file_digest(path)
    return files


def _remove_previous_outputs(out_dir: Path, path: Path) -> None:
    """``--overwrite``: remove the items the family's previous run wrote, and its manifest."""
    previous = read_manifest(path)
    if previous is None:
        return
    item_ids = [item for tile in previous.tiles.values() for item in tile.items]
    if item_ids:
        log.info("%s: removing %d item(s) of the previous run (--overwrite)", out_dir, len(item_ids))
        remove_items(out_dir, item_ids)
    path.unlink(missing_ok=True)


def _file_name(
    file_name: FileNamer | None, item_id: str, code: str, tile: str, label: str, resolution: float
) -> str:
    return file_name(code, tile, label, resolution) if file_name else f"{item_id}_{code}.tif"


def _scene_touches(scene: Scene, area: Area) -> bool:
    footprints = [shape(it.item.geometry) for it in scene.items if it.item.geometry]
    return not footprints or shapely.union_all(footprints).intersects(area.lonlat_geometry)


def _provenance(
    job: Job, family: str, cube: xr.Dataset, skipped: Sequence[Mapping[str, str]]
) -> dict[str, object]:
    provenance: dict[str, object] = {
        "baresoil:family": family,
        "baresoil:source": str(job.source),
        "baresoil:area": job.area.label,
        "baresoil:scenes": int(cube.sizes["time"]),
        "baresoil:config": job.config.recorded(),
        "gsd": job.config.cube.resolution,
    }
    if skipped:
        provenance["baresoil:skipped"] = [dict(entry) for entry in skipped]
    return provenance
