"""RFC 9457 problem details for every error a service returns.

Each problem names the failing input in `errors[].field` (JSON-pointer-like
dotted path), so a client can put the message next to the right form field.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from doorstep_shared.domain import DomainError
from doorstep_shared.inputs import ControlCharacterGuard

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("doorstep.problems")


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem(
    status: int,
    *,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> ProblemResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"/problems/{phrase.lower().replace(' ', '-')}",
        "title": title or phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return ProblemResponse(body, status_code=status, headers=headers)


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] or parts
    return ".".join(parts)


def invalid_input(request: Request, failures: Any) -> ProblemResponse:
    """422 naming each failing field, from pydantic's or FastAPI's list of errors."""
    errors = [{"field": _field_of(e.get("loc", ())), "detail": e.get("msg", "")} for e in failures]
    first = errors[0] if errors else {"field": "", "detail": "invalid request"}
    return problem(
        422,
        title="Invalid input",
        detail=f"{first['field']}: {first['detail']}",
        instance=request.url.path,
        errors=errors,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Every error as problem+json; control characters in paths and queries refused up front."""
    app.add_middleware(ControlCharacterGuard)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> ProblemResponse:
        errors = [{"field": exc.field, "detail": exc.detail}] if exc.field else None
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem(
            exc.status,
            title=exc.title,
            detail=exc.detail,
            instance=request.url.path,
            errors=errors,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> ProblemResponse:
        return invalid_input(request, exc.errors())

    @app.exception_handler(ValidationError)
    async def model_error(request: Request, exc: ValidationError) -> ProblemResponse:
        """A command built in code from a path or form value that breaks its model: still the
        caller's input, so a 422 naming the field rather than a 500."""
        return invalid_input(request, exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> ProblemResponse:
        return problem(
            exc.status_code,
            detail=str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def unhandled(request: Request, exc: Exception) -> ProblemResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, detail="internal error; see the logs with this request's correlation id")
