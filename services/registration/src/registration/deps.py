"""What registration's handlers and queries are given besides their input.

Registration alone holds the two secrets of the platform: the master key that
wraps each resident's data key (and the key that hashes ID numbers), and the
private key that signs every service's tokens. They are read once, when the
service starts (after its migrations), so a missing or malformed key stops the
start instead of the first request.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Annotated

from doorstep_shared.auth import TokenIssuer
from doorstep_shared.crypto import master_key_from_b64
from doorstep_shared.runtime import Runtime, service_deps
from fastapi import Depends

from registration.passwords import Passwords
from registration.security import PiiVault
from registration.settings import Settings
from registration.throttle import Limits, Throttle


@dataclasses.dataclass(frozen=True)
class RegistrationDeps:
    vault: PiiVault  # seals and opens residents' personal fields
    issuer: TokenIssuer  # signs staff tokens at sign-in
    passwords: Passwords  # hashes on a thread pool, off the event loop
    throttle: Throttle  # counts failed sign-ins in the database


def build_deps(runtime: Runtime) -> RegistrationDeps:
    settings = runtime.settings
    if not isinstance(settings, Settings):
        raise TypeError("registration runs with registration.settings.Settings")
    master = master_key_from_b64(settings.secret("data_master_key", settings.data_master_key))
    hash_key = master_key_from_b64(settings.secret("id_hash_key", settings.id_hash_key))
    return RegistrationDeps(
        vault=PiiVault(master, hash_key),
        issuer=TokenIssuer(
            settings.private_key_path().read_bytes(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl=timedelta(minutes=settings.token_ttl_minutes),
        ),
        passwords=Passwords(settings.password_hash_threads),
        throttle=Throttle(
            Limits(
                max_failures=settings.sign_in_max_failures,
                address_max_failures=settings.sign_in_address_max_failures,
                lockout=settings.sign_in_lockout_seconds,
                lockout_max=settings.sign_in_lockout_max_seconds,
                window=settings.sign_in_failure_window_seconds,
                known_for=settings.sign_in_known_address_days * 86400,
            )
        ),
    )


Deps = Annotated[RegistrationDeps, Depends(service_deps)]
