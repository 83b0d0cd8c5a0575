"""A sign-up storm on one activity: exactly `capacity` places, the rest waiting in order."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.helpers import eventually
from tests.integration.volunteering.support import COMMUNITY, directory_has, service

RESIDENTS, CAPACITY = 100, 10


@pytest.mark.parametrize("backend", BACKENDS)
async def test_storm_gives_exactly_capacity_places_and_an_ordered_waiting_list(
    backend: str, tmp_path: Path, kafka_bootstrap: str, jwt_keys: tuple[Path, Path]
) -> None:
    async with service(backend, tmp_path, kafka_bootstrap, jwt_keys) as svc:
        await svc.feed.staff("tl-storm", "team_leader", [COMMUNITY])
        residents = [f"storm-{i:03d}" for i in range(RESIDENTS)]
        for rid in residents:
            await svc.feed.resident(rid)
        await eventually(lambda: directory_has(svc, "residents", "resident_id", residents[-1]))
        await eventually(lambda: directory_has(svc, "staff", "staff_id", "tl-storm"))

        staff = svc.token("community_staff", [COMMUNITY], "cs-storm")
        team = await svc.client.post(
            "/teams",
            json={
                "name": "Storm patrol",
                "community_code": COMMUNITY,
                "focus": "safety_patrol",
                "leader_id": "tl-storm",
            },
            headers=staff,
        )
        assert team.status_code == 201, team.text
        start = svc.clock.now + timedelta(days=1)
        activity = await svc.client.post(
            f"/teams/{team.json()['id']}/activities",
            json={
                "title": "Night patrol",
                "place": "Gate 2",
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=2)).isoformat(),
                "capacity": CAPACITY,
            },
            headers=svc.token("team_leader", [COMMUNITY], "tl-storm"),
        )
        assert activity.status_code == 201, activity.text
        activity_id = activity.json()["id"]

        headers = {rid: svc.resident(rid) for rid in residents}  # signed before the storm

        async def sign_up(rid: str) -> dict[str, object]:
            r = await svc.client.post(f"/activities/{activity_id}/signups", json={}, headers=headers[rid])
            assert r.status_code == 201, r.text
            return dict(r.json())

        answers = await asyncio.gather(*(sign_up(rid) for rid in residents))

        scheduled = [a for a in answers if a["status"] == "scheduled"]
        waiting = sorted((a for a in answers if a["status"] == "waiting"), key=lambda a: a["version"])
        assert len(scheduled) == CAPACITY
        assert len(waiting) == RESIDENTS - CAPACITY
        # every sign-up is one event on the activity's stream, in commit order
        assert sorted(int(str(a["version"])) for a in answers) == list(range(2, RESIDENTS + 2))
        assert max(int(str(a["version"])) for a in scheduled) < min(int(str(a["version"])) for a in waiting)

        last = max(int(str(a["position"])) for a in answers)
        view = await svc.read(
            f"/activities/{activity_id}",
            svc.token("team_leader", [COMMUNITY], "tl-storm"),
            after=last,
        )
        assert view["scheduled_count"] == CAPACITY
        assert view["waiting_count"] == RESIDENTS - CAPACITY
        assert view["free_places"] == 0
        assert [w["resident_id"] for w in view["waiting_list"]] == [a["resident_id"] for a in waiting]

        # the first in line takes the place a volunteer gives up
        first = scheduled[0]["resident_id"]
        cancel = await svc.client.delete(f"/activities/{activity_id}/signups/{first}", headers=svc.resident(str(first)))
        assert cancel.status_code == 200, cancel.text
        view = await svc.read(
            f"/activities/{activity_id}",
            svc.token("team_leader", [COMMUNITY], "tl-storm"),
            after=cancel.json()["position"],
        )
        promoted = {v["resident_id"] for v in view["volunteers"]}
        assert waiting[0]["resident_id"] in promoted
        assert view["waiting_list"][0]["resident_id"] == waiting[1]["resident_id"]
