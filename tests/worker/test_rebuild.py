"""The postings side of the epoch, against a real Redis and a real broker: an epoch begun for a new
store, partitions started where the epoch applied them, a wiped store noticed and replayed from the
beginning, progress counting only the replay, and the epoch marked ready once every partition is done."""

import time
import uuid
from datetime import UTC, datetime

import redis
from confluent_kafka import OFFSET_BEGINNING, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from compressor.epoch import Applied, EpochStore
from tests.conftest import DevServices
from worker.kafka import Source, make_offsets_reader
from worker.rebuild import EPOCH_CHECK_S, Rebuilder
from worker.settings import Settings
from worker.table import TableView

SENT = datetime(2026, 1, 1, tzinfo=UTC)


def postings_topic(services: DevServices, messages: int) -> str:
    """A topic of two partitions, `messages` in partition 0 (each in a batch of its own: Tansu reads
    a high watermark one past the first offset of the last batch) and none in partition 1."""
    topic = f"postings-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": services.bootstrap})
    for future in admin.create_topics([NewTopic(topic, 2, 1)]).values():
        future.result(10)
    producer = Producer({"bootstrap.servers": services.bootstrap, "batch.num.messages": 1, "linger.ms": 0})
    for i in range(messages):
        producer.produce(topic, b"{}", f"j{i}".encode(), partition=0)
    assert producer.flush(10) == 0
    return topic


def rebuilder(services: DevServices, client: redis.Redis, topic: str) -> Rebuilder:
    settings = Settings(kafka_bootstrap_servers=services.bootstrap, topic_postings=topic)
    epochs = EpochStore(client, "ns")
    return Rebuilder(epochs, TableView(epochs, make_offsets_reader(settings), topic), topic)


def assigned_from_scratch(services: DevServices, client: redis.Redis) -> tuple[Rebuilder, list[TopicPartition]]:
    """A rebuilder on a new topic of three postings, given both partitions on a store with no epoch."""
    topic = postings_topic(services, 3)
    worker = rebuilder(services, client, topic)
    assigned = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    worker.start_positions(assigned)
    return worker, assigned


def consumed(topic: str, offsets: range) -> list[Source]:
    return [Source(topic, 0, o, None, b"{}", time.monotonic(), SENT) for o in offsets]


def test_a_new_store_is_built_from_the_beginning_and_marked_ready_once_complete(
    dev_services: DevServices, redis_client: redis.Redis
) -> None:
    first, assigned = assigned_from_scratch(dev_services, redis_client)
    topic = first.topic
    assert [tp.offset for tp in assigned] == [OFFSET_BEGINNING] * 2
    epochs = EpochStore(redis_client, "ns")
    assert not epochs.read().ready and epochs.read().epoch.id == first.epoch
    first.applied(consumed(topic, range(2)))
    assert first.due(assigned) == [] and not epochs.read().ready, "offset 2 of partition 0 is not applied"
    first.applied(consumed(topic, range(2, 3)))
    time.sleep(EPOCH_CHECK_S)
    assert first.due(assigned) == []
    assert epochs.read().ready and epochs.read().applied == {0: Applied(2, int(SENT.timestamp() * 1e3))}

    restarted = rebuilder(dev_services, redis_client, topic)
    again = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
    restarted.start_positions(again)
    assert [tp.offset for tp in again] == [3, OFFSET_BEGINNING], "after what the epoch applied"
    assert restarted.epoch == first.epoch


def test_a_wiped_store_is_replayed_and_a_batch_read_before_the_seek_does_not_count(
    dev_services: DevServices, redis_client: redis.Redis
) -> None:
    worker, assigned = assigned_from_scratch(dev_services, redis_client)
    topic = worker.topic
    before_wipe = consumed(topic, range(3))
    worker.applied(before_wipe[:1])
    old = worker.epoch
    redis_client.flushall()
    time.sleep(EPOCH_CHECK_S)
    due = worker.due(assigned)
    assert worker.epoch != old
    assert [(tp.partition, tp.offset) for tp in due] == [(0, OFFSET_BEGINNING), (1, OFFSET_BEGINNING)]
    worker.applied(before_wipe[1:])  # a batch consumed before the wipe, finishing after it
    assert EpochStore(redis_client, "ns").read().applied == {}, "not the replay's progress"
    for tp in due:
        worker.positioned(tp.partition)
    worker.applied(consumed(topic, range(3)))
    time.sleep(EPOCH_CHECK_S)
    assert worker.due(assigned) == []
    assert EpochStore(redis_client, "ns").read().ready
