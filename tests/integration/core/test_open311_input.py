"""Open311 takes JSON as well as forms: numbers count as their text, odd values are a 400 in
Open311's format, never a 500 (a number as `address_id` used to crash on `.isdigit()`)."""

from __future__ import annotations

from pathlib import Path

from doorstep_shared.settings import ProcessRole
from grid_reports.bootstrap import create_app
from grid_reports.settings import Settings

from tests.helpers import running_app, token_for

COMMUNITY = "330102001001"


async def test_non_string_json_values_are_refused_in_open311_format(
    database_url: str, jwt_keys, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        DATABASE_URL=database_url,
        KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1",
        JWT_PUBLIC_KEY_FILE=str(jwt_keys[1]),
        DOORSTEP_VAR_DIR=str(tmp_path),
        DOORSTEP_ROLE=ProcessRole.API,
    )
    staff = token_for(jwt_keys, "community_staff", [COMMUNITY], subject="cs-1")
    async with running_app(create_app(settings)) as client:
        numeric = {
            "service_code": "noise",
            "address_id": int(COMMUNITY),
            "description": "loud",
            "lat": 30.25,
            "long": 120.2,
        }
        created = await client.post("/open311/v2/requests.json", json=numeric, headers=staff)
        assert created.status_code == 201, created.text
        for body in (
            {"service_code": "noise", "address_id": COMMUNITY, "description": ["loud"]},
            {"service_code": "noise", "address_id": COMMUNITY, "description": "loud", "lat": "nan"},
            {"service_code": "noise", "address_id": COMMUNITY, "description": "loud", "lat": "1", "long": "1e400"},
            {"service_code": "noise", "address_id": COMMUNITY, "description": "a\x00b"},
        ):
            r = await client.post("/open311/v2/requests.json", json=body, headers=staff)
            assert r.status_code == 400, (body, r.text)
            assert r.json()[0]["code"] == 400
