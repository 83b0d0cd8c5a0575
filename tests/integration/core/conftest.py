"""The toy service's database, on each backend in turn, for the platform core's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from doorstep_shared.db import Database

from tests.toy import metadata


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()
