"""Open311 GeoReport v2 over the same cases, so existing civic apps can file and follow reports.

Open311 has its own conventions, kept here: form-encoded POSTs, `api_key` as a
parameter, responses as JSON arrays, errors as `[{"code", "description"}]`
(never problem+json), status `open`/`closed`, and `expected_datetime` taken
from the case's running deadline. `address_id` carries the area code (grid or
community) of the place, since the area tree is this city's address registry.

Only categories about shared public space are offered as Open311 services and
listed publicly; disputes between neighbours and employment or welfare needs
are personal and stay behind staff authentication. Public listings never show
who reported, nor any free text staff have not marked public: a hotline's notes
or a resident's description may name people and their phones, so `description`
is the case's public summary (`POST /cases/{id}/public-summary`, which refuses
phone and ID numbers) or else the service's name; `status_notes` is the state
alone (a resolution is staff's own words) and the free-text address is left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from doorstep_shared.auth import Principal, Unauthorized, current_principal, hash_api_key
from doorstep_shared.commands import Dispatcher
from doorstep_shared.domain import DomainError, NotFound, as_utc
from doorstep_shared.runtime import Runtime
from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from grid_reports import views
from grid_reports.commands import ReportCaseOverOpen311
from grid_reports.schemas import Open311Created, Open311Request, Open311Service

SERVICES: dict[str, tuple[str, str, str]] = {
    # service_code: (name, description, group)
    "noise": ("Noise", "Noise from building work, shops, neighbours or traffic", "Nuisance"),
    "dogs": ("Dogs", "Unleashed or stray dogs, dog mess", "Nuisance"),
    "facility": (
        "Facility",
        "Broken or ageing facilities such as lifts, lights, doors",
        "Facilities",
    ),
    "environment": ("Environment", "Litter, dumping, blocked drains, greenery", "Environment"),
    "safety_hazard": (
        "Safety hazard",
        "Fire-lane blockage, loose cables, falling objects",
        "Safety",
    ),
    "traffic": ("Traffic", "Illegal parking, blocked paths, damaged roads", "Streets"),
    "other": ("Other", "Anything else about shared public space", "Other"),
}
PUBLIC_CATEGORIES = tuple(SERVICES)
MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def open311_error(status: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": description}], status_code=status)


class Open311Route(APIRoute):
    """Answers every failure of an Open311 endpoint in Open311's error format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except Open311Error as exc:
                return open311_error(exc.status, exc.description)
            except DomainError as exc:
                where = f"{exc.field}: " if exc.field else ""
                return open311_error(400 if exc.status == 422 else exc.status, f"{where}{exc.detail}")
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                field = ".".join(str(p) for p in first.get("loc", ())[1:])
                return open311_error(400, f"{field}: {first.get('msg', 'invalid request')}")
            except StarletteHTTPException as exc:
                return open311_error(exc.status_code, str(exc.detail))

        return route


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _service(code: str) -> dict[str, Any]:
    name, description, group = SERVICES[code]
    return {
        "service_code": code,
        "service_name": name,
        "description": description,
        "metadata": False,
        "type": "realtime",
        "keywords": code.replace("_", " "),
        "group": group,
    }


def _request_view(case: dict[str, Any]) -> dict[str, Any]:
    is_open = case["kind"] == "open"
    updated = case["updated_at"]
    return {
        "service_request_id": case["id"],
        "status": "open" if is_open else "closed",
        "status_notes": case["state"],
        "service_name": SERVICES[case["category"]][0],
        "service_code": case["category"],
        "description": case["public_summary"] or SERVICES[case["category"]][0],
        "agency_responsible": case["escalated_to"] or case["grid_code"] or case["community_code"],
        "service_notice": None,
        "requested_datetime": _iso(case["reported_at"]),
        "updated_datetime": _iso(updated),
        "expected_datetime": _iso(case["due_at"]) if is_open and case["due_at"] else None,
        "address": None,
        "address_id": case["grid_code"] or case["community_code"],
        "zipcode": None,
        "lat": case["latitude"],
        "long": case["longitude"],
        "media_url": case["photos"][0] if case["photos"] else None,
    }


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value else None


@router.get(
    "/services.json", response_model=list[Open311Service], summary="Open311: the service types a civic app may file"
)
async def services() -> list[dict[str, Any]]:
    return [_service(code) for code in SERVICES]


async def _principal(request: Request, params: dict[str, str]) -> Principal:
    """Bearer token, `X-API-Key`, or Open311's `api_key` parameter (a partner's key)."""
    if params.get("api_key") and not request.headers.get("Authorization"):
        runtime = _runtime(request)
        resolver = runtime.api_key_resolver
        principal = await resolver(hash_api_key(params["api_key"])) if resolver else None
        if principal is None:
            raise Open311Error(403, "api_key is unknown or suspended")
        return principal
    token = request.headers.get("Authorization", "")
    bearer = token[7:] if token.lower().startswith("bearer ") else None
    try:
        return await current_principal(request, bearer, request.headers.get("X-API-Key"))
    except Unauthorized as exc:
        raise Open311Error(401, exc.detail) from exc


