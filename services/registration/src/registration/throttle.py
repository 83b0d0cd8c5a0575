"""Sign-in throttling: growing lock-outs per username and per client address.

Counts live in registration's database (`sign_in_throttle`), so every API
process of the service sees the same ones. A failure counts against the
client's address and against the username; once a count reaches its limit,
further attempts on that key are refused (429, `Retry-After`) for a lock-out
that doubles with each further failure, up to a cap. A success clears the
username's count; a count is forgotten a window after its last failure.

An attacker elsewhere must not lock the right user out: a successful sign-in
remembers the (username, address) pair for a while, and attempts from such a
known address count against that pair instead of the username. Guessing from
anywhere else still locks the username, for at most the cap at a time, while
its owner keeps signing in from where they did before.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Float, Integer, bindparam, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from registration.models import SignInThrottle

_T = SignInThrottle.__table__  # type: ignore[attr-defined]


class Throttled(Exception):
    """Refused before checking the password; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclasses.dataclass(frozen=True)
class Limits:
    max_failures: int = 5  # per username (or known pair)
    address_max_failures: int = 30  # per client address
    lockout: float = 30.0
    lockout_max: float = 900.0
    window: float = 3600.0
    known_for: float = 30 * 86400.0  # 0: addresses are never remembered


@dataclasses.dataclass(frozen=True)
class Attempt:
    """The keys one sign-in attempt counts under, with each key's limit."""

    username_key: str
    pair_key: str
    known_key: str
    counted: tuple[tuple[str, int], ...]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]


@functools.cache
def _ensure_statement(dialect: str) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(_T).on_conflict_do_nothing(index_elements=[_T.c.key])


def _failure_statement() -> Any:
    """Count one failure on a key in one statement, so concurrent processes never lose one."""
    c = _T.c
    now, limit = bindparam("now", type_=Float), bindparam("limit", type_=Integer)
    first, cap, window = (
        bindparam("first", type_=Float),
        bindparam("cap", type_=Float),
        bindparam("window", type_=Float),
    )
    stale = c.forget_at < now
    prior = case((stale, 0), else_=c.failures)
    prior_lockout = case((stale, 0.0), else_=c.lockout)
    hit = prior + 1 >= limit
    doubled = case((prior_lockout == 0, first), (prior_lockout * 2 > cap, cap), else_=prior_lockout * 2)
    lockout = case((hit, doubled), else_=prior_lockout)
    return (
        update(_T)
        .where(c.key == bindparam("k"))
        .values(
            failures=prior + 1,
            lockout=lockout,
            locked_until=case((hit, now + lockout), else_=c.locked_until),
            forget_at=now + window + case((hit, lockout), else_=0.0),
        )
    )


FAILURE = _failure_statement()
REMEMBER = update(_T).where(_T.c.key == bindparam("k")).values(forget_at=bindparam("until", type_=Float))


class Throttle:
    def __init__(self, limits: Limits, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.clock = clock

    async def check(self, session: AsyncSession, username: str, address: str) -> Attempt:
        """The keys this attempt counts under; raises `Throttled` while one of them is locked out."""
        pair = _digest(username, address)
        user_key, pair_key, known_key, addr_key = f"user:{username}", f"pair:{pair}", f"known:{pair}", f"addr:{address}"
        now = self.clock()
        query = select(_T.c.key, _T.c.locked_until, _T.c.forget_at).where(
            _T.c.key.in_([user_key, pair_key, known_key, addr_key])
        )
        rows = {r.key: r for r in (await session.execute(query)).all()}
        known = known_key in rows and rows[known_key].forget_at > now
        counted = (
            (addr_key, self.limits.address_max_failures),
            (pair_key if known else user_key, self.limits.max_failures),
        )
        until = max((rows[k].locked_until for k, _ in counted if k in rows), default=0.0)
        if until > now:
            raise Throttled(max(1, math.ceil(until - now)))
        return Attempt(username_key=user_key, pair_key=pair_key, known_key=known_key, counted=counted)

    async def failed(self, session: AsyncSession, attempt: Attempt) -> None:
        """Count a failure on each of the attempt's keys, locking those that reach their limit."""
        now, lim = self.clock(), self.limits
        ensure = _ensure_statement(session.get_bind().dialect.name)
        for key, limit in attempt.counted:
            await session.execute(
                ensure, {"key": key, "failures": 0, "lockout": 0.0, "locked_until": 0.0, "forget_at": 0.0}
            )
            await session.execute(
                FAILURE,
                {
                    "k": key,
                    "now": now,
                    "limit": limit,
                    "first": min(lim.lockout, lim.lockout_max),
                    "cap": lim.lockout_max,
                    "window": lim.window,
                },
            )

    async def succeeded(self, session: AsyncSession, attempt: Attempt) -> None:
        """Clear the username's count, remember the address for it, and forget what has expired."""
        now = self.clock()
        await session.execute(delete(_T).where(_T.c.key.in_([attempt.username_key, attempt.pair_key])))
        await session.execute(delete(_T).where(_T.c.forget_at < now))
        if self.limits.known_for > 0:
            row = {"key": attempt.known_key, "failures": 0, "lockout": 0.0, "locked_until": 0.0, "forget_at": 0.0}
            await session.execute(_ensure_statement(session.get_bind().dialect.name), row)
            await session.execute(REMEMBER, {"k": attempt.known_key, "until": now + self.limits.known_for})

    async def clear_username(self, session: AsyncSession, username: str) -> None:
        """A password reset by an admin ends the username's lock-out."""
        await session.execute(delete(_T).where(_T.c.key == f"user:{username}"))
