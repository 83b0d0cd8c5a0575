"""`doorstep republish`: an operator asks a service's relay to publish its log again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from doorstep_shared.cli import main
from doorstep_shared.db import Database
from doorstep_shared.relay import republish_request
from registration.bootstrap import build_definition
from registration.settings import Settings
from sqlalchemy import select


def test_republish_records_a_request_the_relay_takes_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOORSTEP_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    main(["republish", "registration", "--from-position", "42"])
    assert "republishing from position 42 was requested" in capsys.readouterr().out

    settings = Settings()
    core = build_definition(settings).core

    async def requested() -> int | None:
        db = Database(settings.resolved_database_url)
        try:
            async with db.session() as s:
                table = core.relay_checkpoints
                query = select(table.c.position).where(table.c.name == republish_request("kafka"))
                return (await s.execute(query)).scalar()
        finally:
            await db.dispose()

    assert asyncio.run(requested()) == 42
