"""Structured JSON logs with correlation ids, request metrics, health endpoints."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

from asgi_correlation_id import CorrelationIdFilter
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doorstep_shared.metrics import REQUEST_LATENCY
from doorstep_shared.problems import problem

_configured = False


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON lines on stderr; every record carries the service and the correlation id."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level.upper())
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationIdFilter(uuid_length=32, default_value="-"))
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{correlation_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    root.handlers = [handler]
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    _configured = True


class MetricsMiddleware:
    """Request latency by route template (a plain ASGI middleware: cheap per request)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            REQUEST_LATENCY.labels(self.service, scope["method"], path, str(status)).observe(
                time.perf_counter() - start
            )


def health_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/health", summary="The process is alive")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "pid": os.getpid()}  # which process answered, when several share a port

    @router.get("/ready", summary="Database and broker are reachable", response_model=None)
    async def ready(request: Request) -> dict[str, Any] | Response:
        runtime = request.app.state.runtime
        checks: dict[str, str] = {}
        try:
            await runtime.db.ping()
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        checks["broker"] = await runtime.broker_status()
        ok = all(v == "ok" for v in checks.values())
        if not ok:
            return problem(503, title="Not ready", detail=", ".join(f"{k}: {v}" for k, v in checks.items()))
        return {"status": "ready", "checks": checks}

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # one of several API processes: sum them all
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def install_observability(app: FastAPI, service: str) -> None:
    from asgi_correlation_id import CorrelationIdMiddleware

    app.add_middleware(MetricsMiddleware, service=service)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Correlation-ID")
    app.include_router(health_router())
