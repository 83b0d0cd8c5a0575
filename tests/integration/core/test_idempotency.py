"""Idempotency keys under races, on each database: every identical attempt gets the first answer.

The app runs as an API process (no broker needed); requests go through
httpx's ASGI transport, so twenty of them really are in flight at once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from doorstep_shared.domain import utcnow
from doorstep_shared.settings import ProcessRole
from registration.bootstrap import create_app
from registration.settings import Settings
from sqlalchemy import func, select, update

from tests.e2e.registration.test_registration_flow import admin_headers, build_tree, resident_body, settings_for
from tests.helpers import running_app

PARALLEL = 20


@pytest.fixture
def api_settings(database_url: str, jwt_keys, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    base = settings_for(database_url, "127.0.0.1:1", "t.", jwt_keys, tmp_path)
    return base.model_copy(update={"role": ProcessRole.API})


async def _ready(client: httpx.AsyncClient) -> dict[str, str]:
    admin = await admin_headers(client)
    await build_tree(client, admin)
    return admin


async def test_parallel_identical_commands_all_get_the_first_answer(api_settings: Settings) -> None:
    async with running_app(create_app(api_settings)) as client:
        admin = await _ready(client)
        headers = {**admin, "Idempotency-Key": "register-wang-once"}
        replies = await asyncio.gather(
            *(client.post("/residents", json=resident_body(), headers=headers) for _ in range(PARALLEL))
        )
        statuses = [r.status_code for r in replies]
        assert statuses == [201] * PARALLEL, [(r.status_code, r.text) for r in replies if r.status_code != 201]
        assert len({r.text for r in replies}) == 1  # the same body, byte for byte
        replayed = [r.headers.get("Idempotent-Replayed") for r in replies]
        assert replayed.count("true") == PARALLEL - 1

        # a different body with the same key is refused, naming the header
        other = await client.post("/residents", json=resident_body(building="13"), headers=headers)
        assert other.status_code == 409, other.text
        assert other.headers["content-type"].startswith("application/problem+json")
        assert other.json()["errors"][0]["field"] == "Idempotency-Key"


async def test_a_key_longer_than_200_characters_is_refused(api_settings: Settings) -> None:
    async with running_app(create_app(api_settings)) as client:
        admin = await _ready(client)
        too_long = await client.post(
            "/residents", json=resident_body(), headers={**admin, "Idempotency-Key": "k" * 201}
        )
        assert too_long.status_code == 422, too_long.text
        assert too_long.headers["content-type"].startswith("application/problem+json")
        assert too_long.json()["errors"][0]["field"] == "Idempotency-Key"

        # 200 characters fit, although subject, method and path make the scoped key longer
        key = {**admin, "Idempotency-Key": "k" * 200}
        first = await client.post("/residents", json=resident_body(), headers=key)
        assert first.status_code == 201, first.text
        again = await client.post("/residents", json=resident_body(), headers=key)
        assert again.status_code == 201 and again.json() == first.json(), again.text
        assert again.headers["Idempotent-Replayed"] == "true"


async def test_an_expired_key_is_unknown_and_expired_rows_are_purged(api_settings: Settings) -> None:
    app = create_app(api_settings)
    async with running_app(app) as client:
        admin = await _ready(client)
        rid = (await client.post("/residents", json=resident_body(), headers=admin)).json()["id"]
        headers = {**admin, "Idempotency-Key": "skills-1"}
        body = {"skills": ["sewing", "knitting"]}
        first = await client.put(f"/residents/{rid}/skills", json=body, headers=headers)
        assert first.status_code == 200, first.text

        runtime = app.state.runtime
        table = runtime.store.t.idempotency
        ttl = timedelta(hours=api_settings.idempotency_ttl_hours)
        async with runtime.db.transaction() as s:  # the key was recorded longer ago than the TTL
            await s.execute(update(table).values(created_at=utcnow() - ttl - timedelta(minutes=1)))

        # an expired key is unknown: the command runs again (a new version), and is remembered anew
        second = await client.put(f"/residents/{rid}/skills", json=body, headers=headers)
        assert second.status_code == 200, second.text
        assert "Idempotent-Replayed" not in second.headers
        assert second.json()["version"] == first.json()["version"] + 1
        third = await client.put(f"/residents/{rid}/skills", json=body, headers=headers)
        assert third.json() == second.json() and third.headers["Idempotent-Replayed"] == "true"

        marker = utcnow()
        for n in range(3):  # three more keys, made to expire below; the fresh one stays
            r = await client.put(
                f"/residents/{rid}/skills", json={"skills": [f"s{n}"]}, headers={**admin, "Idempotency-Key": f"old-{n}"}
            )
            assert r.status_code == 200, r.text
        async with runtime.db.transaction() as s:
            await s.execute(
                update(table).where(table.c.created_at >= marker).values(created_at=utcnow() - ttl - timedelta(hours=1))
            )
        from doorstep_shared.idempotency import purge_expired_keys

        assert await purge_expired_keys(runtime.db, table, ttl) == 3
        async with runtime.db.session() as s:
            assert (await s.execute(select(func.count()).select_from(table))).scalar_one() == 1
