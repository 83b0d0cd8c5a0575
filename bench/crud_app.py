"""Plain-CRUD baseline for the benchmark: validate and insert one SQLModel row, nothing else."""

from __future__ import annotations

import os
import uuid
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from registration.domain.validators import InvalidValue, parse_id_number, parse_mobile
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession


class PlainResident(SQLModel, table=True):
    id: str = Field(primary_key=True)
    name: str
    id_number: str = Field(unique=True)
    mobile: str
    grid_code: str
    building: str
    unit: str
    hukou: str


class ResidentIn(BaseModel):
    name: str
    id_number: str
    mobile: str
    grid_code: str
    building: str
    unit: str
    hukou: str


engine = create_async_engine(f"sqlite+aiosqlite:///{os.environ.get('CRUD_DB', 'var/crud.db')}")
app = FastAPI()


@event.listens_for(engine.sync_engine, "connect")
def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    """The durability the services run with (WAL, no fsync per commit), so the comparison is fair."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@app.on_event("startup")
async def create_schema() -> None:
    try:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
    except OperationalError:  # another of the server's processes was creating it at the same moment
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)


@app.post("/residents", status_code=201)
async def create(body: ResidentIn) -> dict[str, str]:
    try:
        ident = parse_id_number(body.id_number)
        mobile = parse_mobile(body.mobile)
    except InvalidValue as exc:
        raise HTTPException(422, exc.detail) from exc
    rid = str(uuid.uuid4())
    row = PlainResident(id=rid, **{**body.model_dump(), "id_number": ident.value, "mobile": mobile})
    async with AsyncSession(engine) as session:
        session.add(row)
        await session.commit()
    return {"id": rid}
