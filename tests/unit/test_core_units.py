"""Core pieces without I/O: settings, auth scope, tokens, problems, CloudEvents mapping."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from doorstep_shared.auth import (
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    Unauthorized,
    generate_keypair,
    hash_api_key,
    new_api_key,
)
from doorstep_shared.domain import Forbidden, as_utc
from doorstep_shared.eventstore import StoredEvent
from doorstep_shared.messaging import Envelope, event_headers
from doorstep_shared.settings import ServiceSettings, to_async_url
from pydantic import ValidationError
from registration.settings import Settings as RegistrationSettings


def test_scope_is_a_prefix_of_the_area_code() -> None:
    gw = Principal("gw", Role.GRID_WORKER, ("330102001001001",))
    assert gw.can_act_in("330102001001001")
    assert not gw.can_act_in("330102001001002")
    street = Principal("sa", Role.STREET_ADMIN, ("330102001",))
    assert street.can_act_in("330102001001001") and not street.can_act_in("330102002001")
    with pytest.raises(Forbidden) as exc:
        gw.require_area("330102001002", field="grid_code")
    assert exc.value.field == "grid_code"


def test_tokens_round_trip_and_reject_tampering(tmp_path: Path) -> None:
    private, public = generate_keypair(tmp_path)
    issuer = TokenIssuer(private.read_bytes(), issuer="i", audience="a", ttl=timedelta(minutes=5))
    verifier = TokenVerifier(public.read_bytes(), issuer="i", audience="a")
    p = Principal("s1", Role.COMMUNITY_STAFF, ("330102001001",), name="li")
    token = issuer.issue(p)
    assert verifier.verify(token) == p
    with pytest.raises(Unauthorized):
        verifier.verify(token[:-4] + "AAAA")
    other_private, _ = generate_keypair(tmp_path / "other")
    forged = TokenIssuer(other_private.read_bytes(), issuer="i", audience="a", ttl=timedelta(minutes=5)).issue(p)
    with pytest.raises(Unauthorized):
        verifier.verify(forged)
    expired = TokenIssuer(private.read_bytes(), issuer="i", audience="a", ttl=timedelta(minutes=-1)).issue(p)
    with pytest.raises(Unauthorized):
        verifier.verify(expired)


def test_api_keys_are_stored_as_hashes() -> None:
    key = new_api_key("0b7e-11")
    assert key.startswith("dsk_0b7e11_") and hash_api_key(key) != key and len(hash_api_key(key)) == 64


def test_database_urls_are_made_async() -> None:
    assert to_async_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert to_async_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert to_async_url("sqlite:///var/x.db") == "sqlite+aiosqlite:///var/x.db"


def test_production_refuses_sqlite_and_placeholder_secrets(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        ServiceSettings(DOORSTEP_ENVIRONMENT="production")
    base = {
        "DOORSTEP_ENVIRONMENT": "production",
        "DATABASE_URL": "postgresql://u@h/db",
        "JWT_PUBLIC_KEY_FILE": str(tmp_path / "pub.pem"),
        "JWT_PRIVATE_KEY_FILE": str(tmp_path / "priv.pem"),
        "DATA_MASTER_KEY": "A" * 44,
        "ID_HASH_KEY": "B" * 44,
    }
    with pytest.raises(ValidationError, match="DOORSTEP_ADMIN_PASSWORD"):
        RegistrationSettings(**base, DOORSTEP_ADMIN_PASSWORD="changeme")
    with pytest.raises(ValidationError, match="DATA_MASTER_KEY"):
        RegistrationSettings(**{**base, "DATA_MASTER_KEY": "changeme"}, DOORSTEP_ADMIN_PASSWORD="a real long secret")
    ok = RegistrationSettings(**base, DOORSTEP_ADMIN_PASSWORD="a real long secret")
    assert ok.is_production


def test_cloudevents_headers_map_back_to_an_envelope() -> None:
    stored = StoredEvent(
        position=42,
        event_id="e-1",
        stream_id="r-1",
        stream_type="residents",
        version=3,
        event_type="ResidentTagsUpdated",
        schema_version=1,
        data={"resident_id": "r-1", "tags": []},
        meta={"correlation_id": "c-1", "causation_id": "x-9"},
        recorded_at=datetime(2026, 11, 20, tzinfo=UTC),
    )
    headers = event_headers("registration", stored)
    record = SimpleNamespace(
        headers=[(k, v.encode()) for k, v in headers.items()],
        value=b'{"resident_id":"r-1","tags":[]}',
        topic="registration.residents",
        partition=0,
        offset=7,
    )
    env = Envelope.from_record(record)
    assert (env.event_type, env.service, env.subject, env.sequence, env.position) == (
        "ResidentTagsUpdated",
        "registration",
        "r-1",
        3,
        42,
    )
    assert (env.correlation_id, env.causation_id, env.stream_key) == ("c-1", "x-9", "registration:r-1")
    with pytest.raises(ValueError, match="not a Doorstep event"):
        Envelope.from_record(SimpleNamespace(headers=[("ce_type", b"other.thing")], value=b"{}"))


def test_a_remembered_token_still_expires(tmp_path: Path) -> None:
    private, public = generate_keypair(tmp_path)
    issuer = TokenIssuer(private.read_bytes(), issuer="i", audience="a", ttl=timedelta(seconds=1))
    verifier = TokenVerifier(public.read_bytes(), issuer="i", audience="a")
    p = Principal("s1", Role.GRID_WORKER, ("330102001001001",))
    token = issuer.issue(p)
    assert verifier.verify(token) == p
    assert verifier.verify(token) == p  # answered from the cache
    time.sleep(2.1)  # exp has whole-second resolution
    with pytest.raises(Unauthorized):
        verifier.verify(token)


def test_as_utc_reads_naive_values_as_utc_and_converts_others() -> None:
    from datetime import timezone

    naive = datetime(2026, 3, 1, 8, 30)
    assert as_utc(naive) == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    beijing = datetime(2026, 3, 1, 16, 30, tzinfo=timezone(timedelta(hours=8)))
    converted = as_utc(beijing)
    assert converted == datetime(2026, 3, 1, 8, 30, tzinfo=UTC) and converted.tzinfo is UTC
