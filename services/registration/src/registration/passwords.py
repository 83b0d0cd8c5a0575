"""Password hashing for staff sign-in: Argon2id (pwdlib), run on a small thread pool.

Argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane) costs
~25 ms of CPU a hash by design. Run on the event loop, 30 logins at once held
every other request of the process for seconds; the pool keeps the loop free
(argon2 releases the GIL) and bounds how many hashes run at once.
Hashes of the earlier scrypt format still verify, and are replaced by an
Argon2id hash on the next successful sign-in. An unknown username is checked
against a dummy hash, so the answer takes as long as for a real one and its
timing does not tell whether the account exists.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.base import ensure_str


class LegacyScryptHasher:
    """Verifies `scrypt$n$r$p$salt$digest` hashes written before Argon2id; never hashes anew."""

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:
        return ensure_str(hash).startswith("scrypt$")

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        raise NotImplementedError("scrypt hashes are only verified; new hashes are Argon2id")

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        secret = password.encode() if isinstance(password, str) else password
        try:
            _, n, r, p, salt, digest = ensure_str(hash).split("$")
            candidate = hashlib.scrypt(secret, salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
            return hmac.compare_digest(candidate, base64.b64decode(digest))
        except (ValueError, TypeError):
            return False

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        return True


class Passwords:
    """Hashes and verifies passwords off the event loop, `threads` at a time."""

    def __init__(self, threads: int = 2) -> None:
        argon2id = Argon2Hasher(time_cost=2, memory_cost=19456, parallelism=1)
        self._hash = PasswordHash((argon2id, LegacyScryptHasher()))
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="passwords")
        self._slots = asyncio.Semaphore(threads)
        self._dummy = self._hash.hash(secrets.token_urlsafe(16))

    def slot(self) -> asyncio.Semaphore:
        """Held by a sign-in from its throttle check until its failure or success is counted."""
        return self._slots

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._hash.hash, password)

    async def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """(matches, the hash to store instead or None); no stored hash: the dummy's work, False."""
        loop = asyncio.get_running_loop()
        if stored is None:
            await loop.run_in_executor(self._pool, self._hash.verify, password, self._dummy)
            return False, None
        return await loop.run_in_executor(self._pool, self._verify_and_update, password, stored)

    def _verify_and_update(self, password: str, stored: str) -> tuple[bool, str | None]:
        try:
            return self._hash.verify_and_update(password, stored)
        except Exception:  # an unreadable stored hash matches nothing
            return False, None

    def close(self) -> None:
        self._pool.shutdown(wait=False)
