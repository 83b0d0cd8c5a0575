"""The benchmark's lean HTTP client: what it sends and how it reads answers."""

from __future__ import annotations

import asyncio
import json

from bench.http_client import LeanClient


async def _server(answers: list[bytes], seen: list[bytes], connections: list[int]) -> asyncio.Server:
    """A keep-alive server that records each request and sends the next canned answer in pieces."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while answers:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length = next((int(v.split(b":")[1]) for v in lines if v.lower().startswith(b"content-length")), 0)
            seen.append(head + await reader.readexactly(length))
            answer = answers.pop(0)
            for i in range(0, len(answer), 7):  # split mid-header and mid-body
                writer.write(answer[i : i + 7])
                await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def _answer(status: int, body: dict[str, object], **headers: str) -> bytes:
    payload = json.dumps(body).encode()
    lines = [f"HTTP/1.1 {status} X", f"content-length: {len(payload)}", "content-type: application/json"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def test_reads_status_headers_and_json_over_one_kept_alive_connection() -> None:
    seen: list[bytes] = []
    connections: list[int] = []
    answers = [_answer(201, {"id": "r1", "position": 7}), _answer(200, {"ok": True}, X_Consistency="current")]
    server = await _server(answers, seen, connections)
    port = server.sockets[0].getsockname()[1]
    client = LeanClient(f"http://127.0.0.1:{port}")
    try:
        auth = {"Authorization": "B t"}
        status, body, _ = await client.call("POST", "/residents", json={"name": "居民"}, headers=auth)
        assert (status, body) == (201, {"id": "r1", "position": 7})
        status, body, headers = await client.call("GET", "/residents/r1", params={"after": "7"})
        assert (status, body, headers.get("X-Consistency")) == (200, {"ok": True}, "current")
    finally:
        await client.close()
        server.close()
    first, second = seen
    assert first.startswith(b"POST /residents HTTP/1.1\r\n")
    assert b"Authorization: B t\r\n" in first
    assert json.loads(first.split(b"\r\n\r\n", 1)[1]) == {"name": "居民"}
    assert second.startswith(b"GET /residents/r1?after=7 HTTP/1.1\r\n")
    assert len(connections) == 1  # the second request reused the first one's connection
