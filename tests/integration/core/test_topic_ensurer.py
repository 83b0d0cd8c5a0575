"""The topic ensurer makes event topics and their dead-letter topics, keeping every record for ever."""

from __future__ import annotations

from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from doorstep_shared.messaging import EVENT_TOPIC_CONFIGS, TopicEnsurer


async def _described(admin: AIOKafkaAdminClient, topic: str) -> dict[str, str]:
    responses: list[Any] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    configs: dict[str, str] = {}
    for response in responses:
        for resource in response.resources:
            error_code, _message, _type, name, entries = resource[:5]
            assert error_code == 0, resource
            if name == topic:
                configs.update({entry[0]: entry[1] for entry in entries})
    return configs


async def test_event_and_dead_letter_topics_are_created_with_unlimited_retention(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    topic = f"{topic_prefix}registration.residents"
    ensurer = TopicEnsurer(kafka_bootstrap, partitions=2, replication=1)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        await ensurer.ensure({topic})
        await ensurer.ensure({topic})  # again: existing topics are no error
        assert ensurer.configs == EVENT_TOPIC_CONFIGS  # the broker took them
        described = await admin.describe_topics([topic, f"{topic}.dlq"])
        partitions = {d["topic"]: len(d["partitions"]) for d in described if d["error_code"] == 0}
        assert partitions == {topic: 2, f"{topic}.dlq": 2}, described
        for name in (topic, f"{topic}.dlq"):
            configs = await _described(admin, name)
            assert configs.get("retention.ms") == "-1", configs
            assert configs.get("retention.bytes") == "-1", configs
    finally:
        await ensurer.close()
        await admin.close()


async def test_a_dead_letter_topic_gets_no_dead_letter_topic_of_its_own(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    dlq = f"{topic_prefix}jobs.postings.dlq"
    ensurer = TopicEnsurer(kafka_bootstrap, partitions=1, replication=1)
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        await ensurer.ensure({dlq})
        assert not [t for t in await admin.list_topics() if t.startswith(topic_prefix) and t.endswith(".dlq.dlq")]
    finally:
        await ensurer.close()
        await admin.close()
