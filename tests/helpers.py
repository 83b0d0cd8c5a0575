"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
from doorstep_shared.auth import Principal, Role, TokenIssuer
from fastapi import FastAPI


async def eventually(predicate, timeout: float = 10.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll an async or sync predicate until it returns a truthy value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def running_app(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Run a service app's lifespan (relay, projections) and give an HTTP client for it."""
    async with app.router.lifespan_context(app):
        runtime = getattr(app.state, "runtime", None)
        if runtime is not None:
            await runtime.wait_consuming()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@functools.cache
def _issuer(private_key: Path) -> TokenIssuer:
    return TokenIssuer(
        private_key.read_bytes(), issuer="doorstep-registration", audience="doorstep", ttl=timedelta(hours=1)
    )


def token_for(
    jwt_keys: tuple[Path, Path],
    role: Role | str,
    areas: tuple[str, ...] | list[str],
    subject: str = "staff-1",
    **extra: str,
) -> dict[str, str]:
    """Authorization header with a token signed like registration signs them."""
    issuer = TokenIssuer(
        jwt_keys[0].read_bytes(),
        issuer="doorstep-registration",
        audience="doorstep",
        ttl=timedelta(hours=1),
    )
    principal = Principal(subject=subject, role=Role(role), areas=tuple(areas), **extra)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {issuer.issue(principal)}"}


def stop_process(
    proc: subprocess.Popen[bytes] | subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 20
) -> None:
    """Signal a process to stop and wait for it; kill it and fail if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
