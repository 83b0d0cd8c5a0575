"""Registration end to end over HTTP, on the real broker and each database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from doorstep_contracts.jobs import ApplicationHired
from registration.bootstrap import create_app
from registration.settings import Settings

from tests.events import publish
from tests.helpers import eventually, running_app, token_for

CITY, DISTRICT, STREET, COMMUNITY, GRID, GRID2 = (
    "3301",
    "330102",
    "330102001",
    "330102001001",
    "330102001001001",
    "330102001001002",
)
OTHER_COMMUNITY, OTHER_GRID = "330102001002", "330102001002001"
VALID_ID = "11010519491231002X"
VALID_ID_2 = "110105199003072311"
CREDIT_CODE = "91350100M000100Y43"


def settings_for(database_url: str, kafka: str, prefix: str, keys: tuple[Path, Path], tmp: Path) -> Settings:
    return Settings(
        DATABASE_URL=database_url,
        KAFKA_BOOTSTRAP_SERVERS=kafka,
        DOORSTEP_TOPIC_PREFIX=prefix,
        JWT_PRIVATE_KEY_FILE=str(keys[0]),
        JWT_PUBLIC_KEY_FILE=str(keys[1]),
        DOORSTEP_VAR_DIR=str(tmp),
        DOORSTEP_ADMIN_PASSWORD="correct horse battery",
        KAFKA_TOPIC_PARTITIONS=1,
    )


async def admin_headers(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = await client.post("/auth/token", data={"username": "admin", "password": "correct horse battery"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    return {"Authorization": f"Bearer {body['access_token']}"}


async def build_tree(client, admin) -> None:  # type: ignore[no-untyped-def]
    for code, level, parent in [
        (CITY, "city", None),
        (DISTRICT, "district", CITY),
        (STREET, "street", DISTRICT),
        (COMMUNITY, "community", STREET),
        (GRID, "grid", COMMUNITY),
        (GRID2, "grid", COMMUNITY),
        (OTHER_COMMUNITY, "community", STREET),
        (OTHER_GRID, "grid", OTHER_COMMUNITY),
    ]:
        r = await client.post(
            "/areas",
            json={"code": code, "name": f"area {code}", "level": level, "parent_code": parent},
            headers=admin,
        )
        assert r.status_code == 201, r.text


def resident_body(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "王秀英",
        "id_number": VALID_ID,
        "mobile": "+86 138-0013-5678",
        "grid_code": GRID,
        "building": "12",
        "unit": "3-401",
        "hukou": "non_local",
        "tags": ["stay_at_home_parent"],
        "skills": ["Chinese knot", "sewing"],
        "availability": [
            {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "start": "08:30",
                "end": "16:30",
                "place": "home",
            }
        ],
        "job_preferences": {
            "types": ["piecework", "home_based"],
            "min_pay_fen": 1500,
            "pay_unit": "hour",
        },
        "consent": {"employment_matching": True},
    }
    body.update(over)
    return body


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str, topic_prefix: str, jwt_keys, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    return settings_for(database_url, kafka_bootstrap, topic_prefix, jwt_keys, tmp_path)


async def test_register_publish_project_query_and_erase(
    settings: Settings, jwt_keys, kafka_bootstrap: str, topic_prefix: str
) -> None:  # type: ignore[no-untyped-def]
    async with running_app(create_app(settings)) as client:
        admin = await admin_headers(client)
        await build_tree(client, admin)
        gw = token_for(jwt_keys, "grid_worker", [GRID], subject="gw-1")
        street_admin = token_for(jwt_keys, "street_admin", [STREET], subject="sa-1")

        r = await client.post("/residents", json=resident_body(), headers={**gw, "Idempotency-Key": "reg-1"})
        assert r.status_code == 201, r.text
        created = r.json()
        rid, position = created["id"], created["position"]
        assert created["version"] == 1 and position > 0

        # a retried command returns the first answer and appends nothing
        again = await client.post("/residents", json=resident_body(), headers={**gw, "Idempotency-Key": "reg-1"})
        assert again.status_code == 201 and again.json() == created
        assert again.headers["Idempotent-Replayed"] == "true"

        # read your write: wait for the projection to apply this position
        r = await client.get(f"/residents/{rid}", params={"after": position}, headers=gw)
        assert r.status_code == 200, r.text
        assert r.headers["X-Consistency"] == "current"
        mine = r.json()
        assert (mine["name"], mine["id_number"], mine["mobile"]) == (
            "王秀英",
            VALID_ID,
            "13800135678",
        )
        assert (mine["sex"], mine["birth_year"], mine["community_code"]) == (
            "female",
            1949,
            COMMUNITY,
        )

        # a street admin sees the resident masked
        masked = (await client.get(f"/residents/{rid}", headers=street_admin)).json()
        assert masked["id_number"] == "110105********002X" and masked["mobile"] == "138****5678"

        # list and filters
        listing = (
            await client.get("/residents", params={"tag": "stay_at_home_parent", "skill": "sewing"}, headers=gw)
        ).json()
        assert [i["id"] for i in listing["items"]] == [rid] and listing["total"] == 1
        assert (await client.get("/residents", params={"tag": "veteran"}, headers=gw)).json()["total"] == 0
        area = (await client.get(f"/areas/{COMMUNITY}", headers=gw)).json()
        assert area["residents"] == 1 and {c["code"]: c["residents"] for c in area["children"]}[GRID] == 1

        # the event on Kafka: CloudEvents headers, no plaintext personal data
        consumer = AIOKafkaConsumer(
            f"{topic_prefix}registration.residents",
            bootstrap_servers=kafka_bootstrap,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=3000)
        finally:
            await consumer.stop()
        (record,) = [rec for recs in batch.values() for rec in recs]
        headers = {k: v.decode() for k, v in record.headers}
        assert headers["ce_type"] == "doorstep.registration.ResidentRegistered"
        assert headers["ce_subject"] == rid == record.key.decode()
        assert headers["ce_source"] == "/doorstep/registration" and headers["ce_sequence"] == "1"
        raw = record.value.decode()
        for secret in ("王秀英", VALID_ID, "13800135678", "0013"):
            assert secret not in raw
        assert json.loads(raw)["pii"]["name_enc"].startswith("v1:")

        # one active registration per ID number
        dup = await client.post("/residents", json=resident_body(), headers=gw)
        assert dup.status_code == 409 and dup.json()["errors"][0]["field"] == "id_number"

        # updates and moves
        r = await client.put(
            f"/residents/{rid}/tags",
            json={"tags": ["stay_at_home_parent", "low_income"]},
            headers=gw,
        )
        assert r.status_code == 200
        r = await client.post(
            f"/residents/{rid}/move",
            json={"grid_code": GRID2, "building": "14", "unit": "1-101"},
            headers=gw,
        )
        assert r.status_code == 200
        moved = (
            await client.get(f"/residents/{rid}", params={"after": r.json()["position"]}, headers=street_admin)
        ).json()
        assert moved["grid_code"] == GRID2 and moved["tags"] == [
            "low_income",
            "stay_at_home_parent",
        ]
        # the grid worker of the old grid is now out of scope
        assert (await client.get(f"/residents/{rid}", headers=gw)).status_code == 403

        # erase: key destroyed, read model drops personal data, event published
        staff = token_for(jwt_keys, "community_staff", [COMMUNITY], subject="cs-1")
        r = await client.post(f"/residents/{rid}/erase", headers=staff)
        assert r.status_code == 200, r.text
        gone = (await client.get(f"/residents/{rid}", params={"after": r.json()["position"]}, headers=staff)).json()
        assert gone["status"] == "erased"
        assert gone["name"] is None and gone["id_number"] is None and gone["mobile"] is None and gone["skills"] == []
        async with client._transport.app.state.runtime.db.session() as s:  # type: ignore[attr-defined]
            from sqlalchemy import text

            rows = (await s.execute(text("SELECT data FROM events WHERE stream_id = :id"), {"id": rid})).all()
            keys = (
                await s.execute(text("SELECT count(*) FROM data_keys WHERE resident_id = :id"), {"id": rid})
            ).scalar()
        assert keys == 0 and len(rows) == 4  # registered, tags, moved, erased
        # the ID number may register again after erasure
        again = await client.post("/residents", json=resident_body(grid_code=GRID2), headers=staff)
        assert again.status_code == 201, again.text


async def test_errors_are_problem_details(settings: Settings, jwt_keys) -> None:  # type: ignore[no-untyped-def]
    async with running_app(create_app(settings)) as client:
        admin = await admin_headers(client)
        await build_tree(client, admin)
        gw = token_for(jwt_keys, "grid_worker", [GRID], subject="gw-1")

        r = await client.post("/residents", json=resident_body(id_number="110105194912310021"), headers=gw)
        assert r.status_code == 422
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["status"] == 422 and problem["errors"][0]["field"] == "id_number"
        assert "check digit" in problem["detail"]

        r = await client.post("/residents", json=resident_body(mobile="12345"), headers=gw)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "mobile"

        r = await client.post("/residents", json=resident_body(building=None), headers=gw)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "building"

        r = await client.post("/residents", json=resident_body())
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")

        r = await client.post("/residents", json=resident_body(grid_code=OTHER_GRID), headers=gw)
        assert r.status_code == 403 and r.json()["errors"][0]["field"] == "grid_code"

        r = await client.post(
            "/areas",
            json={"code": "9999", "name": "x", "level": "grid", "parent_code": COMMUNITY},
            headers=admin,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "code"

        # nothing half-written: the failed registrations left no events and no claims
        r = await client.post("/residents", json=resident_body(id_number=VALID_ID_2), headers=gw)
        assert r.status_code == 201 and r.json()["version"] == 1

        bad_token = {"Authorization": "Bearer not-a-token"}
        assert (await client.get("/residents", headers=bad_token)).status_code == 401


async def test_partners_staff_and_reaction_to_hire(
    settings: Settings, jwt_keys, kafka_bootstrap: str, topic_prefix: str
) -> None:  # type: ignore[no-untyped-def]
    from aiokafka import AIOKafkaProducer

    async with running_app(create_app(settings)) as client:
        admin = await admin_headers(client)
        await build_tree(client, admin)

        r = await client.post(
            "/staff",
            json={
                "username": "gw.li",
                "password": "grid-worker-pass",
                "role": "grid_worker",
                "areas": [GRID],
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        r = await client.post("/auth/token", data={"username": "gw.li", "password": "grid-worker-pass"})
        gw = {"Authorization": f"Bearer {r.json()['access_token']}"}
        me = (await client.get("/auth/me", headers=gw)).json()
        assert me["role"] == "grid_worker" and me["areas"] == [GRID]
        assert (await client.post("/auth/token", data={"username": "gw.li", "password": "wrong"})).status_code == 401

        bad = await client.post(
            "/partners",
            json={
                "name": "Flowers Co",
                "kind": "piecework_processor",
                "credit_code": "91350100M000100Y44",
                "area_code": COMMUNITY,
            },
            headers=admin,
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "credit_code"
        r = await client.post(
            "/partners",
            json={
                "name": "Flowers Co",
                "kind": "piecework_processor",
                "credit_code": CREDIT_CODE,
                "area_code": COMMUNITY,
            },
            headers=admin,
        )
        assert r.status_code == 201
        pid = r.json()["id"]
        approved = await client.post(f"/partners/{pid}/approve", headers=admin)
        assert approved.status_code == 200
        api_key = approved.json()["api_key"]
        assert (await client.post(f"/partners/{pid}/approve", headers=admin)).status_code == 409

        # the partner authenticates with its API key once the projection has its hash
        async def partner_sees_itself() -> bool:
            resp = await client.get(f"/partners/{pid}", headers={"X-API-Key": api_key})
            return resp.status_code == 200 and resp.json()["status"] == "approved"

        await eventually(partner_sees_itself)
        assert (await client.get(f"/partners/{pid}", headers={"X-API-Key": "dsk_nope"})).status_code == 401

        r = await client.post("/residents", json=resident_body(), headers=gw)
        rid = r.json()["id"]
        # jobs publishes a hire; registration reacts (twice delivered, applied once). The
        # application's stream is shown from its start: a projection applies a stream's
        # versions in order and holds back a version whose predecessor it has not seen
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            hired = ApplicationHired(
                application_id="app-1",
                job_id="job-9",
                resident_id=rid,
                partner_id=pid,
                community_code=COMMUNITY,
                fair_id=None,
            )
            for _ in range(2):  # delivered twice: applied once
                await publish(
                    producer, topic_prefix, "jobs", hired, subject="app-1", version=1, position=42, event_id="evt-1"
                )
        finally:
            await producer.stop()

        async def employed() -> bool:
            resp = await client.get(f"/residents/{rid}", headers=gw)
            return resp.status_code == 200 and resp.json()["employment_status"] == "employed"

        await eventually(employed, timeout=20)
        history = (await client.get(f"/residents/{rid}/history", headers=gw)).json()
        assert [h["type"] for h in history] == [
            "ResidentRegistered",
            "ResidentEmploymentStatusChanged",
        ]
