"""Every service's OpenAPI document says what the service answers: typed reads, problem+json
errors, the Idempotency-Key of commands, and a token URL that works from any service's /docs."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

SERVICES = ["registration", "jobs", "grid_reports", "volunteering"]
OPERATIONS = ("/health", "/ready", "/metrics")
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def openapi(service: str, tmp_path: Path) -> dict[str, Any]:
    module = importlib.import_module(f"{service}.bootstrap")
    settings = module.Settings(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/{service}.db",
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",
        DOORSTEP_TOKEN_URL="https://doorstep.example.gov.cn/registration/auth/token",
    )
    document: dict[str, Any] = module.create_app(settings).openapi()
    return document


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if not path.startswith(OPERATIONS)
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_errors_are_documented_as_problems(service: str, tmp_path: Path) -> None:
    document = openapi(service, tmp_path)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, method, op in operations(document):
        responses = op["responses"]
        if op.get("parameters") or op.get("requestBody"):
            assert responses.get("422", {}).get("content") == PROBLEM, (method, path)
        if op.get("security"):
            assert {"401", "403"} <= set(responses), (method, path)
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            assert responses["404"]["content"] == PROBLEM, (method, path)


@pytest.mark.parametrize("service", SERVICES)
def test_commands_document_their_idempotency_key(service: str, tmp_path: Path) -> None:
    document = openapi(service, tmp_path)
    commands = [(p, m, op) for p, m, op in operations(document) if m in ("post", "put", "patch", "delete")]
    assert commands
    for path, method, op in commands:
        if path.endswith("/auth/token") or path.startswith(("/admin/", "/open311/")):
            continue
        headers = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, (method, path)


@pytest.mark.parametrize("service", SERVICES)
def test_reads_declare_what_they_return(service: str, tmp_path: Path) -> None:
    document = openapi(service, tmp_path)
    untyped = []
    for path, method, op in operations(document):
        if method != "get" or path in ("/asyncapi.json",):
            continue
        ok = op["responses"].get("200", {})
        content = ok.get("content", {})
        described = json.dumps([c.get("schema", {}) for c in content.values()])
        if (
            not ({"text/csv", "text/html"} & set(content))
            and '"$ref"' not in described
            and '"properties"' not in described
        ):
            untyped.append(f"GET {path}")  # an object or a list of objects with nothing said of their fields
    assert untyped == []


@pytest.mark.parametrize("service", SERVICES)
def test_authorize_posts_to_the_configured_token_url(service: str, tmp_path: Path) -> None:
    schemes = openapi(service, tmp_path)["components"]["securitySchemes"]
    flows = [s["flows"]["password"]["tokenUrl"] for s in schemes.values() if s.get("type") == "oauth2"]
    assert flows == ["https://doorstep.example.gov.cn/registration/auth/token"]
