"""openEO's error JSON (``{"id", "code", "message"}``) for every refusal the API makes."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import BaresoilError


class ApiError(Exception):
    """A refusal with openEO's error code (``ProcessGraphInvalid``, ``JobNotFound``…) and HTTP status."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"id": uuid.uuid4().hex, "code": code, "message": message, "links": []}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


_HTTP_CODES = {
    400: "BadRequest",
    401: "AuthenticationRequired",
    403: "PermissionsInsufficient",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
}


def install_handlers(app: FastAPI) -> None:
    """Every error leaves as openEO error JSON: ours, FastAPI's validation errors, Starlette's 404s,
    baresoil's input errors (400) and bugs (500, without the traceback)."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return error_response(400, "BadRequest", f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "Internal" if exc.status_code >= 500 else "BadRequest")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(BaresoilError)
    async def _input(request: Request, exc: BaresoilError) -> JSONResponse:
        return error_response(400, "InputInvalid", str(exc))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        return error_response(500, "Internal", f"internal error ({type(exc).__name__}); see the server log")
