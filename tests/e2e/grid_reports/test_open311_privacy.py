"""The public Open311 listing shows only what staff marked public: never a reporter's words,
never a phone number; the public summary itself refuses phone and ID numbers."""

from __future__ import annotations

from typing import Any

from tests.e2e.grid_reports.test_grid_reports import GRID, Env, env, post, problem
from tests.helpers import eventually

__all__ = ["env"]

PRIVATE = ("李桂兰", "13912345678", "3-401")


async def test_open311_shows_only_the_public_summary(env: Env) -> None:
    form = {
        "service_code": "facility",
        "address_id": GRID,
        "address_string": "12幢3-401 李桂兰家门口",
        "description": "来电人李桂兰 13912345678 反映楼道灯坏了",
        "attribute[source]": "hotline",
    }
    response = await env.client.post("/open311/v2/requests.json", data=form, headers=env.staff)
    assert response.status_code == 201, response.text
    case_id = response.json()[0]["service_request_id"]

    async def visible() -> list[dict[str, Any]] | None:
        r = await env.client.get(f"/open311/v2/requests/{case_id}.json")
        return r.json() if r.status_code == 200 else None

    [one] = await eventually(visible, timeout=10)
    assert one["description"] == "Facility" and one["address"] is None
    listing = await env.client.get("/open311/v2/requests.json?service_code=facility")
    assert case_id in [r["service_request_id"] for r in listing.json()]
    for text in PRIVATE:
        assert text not in listing.text and text not in json_text(one)

    # a summary naming a phone or an ID number is refused, naming the field
    for bad in ("请联系139 1234 5678", "联系１３９１２３４５６７８", "身份证11010519491231002X的居民"):
        problem(
            await env.client.post(f"/cases/{case_id}/public-summary", json={"text": bad}, headers=env.staff),
            422,
            "text",
        )
    # only staff of the case's area mark it
    r = await env.client.post(f"/cases/{case_id}/public-summary", json={"text": "x"}, headers=env.resident)
    assert r.status_code == 403, r.text

    done = await post(env, f"/cases/{case_id}/public-summary", env.staff, {"text": "楼道灯损坏，已安排维修"})

    async def summarised() -> list[dict[str, Any]] | None:
        r = await env.client.get(f"/open311/v2/requests/{case_id}.json")
        body = r.json()
        return body if body[0]["description"] != "Facility" else None

    [one] = await eventually(summarised, timeout=10)
    assert one["description"] == "楼道灯损坏，已安排维修" and done["version"] >= 2

    # a resolution is staff's own words for the case file, not for the public
    await post(env, f"/cases/{case_id}/accept", env.gw)
    await post(env, f"/cases/{case_id}/assign", env.staff, {"assignee_id": "gw-1"})
    await post(env, f"/cases/{case_id}/start", env.gw)
    resolved = await post(
        env, f"/cases/{case_id}/resolve", env.gw, {"resolution": "已电话13912345678告知李桂兰", "photos": []}
    )

    async def fixed() -> list[dict[str, Any]] | None:
        r = await env.client.get(f"/open311/v2/requests.json?service_request_id={case_id}")
        body = r.json()
        return body if body and body[0]["status_notes"] == "resolved" else None

    [one] = await eventually(fixed, timeout=10)
    assert resolved["state"] == "resolved"
    for text in PRIVATE:
        assert text not in json_text(one)


def json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
