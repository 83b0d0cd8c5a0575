"""After erasure nothing about the resident remains readable: not in their history, not in the ID-number claim."""

from __future__ import annotations

from pathlib import Path

import pytest
from registration.bootstrap import create_app
from registration.settings import Settings
from sqlalchemy import text

from tests.e2e.registration.test_registration_flow import (
    COMMUNITY,
    GRID,
    GRID2,
    VALID_ID,
    admin_headers,
    build_tree,
    resident_body,
    settings_for,
)
from tests.helpers import running_app, token_for


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str, topic_prefix: str, jwt_keys, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    return settings_for(database_url, kafka_bootstrap, topic_prefix, jwt_keys, tmp_path)


async def test_erased_history_keeps_only_that_the_resident_existed(settings: Settings, jwt_keys) -> None:  # type: ignore[no-untyped-def]
    async with running_app(create_app(settings)) as client:
        await build_tree(client, await admin_headers(client))
        staff = token_for(jwt_keys, "community_staff", [COMMUNITY], subject="cs-1")
        r = await client.post("/residents", json=resident_body(), headers=staff)
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        r = await client.put(f"/residents/{rid}/tags", json={"tags": ["disabled"]}, headers=staff)
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/residents/{rid}/move", json={"grid_code": GRID2, "building": "7", "unit": "1-101"}, headers=staff
        )
        assert r.status_code == 200, r.text

        before = (await client.get(f"/residents/{rid}/history", headers=staff)).json()
        assert before[0]["data"]["building"] == "12" and before[0]["data"]["birth_year"] == 1949

        r = await client.post(f"/residents/{rid}/erase", headers=staff)
        assert r.status_code == 200, r.text

        r = await client.get(f"/residents/{rid}/history", headers=staff)
        assert r.status_code == 200, r.text
        history = r.json()
        assert [e["type"] for e in history] == [
            "ResidentRegistered",
            "ResidentTagsUpdated",
            "ResidentMovedWithinCommunity",
            "ResidentErased",
        ]
        for entry in history:
            assert entry["data"] == {"resident_id": rid}, entry
            assert entry["time"] and entry["version"] >= 1 and entry["actor"] == "cs-1"
        assert "1949" not in r.text and "female" not in r.text and "disabled" not in r.text and "3-401" not in r.text

        # staff outside the area still may not look
        other = token_for(jwt_keys, "community_staff", ["330102001002"], subject="cs-2")
        assert (await client.get(f"/residents/{rid}/history", headers=other)).status_code == 403
        # a grid worker of the last grid still sees that the resident existed and was erased
        gw2 = token_for(jwt_keys, "grid_worker", [GRID2], subject="gw-2")
        r = await client.get(f"/residents/{rid}/history", headers=gw2)
        assert r.status_code == 200 and r.json()[-1]["type"] == "ResidentErased"


async def test_erasure_releases_the_id_number_claim(settings: Settings, jwt_keys) -> None:  # type: ignore[no-untyped-def]
    async with running_app(create_app(settings)) as client:
        await build_tree(client, await admin_headers(client))
        staff = token_for(jwt_keys, "community_staff", [COMMUNITY], subject="cs-1")
        gw = token_for(jwt_keys, "grid_worker", [GRID], subject="gw-1")
        r = await client.post("/residents", json=resident_body(), headers=gw)
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        # taken while the resident is registered
        r = await client.post("/residents", json=resident_body(), headers=gw)
        assert r.status_code == 409, r.text

        r = await client.post(f"/residents/{rid}/erase", headers=staff)
        assert r.status_code == 200, r.text
        async with client._transport.app.state.runtime.db.session() as s:  # type: ignore[attr-defined]
            claims = (
                await s.execute(text("SELECT count(*) FROM id_claims WHERE resident_id = :id"), {"id": rid})
            ).scalar()
        assert claims == 0

        r = await client.post("/residents", json=resident_body(id_number=VALID_ID), headers=gw)
        assert r.status_code == 201, r.text
        assert r.json()["id"] != rid and r.json()["version"] == 1
        # and the new registration holds the number again
        r = await client.post("/residents", json=resident_body(), headers=gw)
        assert r.status_code == 409, r.text
