"""The openEO API (1.2 subset) over baresoil's pipeline, as a FastAPI application.

Capabilities (``/``, ``/.well-known/openeo``, ``/conformance``, ``/file_formats``, ``/collections``,
``/processes``) are public; everything else needs the bearer token of ``/credentials/basic``.  A user
sees, starts, cancels and downloads only their own jobs: another user's job id is answered as an
unknown one (``JobNotFound``), and downloads are confined to the job's result folder.
"""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import re
import secrets
import zipfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask

from .. import __version__
from ..catalog.source import StacSource
from ..config import ServiceConfig
from ..pipeline.cluster import scheduler as dask_scheduler
from .collections import ServedCollection
from .errors import ApiError, install_handlers
from .graph import check_limits, parse_graph
from .jobs import JobRunner
from .processes import all_processes
from .results import result_assets, result_layers, results_collection
from .store import JobRecord, JobStore, database_url
from .tiles import legend, render_tile
from .users import Authenticator

API_VERSION = "1.2.0"
CONFORMANCE = [
    "https://api.openeo.org/1.2.0",
    "https://api.stacspec.org/v1.0.0/collections",
]


@dataclass(frozen=True)
class ServerSettings:
    workdir: Path
    collections: Mapping[str, StacSource]
    scheduler: str | None = None
    database: str | None = None
    """SQLAlchemy URL of the job store; SQLite in ``workdir`` when None."""
    limits: ServiceConfig = field(default_factory=ServiceConfig)


_ENDPOINTS = [
    ("/", ["GET"]),
    ("/.well-known/openeo", ["GET"]),
    ("/conformance", ["GET"]),
    ("/file_formats", ["GET"]),
    ("/collections", ["GET"]),
    ("/collections/{collection_id}", ["GET"]),
    ("/processes", ["GET"]),
    ("/credentials/basic", ["GET"]),
    ("/me", ["GET"]),
    ("/result", ["POST"]),
    ("/jobs", ["GET", "POST"]),
    ("/jobs/{job_id}", ["GET", "DELETE"]),
    ("/jobs/{job_id}/results", ["GET", "POST", "DELETE"]),
    ("/jobs/{job_id}/logs", ["GET"]),
    ("/viewer", ["GET"]),
]

_FORMATS = {
    "GTiff": ("GeoTiff (Cloud-Optimized), one file per layer and period", ["raster"]),
    "netCDF": ("netCDF-4, one file per tile holding every period (composites)", ["raster"]),
    "GeoParquet": ("GeoParquet tables, each with its CSV (baresoil_parcels)", ["vector", "table"]),
}


def current_user(request: Request) -> str:
    """The user of the request's bearer token (``basic//TOKEN`` as openEO clients send it)."""
    header = request.headers.get("authorization", "")
    if not header and "token" in request.query_params and _TOKEN_IN_QUERY.match(request.url.path):
        header = f"Bearer {request.query_params['token']}"
    if not header:
        raise ApiError(401, "AuthenticationRequired", "a bearer token is needed: GET /credentials/basic")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(403, "AuthenticationSchemeInvalid", "use 'Authorization: Bearer basic//TOKEN'")
    auth: Authenticator = request.app.state.auth
    user = auth.user_of(token.removeprefix("basic//"))
    if user is None:
        raise ApiError(403, "TokenInvalid", "the token is invalid or has expired: log in again")
    return user


User = Annotated[str, Depends(current_user)]
_TOKEN_IN_QUERY = re.compile(r"^/jobs/[^/]+/results/(assets|tiles|legend)/")
"""Where a token may come as ``?token=``: the viewer's map tiles, legends and download links, which a
browser fetches without headers."""
STATIC = Path(__file__).parent / "static"


