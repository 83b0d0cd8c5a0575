"""Area codes by segment, end to end: what `POST /areas` takes, and whose scope an area is in.

A street's code is its district's plus three digits. A 10-digit "street" such as
3301020019 begins with street 330102001's code; were it accepted, the admin of
330102001 would read and move out residents of an area that is not theirs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from doorstep_contracts.registration import AreaCreated
from doorstep_shared.auth import Principal, Role
from doorstep_shared.commands import Context
from doorstep_shared.runtime import Runtime
from doorstep_shared.uow import CommandResult, UnitOfWork, execute
from registration.bootstrap import create_app
from registration.commands import RegisterResident
from registration.domain.model import Area
from registration.settings import Settings

from tests.e2e.registration.test_registration_flow import admin_headers, resident_body, settings_for
from tests.helpers import running_app, token_for

CITY, DISTRICT, STREET, COMMUNITY, GRID = "3301", "330102", "330102001", "330102001001", "330102001001001"
# a street, community and grid whose codes extend the district's by 4, 3 and 3 digits
LOOSE_STREET, LOOSE_COMMUNITY, LOOSE_GRID = "3301020019", "3301020019001", "3301020019001001"


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str, topic_prefix: str, jwt_keys, tmp_path: Path) -> Settings:  # type: ignore[no-untyped-def]
    return settings_for(database_url, kafka_bootstrap, topic_prefix, jwt_keys, tmp_path)


async def create_area(client, admin, code: str, level: str, parent: str | None):  # type: ignore[no-untyped-def]
    body = {"code": code, "name": f"area {code}", "level": level, "parent_code": parent}
    return await client.post("/areas", json=body, headers=admin)


async def build_tree(client, admin) -> int:  # type: ignore[no-untyped-def]
    """The tree down to one grid; answers the log position of its last area."""
    position = 0
    for code, level, parent in [
        (CITY, "city", None),
        (DISTRICT, "district", CITY),
        (STREET, "street", DISTRICT),
        (COMMUNITY, "community", STREET),
        (GRID, "grid", COMMUNITY),
    ]:
        r = await create_area(client, admin, code, level, parent)
        assert r.status_code == 201, r.text
        position = r.json()["position"]
    return position


def refused(r: Any, field: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == [field], r.text


async def test_a_street_code_must_be_its_districts_and_one_segment(settings: Settings) -> None:
    async with running_app(create_app(settings)) as client:
        admin = await admin_headers(client)
        built = await build_tree(client, admin)

        # the reported street: 10 digits under a 6-digit district
        refused(await create_area(client, admin, LOOSE_STREET, "street", DISTRICT), "code")
        # each level has its length; a child adds exactly one segment to its parent's code
        refused(await create_area(client, admin, "33011", "city", None), "code")
        refused(await create_area(client, admin, "3302", "district", CITY), "code")
        refused(await create_area(client, admin, "330202", "district", CITY), "code")
        refused(await create_area(client, admin, "33010200", "street", DISTRICT), "code")
        refused(await create_area(client, admin, "33010200100A", "community", STREET), "code")
        refused(await create_area(client, admin, "330102002001", "community", STREET), "code")
        # the level below the parent's, under a parent of the level above
        refused(await create_area(client, admin, "330102001002", "community", DISTRICT), "parent_code")
        refused(await create_area(client, admin, "330102002", "grid", DISTRICT), "parent_code")
        # the body's codes are whole codes too
        refused(await create_area(client, admin, "330102002", "street", "33010"), "parent_code")
        # nothing of the refused was written
        r = await client.get(f"/areas/{DISTRICT}", headers=admin, params={"after": built})
        assert [c["code"] for c in r.json()["children"]] == [STREET]

        # filters take whole codes only
        for name, value in [("grid_code", LOOSE_GRID), ("community_code", "3301020010011"), ("grid_code", "33O1")]:
            refused(await client.get("/residents", params={name: value}, headers=admin), name)
        # a staff account's areas and a partner's area are whole codes
        staff = {"username": "sa.loose", "password": "a-long-password", "role": "street_admin", "areas": [LOOSE_STREET]}
        refused(await client.post("/staff", json=staff, headers=admin), "areas.0")

        # the next street of the district, and a second district, are fine
        assert (await create_area(client, admin, "330102002", "street", DISTRICT)).status_code == 201
        assert (await create_area(client, admin, "330105", "district", CITY)).status_code == 201


async def record_as_before(runtime: Runtime) -> tuple[str, int]:
    """A street, community and grid of free-length codes and a resident there, as the log may hold them
    from before codes were checked; answers the resident's id and log position."""

    async def areas(uow: UnitOfWork) -> CommandResult:
        for code, level, parent in [
            (LOOSE_STREET, "street", DISTRICT),
            (LOOSE_COMMUNITY, "community", LOOSE_STREET),
            (LOOSE_GRID, "grid", LOOSE_COMMUNITY),
        ]:
            area = Area(code)
            area._record(AreaCreated(code, f"area {code}", level, parent))
            uow.add(area)
        return uow.result(area)

    meta = {"actor": "test", "command": "areas recorded before the rule"}
    await execute(runtime.db, runtime.store, areas, meta=meta, after_commit=runtime.relay.notify)

    # the command as it was taken then: its grid code is not a whole code
    cmd = RegisterResident.model_validate(resident_body()).model_copy(update={"grid_code": LOOSE_GRID})
    city_admin = Principal(subject="city", role=Role.CITY_ADMIN, areas=("",))
    handler = runtime.handlers[RegisterResident]

    async def register(uow: UnitOfWork) -> CommandResult:
        return await handler(cmd, Context(uow=uow, actor=city_admin, now=runtime.now(), deps=runtime.deps))

    reply = await execute(runtime.db, runtime.store, register, meta=meta, after_commit=runtime.relay.notify)
    return str(reply.body["id"]), int(reply.body["position"])