async def _params(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise Open311Error(400, "body is not valid JSON") from exc
        if not isinstance(body, dict):
            raise Open311Error(400, "body must be a JSON object")
        # the form's values are strings; so are JSON's, but numbers are taken as their text
        return {k: v if isinstance(v, str) else str(v) for k, v in body.items() if _scalar(v)}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _float(params: dict[str, str], name: str) -> float | None:
    if params.get(name) in (None, ""):
        return None
    try:
        return float(params[name])
    except ValueError as exc:
        raise Open311Error(400, f"{name}: not a number") from exc


@router.post(
    "/requests.json",
    status_code=201,
    response_model=list[Open311Created],
    summary="Open311: file a service request",
)
async def create_request(request: Request) -> JSONResponse:
    """Files the request as a case through the service's command path (channel `open311`)."""
    params = await _params(request)
    principal = await _principal(request, params)
    code = params.get("service_code", "")
    if code not in SERVICES:
        raise Open311Error(400, f"service_code: unknown service {code!r}; see services.json")
    area = params.get("address_id", "")
    if not area.isdigit() or len(area) not in (12, 15):
        raise Open311Error(400, "address_id: the grid (15 digits) or community (12 digits) code of the place")
    source = params.get("attribute[source]") or ("hotline" if principal.is_staff else "resident")
    photos = [params["media_url"]] if params.get("media_url") else []
    try:
        cmd = ReportCaseOverOpen311(
            category=code,
            source=source,
            community_code=area[:12],
            grid_code=area if len(area) == 15 else None,
            latitude=_float(params, "lat"),
            longitude=_float(params, "long"),
            address=params.get("address_string") or None,
            description=params.get("description", ""),
            photos=photos,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise Open311Error(400, f"{field}: {first['msg']}") from exc
    response = await Dispatcher(_runtime(request), principal, request)(cmd, status_code=201)
    created = json.loads(bytes(response.body))
    notice = f"expected to be accepted by {created['due_at']}" if created.get("due_at") else None
    return JSONResponse(
        [{"service_request_id": created["id"], "service_notice": notice, "account_id": None}],
        status_code=response.status_code,
        headers={k: v for k, v in response.headers.items() if k.lower() == "idempotent-replayed"},
    )


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError as exc:
        raise Open311Error(400, f"{name}: not a w3c datetime") from exc


@router.get(
    "/requests.json",
    response_model=list[Open311Request],
    summary="Open311: public service requests (90 days by default, at most 1000)",
)
async def list_requests(request: Request) -> list[dict[str, Any]]:
    q = request.query_params
    runtime = _runtime(request)
    ids = [i for i in (q.get("service_request_id") or "").split(",") if i]
    if ids:
        async with runtime.db.session() as s:
            found = [await views.get_case(s, i) for i in ids[:MAX_RESULTS]]
        return [_request_view(c) for c in found if c and c["category"] in SERVICES]
    codes = [c for c in (q.get("service_code") or "").split(",") if c]
    unknown = [c for c in codes if c not in SERVICES]
    if unknown:
        raise Open311Error(400, f"service_code: unknown service {unknown[0]!r}")
    status = q.get("status")
    if status not in (None, "", "open", "closed"):
        raise Open311Error(400, "status: open or closed")
    end = _date(q.get("end_date"), "end_date") or runtime.now()
    start = _date(q.get("start_date"), "start_date") or end - DEFAULT_WINDOW
    async with runtime.db.session() as s:
        rows = await views.list_cases(
            s,
            public_categories=codes or PUBLIC_CATEGORIES,
            kinds=None if not status else (("open",) if status == "open" else ("fixed", "closed")),
            since=start,
            until=end,
            limit=MAX_RESULTS,
        )
    return [_request_view(c) for c in rows]


@router.get("/requests/{request_id}.json", response_model=list[Open311Request], summary="Open311: one service request")
async def get_request(request_id: str, request: Request) -> list[dict[str, Any]]:
    async with _runtime(request).db.session() as s:
        case = await views.get_case(s, request_id)
    if case is None or case["category"] not in SERVICES:
        raise NotFound(f"service request {request_id} not found")
    return [_request_view(case)]


@router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False, response_model=None)
async def unknown(rest: str) -> None:
    raise Open311Error(404, f"no Open311 resource {rest!r}; this endpoint speaks GeoReport v2 in JSON")
