"""Production benchmark: runs under injected network faults, and runs killed with -9 then resumed.

    python benchmarks/bench_production.py [--product soilsuite|cube] [--fault-runs 3] [--kills 10]
        [--workers 1,2] [--tiles-in-flight 1,2] [--cache DIR]

On a small simulated world (simulated once into benchmarks/.cache/production-world):

1. **faults**: the world's catalog and COGs are served over loopback HTTP (tests/support/fault_server.py) with
   10 % of the requests failing once (HTTP 503, a connection dropped in the middle of the answer, or
   closed without one; each retry has its own chance).  The product runs ``--fault-runs`` times, each
   with other faults (another seed); each run must end with the COGs of a run without faults.
2. **kill -9**: the product runs in a process of its own, killed with SIGKILL at ``--kills`` random
   moments over the length of a full run; each is followed by ``--resume``, which must end with the
   COGs of an uninterrupted run.  The time resumed is set against that of a full rerun.
3. **cluster**: a second world around a corner of the EEA grid, so that it lies in 4 EEA tiles (of
   about 600 m x 600 m each), runs on a LocalCluster of 1 and of 2 worker processes (one thread each,
   ``--scheduler``), with the tiles run one at a time and two at a time (``--tiles-in-flight``,
   ``run.tiles_in_flight``); prints the scaling efficiency (time on 1 / (n x time on n)) for each,
   checks the COGs are the same in every run, and the peak memory (RSS) of each worker.

Prints one JSON line (``benchmarks/record.py`` keeps it) and a summary on stderr.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pystac

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))  # the repository root: the tests' fault server
from tests.support.fault_server import Faults, serve  # noqa: E402

CACHE = HERE / ".cache"
WORLD = "production-world"
CORNER_WORLD = "production-world-4-tiles"
CORNER_WORLD_ORIGIN = (752_440.0, 5_353_240.0)
"""South-west corner (UTM 32N, on the 20 m grid) of a 1.2 km world whose centre is about where EEA tiles
E44N27, E45N27, E44N28 and E45N28 meet (753 047, 5 353 849)."""
BARESOIL = [sys.executable, "-c", "from baresoil.cli.main import main; main()"]
CHUNK = 32
"""Chunk side of the runs: the world's 60 x 60 pixels (20 m) are 4 blocks... of 32, so a kill finds
some blocks staged and others not."""
READS = "[read]\nretries = 4\nretry_delay_s = 0.05\ntimeout_s = 5\ndeadline_s = 30\n"


def world(folder: Path, origin: tuple[float, float] | None = None) -> Path:
    """A 1.2 km world over 2021: small enough for many runs, with every kind of field."""
    from baresoil.simulate import WorldSpec, is_simulation_of, simulate

    spec = WorldSpec(seed=7, size_m=1200, end=date(2021, 12, 31), split_tiles=False)
    if origin is not None:
        spec = WorldSpec(seed=7, size_m=1200, end=date(2021, 12, 31), split_tiles=False, origin=origin)
    if not is_simulation_of(folder, spec):
        print(f"simulating {folder} ...", file=sys.stderr, flush=True)
        simulate(folder, spec)
    return folder


def http_catalog(root: Path, base_url: str, folder: Path) -> str:
    """A copy of the world's catalog whose asset hrefs point at ``base_url`` (serving ``root``)."""
    catalog = pystac.Catalog.from_file(str(root / "stac" / "earth-search" / "catalog.json"))
    items = []
    for item in catalog.get_items(recursive=True):
        item = item.clone()
        for asset in item.assets.values():
            local = Path(asset.get_absolute_href() or asset.href)
            asset.href = f"{base_url}/{local.relative_to(root).as_posix()}"
        items.append(item)
    copy = pystac.Catalog("world-over-http", "the world's scenes over loopback HTTP")
    copy.add_items(items)
    copy.normalize_hrefs(str(folder))
    copy.save(pystac.CatalogType.SELF_CONTAINED)
    return f"{base_url}/{folder.relative_to(root).as_posix()}/catalog.json"


