"""Signing in: throttled per username and per address, equal work for unknown users, hashing
off the event loop, and staff accounts that can be disabled and have their passwords changed."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx
import pytest
from registration.bootstrap import create_app
from registration.settings import Settings

from tests.e2e.registration.test_registration_flow import (
    COMMUNITY,
    DISTRICT,
    GRID,
    STREET,
    admin_headers,
    build_tree,
    settings_for,
)
from tests.helpers import eventually, running_app

ADMIN_PASSWORD = "correct horse battery"


def _settings(
    database_url: str, kafka: str, prefix: str, keys: tuple[Path, Path], tmp: Path, **over: object
) -> Settings:
    base = settings_for(database_url, kafka, prefix, keys, tmp)
    return base.model_copy(update=over)


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str, topic_prefix: str, jwt_keys, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    return _settings(
        database_url,
        kafka_bootstrap,
        topic_prefix,
        jwt_keys,
        tmp_path,
        sign_in_max_failures=5,
        sign_in_address_max_failures=1000,
        sign_in_lockout_seconds=1.0,
        sign_in_lockout_max_seconds=4.0,
    )


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/auth/token", data={"username": username, "password": password})


def _client_from(app, address: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_wrong_passwords_lock_the_username_out_with_growing_lock_outs(settings: Settings) -> None:
    async with running_app(create_app(settings)) as client:
        for _ in range(5):
            assert (await login(client, "admin", "wrong password")).status_code == 401
        r = await login(client, "admin", ADMIN_PASSWORD)
        assert r.status_code == 429, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 1
        await asyncio.sleep(1.1)
        # one more failure after the lock-out: twice as long
        assert (await login(client, "admin", "wrong password")).status_code == 401
        r = await login(client, "admin", ADMIN_PASSWORD)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) == 2
        await asyncio.sleep(2.1)
        assert (await login(client, "admin", ADMIN_PASSWORD)).status_code == 200
        # the success cleared the username's count
        for _ in range(4):
            assert (await login(client, "admin", "wrong password")).status_code == 401
        assert (await login(client, "admin", ADMIN_PASSWORD)).status_code == 200


async def test_the_lock_out_is_capped_and_spares_an_address_the_user_signed_in_from(settings: Settings) -> None:
    app = create_app(settings)
    async with running_app(app) as client:
        async with _client_from(app, "10.0.0.7") as usual, _client_from(app, "203.0.113.9") as attacker:
            assert (await login(usual, "admin", ADMIN_PASSWORD)).status_code == 200
            for _ in range(5):
                assert (await login(attacker, "admin", "guess")).status_code == 401
            for _ in range(4):  # every lock-out waited out: 1, 2, 4, then capped at 4
                r = await login(attacker, "admin", "guess")
                assert r.status_code == 429 and int(r.headers["Retry-After"]) <= 4
                await asyncio.sleep(int(r.headers["Retry-After"]) + 0.1)
                assert (await login(attacker, "admin", "guess")).status_code == 401
            assert (await login(attacker, "admin", ADMIN_PASSWORD)).status_code == 429
            # the user, from where they signed in before, is not locked out by the attacker
            assert (await login(usual, "admin", ADMIN_PASSWORD)).status_code == 200
        assert client is not None


async def test_an_address_that_guesses_many_usernames_is_locked_out(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, jwt_keys, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(
        database_url, kafka_bootstrap, topic_prefix, jwt_keys, tmp_path, sign_in_address_max_failures=6
    )
    async with running_app(create_app(settings)) as client:
        for i in range(6):
            assert (await login(client, f"user{i}", "guess")).status_code == 401
        r = await login(client, "admin", ADMIN_PASSWORD)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


async def test_an_unknown_user_costs_as_much_as_a_real_one(settings: Settings) -> None:
    async with running_app(create_app(settings)) as client:

        async def timed(username: str) -> float:
            start = time.perf_counter()
            assert (await login(client, username, "not the password")).status_code == 401
            return time.perf_counter() - start

        known, unknown = [], []
        for i in range(4):
            known.append(await timed("admin"))
            unknown.append(await timed(f"nobody{i}"))
        assert statistics.median(unknown) > 0.6 * statistics.median(known), (known, unknown)


async def test_password_hashing_leaves_the_event_loop_free(settings: Settings) -> None:
    """30 logins at once: the time the event loop is kept from other requests stays small."""
    settings = settings.model_copy(update={"sign_in_max_failures": 1000})
    async with running_app(create_app(settings)) as client:
        assert (await login(client, "admin", ADMIN_PASSWORD)).status_code == 200
        stalled = 0.0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal stalled
            while not done.is_set():
                start = time.perf_counter()
                await asyncio.sleep(0.005)
                stalled += max(0.0, time.perf_counter() - start - 0.015)

        tick = asyncio.create_task(ticker())
        answers = await asyncio.gather(*(login(client, "admin", ADMIN_PASSWORD) for _ in range(30)))
        done.set()
        await tick
        assert all(r.status_code == 200 for r in answers)
        assert (await client.get("/health")).status_code == 200
        assert stalled < 0.3, stalled


async def staff(client: httpx.AsyncClient, admin: dict[str, str], username: str, role: str, areas: list[str]) -> str:
    r = await client.post(
        "/staff",
        json={"username": username, "password": f"{username}-password", "role": role, "areas": areas},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def bearer(client: httpx.AsyncClient, username: str, password: str | None = None) -> dict[str, str]:
    r = await login(client, username, password or f"{username}-password")
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_staff_grant_only_roles_below_their_own_inside_their_areas(settings: Settings) -> None:
    async with running_app(create_app(settings)) as client:
        admin = await admin_headers(client)
        await build_tree(client, admin)
        await staff(client, admin, "street.admin", "street_admin", [STREET])
        sa = await bearer(client, "street.admin")
        body = {"username": "da.x", "password": "a-long-password", "role": "district_admin", "areas": [STREET]}
        r = await client.post("/staff", json=body, headers=sa)
        assert r.status_code == 403 and r.json()["errors"][0]["field"] == "role"
        r = await client.post("/staff", json={**body, "role": "street_admin"}, headers=sa)
        assert r.status_code == 403 and r.json()["errors"][0]["field"] == "role"
        r = await client.post("/staff", json={**body, "role": "community_staff", "areas": [DISTRICT]}, headers=sa)
        assert r.status_code == 403 and r.json()["errors"][0]["field"] == "areas.0"
        r = await client.post("/staff", json={**body, "role": "community_staff", "areas": [COMMUNITY]}, headers=sa)
        assert r.status_code == 201, r.text


async def test_staff_are_disabled_enabled_and_change_passwords(settings: Settings) -> None:
    app = create_app(settings)
    async with running_app(app) as client:
        admin = await admin_headers(client)
        await build_tree(client, admin)
        await staff(client, admin, "street.admin", "street_admin", [STREET])
        gw_id = await staff(client, admin, "gw.wang", "grid_worker", [GRID])
        sa = await bearer(client, "street.admin")
        gw = await bearer(client, "gw.wang")

        # a grid worker manages nobody; an admin outside the worker's areas neither
        assert (await client.post(f"/staff/{gw_id}/disable", headers=gw)).status_code == 403

        r = await client.post(f"/staff/{gw_id}/disable", headers=sa)
        assert r.status_code == 200, r.text
        assert (await client.post(f"/staff/{gw_id}/disable", headers=sa)).status_code == 409
        assert (await login(client, "gw.wang", "gw.wang-password")).status_code == 403
        assert (await login(client, "gw.wang", "wrong")).status_code == 401

        async def shown(status: str) -> bool:
            rows = (await client.get("/staff", headers=admin)).json()
            return any(s["id"] == gw_id and s["status"] == status for s in rows)

        await eventually(lambda: shown("disabled"))
        r = await client.post(f"/staff/{gw_id}/enable", headers=sa)
        assert r.status_code == 200, r.text
        await eventually(lambda: shown("active"))
        gw = await bearer(client, "gw.wang")

        # one's own password: the current one is needed
        r = await client.post(
            "/auth/password", json={"current_password": "wrong-one-here", "new_password": "a-new-long-one"}, headers=gw
        )
        assert r.status_code == 403 and r.json()["errors"][0]["field"] == "current_password"
        r = await client.post(
            "/auth/password",
            json={"current_password": "gw.wang-password", "new_password": "a-new-long-one"},
            headers=gw,
        )
        assert r.status_code == 200, r.text
        assert (await login(client, "gw.wang", "gw.wang-password")).status_code == 401
        await bearer(client, "gw.wang", "a-new-long-one")

        # a reset by an admin above them in their areas; not by the staff member's peer
        r = await client.post(f"/staff/{gw_id}/password", json={"new_password": "reset-by-admin"}, headers=gw)
        assert r.status_code == 403
        r = await client.post(f"/staff/{gw_id}/password", json={"new_password": "reset-by-admin"}, headers=sa)
        assert r.status_code == 200, r.text
        await bearer(client, "gw.wang", "reset-by-admin")
        runtime = app.state.runtime
        async with runtime.db.session() as s:
            history = [e.event_type for e in await runtime.store.history(s, gw_id)]
        assert history == [
            "StaffCreated",
            "StaffDisabled",
            "StaffEnabled",
            "StaffPasswordChanged",
            "StaffPasswordChanged",
        ]