def create_app(settings: ServerSettings) -> FastAPI:
    workdir = settings.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    collections = {cid: ServedCollection(cid, source) for cid, source in settings.collections.items()}
    sources = dict(settings.collections)
    store = JobStore(database_url(workdir, settings.database))
    auth = Authenticator(workdir)
    runner = JobRunner(store, workdir, sources, settings.limits.workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with dask_scheduler(settings.scheduler):
            runner.recover()
            yield
            runner.shutdown()

    app = FastAPI(
        title="baresoil openEO API",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runner = runner
    app.state.store = store
    app.state.auth = auth
    install_handlers(app)

    def base(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    def own_job(job_id: str, user: str) -> JobRecord:
        try:
            job = store.get(job_id)
        except KeyError:
            job = None
        if job is None or job.user != user:
            raise ApiError(404, "JobNotFound", f"no job {job_id!r}")
        return job

    # --- capabilities ---------------------------------------------------------------------------

    @app.get("/")
    def capabilities(request: Request) -> dict[str, Any]:
        root = base(request)
        return {
            "api_version": API_VERSION,
            "backend_version": __version__,
            "stac_version": "1.0.0",
            "type": "Catalog",
            "id": "baresoil",
            "title": "baresoil",
            "description": "Bare-soil products and surface-reflectance composites from Sentinel-2 time "
            "series, on request (baresoil serve).",
            "production": False,
            "endpoints": [{"path": path, "methods": methods} for path, methods in _ENDPOINTS],
            "links": [
                {"rel": "self", "href": f"{root}/", "type": "application/json"},
                {"rel": "conformance", "href": f"{root}/conformance", "type": "application/json"},
                {"rel": "data", "href": f"{root}/collections", "type": "application/json"},
                {"rel": "version-history", "href": f"{root}/.well-known/openeo", "type": "application/json"},
            ],
        }

    @app.get("/.well-known/openeo")
    def well_known(request: Request) -> dict[str, Any]:
        return {"versions": [{"url": base(request) + "/", "api_version": API_VERSION, "production": False}]}

    @app.get("/conformance")
    def conformance() -> dict[str, Any]:
        return {"conformsTo": CONFORMANCE}

    @app.get("/file_formats")
    def file_formats() -> dict[str, Any]:
        output = {
            name: {"title": title, "gis_data_types": kinds, "parameters": {}}
            for name, (title, kinds) in _FORMATS.items()
        }
        return {"input": {}, "output": output}

    @app.get("/collections")
    def list_collections(request: Request) -> dict[str, Any]:
        root = base(request)
        entries = []
        for served in collections.values():
            entry = served.summary()
            entry["links"] = [{"rel": "self", "href": f"{root}/collections/{served.id}"}]
            entries.append(entry)
        return {"collections": entries, "links": []}

    @app.get("/collections/{collection_id}")
    def collection(collection_id: str) -> dict[str, Any]:
        served = collections.get(collection_id)
        if served is None:
            raise ApiError(404, "CollectionNotFound", f"no collection {collection_id!r}")
        return served.metadata()

    @app.get("/processes")
    def processes() -> dict[str, Any]:
        return {"processes": all_processes(), "links": []}

    # --- authentication -------------------------------------------------------------------------

    @app.get("/credentials/basic")
    def basic(request: Request) -> dict[str, Any]:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise ApiError(401, "AuthenticationRequired", "HTTP Basic authentication is needed")
        try:
            name, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(403, "CredentialsInvalid", "malformed Basic credentials") from None
        token = auth.login(name, password) if sep else None
        if token is None:
            raise ApiError(403, "CredentialsInvalid", "wrong user name or password")
        return {"access_token": token}

    @app.get("/me")
    def me(user: User) -> dict[str, Any]:
        return {"user_id": user, "name": user}

    # --- synchronous processing -----------------------------------------------------------------

    most_bytes = int(settings.limits.max_request_mb * 1e6)

    @app.post("/result")
    async def result(request: Request, user: User) -> Response:
        body = await _json(request, most_bytes)
        parsed = parse_graph(body.get("process", body), sources)
        check_limits(parsed, settings.limits, synchronous=True)
        out = await run_in_threadpool(runner.run_now, parsed)
        files = result_assets(out)
        if len(files) == 1:
            (path,) = files.values()
            return FileResponse(path, media_type=_media_type(path))
        return _zip_response(out, workdir)

    # --- batch jobs -----------------------------------------------------------------------------

    @app.post("/jobs", status_code=201)
    async def create_job(request: Request, user: User) -> Response:
        body = await _json(request, most_bytes)
        process = body.get("process")
        if not isinstance(process, dict):
            raise ApiError(400, "ProcessGraphMissing", "the job has no 'process' with a 'process_graph'")
        parsed = parse_graph(process, sources)
        check_limits(parsed, settings.limits, synchronous=False)
        job_id = "j-" + secrets.token_hex(12)
        store.create(job_id, user, process, parsed.key(), body.get("title"), body.get("description"))
        url = f"{base(request)}/jobs/{job_id}"
        return Response(status_code=201, headers={"Location": url, "OpenEO-Identifier": job_id})

    @app.get("/jobs")
    def list_jobs(user: User) -> dict[str, Any]:
        return {"jobs": [_job_summary(job) for job in store.of_user(user)], "links": []}

    @app.get("/jobs/{job_id}")
    def get_job(job_id: str, user: User) -> dict[str, Any]:
        job = own_job(job_id, user)
        return {
            **_job_summary(job),
            "process": job.process,
            **({"message": job.message} if job.message else {}),
        }

    @app.delete("/jobs/{job_id}", status_code=204)
    def delete_job(job_id: str, user: User) -> Response:
        job = own_job(job_id, user)
        runner.cancel(job_id)
        store.delete(job_id)
        if job.status != "running":
            runner.forget(job_id, job.result_key)
        return Response(status_code=204)

    @app.post("/jobs/{job_id}/results", status_code=202)
    def start_job(job_id: str, user: User) -> Response:
        job = own_job(job_id, user)
        if job.status in ("queued", "running"):
            return Response(status_code=202)
        if job.status == "finished":
            return Response(status_code=202)
        runner.canceled.discard(job_id)
        store.update(job_id, status="queued", progress=0.0, message=None, attempts=0)
        store.log(job_id, "info", "queued")
        runner.submit(job_id)
        return Response(status_code=202)

    @app.delete("/jobs/{job_id}/results", status_code=204)
    def cancel_job(job_id: str, user: User) -> Response:
        own_job(job_id, user)
        runner.cancel(job_id)
        return Response(status_code=204)

    @app.get("/jobs/{job_id}/results")
    def job_results(job_id: str, user: User, request: Request) -> JSONResponse:
        job = own_job(job_id, user)
        if job.status != "finished":
            raise ApiError(400, "JobNotFinished", f"job {job_id} is {job.status}, not finished")
        href = f"{base(request)}/jobs/{job_id}/results/assets"
        body = results_collection(job, runner.result_dir(job.result_key), href)
        return JSONResponse(body, media_type="application/json")

    @app.get("/jobs/{job_id}/results/assets/{path:path}")
    def job_asset(job_id: str, path: str, user: User) -> FileResponse:
        job = own_job(job_id, user)
        if job.status != "finished":
            raise ApiError(400, "JobNotFinished", f"job {job_id} is {job.status}, not finished")
        root = runner.result_dir(job.result_key).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file() or target.name.startswith("."):
            raise ApiError(404, "AssetNotFound", f"job {job_id} has no asset {path!r}")
        return FileResponse(target, media_type=_media_type(target))

    def finished_file(job_id: str, user: str, name: str) -> tuple[Path, str]:
        """A finished job's result file by asset name, with its layer code."""
        job = own_job(job_id, user)
        if job.status != "finished":
            raise ApiError(400, "JobNotFinished", f"job {job_id} is {job.status}, not finished")
        found = result_layers(runner.result_dir(job.result_key)).get(name)
        if found is None:
            raise ApiError(404, "AssetNotFound", f"job {job_id} has no asset {name!r}")
        return found

    @app.get("/jobs/{job_id}/results/tiles/{name}/{z}/{x}/{y}.png")
    def job_tile(job_id: str, name: str, z: int, x: int, y: int, user: User) -> Response:
        path, code = finished_file(job_id, user, name)
        if path.suffix != ".tif":
            raise ApiError(400, "FormatUnsupported", f"{name}: tiles come from GeoTIFF results only")
        png = render_tile(path, code, z, x, y)
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/jobs/{job_id}/results/legend/{name}")
    def job_legend(job_id: str, name: str, user: User) -> dict[str, Any]:
        path, code = finished_file(job_id, user, name)
        return legend(path, code)

    @app.get("/viewer")
    def viewer() -> FileResponse:
        return FileResponse(STATIC / "viewer.html", media_type="text/html")

    @app.get("/viewer/{path:path}")
    def viewer_file(path: str) -> FileResponse:
        target = (STATIC / path).resolve()
        if not target.is_relative_to(STATIC.resolve()) or not target.is_file():
            raise ApiError(404, "NotFound", f"no file {path!r}")
        return FileResponse(
            target, media_type=mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        )

    @app.get("/jobs/{job_id}/logs")
    def job_logs(job_id: str, user: User, offset: str | None = None, limit: int = 1000) -> dict[str, Any]:
        own_job(job_id, user)
        after = int(offset) if offset and offset.isdigit() else 0
        entries = store.logs(job_id, after)[:limit]
        logs = [
            {"id": str(e["seq"]), "level": e["level"], "message": e["message"], "time": e["time"].isoformat()}
            for e in entries
        ]
        return {"logs": logs, "links": []}

    return app


async def _json(request: Request, most_bytes: int) -> dict[str, Any]:
    """The request's JSON object, read only while it stays within ``most_bytes``."""
    too_large = ApiError(
        413,
        "PayloadTooLarge",
        f"the request is over the server's limit of {most_bytes / 1e6:g} MB (service.max_request_mb)",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most_bytes:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > most_bytes:
            raise too_large
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks) or b"{}")
    except json.JSONDecodeError as exc:
        raise ApiError(400, "BadRequest", f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the body must be a JSON object")
    return body


def _job_summary(job: JobRecord) -> dict[str, Any]:
    return {
        "id": job.id,
        "title": job.title,
        "description": job.description,
        "status": job.status,
        "progress": job.progress,
        "created": job.created.isoformat().replace("+00:00", "Z"),
        "updated": job.updated.isoformat().replace("+00:00", "Z"),
    }


def _media_type(path: Path) -> str:
    if path.suffix in (".tif", ".tiff"):
        return "image/tiff; application=geotiff; profile=cloud-optimized"
    if path.suffix == ".nc":
        return "application/netcdf"
    if path.suffix == ".parquet":
        return "application/vnd.apache.parquet"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _zip_response(out: Path, workdir: Path) -> FileResponse:
    """Several files (every layer and period) in one ZIP, with the STAC catalog of the result."""
    tmp_dir = workdir / "tmp"
    tmp_dir.mkdir(exist_ok=True)
    archive = tmp_dir / f"result-{secrets.token_hex(8)}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")):
            zf.write(path, path.relative_to(out).as_posix())
    cleanup = BackgroundTask(lambda: archive.unlink(missing_ok=True))
    return FileResponse(archive, media_type="application/zip", filename="result.zip", background=cleanup)


__all__ = ["ServerSettings", "create_app"]
