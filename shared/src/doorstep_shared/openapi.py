"""The OpenAPI document as the service actually answers.

FastAPI documents only a 422 in its own validation-error shape, while every
error a service returns is RFC 9457 problem+json (`problems.py`). Clients
generated from the document, and people reading `/docs`, need the truth:

- every error status an operation can answer, with the `Problem` schema:
  401 and 403 where the caller must sign in, 404 where the path names a
  resource, 409 on commands (a state or a version that does not allow it),
  422 wherever there is input to refuse;
- the "Authorize" dialog posts to registration's token endpoint by its absolute
  URL (`DOORSTEP_TOKEN_URL`): the other services have no `/auth/token` of their own.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from doorstep_shared.problems import PROBLEM_JSON

COMMAND_METHODS = frozenset({"post", "put", "patch", "delete"})
PUBLIC_PATHS = ("/health", "/ready", "/metrics", "/asyncapi.json", "/open311/")


class ProblemField(BaseModel):
    field: str = Field(description="The failing input, as a dotted path (`body.skills.3`, `after`)")
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered."""

    type: str = Field(description="`/problems/<status phrase>`")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(None, description="The request path")
    errors: list[ProblemField] | None = Field(None, description="One entry per failing input")


DESCRIPTIONS = {
    401: "Not signed in, or the token or API key is invalid or expired",
    403: "Signed in, but this role or area may not do this",
    404: "The resource named in the path does not exist",
    409: "The resource's state or version does not allow this, or it exists already",
    422: "Invalid input; `errors[].field` names each failing field",
}


def install_openapi(app: FastAPI, *, token_url: str) -> None:
    """Replace the app's OpenAPI builder with one that documents problems and the token URL."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = document(schema, token_url=token_url)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def document(schema: dict[str, Any], *, token_url: str) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ProblemField"] = ProblemField.model_json_schema(ref_template="#/components/schemas/{model}")
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem_schema.pop("$defs", None)
    schemas["Problem"] = problem_schema
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status in _statuses(path, method, operation):
                operation["responses"][str(status)] = {
                    "description": DESCRIPTIONS[status],
                    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for scheme in components.get("securitySchemes", {}).values():
        password = scheme.get("flows", {}).get("password")
        if password is not None:
            password["tokenUrl"] = token_url
    return schema


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    out: list[int] = []
    signed_in = bool(operation.get("security")) and not path.startswith(PUBLIC_PATHS)
    if signed_in:
        out += [401, 403]
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        out.append(404)
    if method in COMMAND_METHODS:
        out.append(409)
    if operation.get("parameters") or operation.get("requestBody") or "422" in operation["responses"]:
        out.append(422)
    return out
