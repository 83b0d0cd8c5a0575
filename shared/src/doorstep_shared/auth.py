"""Who is calling, and where they may act.

Registration signs RS256 JWTs, naming the key in `kid`; every service verifies
them with public keys only (several at once while a new key is rolled out).
A principal's scope is a list of area codes: each level's code is its parent's
plus one fixed-length segment (`doorstep_shared.areas`), so "inside my subtree"
is a comparison of whole segments that needs no lookup in another service.
Partners call with an API key instead; each service resolves keys from its own
projection of registration's partner events.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from doorstep_shared.areas import within
from doorstep_shared.domain import DomainError, Forbidden, utcnow


class Unauthorized(DomainError):
    status = 401
    title = "Unauthorized"


class Role(StrEnum):
    CITY_ADMIN = "city_admin"
    DISTRICT_ADMIN = "district_admin"
    STREET_ADMIN = "street_admin"
    COMMUNITY_STAFF = "community_staff"
    GRID_WORKER = "grid_worker"
    TEAM_LEADER = "team_leader"
    PARTNER = "partner"
    RESIDENT = "resident"


ADMIN_ROLES = frozenset({Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.STREET_ADMIN})
STAFF_ROLES = ADMIN_ROLES | {Role.COMMUNITY_STAFF, Role.GRID_WORKER}


@dataclasses.dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    areas: tuple[str, ...] = ()
    name: str = ""
    partner_id: str | None = None
    partner_kind: str | None = None
    resident_id: str | None = None

    def can_act_in(self, area_code: str | None) -> bool:
        if area_code is None:
            return False
        return any(within(area_code, scope) for scope in self.areas)

    def require_area(self, area_code: str | None, field: str = "area_code") -> None:
        if not self.can_act_in(area_code):
            raise Forbidden(f"{self.role} {self.subject} may not act in area {area_code}", field=field)

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles:
            allowed = ", ".join(sorted(roles))
            raise Forbidden(f"this action needs one of the roles: {allowed}")

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


# keys and tokens ------------------------------------------------------------------


def generate_keypair(directory: Path) -> tuple[Path, Path]:
    """Create an RS256 key pair in `directory` unless one is there already."""
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / "jwt_private.pem", directory / "jwt_public.pem"
    if private.exists() and public.exists():
        return private, public
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def key_id(public_key: rsa.RSAPublicKey) -> str:
    """A token's `kid`: the first 16 hex digits of the SHA-256 of the public key (DER)."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def load_public_keys(pem: bytes) -> dict[str, rsa.RSAPublicKey]:
    """Every RSA public key in a PEM file (current and next, one block each), by key id."""
    keys: dict[str, rsa.RSAPublicKey] = {}
    end = b"-----END PUBLIC KEY-----"
    for block in pem.split(end):
        if b"-----BEGIN" not in block:
            continue
        key = serialization.load_pem_public_key(block + end)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("a JWT public key must be an RSA key")
        keys[key_id(key)] = key
    if not keys:
        raise ValueError("no JWT public key found")
    return keys


class TokenIssuer:
    def __init__(
        self, private_key_pem: bytes | rsa.RSAPrivateKey, *, issuer: str, audience: str, ttl: timedelta
    ) -> None:
        key = (
            serialization.load_pem_private_key(private_key_pem, password=None)  # parsed once
            if isinstance(private_key_pem, bytes)
            else private_key_pem
        )
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the JWT signing key must be an RSA key")
        self._key = key
        self.kid = key_id(key.public_key())
        self.issuer, self.audience, self.ttl = issuer, audience, ttl

    def issue(self, principal: Principal) -> str:
        now = utcnow()
        claims: dict[str, Any] = {
            "sub": principal.subject,
            "role": str(principal.role),
            "areas": list(principal.areas),
            "name": principal.name,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + self.ttl,
            "jti": secrets.token_hex(8),
        }
        if principal.partner_id:
            claims["partner_id"] = principal.partner_id
        if principal.resident_id:
            claims["resident_id"] = principal.resident_id
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})


class TokenVerifier:
    """Checks RS256 tokens with public keys only, chosen by the token's `kid`.

    It holds several keys (the current signing key's and the next one's), so a
    new signing key is rolled out without downtime: every service learns the
    next public key first, then registration signs with it. A token without a
    `kid` (signed before key ids) is tried against each key.

    A client sends the same token with every request until it expires, so a
    verified token is remembered (bounded, until its `exp`) instead of paying the
    signature check and claim parsing on each call.
    """

    def __init__(self, public_key_pem: bytes, *, issuer: str, audience: str, cache_size: int = 4096) -> None:
        self._keys = load_public_keys(public_key_pem)  # parsed once, not per request
        self.issuer, self.audience = issuer, audience
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._cache_size = cache_size

    def verify(self, token: str) -> Principal:
        hit = self._cache.get(token)
        if hit is not None and hit[0] > time.time():
            self._cache.move_to_end(token)
            return hit[1]
        try:
            claims = self._decode(token)
            principal = Principal(
                subject=claims["sub"],
                role=Role(claims["role"]),
                areas=tuple(claims.get("areas", ())),
                name=claims.get("name", ""),
                partner_id=claims.get("partner_id"),
                resident_id=claims.get("resident_id"),
            )
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            self._cache.pop(token, None)
            raise Unauthorized(f"invalid token: {exc}") from exc
        self._cache[token] = (float(claims["exp"]), principal)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    def _decode(self, token: str) -> dict[str, Any]:
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is not None and kid not in self._keys:
            raise jwt.InvalidKeyError(f"unknown key id {kid}")
        candidates = [self._keys[kid]] if kid is not None else list(self._keys.values())
        for i, key in enumerate(candidates):
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],
                    audience=self.audience,
                    issuer=self.issuer,
                    options={"require": ["exp", "sub"]},
                )
            except jwt.InvalidSignatureError:
                if i == len(candidates) - 1:
                    raise
        raise jwt.InvalidKeyError("no key to check the token with")


# partner API keys -------------------------------------------------------------------

API_KEY_PREFIX = "dsk"


def new_api_key(partner_id: str) -> str:
    return f"{API_KEY_PREFIX}_{partner_id.replace('-', '')}_{secrets.token_urlsafe(24)}"


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


ApiKeyResolver = Callable[[str], Awaitable[Principal | None]]

# FastAPI dependencies ---------------------------------------------------------------

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


async def current_principal(
    request: Request,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    if token:
        verifier: TokenVerifier = request.app.state.runtime.verifier
        return verifier.verify(token)
    if api_key:
        resolver: ApiKeyResolver | None = request.app.state.runtime.api_key_resolver
        principal = await resolver(hash_api_key(api_key)) if resolver else None
        if principal is None:
            raise Unauthorized("unknown or suspended API key")
        return principal
    raise Unauthorized("credentials required: a bearer token or an X-API-Key header")


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
