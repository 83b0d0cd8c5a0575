"""The topic ensurer against a broker that refuses topic configs (some Kafka-compatible brokers do)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from doorstep_shared.messaging import TopicEnsurer


class RefusingAdmin:
    """Answers INVALID_CONFIG (40) to any topic created with configs."""

    def __init__(self) -> None:
        self.requests: list[list[Any]] = []

    async def create_topics(self, new_topics: list[Any]) -> Any:
        self.requests.append(new_topics)
        errors = [(t.name, 40 if t.topic_configs else 0, "refused") for t in new_topics]
        return SimpleNamespace(topic_errors=errors)


async def test_a_broker_that_refuses_the_configs_gets_the_topics_without_them() -> None:
    ensurer = TopicEnsurer("unused:9092", 3, 1)
    admin = RefusingAdmin()
    ensurer._admin = admin  # type: ignore[assignment]
    await ensurer.ensure({"jobs.postings"})
    first, retry = admin.requests
    assert [t.name for t in first] == ["jobs.postings", "jobs.postings.dlq"]
    assert all(t.topic_configs == {"retention.ms": "-1", "retention.bytes": "-1"} for t in first)
    assert [(t.name, t.topic_configs) for t in retry] == [("jobs.postings", {}), ("jobs.postings.dlq", {})]
    await ensurer.ensure({"jobs.postings"})  # later batches ask once, without the configs
    assert len(admin.requests) == 3 and admin.requests[2][0].topic_configs == {}


async def test_other_errors_still_fail() -> None:
    class Broken(RefusingAdmin):
        async def create_topics(self, new_topics: list[Any]) -> Any:
            return SimpleNamespace(topic_errors=[(t.name, 38, "replication factor too large") for t in new_topics])

    ensurer = TopicEnsurer("unused:9092", 3, 3)
    ensurer._admin = Broken()  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="cannot create topic"):
        await ensurer.ensure({"jobs.postings"})
