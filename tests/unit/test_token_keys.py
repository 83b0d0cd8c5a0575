"""Tokens name their signing key (`kid`); verifiers hold current and next keys, so a new
signing key is rolled out without downtime."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from doorstep_shared.auth import Principal, Role, TokenIssuer, TokenVerifier, Unauthorized, generate_keypair, key_id
from doorstep_shared.domain import utcnow


def _issuer(private: Path) -> TokenIssuer:
    return TokenIssuer(private.read_bytes(), issuer="i", audience="a", ttl=timedelta(minutes=5))


def _verifier(*publics: Path) -> TokenVerifier:
    return TokenVerifier(b"".join(p.read_bytes() for p in publics), issuer="i", audience="a")


PRINCIPAL = Principal(subject="s-1", role=Role.GRID_WORKER, areas=("3301",))


def test_a_verifier_with_current_and_next_keys_accepts_both_by_kid(tmp_path: Path) -> None:
    current_priv, current_pub = generate_keypair(tmp_path / "current")
    next_priv, next_pub = generate_keypair(tmp_path / "next")
    old, new = _issuer(current_priv), _issuer(next_priv)
    token = new.issue(PRINCIPAL)
    assert jwt.get_unverified_header(token)["kid"] == new.kid != old.kid
    both = _verifier(current_pub, next_pub)
    assert both.verify(old.issue(PRINCIPAL)) == PRINCIPAL
    assert both.verify(token) == PRINCIPAL
    with pytest.raises(Unauthorized, match="unknown key id"):
        _verifier(current_pub).verify(token)


def test_a_token_without_kid_is_tried_against_each_key(tmp_path: Path) -> None:
    a_priv, a_pub = generate_keypair(tmp_path / "a")
    _, b_pub = generate_keypair(tmp_path / "b")
    claims = {"sub": "s-1", "role": "grid_worker", "areas": ["3301"], "iss": "i", "aud": "a"}
    token = jwt.encode({**claims, "exp": utcnow() + timedelta(minutes=1)}, a_priv.read_bytes(), algorithm="RS256")
    assert "kid" not in jwt.get_unverified_header(token)
    assert _verifier(b_pub, a_pub).verify(token).subject == "s-1"
    with pytest.raises(Unauthorized):
        _verifier(b_pub).verify(token)
    assert len(key_id(_issuer(a_priv)._key.public_key())) == 16
