"""Signing in (OAuth2 password flow) and asking who a token belongs to."""

from __future__ import annotations

from typing import Annotated

from doorstep_shared.auth import CurrentPrincipal
from doorstep_shared.inputs import Command as BoundedInput
from doorstep_shared.runtime import RuntimeDep
from fastapi import APIRouter, Form
from pydantic import Field

from registration.credentials import sign_in
from registration.deps import Deps
from registration.schemas import Me, Token

auth_router = APIRouter(prefix="/auth", tags=["auth"])


class LoginForm(BoundedInput):
    """OAuth2 password grant (form-encoded), with the bounds of the stored credentials."""

    grant_type: str | None = Field(default=None, pattern="^password$")
    username: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)
    scope: str = Field(default="", max_length=200)
    client_id: str | None = Field(default=None, max_length=100)
    client_secret: str | None = Field(default=None, max_length=200)


@auth_router.post("/token", response_model=Token, summary="Log in (OAuth2 password flow)")
async def login(form: Annotated[LoginForm, Form()], runtime: RuntimeDep, deps: Deps) -> Token:
    async with runtime.db.session() as s:
        principal = await sign_in(s, form.username, form.password)
    return Token(access_token=deps.issuer.issue(principal))


@auth_router.get("/me", response_model=Me, summary="Who the token belongs to")
async def me(principal: CurrentPrincipal) -> Me:
    return Me(
        subject=principal.subject,
        role=principal.role,
        areas=list(principal.areas),
        name=principal.name,
        partner_id=principal.partner_id,
    )
