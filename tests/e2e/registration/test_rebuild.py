"""Rebuilding registration's read models after the broker lost every topic, over HTTP and the CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from doorstep_shared.cli import main
from doorstep_shared.embedded import EmbeddedKafka
from registration.bootstrap import create_app

from tests.e2e.registration.test_registration_flow import (
    GRID,
    VALID_ID,
    VALID_ID_2,
    admin_headers,
    build_tree,
    resident_body,
    settings_for,
)
from tests.helpers import eventually, running_app


async def _residents(client, admin, after: int = 0) -> int:  # type: ignore[no-untyped-def]
    r = await client.get("/residents", params={"after": after}, headers=admin)
    assert r.status_code == 200, r.text
    return int(r.json()["total"])


async def _has_residents(client, admin, count: int) -> bool:  # type: ignore[no-untyped-def]
    return await _residents(client, admin) == count


async def test_a_rebuild_after_the_broker_lost_everything_restores_the_read_model_from_the_log(
    database_url: str, jwt_keys: tuple[Path, Path], topic_prefix: str, tmp_path: Path
) -> None:
    kafka = EmbeddedKafka().start()
    try:
        settings = settings_for(database_url, kafka.bootstrap_servers, topic_prefix, jwt_keys, tmp_path)
        async with running_app(create_app(settings)) as client:
            admin = await admin_headers(client)
            await build_tree(client, admin)
            position = 0
            for id_number in (VALID_ID, VALID_ID_2):
                r = await client.post("/residents", json=resident_body(id_number=id_number), headers=admin)
                assert r.status_code == 201, r.text
                position = r.json()["position"]
            assert await _residents(client, admin, position) == 2

            port = kafka.port
            kafka.stop()
            kafka = EmbeddedKafka(port=port).start()  # same address, every topic gone

            r = await client.post("/admin/projections/directory/rebuild", params={"wait": "true"}, headers=admin)
            assert r.status_code == 200, r.text
            assert r.json()["source"] == "event log" and r.json()["state"] == "done"
            assert await _residents(client, admin) == 2
            assert (await client.get(f"/areas/{GRID}", headers=admin)).status_code == 200

            # in the background too: 202 at once, the old rows answer meanwhile, the status tells the end
            r = await client.post("/admin/projections/directory/rebuild", headers=admin)
            assert r.status_code == 202, r.text
            assert await _residents(client, admin) == 2

            async def rebuilt() -> bool:
                status = (await client.get("/admin/projections", headers=admin)).json()
                return {p["name"]: p for p in status}["directory"]["rebuild"]["state"] == "done"

            await eventually(rebuilt, timeout=30)
            assert await _residents(client, admin) == 2

            # the live projection goes on applying new events (once it has rejoined the restarted broker)
            body = resident_body(id_number="110105198001010016", mobile="13800135679")
            r = await client.post("/residents", json=body, headers=admin)
            assert r.status_code == 201, r.text
            await eventually(lambda: _has_residents(client, admin, 3), timeout=60)

            # reactions keep no read model: replaying them would repeat their commands
            r = await client.post("/admin/projections/jobs-reactions/rebuild", headers=admin)
            assert r.status_code == 409 and "no read model" in r.json()["detail"], r.text
    finally:
        kafka.stop()


async def test_the_cli_rebuilds_own_topics_without_a_broker_and_refuses_foreign_ones(
    database_url: str,
    jwt_keys: tuple[Path, Path],
    topic_prefix: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    no_broker = "127.0.0.1:1"
    settings = settings_for(database_url, no_broker, topic_prefix, jwt_keys, tmp_path)
    app = create_app(settings)
    # the service runs without a broker: commands are accepted, the read model stays empty
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            admin = await admin_headers(client)
            await build_tree(client, admin)
            r = await client.post("/residents", json=resident_body(), headers=admin)
            assert r.status_code == 201, r.text
            assert (await client.get(f"/areas/{GRID}", headers=admin)).status_code == 404

    for key, value in {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": no_broker,
        "DOORSTEP_TOPIC_PREFIX": topic_prefix,
        "DOORSTEP_VAR_DIR": str(tmp_path),
    }.items():
        monkeypatch.setenv(key, value)
    await asyncio.to_thread(main, ["rebuild", "registration"])  # the command runs its own event loop
    out = capsys.readouterr().out
    assert "registration.directory: " in out and "source: event log" in out, out

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            admin = await admin_headers(client)
            assert (await client.get(f"/areas/{GRID}", headers=admin)).status_code == 200
            assert await _residents(client, admin) == 1

    # a projection of other services' topics needs Kafka: one line, a non-zero exit
    if not database_url.startswith("sqlite"):
        return  # on PostgreSQL jobs would need a database of its own; SQLite shows it
    monkeypatch.setenv("DATABASE_URL", database_url.replace("test.db", "jobs.db"))
    with pytest.raises(SystemExit) as exit_info:
        await asyncio.to_thread(main, ["rebuild", "jobs", "--projection", "residents"])
    assert exit_info.value.code == 1
    # (the JSON lines are the log of the apps this test ran in-process)
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("{")]
    assert len(err) == 1 and err[0].startswith("jobs.residents: refused:") and "Kafka" in err[0], err
