"""Feeding the jobs service other services' events over the real broker, and reading its own."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from doorstep_contracts import topic_of
from doorstep_shared.auth import hash_api_key
from doorstep_shared.messaging import TopicEnsurer

from tests.events import event_of, publish

ALL_TOPICS = [
    "registration.residents",
    "registration.partners",
    "grid_reports.visits",
    *(
        f"jobs.{a}"
        for a in (
            "postings",
            "applications",
            "fairs",
            "piecework",
            "courses",
            "enrolments",
            "leads",
        )
    ),
]


async def create_topics(bootstrap: str, prefix: str) -> None:
    ensurer = TopicEnsurer(bootstrap, 1, 1)
    try:
        await ensurer.ensure({f"{prefix}{t}" for t in ALL_TOPICS})
    finally:
        await ensurer.close()


class Upstream:
    """Publishes events as registration or grid reports would, with per-stream sequences."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        self.prefix = prefix
        self.sequences: dict[str, int] = {}

    async def __aenter__(self) -> Upstream:
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.stop()

    async def send(
        self,
        service: str,
        aggregate: str,
        key: str,
        event_type: str,
        data: dict[str, Any],
        *,
        sequence: int | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        """Publish one event (of the producer's contract); pass `sequence`/`event_id` again to redeliver it."""
        if sequence is None:
            sequence = self.sequences.get(key, 0) + 1
            self.sequences[key] = sequence
        event = event_of(service, event_type, data)
        assert topic_of(type(event)) == f"{service}.{aggregate}", (event_type, aggregate)
        event_id = await publish(
            self.producer, self.prefix, service, event, subject=key, version=sequence, event_id=event_id
        )
        return {"sequence": sequence, "event_id": event_id}

    async def partner(self, partner_id: str, name: str, kind: str, area: str) -> str:
        key = f"dsk_{partner_id.replace('-', '')}_secret"
        await self.send(
            "registration",
            "partners",
            partner_id,
            "PartnerRegistered",
            {
                "partner_id": partner_id,
                "name": name,
                "kind": kind,
                "credit_code": "X" * 18,
                "area_code": area,
            },
        )
        await self.send(
            "registration",
            "partners",
            partner_id,
            "PartnerApproved",
            {"partner_id": partner_id, "api_key_hash": hash_api_key(key)},
        )
        return key

    async def resident(self, resident_id: str, grid: str, **overrides: Any) -> None:
        data: dict[str, Any] = {
            "resident_id": resident_id,
            "community_code": grid[:12],
            "grid_code": grid,
            "building": "1",
            "unit": "101",
            "household_id": None,
            "hukou": "non_local",
            "sex": "female",
            "birth_year": 1988,
            "tags": ["stay_at_home_parent"],
            "skills": ["cleaning"],
            "availability": [
                {
                    "days": ["mon", "tue", "wed", "thu", "fri"],
                    "start": "08:30",
                    "end": "16:30",
                    "place": "any",
                }
            ],
            "job_preferences": {"types": ["part_time"], "min_pay_fen": 2000, "pay_unit": "hour"},
            "employment_status": "unemployed",
            "consent": {"employment_matching": True, "share_with_partners": True},
            "pii": {"name_enc": "x", "id_number_enc": "x", "mobile_enc": "x"},
            "id_hash": uuid.uuid4().hex,
        }
        data.update(overrides)
        await self.send("registration", "residents", resident_id, "ResidentRegistered", data)


async def read_events(
    bootstrap: str, topic: str, event_type: str, expected: int = 1, timeout: float = 15.0
) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """Headers and data of every `event_type` event on `topic`, once `expected` have arrived."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    found: list[tuple[dict[str, str], dict[str, Any]]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found) < expected and loop.time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for r in records:
                    headers = {k: v.decode() for k, v in r.headers}
                    if headers["ce_type"].endswith(f".{event_type}"):
                        found.append((headers, json.loads(r.value)))
    finally:
        await consumer.stop()
    return found
