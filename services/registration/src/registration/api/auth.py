"""Signing in (OAuth2 password flow) and asking who a token belongs to."""

from __future__ import annotations

from typing import Annotated

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.commands import CommandAccepted, Dispatch
from doorstep_shared.inputs import Command as BoundedInput
from doorstep_shared.runtime import RuntimeDep
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from registration.commands import ChangeOwnPassword
from registration.credentials import sign_in
from registration.deps import Deps
from registration.schemas import Me, Token
from registration.throttle import Throttled

auth_router = APIRouter(prefix="/auth", tags=["auth"])


class LoginForm(BoundedInput):
    """OAuth2 password grant (form-encoded), with the bounds of the stored credentials."""

    grant_type: str | None = Field(default=None, pattern="^password$")
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)
    scope: str = Field(default="", max_length=200)
    client_id: str | None = Field(default=None, max_length=100)
    client_secret: str | None = Field(default=None, max_length=200)


@auth_router.post(
    "/token",
    response_model=Token,
    summary="Log in (OAuth2 password flow)",
    responses={429: {"description": "Too many failed sign-ins for this username or address; see Retry-After"}},
)
async def login(form: Annotated[LoginForm, Form()], request: Request, runtime: RuntimeDep, deps: Deps) -> Token:
    address = request.client.host if request.client else "unknown"
    try:
        principal = await sign_in(runtime.db, deps.passwords, deps.throttle, form.username, form.password, address)
    except Throttled as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
    return Token(access_token=deps.issuer.issue(principal))


@auth_router.post("/password", response_model=CommandAccepted, summary="Change one's own password")
async def change_password(body: ChangeOwnPassword, dispatch: Dispatch) -> JSONResponse:
    return await dispatch(body, status_code=200)


@auth_router.get("/me", response_model=Me, summary="Who the token belongs to")
async def me(principal: CurrentPrincipal) -> Me:
    return Me(
        subject=principal.subject,
        role=principal.role,
        areas=list(principal.areas),
        name=principal.name,
        partner_id=principal.partner_id,
    )
