"""Grid reports end to end: the real app, the real broker, each database.

The app starts once per backend for the module; every test builds its own
cases, visits and disputes, so they do not depend on each other's order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from grid_reports.bootstrap import create_app
from grid_reports.escalation import sweep
from grid_reports.settings import Settings

from tests.conftest import BACKENDS, _create_pg_database, _drop_pg_database
from tests.e2e.grid_reports.support import FakeClock, RegistrationFeed, read_events
from tests.helpers import eventually, running_app, token_for

COMMUNITY = "330102001001"
GRID = "330102001001001"
OTHER_GRID = "330102001002001"
PROBLEM = "application/problem+json"


@dataclass
class Env:
    client: httpx.AsyncClient
    clock: FakeClock
    app: Any
    prefix: str
    bootstrap: str
    feed: RegistrationFeed
    gw: dict[str, str]
    gw_other: dict[str, str]
    staff: dict[str, str]
    street: dict[str, str]
    courier: dict[str, str]
    resident: dict[str, str]


@pytest_asyncio.fixture(scope="module", loop_scope="session", params=BACKENDS)
async def env(
    request: pytest.FixtureRequest,
    kafka_bootstrap: str,
    jwt_keys: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Env]:
    tmp = tmp_path_factory.mktemp("grid_reports")
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp}/grid_reports.db"
    else:
        pg_name, url = await _create_pg_database()
    prefix = f"t{uuid.uuid4().hex[:10]}."
    settings = Settings(
        DATABASE_URL=url,
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        DOORSTEP_TOPIC_PREFIX=prefix,
        JWT_PUBLIC_KEY_FILE=str(jwt_keys[1]),
        DOORSTEP_VAR_DIR=str(tmp),
        KAFKA_TOPIC_PARTITIONS=1,
        GRID_REPORTS_ESCALATION_INTERVAL_SECONDS=0.1,
    )
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    app = create_app(settings)
    app.state.runtime.clock = clock
    try:
        async with running_app(app) as client:
            yield Env(
                client=client,
                clock=clock,
                app=app,
                prefix=prefix,
                bootstrap=kafka_bootstrap,
                feed=RegistrationFeed(kafka_bootstrap, prefix),
                gw=token_for(jwt_keys, "grid_worker", [GRID], subject="gw-1"),
                gw_other=token_for(jwt_keys, "grid_worker", [OTHER_GRID], subject="gw-2"),
                staff=token_for(jwt_keys, "community_staff", [COMMUNITY], subject="cs-1"),
                street=token_for(jwt_keys, "street_admin", ["330102001"], subject="sa-1"),
                courier=token_for(jwt_keys, "resident", [COMMUNITY], subject="u-courier", resident_id="res-courier"),
                resident=token_for(jwt_keys, "resident", [COMMUNITY], subject="u-r2", resident_id="res-2"),
            )
    finally:
        if pg_name:
            await _drop_pg_database(pg_name)


async def post(env: Env, path: str, headers: dict[str, str], body: Any = None, status: int = 200) -> Any:
    response = await env.client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


async def get(env: Env, path: str, headers: dict[str, str], after: int = 0, status: int = 200) -> Any:
    sep = "&" if "?" in path else "?"
    response = await env.client.get(f"{path}{sep}after={after}" if after else path, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body


async def report(env: Env, headers: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "category": "environment",
        "source": "courier_sentinel",
        "community_code": COMMUNITY,
        "grid_code": GRID,
        "building": "12",
        "description": "rubbish piled by the bike shed",
        "photos": ["https://img.example.cn/a.jpg"],
        **overrides,
    }
    return await post(env, "/cases", headers or env.courier, body, status=201)


async def to_resolved(env: Env, case_id: str) -> dict[str, Any]:
    await post(env, f"/cases/{case_id}/accept", env.gw)
    await post(env, f"/cases/{case_id}/assign", env.staff, {"assignee_id": "gw-1"})
    await post(env, f"/cases/{case_id}/start", env.gw)
    return await post(env, f"/cases/{case_id}/resolve", env.gw, {"resolution": "cleared", "photos": []})


# cases ----------------------------------------------------------------------------------------


async def test_case_loop_closes_on_feedback_and_publishes_the_incentive(env: Env) -> None:
    created = await report(env)
    assert created["state"] == "reported"
    case_id = created["id"]
    last = await to_resolved(env, case_id)
    assert last["state"] == "resolved"
    done = await post(env, f"/cases/{case_id}/feedback", env.courier, {"satisfaction": 5, "comment": "thanks"})
    assert done["state"] == "closed"

    case = await get(env, f"/cases/{case_id}", env.courier, after=done["position"])
    assert (case["state"], case["kind"], case["satisfaction"]) == ("closed", "fixed", 5)
    history = await get(env, f"/cases/{case_id}/history", env.staff)
    assert [h["type"] for h in history] == [
        "CaseReported",
        "CaseAccepted",
        "CaseAssigned",
        "CaseStarted",
        "CaseResolved",
        "CaseFeedbackGiven",
        "CaseClosed",
        "IncentiveEarned",
    ]
    incentives = await eventually(lambda: _incentive_for(env, case_id), timeout=15)
    assert incentives == {
        "case_id": case_id,
        "reporter_id": "res-courier",
        "reporter_kind": "courier_sentinel",
        "points": 10,
        "community_code": COMMUNITY,
    }
    mine = await get(env, "/cases", env.courier)
    assert case_id in [c["id"] for c in mine]


async def _incentive_for(env: Env, case_id: str) -> dict[str, Any] | None:
    events = await read_events(env.bootstrap, f"{env.prefix}grid_reports.cases", "IncentiveEarned", timeout=3)
    return next((e for e in events if e["case_id"] == case_id), None)


async def test_illegal_transitions_are_409_problems(env: Env) -> None:
    case_id = (await report(env))["id"]
    problem(await env.client.post(f"/cases/{case_id}/resolve", json={"resolution": "x"}, headers=env.gw), 409, "status")
    problem(await env.client.post(f"/cases/{case_id}/start", headers=env.gw), 409, "status")
    await post(env, f"/cases/{case_id}/accept", env.gw)
    problem(await env.client.post(f"/cases/{case_id}/accept", headers=env.gw), 409, "status")
    problem(await env.client.post(f"/cases/{case_id}/feedback", json={"satisfaction": 4}, headers=env.courier), 409)
    problem(await env.client.post(f"/cases/{case_id}/reject", json={"reason": "dup"}, headers=env.gw), 409)
    problem(await env.client.post(f"/cases/{case_id}/close", headers=env.staff), 409)


async def test_feedback_only_from_the_reporter_and_unsatisfied_reopens(env: Env) -> None:
    case_id = (await report(env))["id"]
    await to_resolved(env, case_id)
    problem(await env.client.post(f"/cases/{case_id}/feedback", json={"satisfaction": 5}, headers=env.resident), 403)
    problem(await env.client.post(f"/cases/{case_id}/close", headers=env.staff), 409)  # feedback window open
    reopened = await post(env, f"/cases/{case_id}/feedback", env.courier, {"satisfaction": 1, "comment": "still there"})
    assert reopened["state"] == "reopened"
    case = await get(env, f"/cases/{case_id}", env.gw, after=reopened["position"])
    assert case["state"] == "reopened" and case["kind"] == "open"
    due = datetime.fromisoformat(case["due_at"])
    assert due == env.clock.now + timedelta(hours=48)  # the rework step's limit
    await post(env, f"/cases/{case_id}/start", env.gw)
    await post(env, f"/cases/{case_id}/resolve", env.gw, {"resolution": "cleared again"})
    env.clock.advance(hours=73)  # the reporter stays silent: staff verify and close
    closed = await post(env, f"/cases/{case_id}/close", env.staff)
    assert closed["state"] == "closed"


async def test_reject_and_merge(env: Env) -> None:
    primary = (await report(env))["id"]
    duplicate = (await report(env, description="same rubbish"))["id"]
    merged = await post(env, f"/cases/{duplicate}/merge", env.gw, {"into_case_id": primary})
    assert merged["state"] == "merged"
    problem(
        await env.client.post(f"/cases/{primary}/merge", json={"into_case_id": "nope"}, headers=env.gw),
        422,
        "into_case_id",
    )
    spam = (await report(env, description="not a real problem"))["id"]
    rejected = await post(env, f"/cases/{spam}/reject", env.gw, {"reason": "no problem found"})
    case = await get(env, f"/cases/{spam}", env.gw, after=rejected["position"])
    assert (case["state"], case["kind"]) == ("rejected", "closed")


async def test_bad_input_auth_and_scope(env: Env) -> None:
    problem(await env.client.post("/cases", json={"category": "noise"}), 401)
    body = {"category": "aliens", "source": "resident", "community_code": COMMUNITY, "description": "x"}
    problem(await env.client.post("/cases", json=body, headers=env.resident), 422, "category")
    body = {**body, "category": "noise", "photos": ["http://img.example.cn/a.jpg"]}
    problem(await env.client.post("/cases", json=body, headers=env.resident), 422, "photos.0")
    body = {**body, "photos": [], "description": ""}
    problem(await env.client.post("/cases", json=body, headers=env.resident), 422, "description")
    body = {**body, "description": "x", "grid_code": "12345"}
    problem(await env.client.post("/cases", json=body, headers=env.resident), 422, "grid_code")
    body = {**body, "grid_code": None, "source": "hotline"}
    problem(await env.client.post("/cases", json=body, headers=env.resident), 403, "source")

    created = await report(env)
    case_id = created["id"]
    await get(env, f"/cases/{case_id}", env.gw, after=created["position"])
    problem(await env.client.post(f"/cases/{case_id}/accept", headers=env.gw_other), 403)
    problem(await env.client.post(f"/cases/{case_id}/accept", headers=env.courier), 403)
    problem(await env.client.get(f"/cases/{case_id}", headers=env.resident), 403)  # not the reporter
    problem(await env.client.get(f"/cases/{case_id}", headers=env.gw_other), 403)
    problem(await env.client.get("/cases/no-such-case", headers=env.gw), 404)
    await post(env, f"/cases/{case_id}/accept", env.gw)
    problem(
        await env.client.post(f"/cases/{case_id}/assign", json={"assignee_id": "gw-9"}, headers=env.gw),
        403,
        "assignee_id",
    )


async def test_idempotent_command(env: Env) -> None:
    body = {
        "category": "dogs",
        "source": "resident",
        "community_code": COMMUNITY,
        "grid_code": GRID,
        "description": "unleashed dog by the school gate",
    }
    headers = {**env.resident, "Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = await env.client.post("/cases", json=body, headers=headers)
    again = await env.client.post("/cases", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"


# deadlines and escalation ---------------------------------------------------------------------------


async def test_overdue_case_escalates_by_itself_up_the_tree(env: Env) -> None:
    created = await report(env, category="safety_hazard", description="fire lane blocked by cars")
    case_id = created["id"]
    await get(env, f"/cases/{case_id}", env.gw, after=created["position"])
    levels = []
    for expected in ("community", "street", "district"):
        env.clock.advance(hours=1, minutes=1)  # past the 1-hour accept limit of a safety hazard

        async def escalated_to(level: str = expected) -> dict[str, Any] | None:
            case = await get(env, f"/cases/{case_id}", env.street)
            return case if case["level"] == level else None

        case = await eventually(escalated_to, timeout=15)
        levels.append((case["level"], case["escalated_to"]))
    assert levels == [("community", COMMUNITY), ("street", "330102001"), ("district", "330102")]
    env.clock.advance(hours=5)
    runtime = env.app.state.runtime
    await sweep(runtime.db, runtime.definition.core, runtime.deps.policy, env.clock.now)  # at the top now
    history = await get(env, f"/cases/{case_id}/history", env.street)
    escalations = [h["data"] for h in history if h["type"] == "CaseEscalated"]
    assert [e["to_level"] for e in escalations] == ["community", "street", "district"]
    assert all(h["actor"] == "system:escalation" for h in history if h["type"] == "CaseEscalated")
    board = await get(env, f"/communities/{COMMUNITY}/board", env.staff)
    assert board["open_escalated"] >= 1
    queue = await get(env, "/queue", env.gw)
    assert case_id in [c["id"] for c in queue["overdue"]]


async def test_sweep_never_escalates_from_a_stale_read_model(env: Env) -> None:
    created = await report(env, category="noise", description="karaoke at 2am")
    case_id = created["id"]
    await get(env, f"/cases/{case_id}", env.gw, after=created["position"])
    runtime = env.app.state.runtime
    policy = runtime.deps.policy
    late = env.clock.now + timedelta(hours=3)
    first = await sweep(runtime.db, runtime.definition.core, policy, late)
    again = await sweep(runtime.db, runtime.definition.core, policy, late)  # read model not caught up yet
    assert first >= 1 and again == 0
    async with runtime.db.session() as s:
        history = await runtime.store.history(s, case_id)
    assert [e.event_type for e in history].count("CaseEscalated") == 1


# Open311 -----------------------------------------------------------------------------------------


async def test_open311_files_and_follows_requests(env: Env) -> None:
    services = (await env.client.get("/open311/v2/services.json")).json()
    codes = {s["service_code"] for s in services}
    assert "noise" in codes and "neighbour_dispute" not in codes
    form = {
        "service_code": "facility",
        "address_id": GRID,
        "lat": "30.27",
        "long": "120.15",
        "description": "lift stuck between floors",
        "media_url": "https://img.example.cn/lift.jpg",
    }
    response = await env.client.post("/open311/v2/requests.json", data=form, headers=env.resident)
    assert response.status_code == 201, response.text
    [created] = response.json()
    request_id = created["service_request_id"]
    assert set(created) == {"service_request_id", "service_notice", "account_id"}

    async def visible() -> list[dict[str, Any]] | None:
        r = await env.client.get(f"/open311/v2/requests/{request_id}.json")
        return r.json() if r.status_code == 200 else None

    [one] = await eventually(visible, timeout=10)
    assert one["status"] == "open" and one["service_code"] == "facility"
    assert one["expected_datetime"] is not None and one["lat"] == 30.27
    assert "reporter_id" not in one
    listed = (await env.client.get("/open311/v2/requests.json?status=open&service_code=facility")).json()
    assert request_id in [r["service_request_id"] for r in listed]

    def open311_error(response: httpx.Response, code: int) -> None:
        assert response.status_code == code, response.text
        assert response.headers["content-type"].startswith("application/json")
        [error] = response.json()
        assert error["code"] == code and error["description"]

    open311_error(await env.client.post("/open311/v2/requests.json", data=form), 401)
    open311_error(await env.client.post("/open311/v2/requests.json", data={**form, "api_key": "bogus"}), 403)
    open311_error(
        await env.client.post("/open311/v2/requests.json", data={**form, "service_code": "x"}, headers=env.resident),
        400,
    )
    open311_error(
        await env.client.post(
            "/open311/v2/requests.json", data={**form, "media_url": "ftp://x/y.jpg"}, headers=env.resident
        ),
        400,
    )
    open311_error(await env.client.get("/open311/v2/requests/nope.json"), 404)
    open311_error(await env.client.get("/open311/v2/requests.json?status=maybe"), 400)
    open311_error(await env.client.get("/open311/v2/services.xml"), 404)


# visits and the resident read model ------------------------------------------------------------------


async def test_visits_cadence_findings_move_out_and_erase(env: Env) -> None:
    rid, moved = f"res-{uuid.uuid4().hex[:8]}", f"res-{uuid.uuid4().hex[:8]}"
    for resident in (rid, moved):
        await env.feed.publish(
            "ResidentRegistered",
            resident,
            {
                "community_code": COMMUNITY,
                "grid_code": GRID,
                "household_id": "h-1",
                "tags": ["elderly", "living_alone"],
            },
        )
    env.clock.advance(days=8)

    async def overdue_ids() -> set[str]:
        rows = await get(env, "/visits/overdue", env.gw)
        return {r["resident_id"] for r in rows}

    await eventually(lambda: _contains(overdue_ids(), {rid, moved}), timeout=15)
    rows = await get(env, "/visits/overdue", env.gw)
    assert next(r for r in rows if r["resident_id"] == rid)["cadence_days"] == 7

    body = {
        "resident_id": rid,
        "community_code": COMMUNITY,
        "grid_code": GRID,
        "note": "lives alone, well",
        "findings": [
            {"finding": "wants_job", "note": "can do handcraft at home"},
            {"finding": "home_safety_hazard", "note": "gas hose cracked"},
        ],
    }
    visit = await post(env, "/visits", env.gw, body, status=201)
    assert len(visit["case_ids"]) == 1
    assert rid not in await overdue_ids() or await eventually(lambda: _absent(overdue_ids(), rid))
    hazard = await get(env, f"/cases/{visit['case_ids'][0]}", env.gw, after=visit["position"])
    assert (hazard["category"], hazard["source"], hazard["channel"]) == ("safety_hazard", "grid_worker", "visit")
    findings = await read_events(env.bootstrap, f"{env.prefix}grid_reports.visits", "VisitFindingRecorded")
    mine = [f for f in findings if f["visit_id"] == visit["id"]]
    assert {f["finding"] for f in mine} == {"wants_job", "home_safety_hazard"}
    assert set(mine[0]) == {"visit_id", "resident_id", "finding", "grid_code", "grid_worker_id", "note"}
    assert mine[0]["grid_worker_id"] == "gw-1" and mine[0]["resident_id"] == rid

    problem(
        await env.client.post("/visits", json={**body, "findings": [{"finding": "ghost"}]}, headers=env.gw),
        422,
        "findings.0.finding",
    )
    problem(await env.client.post("/visits", json={**body, "grid_code": OTHER_GRID}, headers=env.gw), 403)

    # moved out: the cadence stops; a redelivered move-out changes nothing
    await env.feed.publish("ResidentMovedOut", moved, {"reason": "left the city"})
    await eventually(lambda: _absent(overdue_ids(), moved), timeout=15)
    await env.feed.publish("ResidentMovedOut", moved, {"reason": "left the city"}, version=2)
    problem(
        await env.client.post("/visits", json={**body, "resident_id": moved, "findings": []}, headers=env.gw),
        409,
        "resident_id",
    )

    # erased: the resident leaves the read models; their visits stay counted, anonymously
    await env.feed.publish("ResidentErased", rid, {})

    async def anonymised() -> bool:
        visits = await get(env, "/visits", env.gw)
        row = next(v for v in visits if v["id"] == visit["id"])
        return row["resident_id"] is None and row["note"] == ""

    await eventually(anonymised, timeout=15)
    assert all(v["resident_id"] != rid for v in await get(env, "/visits", env.gw))


async def _contains(rows: Any, wanted: set[str]) -> bool:
    return wanted <= await rows


async def _absent(rows: Any, rid: str) -> bool:
    return rid not in await rows


async def test_erased_reporter_leaves_cases_anonymous(env: Env, jwt_keys: tuple[Path, Path]) -> None:
    rid = f"res-{uuid.uuid4().hex[:8]}"
    reporter = token_for(jwt_keys, "resident", [COMMUNITY], subject=f"u-{rid}", resident_id=rid)
    created = await report(env, reporter, source="resident", description="cracked paving at gate 3")
    case_id = created["id"]
    assert (await get(env, f"/cases/{case_id}", reporter, after=created["position"]))["reporter_id"] == rid
    await env.feed.publish("ResidentErased", rid, {})

    async def erased() -> dict[str, Any] | None:
        case = await get(env, f"/cases/{case_id}", env.gw)
        return case if case["erased"] else None

    case = await eventually(erased, timeout=15)
    assert case["reporter_id"] is None and "cracked" not in case["description"] and case["photos"] == []
    history = await get(env, f"/cases/{case_id}/history", env.gw)
    assert "cracked" not in json.dumps(history), history
    assert rid not in json.dumps(history), history
    problem(await env.client.get(f"/cases/{case_id}", headers=reporter), 403)


# disputes, queries ----------------------------------------------------------------------------------


async def test_dispute_mediation_and_area_figures(env: Env) -> None:
    case_id = (
        await report(
            env,
            env.resident,
            category="neighbour_dispute",
            source="resident",
            description="water leaking from upstairs",
        )
    )["id"]
    body = {
        "case_id": case_id,
        "community_code": COMMUNITY,
        "grid_code": GRID,
        "summary": "leak between 301 and 401",
        "parties": [{"party_id": "res-2", "kind": "resident"}, {"party_id": "res-9", "kind": "resident"}],
    }
    problem(
        await env.client.post("/disputes", json={**body, "parties": body["parties"][:1]}, headers=env.gw),
        422,
        "parties",
    )
    dispute = await post(env, "/disputes", env.gw, body, status=201)
    did = dispute["id"]
    problem(await env.client.post(f"/disputes/{did}/agreement", json={"agreement": "x"}, headers=env.gw), 409)
    await post(
        env, f"/disputes/{did}/sessions", env.gw, {"attendees": ["res-2", "res-9"], "notes": "both came"}, status=201
    )
    agreed = await post(env, f"/disputes/{did}/agreement", env.gw, {"agreement": "401 repairs the pipe by Friday"})
    problem(await env.client.post(f"/disputes/{did}/no-agreement", json={"reason": "x"}, headers=env.gw), 409)
    shown = await get(env, f"/disputes/{did}", env.gw, after=agreed["position"])
    assert shown["state"] == "agreed" and len(shown["sessions"]) == 1
    assert {p["party_id"] for p in shown["parties"]} == {"res-2", "res-9"}
    problem(await env.client.get(f"/disputes/{did}", headers=env.gw_other), 403)

    figures = await get(env, f"/areas/{COMMUNITY}/figures", env.staff)
    assert figures["disputes_mediated"] >= 1 and figures["disputes_agreed"] >= 1
    assert figures["cases_reported"] >= 1 and figures["cases_resolved"] >= 1
    assert figures["satisfaction_avg"] is not None
    assert 0 <= figures["within_deadline_pct"] <= 100
    problem(await env.client.get(f"/areas/{COMMUNITY}/figures", headers=env.gw), 403)
    problem(await env.client.get("/areas/330199/figures", headers=env.staff), 403)

    board = await get(env, f"/communities/{COMMUNITY}/board", env.staff)
    assert board["by_category"]["neighbour_dispute"]["reported"] >= 1
    queue = await get(env, "/queue", env.gw)
    assert set(queue) == {"assigned", "waiting", "due_soon", "overdue"}
    assert case_id in [c["id"] for c in queue["waiting"]]
