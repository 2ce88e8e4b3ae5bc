"""Every error is JSON ``{"error": {"status", "message"}}`` with a message that says what is wrong."""

from __future__ import annotations

import logging

import asyncpg
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.errors import DomainError
from domain.lpr.reads import BadEvent
from domain.lpr.signature import BadSignature
from services.refusals import (
    Conflict,
    Invalid,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    Refusal,
    TooMany,
    Unavailable,
)
from storage.plans import QuotaExceeded

log = logging.getLogger(__name__)


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status, headers=headers)


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "; ".join(parts) or "invalid request"


_REFUSAL_STATUS: dict[type[Refusal], int] = {
    NotAuthenticated: 401, NotAllowed: 403, NotFound: 404, Conflict: 409, Invalid: 422, TooMany: 429,
    Unavailable: 503}


def status_for(refusal: Refusal) -> int:
    """The HTTP status a use case's refusal is answered with."""
    return next(status for kind, status in _REFUSAL_STATUS.items() if isinstance(refusal, kind))


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, _describe_validation(exc))

    @app.exception_handler(Refusal)
    async def refused(_: Request, exc: Refusal) -> JSONResponse:
        status = status_for(exc)
        headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, Unavailable) else None
        return error_response(status, str(exc), headers)

    @app.exception_handler(BadEvent)
    async def bad_event(_: Request, exc: BadEvent) -> JSONResponse:
        # A pushed plate read we cannot store: a sender that is not who it claims (401), else what is wrong (422).
        return error_response(401 if isinstance(exc, BadSignature) else 422, str(exc))

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(422, str(exc))

    @app.exception_handler(QuotaExceeded)
    async def over_quota(_: Request, exc: QuotaExceeded) -> JSONResponse:
        return error_response(409, str(exc))

    @app.exception_handler(asyncpg.UniqueViolationError)
    async def conflict(_: Request, exc: asyncpg.UniqueViolationError) -> JSONResponse:
        return error_response(409, "already exists: a resource with the same unique name exists")

    @app.exception_handler(asyncpg.ForeignKeyViolationError)
    async def refers_to_nothing(_: Request, exc: asyncpg.ForeignKeyViolationError) -> JSONResponse:
        # e.g. an admin naming a tenant_id that does not exist: what it names is not found.
        return error_response(404, "not found: the request refers to something that does not exist")

    @app.exception_handler(asyncpg.CheckViolationError)
    async def check_failed(_: Request, exc: asyncpg.CheckViolationError) -> JSONResponse:
        return error_response(422, f"value out of range ({exc.constraint_name})")

    @app.exception_handler(OSError)
    @app.exception_handler(asyncpg.PostgresConnectionError)
    @app.exception_handler(asyncpg.CannotConnectNowError)
    @app.exception_handler(asyncpg.ConnectionDoesNotExistError)
    @app.exception_handler(RedisConnectionError)
    @app.exception_handler(RedisTimeoutError)
    async def store_unreachable(_: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL, Redis or the object store is down: nothing was done, and a client may retry.
        log.warning("a store is unreachable: %s", exc)
        return error_response(503, "a backing store is unreachable right now; retry", {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal error; it has been logged")
