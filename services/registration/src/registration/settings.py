"""Registration settings: it alone holds the signing key and the data master key."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Self

from doorstep_shared.settings import ServiceSettings, refuse_placeholder
from pydantic import Field, model_validator


class Settings(ServiceSettings):
    service_name: str = "registration"
    port: int = Field(8001, alias="REGISTRATION_PORT")
    jwt_private_key_file: Path | None = Field(None, alias="JWT_PRIVATE_KEY_FILE")
    admin_password: str | None = Field(None, alias="DOORSTEP_ADMIN_PASSWORD")
    data_master_key: str | None = Field(None, alias="DATA_MASTER_KEY")
    id_hash_key: str | None = Field(None, alias="ID_HASH_KEY")
    token_ttl_minutes: int = Field(480, alias="TOKEN_TTL_MINUTES")
    # sign-in throttling (see README "Signing in"): failures before a lock-out, per
    # username and per client address; the first lock-out, doubled by each further
    # failure up to the cap; how long after the last failure a count is forgotten
    sign_in_max_failures: int = Field(5, alias="SIGN_IN_MAX_FAILURES", ge=1)
    sign_in_address_max_failures: int = Field(30, alias="SIGN_IN_ADDRESS_MAX_FAILURES", ge=1)
    sign_in_lockout_seconds: float = Field(30.0, alias="SIGN_IN_LOCKOUT_SECONDS", gt=0)
    sign_in_lockout_max_seconds: float = Field(900.0, alias="SIGN_IN_LOCKOUT_MAX_SECONDS", gt=0)
    sign_in_failure_window_seconds: float = Field(3600.0, alias="SIGN_IN_FAILURE_WINDOW_SECONDS", gt=0)
    sign_in_known_address_days: float = Field(30.0, alias="SIGN_IN_KNOWN_ADDRESS_DAYS", ge=0)
    password_hash_threads: int = Field(2, alias="PASSWORD_HASH_THREADS", ge=1)

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Self:
        if self.is_production:
            refuse_placeholder("DOORSTEP_ADMIN_PASSWORD", self.admin_password)
            refuse_placeholder("DATA_MASTER_KEY", self.data_master_key, min_length=40)
            refuse_placeholder("ID_HASH_KEY", self.id_hash_key, min_length=16)
            if self.jwt_private_key_file is None:
                raise ValueError("JWT_PRIVATE_KEY_FILE must be set in production")
        return self

    def private_key_path(self) -> Path:
        return self.jwt_private_key_file or self.var_dir / "keys" / "jwt_private.pem"

    def secret(self, name: str, configured: str | None, nbytes: int = 32) -> str:
        """A configured secret, or (embedded mode) one generated once and kept under var/."""
        if configured:
            return configured
        path = self.var_dir / "secrets" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(base64.b64encode(secrets.token_bytes(nbytes)).decode())
        return path.read_text().strip()