async def test_an_area_of_free_length_is_in_no_street_admins_scope(
    settings: Settings, jwt_keys, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(settings)
    async with running_app(app) as client:
        admin = await admin_headers(client)
        await build_tree(client, admin)
        rid, position = await record_as_before(app.state.runtime)
        # the city admin still reads the resident and the areas
        r = await client.get(f"/residents/{rid}", headers=admin, params={"after": position})
        assert r.status_code == 200 and r.json()["grid_code"] == LOOSE_GRID, r.text
        assert (await client.get(f"/areas/{LOOSE_STREET}", headers=admin)).json()["residents"] == 1
        assert (await client.get("/residents", headers=admin)).json()["total"] == 1

        street_admin = token_for(jwt_keys, "street_admin", [STREET], subject="sa-1")
        assert (await client.get(f"/residents/{rid}", headers=street_admin)).status_code == 403
        assert (await client.get(f"/residents/{rid}/history", headers=street_admin)).status_code == 403
        mine = (await client.get("/residents", headers=street_admin)).json()
        assert mine["total"] == 0 and mine["items"] == []
        assert (await client.get(f"/areas/{STREET}", headers=street_admin)).json()["residents"] == 0
        r = await client.post(f"/residents/{rid}/move-out", json={"reason": "gone"}, headers=street_admin)
        assert r.status_code == 403 and r.json()["errors"][0]["field"] == "resident_id", r.text
        # nor is the loose street's own code anyone's scope
        loose = token_for(jwt_keys, "street_admin", [LOOSE_STREET], subject="sa-2")
        assert (await client.get(f"/residents/{rid}", headers=loose)).status_code == 403
        assert (await client.get("/residents", headers=loose)).json()["total"] == 0

    # at the next start, the areas whose codes break the rule are reported by code
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="doorstep.registration"):
        async with running_app(create_app(settings)) as client:
            admin = await admin_headers(client)
            assert (await client.get(f"/residents/{rid}", headers=admin)).status_code == 200
    (report,) = [r for r in caplog.records if hasattr(r, "area_codes")]
    assert report.area_codes == [LOOSE_STREET, LOOSE_COMMUNITY, LOOSE_GRID]
    assert all(code in report.getMessage() for code in report.area_codes)
