"""A lean HTTP/1.1 keep-alive client for load generation.

The load generator shares the machine's two cores with the service it measures,
so every microsecond it spends is taken from the service. A general client
(aiohttp, httpx) costs about 0.6 ms of CPU per request here; this one writes
prebuilt request bytes on pooled keep-alive connections and parses only the
status line, the headers and a Content-Length body: about a fifth of that.
It speaks just what the benchmark needs, to services that answer with
Content-Length (uvicorn always does for JSON).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections import deque
from typing import Any

import orjson


class Headers(dict[str, str]):
    """Response headers, looked up case-insensitively (names are stored lower-cased)."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, Headers, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None or self.waiter.done():
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = Headers()
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if len(self.buffer) < end + 4 + length:
            return
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        self.waiter.set_result((status, headers, body))

    async def request(self, raw: bytes) -> tuple[int, Headers, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


class LeanClient:
    """`call()` answers `(status, decoded JSON body or None, headers)`."""

    def __init__(self, base: str, connections: int = 64) -> None:
        parsed = urllib.parse.urlsplit(base)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.limit = connections
        self._idle: deque[_Connection] = deque()
        self._open = 0
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def open_connections(self, n: int) -> None:
        """Open `n` connections up front; requests then take them in turn, as many clients would.

        Several API processes share a port: each connection goes to one of them, so
        a load sent down a few connections would reach only a few processes.
        """
        opened = [await self._acquire() for _ in range(min(n, self.limit) - self._open)]
        for conn in opened:
            self._release(conn, reusable=True)

    async def _acquire(self) -> _Connection:
        while True:
            while self._idle:
                conn = self._idle.popleft()  # the longest idle first: every open connection gets used
                if not conn.closed:
                    return conn
                self._open -= 1
            if self._open < self.limit:
                self._open += 1
                try:
                    _, proto = await asyncio.get_running_loop().create_connection(_Connection, self.host, self.port)
                except BaseException:
                    self._open -= 1
                    raise
                return proto
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            await waiter

    def _release(self, conn: _Connection, reusable: bool) -> None:
        if reusable and not conn.closed:
            self._idle.append(conn)
        else:
            self._open -= 1
            if conn.transport is not None:
                conn.transport.close()
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any, Headers]:
        if params:
            path = f"{path}?{urllib.parse.urlencode(params)}"
        body = b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if json is not None:
            body = orjson.dumps(json)
            lines.append("Content-Type: application/json")
        elif data is not None:
            body = urllib.parse.urlencode(data).encode()
            lines.append("Content-Type: application/x-www-form-urlencoded")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        conn = await self._acquire()
        ok = False
        try:
            status, response_headers, payload = await conn.request(raw)
            ok = response_headers.get("connection", "").lower() != "close"
        finally:
            self._release(conn, ok)
        return status, (orjson.loads(payload) if payload else None), response_headers

    async def close(self) -> None:
        while self._idle:
            conn = self._idle.pop()
            if conn.transport is not None:
                conn.transport.close()
        self._open = 0
