"""Volunteering end to end: one running service per backend, with the real broker.

Teams, activities (waiting list, shift day, verification), the points ledger
(hours, incentives from grid reports, redemptions), giving back, certificates,
queries, and the reactions to registration's residents moving out or being erased.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from doorstep_shared.auth import hash_api_key
from sqlalchemy import select
from volunteering.models import residents_t

from tests.conftest import BACKENDS
from tests.helpers import eventually
from tests.integration.volunteering.support import (
    COMMUNITY,
    OTHER_COMMUNITY,
    Service,
    directory_has,
    service,
)

LEADER, OTHER_LEADER, STAFF = "tl-1", "tl-2", "cs-1"
RESIDENTS = [f"res-{i}" for i in range(1, 9)]
MERCHANT_KEY = "dsk_shop_secret-key-for-tests"


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def svc(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    kafka_bootstrap: str,
    jwt_keys: tuple[Path, Path],
) -> AsyncIterator[Service]:
    tmp = tmp_path_factory.mktemp(f"volunteering-{request.param}")
    async with service(request.param, tmp, kafka_bootstrap, jwt_keys) as running:
        feed = running.feed
        await feed.staff(LEADER, "team_leader", [COMMUNITY])
        await feed.staff(OTHER_LEADER, "team_leader", [OTHER_COMMUNITY])
        await feed.staff("gw-1", "grid_worker", [COMMUNITY])
        for rid in RESIDENTS:
            await feed.resident(rid)
        await feed.publish(
            "registration",
            "partners",
            "PartnerRegistered",
            "shop-1",
            {
                "partner_id": "shop-1",
                "name": "Points supermarket",
                "kind": "social_organisation",
                "credit_code": "91330102MA2XXXXX0X",
                "area_code": COMMUNITY,
            },
        )
        await feed.publish(
            "registration",
            "partners",
            "PartnerApproved",
            "shop-1",
            {"partner_id": "shop-1", "api_key_hash": hash_api_key(MERCHANT_KEY)},
        )
        await eventually(lambda: directory_has(running, "residents", "resident_id", RESIDENTS[-1]))
        await eventually(lambda: directory_has(running, "staff", "staff_id", "gw-1"))
        await eventually(
            lambda: directory_has(running, "partner_credentials", "partner_id", "shop-1", status="approved")
        )
        yield running


def staff(svc: Service, areas: list[str] | None = None) -> dict[str, str]:
    return svc.token("community_staff", areas or [COMMUNITY], STAFF)


def leader(svc: Service, subject: str = LEADER) -> dict[str, str]:
    return svc.token("team_leader", [COMMUNITY], subject)


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


async def form_team(svc: Service, name: str = "Silver helpers", focus: str = "elderly_care") -> str:
    r = await svc.client.post(
        "/teams",
        json={"name": name, "community_code": COMMUNITY, "focus": focus, "leader_id": LEADER},
        headers=staff(svc),
    )
    assert r.status_code == 201, r.text
    team_id = str(r.json()["id"])
    await svc.read(f"/teams/{team_id}", staff(svc), after=r.json()["position"])  # projected
    return team_id


async def schedule(
    svc: Service,
    team_id: str,
    *,
    in_hours: float = 24,
    length_hours: float = 2,
    capacity: int = 2,
    skills: list[str] | None = None,
) -> tuple[str, int]:
    start = svc.clock.now + timedelta(hours=in_hours)
    r = await svc.client.post(
        f"/teams/{team_id}/activities",
        json={
            "title": "Lunch delivery for the elderly",
            "place": "Building 3 canteen",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=length_hours)).isoformat(),
            "capacity": capacity,
            "skills_wanted": skills or [],
        },
        headers=leader(svc),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), int(r.json()["position"])


async def sign_up(svc: Service, activity_id: str, rid: str, key: str | None = None) -> Any:
    headers = svc.resident(rid) | ({"Idempotency-Key": key} if key else {})
    return await svc.client.post(f"/activities/{activity_id}/signups", json={}, headers=headers)


async def test_credentials_scope_and_input_are_checked(svc: Service) -> None:
    body = {"name": "x", "community_code": COMMUNITY, "focus": "cleanup", "leader_id": LEADER}
    assert_problem(await svc.client.post("/teams", json=body), 401)
    assert_problem(await svc.client.post("/teams", json=body, headers=staff(svc, [OTHER_COMMUNITY])), 403)
    assert_problem(await svc.client.post("/teams", json=body, headers=svc.resident("res-1")), 403)
    assert_problem(
        await svc.client.post("/teams", json={**body, "focus": "karaoke"}, headers=staff(svc)),
        422,
        "focus",
    )
    assert_problem(
        await svc.client.post("/teams", json={**body, "community_code": "abc"}, headers=staff(svc)),
        422,
        "community_code",
    )
    # the leader must be a team leader serving the community
    for who in ("gw-1", OTHER_LEADER, "nobody"):
        assert_problem(
            await svc.client.post("/teams", json={**body, "leader_id": who}, headers=staff(svc)),
            422,
            "leader_id",
        )
    team_id = await form_team(svc, "Scope check")
    start = svc.clock.now - timedelta(hours=1)
    past = {
        "title": "t",
        "place": "p",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=1)).isoformat(),
        "capacity": 3,
    }
    r = await svc.client.post(f"/teams/{team_id}/activities", json=past, headers=leader(svc))
    assert_problem(r, 422, "starts_at")
    r = await svc.client.post(f"/teams/{team_id}/activities", json={**past, "capacity": 0}, headers=leader(svc))
    assert_problem(r, 422, "capacity")
    r = await svc.client.post(
        f"/teams/{team_id}/activities",
        json={**past, "starts_at": "2030-01-01T09:00:00"},
        headers=leader(svc),
    )
    assert_problem(r, 422, "starts_at")  # a time without its offset is ambiguous
    # another community's leader may not schedule for this team
    r = await svc.client.post(f"/teams/{team_id}/activities", json=past, headers=leader(svc, OTHER_LEADER))
    assert_problem(r, 403)
    assert_problem(await svc.client.get(f"/teams/{team_id}", headers=svc.resident("res-1")), 403)
    assert_problem(await svc.client.get("/teams/nope", headers=staff(svc)), 404)


async def test_team_members_join_leave_and_are_removed(svc: Service) -> None:
    team_id = await form_team(svc, "Clean streets", "cleanup")
    joined = await svc.client.post(f"/teams/{team_id}/members", json={}, headers=svc.resident("res-1"))
    assert joined.status_code == 201, joined.text
    r = await svc.client.post(f"/teams/{team_id}/members", json={"resident_id": "res-2"}, headers=leader(svc))
    assert r.status_code == 201, r.text
    assert_problem(
        await svc.client.post(f"/teams/{team_id}/members", json={}, headers=svc.resident("res-1")),
        409,
        "resident_id",
    )
    assert_problem(
        await svc.client.post(
            f"/teams/{team_id}/members",
            json={"resident_id": "res-3"},
            headers=svc.resident("res-1"),
        ),
        403,
    )
    assert_problem(
        await svc.client.post(f"/teams/{team_id}/members", json={"resident_id": "ghost"}, headers=leader(svc)),
        422,
        "resident_id",
    )
    team = await svc.read(f"/teams/{team_id}", leader(svc), after=r.json()["position"])
    assert [m["resident_id"] for m in team["members"]] == ["res-1", "res-2"]
    assert team["member_count"] == 2 and team["focus"] == "cleanup"

    left = await svc.client.delete(f"/teams/{team_id}/members/res-1", headers=svc.resident("res-1"))
    assert left.status_code == 200, left.text
    assert_problem(
        await svc.client.delete(f"/teams/{team_id}/members/res-2", headers=svc.resident("res-1")),
        403,
    )
    removed = await svc.client.delete(
        f"/teams/{team_id}/members/res-2", params={"reason": "asked to"}, headers=leader(svc)
    )
    assert removed.status_code == 200, removed.text
    assert_problem(
        await svc.client.delete(f"/teams/{team_id}/members/res-2", headers=leader(svc)),
        409,
        "resident_id",
    )
    team = await svc.read(f"/teams/{team_id}", staff(svc), after=removed.json()["position"])
    assert team["members"] == [] and team["member_count"] == 0
    teams = await svc.read("/teams", staff(svc), area_code=COMMUNITY, focus="cleanup")
    assert team_id in [t["team_id"] for t in teams]

    # the team passes to another leader; the old one loses its powers
    await svc.feed.staff("tl-3", "team_leader", [COMMUNITY])
    await eventually(lambda: directory_has(svc, "staff", "staff_id", "tl-3"))
    r = await svc.client.put(f"/teams/{team_id}/leader", json={"leader_id": "tl-3"}, headers=staff(svc))
    assert r.status_code == 200, r.text
    assert_problem(
        await svc.client.put(f"/teams/{team_id}/leader", json={"leader_id": "tl-3"}, headers=staff(svc)),
        409,
        "leader_id",
    )
    assert_problem(
        await svc.client.post(f"/teams/{team_id}/members", json={"resident_id": "res-4"}, headers=leader(svc)),
        403,
    )


async def test_waiting_list_is_promoted_in_order_and_capacity_is_guarded(svc: Service) -> None:
    team_id = await form_team(svc, "After-school class", "after_school_class")
    activity_id, _ = await schedule(svc, team_id, in_hours=48, capacity=2, skills=["childcare"])
    statuses = []
    for rid in ("res-1", "res-2", "res-3", "res-4"):
        r = await sign_up(svc, activity_id, rid)
        assert r.status_code == 201, r.text
        statuses.append(r.json()["status"])
    assert statuses == ["scheduled", "scheduled", "waiting", "waiting"]
    assert_problem(await sign_up(svc, activity_id, "res-1"), 409, "resident_id")

    # idempotent retry of the same sign-up
    first = await sign_up(svc, activity_id, "res-5", key="k-1")
    again = await sign_up(svc, activity_id, "res-5", key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json() and first.json()["status"] == "waiting"

    view = await svc.read(f"/activities/{activity_id}", leader(svc), after=first.json()["position"])
    assert [w["resident_id"] for w in view["waiting_list"]] == ["res-3", "res-4", "res-5"]
    assert (view["scheduled_count"], view["waiting_count"], view["free_places"]) == (2, 3, 0)
    mine = await svc.read(f"/activities/{activity_id}", svc.resident("res-3"))
    assert mine["my_participation"]["status"] == "waiting" and "waiting_list" not in mine

    # full: not listed among activities with free places, listed when asked for all
    upcoming = await svc.read("/activities/upcoming", svc.resident("res-6"), skill="childcare")
    assert activity_id not in [a["activity_id"] for a in upcoming]
    every = await svc.read("/activities/upcoming", svc.resident("res-6"), free_only=False)
    assert activity_id in [a["activity_id"] for a in every]

    cancel = await svc.client.delete(f"/activities/{activity_id}/signups/res-1", headers=svc.resident("res-1"))
    assert cancel.status_code == 200, cancel.text
    assert_problem(
        await svc.client.delete(f"/activities/{activity_id}/signups/res-2", headers=svc.resident("res-1")),
        403,
    )
    assert_problem(
        await svc.client.put(f"/activities/{activity_id}/capacity", json={"capacity": 1}, headers=leader(svc)),
        409,
        "capacity",
    )
    grow = await svc.client.put(f"/activities/{activity_id}/capacity", json={"capacity": 4}, headers=leader(svc))
    assert grow.status_code == 200, grow.text
    view = await svc.read(f"/activities/{activity_id}", leader(svc), after=grow.json()["position"])
    assert [v["resident_id"] for v in view["volunteers"]] == ["res-2", "res-3", "res-4", "res-5"]
    assert view["waiting_list"] == []
    assert [c["resident_id"] for c in view["cancelled"]] == ["res-1"]
    assert view["capacity"] == 4 and view["free_places"] == 0

    # the leader cancels someone's place, then the whole activity
    r = await svc.client.delete(f"/activities/{activity_id}/signups/res-5", headers=leader(svc))
    assert r.status_code == 200, r.text
    upcoming = await svc.read(
        "/activities/upcoming", svc.resident("res-6"), after=r.json()["position"], skill="childcare"
    )
    assert [a["free_places"] for a in upcoming if a["activity_id"] == activity_id] == [1]
    r = await svc.client.post(f"/activities/{activity_id}/cancel", json={"reason": "rain"}, headers=leader(svc))
    assert r.status_code == 200, r.text
    assert_problem(await sign_up(svc, activity_id, "res-6"), 409, "status")
    assert_problem(
        await svc.client.post(f"/activities/{activity_id}/cancel", json={"reason": ""}, headers=leader(svc)),
        422,
        "reason",
    )


async def test_overlapping_sign_ups_are_refused(svc: Service) -> None:
    team_id = await form_team(svc, "Patrol", "safety_patrol")
    morning, _ = await schedule(svc, team_id, in_hours=72, length_hours=3, capacity=5)
    overlapping, _ = await schedule(svc, team_id, in_hours=74, length_hours=2, capacity=5)
    later, _ = await schedule(svc, team_id, in_hours=75, length_hours=1, capacity=5)
    r = await sign_up(svc, morning, "res-6")
    assert r.status_code == 201, r.text
    await svc.read(f"/activities/{morning}", leader(svc), after=r.json()["position"])
    clash = assert_problem(await sign_up(svc, overlapping, "res-6"), 409, "activity_id")
    assert morning in clash["detail"]
    before = await svc.events(overlapping)
    assert len(before) == 1  # nothing written
    assert (await sign_up(svc, later, "res-6")).status_code == 201


async def test_shift_day_verification_ledger_and_certificate(svc: Service) -> None:
    team_id = await form_team(svc, "Meals on wheels")
    activity_id, _ = await schedule(svc, team_id, in_hours=2, length_hours=2, capacity=3)
    for rid in ("res-7", "res-8"):
        assert (await sign_up(svc, activity_id, rid)).status_code == 201
    base = f"/activities/{activity_id}/signups"
    assert_problem(await svc.client.post(f"{base}/res-7/check-out", headers=leader(svc)), 409)
    assert_problem(await svc.client.post(f"{base}/res-7/check-in", headers=leader(svc)), 409)
    assert_problem(await svc.client.post(f"{base}/res-8/no-show", headers=leader(svc)), 409)
    assert_problem(await svc.client.post(f"{base}/res-7/check-in", headers=svc.resident("res-7")), 403)

    started = svc.clock.now + timedelta(hours=2)
    svc.clock.now = started - timedelta(minutes=10)
    assert (await svc.client.post(f"{base}/res-7/check-in", headers=leader(svc))).status_code == 200
    svc.clock.now = started + timedelta(minutes=90)
    assert_problem(await sign_up(svc, activity_id, "res-6"), 409, "status")  # it has started
    assert_problem(await svc.client.post(f"{base}/res-7/verify", json={}, headers=leader(svc)), 409)
    out = await svc.client.post(f"{base}/res-7/check-out", headers=leader(svc))
    assert out.status_code == 200, out.text
    assert (await svc.client.post(f"{base}/res-8/no-show", headers=leader(svc))).status_code == 200

    own = svc.token("team_leader", [COMMUNITY], LEADER, resident_id="res-7")
    assert_problem(await svc.client.post(f"{base}/res-7/verify", json={}, headers=own), 403)
    assert_problem(
        await svc.client.post(f"{base}/res-7/verify", json={}, headers=svc.resident("res-7")),
        403,
        "resident_id",
    )
    assert_problem(await svc.client.post(f"{base}/res-7/verify", json={}, headers=staff(svc)), 403)
    assert_problem(
        await svc.client.post(f"{base}/res-7/verify", json={}, headers=leader(svc, OTHER_LEADER)),
        403,
    )
    assert_problem(
        await svc.client.post(f"{base}/res-7/verify", json={"minutes": 120}, headers=leader(svc)),
        422,
        "minutes",
    )
    assert_problem(await svc.client.post(f"{base}/res-8/verify", json={}, headers=leader(svc)), 409, "status")
    assert len(await svc.events("res-7")) == 0  # no ledger written by the refusals

    verified = await svc.client.post(f"{base}/res-7/verify", json={"minutes": 84}, headers=leader(svc))
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified_minutes"] == 84 and verified.json()["balance"] == 14
    assert_problem(await svc.client.post(f"{base}/res-7/verify", json={}, headers=leader(svc)), 409)
    ledger_events = [e.event_type for e in await svc.events("res-7")]
    assert ledger_events == ["HoursVerified", "PointsCredited"]

    position = verified.json()["position"]
    view = await svc.read(f"/activities/{activity_id}", leader(svc), after=position)
    rows = {v["resident_id"]: v for v in view["volunteers"]}
    assert rows["res-7"]["status"] == "completed"
    assert (rows["res-7"]["scheduled_minutes"], rows["res-7"]["completed_minutes"]) == (120, 100)
    assert rows["res-7"]["verified_minutes"] == 84 and rows["res-7"]["verified_by"] == LEADER
    assert rows["res-8"]["status"] == "no_show"

    await svc.read("/volunteers/res-7/ledger", svc.resident("res-7"), after=position)
    statement = await svc.read("/volunteers/res-7/ledger", svc.resident("res-7"))
    assert [(e["kind"], e["points"], e["minutes"]) for e in statement["entries"]] == [
        ("hours", 0, 84),
        ("credit", 14, 0),
    ]
    assert statement["balance"] == 14 and statement["verified_minutes"] == 84

    team = await svc.read(f"/teams/{team_id}", leader(svc))
    assert team["totals"]["verified_minutes"] == 84
    assert team["totals"]["completed_minutes"] == 100
    assert team["totals"]["scheduled_minutes"] == 240  # res-7 and the no-show res-8

    cert = await svc.read("/volunteers/res-7/certificate", svc.resident("res-7"))
    assert cert["volunteer"] == {"resident_id": "res-7"}
    assert cert["total_verified_minutes"] == 84 and cert["total_verified_hours"] == 1.4
    (record,) = cert["records"]
    assert record["team_name"] == "Meals on wheels" and record["verified_by"] == LEADER
    assert record["service"] == "Lunch delivery for the elderly"
    assert cert["certificate_no"].startswith("VSR-")
    html = await svc.client.get("/volunteers/res-7/certificate.html", headers=staff(svc))
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "志愿服务记录证明" in html.text and "Meals on wheels" in html.text
    assert "1.4" in html.text and cert["certificate_no"] in html.text
    assert_problem(await svc.client.get("/volunteers/res-7/certificate", headers=svc.resident("res-8")), 403)
    empty = await svc.read("/volunteers/res-7/certificate", svc.resident("res-7"), **{"from": "2099-01-01T00:00:00Z"})
    assert empty["records"] == [] and empty["total_verified_minutes"] == 0
    svc.clock.now = started - timedelta(hours=2)  # back to the shared "now"


async def test_incentives_are_credited_once_and_redemptions_never_overdraw(svc: Service) -> None:
    data = {
        "case_id": "case-1",
        "reporter_id": "res-6",
        "reporter_kind": "courier",
        "points": 30,
        "community_code": COMMUNITY,
    }
    sent = await svc.feed.publish("grid_reports", "cases", "IncentiveEarned", "case-1", data)
    await svc.feed.resend("grid_reports", sent)  # redelivered as is
    # and republished with a later sequence: the same source event id is still recognised
    await svc.feed.publish("grid_reports", "cases", "IncentiveEarned", "case-1", data, event_id=sent.event_id)
    other = await svc.feed.publish(
        "grid_reports",
        "cases",
        "IncentiveEarned",
        "case-2",
        {**data, "case_id": "case-2", "points": 5},
    )

    async def credited() -> bool:
        return len(await svc.events("res-6")) == 2

    await eventually(credited)
    events = await svc.events("res-6")
    assert [(e.event_type, e.data["points"], e.data["source_ref"]) for e in events] == [
        ("PointsCredited", 30, "case-1"),
        ("PointsCredited", 5, "case-2"),
    ]
    assert events[0].meta["causation_id"] == sent.event_id
    assert events[1].meta["causation_id"] == other.event_id

    over = await svc.client.post(
        "/volunteers/res-6/redemptions",
        json={"points": 36, "channel": "time_bank", "reference": "slip-1"},
        headers=svc.resident("res-6"),
    )
    assert_problem(over, 409, "points")
    assert len(await svc.events("res-6")) == 2  # nothing written
    assert_problem(
        await svc.client.post(
            "/volunteers/res-6/redemptions",
            json={"points": 0, "channel": "time_bank", "reference": "slip"},
            headers=svc.resident("res-6"),
        ),
        422,
        "points",
    )
    assert_problem(
        await svc.client.post(
            "/volunteers/res-6/redemptions",
            json={"points": 1, "channel": "time_bank", "reference": "slip"},
            headers=svc.resident("res-5"),
        ),
        403,
    )
    r = await svc.client.post(
        "/volunteers/res-6/redemptions",
        json={"points": 20, "channel": "time_bank", "reference": "2h of home help"},
        headers=svc.resident("res-6"),
    )
    assert r.status_code == 201 and r.json()["balance"] == 15, r.text
    shop = {"X-API-Key": MERCHANT_KEY}
    assert_problem(
        await svc.client.post(
            "/volunteers/res-6/redemptions",
            json={"points": 1, "channel": "time_bank", "reference": "x"},
            headers=shop,
        ),
        422,
        "channel",
    )
    r = await svc.client.post(
        "/volunteers/res-6/redemptions",
        json={"points": 15, "channel": "merchant", "reference": "rice 5kg"},
        headers=shop,
    )
    assert r.status_code == 201 and r.json()["balance"] == 0, r.text
    assert_problem(
        await svc.client.post(
            "/volunteers/res-6/redemptions",
            json={"points": 1, "channel": "merchant", "reference": "x"},
            headers=shop,
        ),
        409,
        "points",
    )
    statement = await svc.read("/volunteers/res-6/ledger", staff(svc), after=r.json()["position"])
    assert [e["points"] for e in statement["entries"]] == [30, 5, -20, -15]
    assert [e["balance"] for e in statement["entries"]] == [30, 35, 15, 0]
    assert statement["balance"] == 0
    assert statement["entries"][-1]["partner_id"] == "shop-1"
    profile = await svc.read("/volunteers/res-6", svc.resident("res-6"))
    assert (profile["points_earned"], profile["points_redeemed"], profile["balance"]) == (35, 35, 0)


async def test_giving_back_leaderboards_and_area_figures(svc: Service) -> None:
    """res-7 was hired through Doorstep before the verified shift above."""
    hired_at = svc.clock.now - timedelta(days=30)
    await svc.feed.publish(
        "jobs",
        "applications",
        "ApplicationHired",
        "app-1",
        {
            "application_id": "app-1",
            "job_id": "job-1",
            "resident_id": "res-7",
            "partner_id": "p-1",
            "community_code": COMMUNITY,
            "fair_id": None,
        },
        time=hired_at,
    )
    await svc.feed.publish(
        "jobs",
        "piecework",
        "PieceworkPayoutSettled",
        "order-1",
        {"order_id": "order-1", "resident_id": "res-7", "amount_fen": 1500, "pieces": 100},
        time=hired_at + timedelta(days=1),
    )
    await eventually(lambda: directory_has(svc, "helped_residents", "resident_id", "res-7", trained_at=None))

    async def marked() -> Any:
        profile = await svc.read("/volunteers/res-7", staff(svc))
        marks = profile["giving_back"]
        return marks and marks["hired"] and marks["paid_for_piecework"] and profile

    profile = await eventually(marked)
    assert profile["giving_back"]["trained"] is False
    assert profile["verified_minutes"] == 84
    assert [h["status"] for h in profile["history"]] == ["completed"]

    figures = await svc.read(f"/areas/{COMMUNITY}/figures", staff(svc))
    assert figures["givers_back"] == 1
    assert figures["verified_minutes"] == 84 and figures["verified_hours"] == 1.4
    assert figures["points_issued"] >= 14 + 35 and figures["points_redeemed"] >= 35
    assert figures["active_volunteers"] >= 1 and figures["teams"] >= 5
    street = await svc.read("/areas/330102/figures", svc.token("street_admin", ["330102"], "sa"))
    assert street["verified_minutes"] == figures["verified_minutes"]
    assert_problem(await svc.client.get(f"/areas/{COMMUNITY}/figures", headers=svc.resident("res-1")), 403)
    assert_problem(await svc.client.get(f"/areas/{OTHER_COMMUNITY}/figures", headers=staff(svc)), 403)

    by_hours = await svc.read("/leaderboard", svc.resident("res-1"), by="hours")
    assert by_hours[0]["resident_id"] == "res-7" and by_hours[0]["rank"] == 1
    by_points = await svc.read("/leaderboard", staff(svc), area_code=COMMUNITY, by="points")
    assert [row["resident_id"] for row in by_points[:2]] == ["res-6", "res-7"]
    assert_problem(await svc.client.get("/leaderboard", params={"by": "likes"}, headers=staff(svc)), 422, "by")


async def test_moving_out_and_erasure_leave_rosters_but_keep_the_ledger(svc: Service) -> None:
    team_id = await form_team(svc, "Neighbourhood watch", "safety_patrol")
    member = await svc.client.post(f"/teams/{team_id}/members", json={}, headers=svc.resident("res-3"))
    assert member.status_code == 201
    activity_id, _ = await schedule(svc, team_id, in_hours=100, capacity=1)
    assert (await sign_up(svc, activity_id, "res-3")).json()["status"] == "scheduled"
    last = await sign_up(svc, activity_id, "res-4")
    assert last.json()["status"] == "waiting"
    await svc.read(f"/activities/{activity_id}", leader(svc), after=last.json()["position"])

    moved = await svc.feed.publish(
        "registration",
        "residents",
        "ResidentMovedOut",
        "res-3",
        {"resident_id": "res-3", "reason": "left the city"},
    )

    async def withdrawn() -> bool:
        return len(await svc.events(activity_id)) == 5 and len(await svc.events(team_id)) == 3

    await eventually(withdrawn)
    activity_events = await svc.events(activity_id)
    assert [e.event_type for e in activity_events[-2:]] == ["SignUpCancelled", "VolunteerPromoted"]
    assert activity_events[-2].data["reason"] == "moved_out"
    assert activity_events[-1].data["resident_id"] == "res-4"
    team_events = await svc.events(team_id)
    assert team_events[-1].event_type == "MemberRemoved"
    assert team_events[-1].data["reason"] == "moved_out"

    # a redelivered MovedOut changes nothing
    await svc.feed.resend("registration", moved)
    await svc.feed.publish(
        "registration",
        "residents",
        "ResidentSkillsUpdated",
        "res-3",
        {"resident_id": "res-3", "skills": []},
    )
    await eventually(lambda: directory_has(svc, "residents", "resident_id", "res-3", skills=[]))
    assert len(await svc.events(activity_id)) == 5 and len(await svc.events(team_id)) == 3
    assert_problem(await sign_up(svc, activity_id, "res-3"), 422, "resident_id")

    # erasure: the volunteer's read-model data goes; the ledger keeps the pseudonymous id
    await svc.feed.publish("registration", "residents", "ResidentErased", "res-7", {"resident_id": "res-7"})
    await eventually(lambda: directory_has(svc, "residents", "resident_id", "res-7", status="erased"))
    await eventually(lambda: _gone(svc, "res-7"))
    assert [e.event_type for e in await svc.events("res-7")] == ["HoursVerified", "PointsCredited"]
    statement = await svc.read("/volunteers/res-7/ledger", staff(svc))
    assert statement["balance"] == 14 and statement["verified_minutes"] == 84
    profile = await svc.read("/volunteers/res-7", staff(svc))
    assert profile["giving_back"] is None
    async with svc.runtime.db.session() as s:
        row = (await s.execute(select(residents_t).where(residents_t.c.resident_id == "res-7"))).one()
    assert (row.community_code, row.grid_code, row.skills) == (None, None, [])
    assert_problem(
        await svc.client.post(f"/teams/{team_id}/members", json={"resident_id": "res-7"}, headers=leader(svc)),
        422,
        "resident_id",
    )


async def _gone(svc: Service, resident_id: str) -> bool:
    return not await directory_has(svc, "helped_residents", "resident_id", resident_id)


async def test_asyncapi_documents_the_ledger_events(svc: Service) -> None:
    spec = (await svc.client.get("/asyncapi.json")).json()
    text = str(spec)
    for name in ("PointsCredited", "PointsRedeemed", "HoursVerified", "VolunteerSignedUp"):
        assert name in text
