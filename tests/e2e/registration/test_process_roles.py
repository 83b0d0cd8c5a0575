"""Registration as two processes' worth of roles: an API and a worker on one database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from doorstep_shared.settings import ProcessRole
from registration.bootstrap import create_app

from tests.e2e.registration.test_registration_flow import (
    GRID,
    admin_headers,
    build_tree,
    resident_body,
    settings_for,
)
from tests.helpers import running_app, token_for


async def test_an_api_process_answers_reads_once_a_separate_worker_has_applied_them(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, jwt_keys: tuple[Path, Path], tmp_path: Path
) -> None:
    base = settings_for(database_url, kafka_bootstrap, topic_prefix, jwt_keys, tmp_path)
    worker_settings = base.model_copy(update={"role": ProcessRole.WORKER})
    api_settings = base.model_copy(update={"role": ProcessRole.API})
    async with running_app(create_app(worker_settings)) as worker, running_app(create_app(api_settings)) as api:
        api_runtime = api._transport.app.state.runtime  # type: ignore[attr-defined]
        assert not api_runtime.settings.runs_worker_tasks
        assert all(r.broker is None for r in api_runtime.runners.values())  # no consumer in the API process
        admin = await admin_headers(api)
        await build_tree(api, admin)
        gw = token_for(jwt_keys, "grid_worker", [GRID], subject="gw-1")

        r = await api.post("/residents", json=resident_body(), headers=gw)
        assert r.status_code == 201, r.text
        rid, position = r.json()["id"], r.json()["position"]

        # the worker's relay publishes it and its projection applies it; the API
        # process, which runs neither, waits for the read model by polling it
        r = await api.get(f"/residents/{rid}", params={"after": position}, headers=gw)
        assert r.status_code == 200, r.text
        assert r.headers["X-Consistency"] == "current"
        assert r.json()["grid_code"] == GRID

        # several readers waiting at once are all woken by the same polls
        r = await api.put(f"/residents/{rid}/skills", json={"skills": ["embroidery"]}, headers=gw)
        assert r.status_code == 200, r.text
        later = r.json()["position"]
        reads = [api.get(f"/residents/{rid}", params={"after": later}, headers=gw) for _ in range(5)]
        for r in await asyncio.gather(*reads):
            assert r.headers["X-Consistency"] == "current" and r.json()["skills"] == ["embroidery"]

        # the worker process answers operations endpoints on its own
        assert (await worker.get("/ready")).json()["checks"] == {"database": "ok", "broker": "ok"}

        # a rebuild belongs to the process that runs the projection
        assert (await api.get("/admin/projections", headers=gw)).status_code == 403  # city admins only
        r = await api.get("/admin/projections", headers=admin)
        assert r.status_code == 200, r.text
        status = {p["name"]: p for p in r.json()}
        assert status["directory"]["runs_in_this_process"] is False
        r = await api.post("/admin/projections/directory/rebuild", headers=admin)
        assert r.status_code == 409 and "worker" in r.json()["detail"], r.text
        r = await worker.post("/admin/projections/directory/rebuild", headers=admin)
        assert r.status_code == 202, r.text
        r = await api.get(f"/residents/{rid}", params={"after": later}, headers=gw)
        assert r.headers["X-Consistency"] == "current" and r.json()["skills"] == ["embroidery"]

    consumer = AIOKafkaConsumer(
        f"{topic_prefix}registration.residents",
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=5000, max_records=10)
        records = [m for msgs in batch.values() for m in msgs]
    finally:
        await consumer.stop()
    assert [json.loads(m.value)["resident_id"] if m.value else None for m in records][:1] == [rid]