def command(product: str, catalog: str, out: Path, config: Path, *extra: str, root: Path) -> list[str]:
    from shapely.geometry import shape

    items = list(pystac.Catalog.from_file(str(root / "stac" / "earth-search" / "catalog.json")).get_items(
        recursive=True))  # fmt: skip
    w, s, e, n = shape(items[0].geometry).buffer(-0.002).bounds
    return [product, "--stac", catalog, "--bbox", f"{w:.5f}", f"{s:.5f}", f"{e:.5f}", f"{n:.5f}",
            "--start", "2021-01-01", "--end", "2021-12-31", "--out", str(out), "--config", str(config),
            *extra]  # fmt: skip


def cogs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.tif"))}


def run(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([*BARESOIL, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"baresoil {' '.join(args)} failed: {done.stderr}")
    return time.perf_counter() - started


def faults_part(product: str, root: Path, scratch: Path, config: Path, runs: int) -> dict[str, object]:
    with serve(root, max_requests=10**7) as clean:
        catalog = http_catalog(root, clean.url, root / "http-stac")
        reference_seconds = run(command(product, catalog, scratch / "http-reference", config, root=root))
    reference = cogs(scratch / "http-reference")
    survived, identical, injected, seconds, requests = 0, 0, 0, [], 0
    messages: list[str] = []
    for index in range(runs):
        faults = Faults(rate=0.1, kinds=("503", "drop", "reset"), seed=f"run-{index}")
        with serve(root, faults, max_requests=10**7) as server:
            catalog = http_catalog(root, server.url, root / "http-stac")
            out = scratch / f"faults-{index}"
            started = time.perf_counter()
            args = command(product, catalog, out, config, root=root)
            done = subprocess.run([*BARESOIL, *args], capture_output=True, text=True)
            seconds.append(round(time.perf_counter() - started, 1))
            counts = server.outcome_counts()
        survived += done.returncode == 0 and "left out" not in done.stderr
        if done.stderr.strip():
            messages.append(f"run {index} (status {done.returncode}): {done.stderr.strip().splitlines()[-1]}")
        identical += done.returncode == 0 and cogs(out) == reference
        injected += sum(counts[k] for k in ("503", "drop", "reset"))
        requests += sum(counts.values())
    return {
        "fault_runs": runs,
        "fault_runs_survived": survived,
        "fault_runs_identical": identical,
        "fault_requests": requests,
        "faults_injected": injected,
        "fault_run_seconds": seconds,
        "fault_run_messages": messages,
        "clean_http_seconds": round(reference_seconds, 1),
    }


def kill_part(
    product: str, root: Path, scratch: Path, config: Path, kills: int, seed: int
) -> dict[str, object]:
    catalog = str(root / "stac" / "earth-search" / "catalog.json")
    full = run(command(product, catalog, scratch / "reference", config, root=root))
    reference = cogs(scratch / "reference")
    rng = random.Random(seed)
    identical, resumed, at, staged = 0, [], [], []
    for index in range(kills):
        out = scratch / f"killed-{index}"
        moment = rng.uniform(0.05, 0.95) * full
        process = subprocess.Popen([*BARESOIL, *command(product, catalog, out, config, root=root)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(moment)
        process.send_signal(signal.SIGKILL)
        process.wait()
        staged.append(_blocks_done(out, product))
        resumed.append(round(run(command(product, catalog, out, config, "--resume", root=root)), 1))
        at.append(round(moment, 1))
        identical += cogs(out) == reference
    return {
        "kills": kills,
        "kills_identical": identical,
        "full_run_seconds": round(full, 1),
        "killed_at_seconds": at,
        "blocks_staged_at_kill": staged,
        "resume_seconds": resumed,
        "resume_over_full_median": round(sorted(resumed)[len(resumed) // 2] / full, 2) if resumed else None,
    }


def cluster_part(
    product: str, cache: Path, scratch: Path, config: Path, workers: list[int], in_flight: list[int]
) -> dict[str, object]:
    from distributed import Client, LocalCluster

    root = world(cache / CORNER_WORLD, CORNER_WORLD_ORIGIN)
    catalog = str(root / "stac" / "earth-search" / "catalog.json")
    seconds: dict[tuple[int, int], float] = {}
    peak_mb: dict[tuple[int, int], list[int]] = {}
    outputs = []
    for k in in_flight:
        tiles_config = scratch / f"run-{k}-tiles.toml"
        tiles_config.write_text(f"{config.read_text()}\n[run]\ntiles_in_flight = {k}\n")
        for n in workers:
            with (
                LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                out = scratch / f"cluster-{n}-{k}"
                args = command(product, catalog, out, tiles_config, "--scheduler", cluster.scheduler_address,
                               root=root)  # fmt: skip
                seconds[n, k] = round(run(args), 1)
                peak_mb[n, k] = sorted(client.run(_peak_rss_mb).values())
            outputs.append(cogs(out))
    tiles = sorted({name.split("/")[0].split("_")[1] for name in outputs[0]})
    base = workers[0]
    return {
        "cluster_tiles": tiles,
        "cluster_workers": workers,
        "cluster_tiles_in_flight": in_flight,
        "cluster_seconds": [[seconds[n, k] for n in workers] for k in in_flight],
        "cluster_efficiency": [
            [round(seconds[base, k] * base / (n * seconds[n, k]), 2) for n in workers] for k in in_flight
        ],
        "cluster_peak_worker_mb": [[peak_mb[n, k] for n in workers] for k in in_flight],
        "cluster_identical": all(o == outputs[0] for o in outputs),
    }


def _peak_rss_mb() -> int:
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _blocks_done(out: Path, product: str) -> str:
    from baresoil.pipeline.manifest import manifest_path, read_manifest

    family = "observations" if product == "cube" else product
    state = read_manifest(manifest_path(out, family)) if out.exists() else None
    if state is None:
        return "0/?"
    done, total = state.blocks
    return f"{done}/{total}" if total else "0/?"


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--product", choices=("soilsuite", "cube"), default="soilsuite")
    parser.add_argument("--fault-runs", type=int, default=3)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--workers", default="1,2", help="LocalCluster sizes, comma-separated")
    parser.add_argument(
        "--tiles-in-flight", default="1,2", help="run.tiles_in_flight of the cluster runs, comma-separated"
    )
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the worlds are simulated (kept)")
    parser.add_argument("--parts", default="faults,kills,cluster", help="parts to run, comma-separated")
    args = parser.parse_args(argv)
    parts = set(args.parts.split(","))
    root = world(args.cache / WORLD)
    with tempfile.TemporaryDirectory(prefix="bench-production-") as tmp:
        scratch = Path(tmp)
        config = scratch / "run.toml"
        config.write_text(f"[cube]\nchunk_size = {CHUNK}\n\n{READS}")
        result: dict[str, object] = {"product": args.product, "chunk": CHUNK}
        summary = []
        if "faults" in parts:
            result |= faults_part(args.product, root, scratch, config, args.fault_runs)
            summary.append(
                f"faults: {result['fault_runs_identical']}/{result['fault_runs']} runs identical under 10 % "
                f"faults ({result['faults_injected']} of {result['fault_requests']} requests failed once)"
            )
            shutil.rmtree(root / "http-stac", ignore_errors=True)
        if "kills" in parts:
            result |= kill_part(args.product, root, scratch, config, args.kills, args.seed)
            summary.append(
                f"kill -9: {result['kills_identical']}/{result['kills']} resumed runs identical, resume "
                f"{result['resume_over_full_median']} of a full run (median)"
            )
        if "cluster" in parts:
            workers = [int(n) for n in args.workers.split(",")]
            in_flight = [int(k) for k in args.tiles_in_flight.split(",")]
            cluster = cluster_part(args.product, args.cache, scratch, config, workers, in_flight)
            result |= cluster
            summary.append(
                f"LocalCluster of {workers} worker(s), {in_flight} tile(s) in flight, over "
                f"{cluster['cluster_tiles']} "
                f"({result['cluster_seconds']} s): efficiency {result['cluster_efficiency']}, peak MB per "
                f"worker {result['cluster_peak_worker_mb']}, identical outputs {result['cluster_identical']}"
            )
    print("; ".join(summary), file=sys.stderr)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
