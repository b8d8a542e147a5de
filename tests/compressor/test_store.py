"""The context store against a real Redis, one node and a cluster: round trip, event order (updated_at,
then the log), dedupe hashes, deletes and their tombstones."""

import struct
from datetime import UTC, datetime, timedelta

from compressor import ContextEntry, ContextStore, EventOrder
from compressor.client import StoreClient
from compressor.store import TOMBSTONE_TTL_S

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def entry(job_id: str, text: str, at: datetime | None, ids: list[int] | None = None) -> ContextEntry:
    return ContextEntry(job_id, text, ids or [1, 2, 70000], f"hash-{text}", EventOrder(at))


def at(*times: datetime | None) -> list[EventOrder]:
    return [EventOrder(t) for t in times]


def test_round_trip_keeps_text_and_token_ids(store_client: StoreClient) -> None:
    store = ContextStore(store_client, "extractive@1", "tok-a")
    assert store.put_many([entry("j1", "python dev", T0, [5, 49151, 2**31])]) == [True]
    got = store.get_many(["j1", "missing"])
    assert got[0] is not None and got[0].text == "python dev"
    assert got[0].token_ids == [5, 49151, 2**31]
    assert got[1] is None


def test_older_update_is_ignored_newer_and_untimed_win(store_client: StoreClient) -> None:
    store = ContextStore(store_client, "extractive@1", "tok-a")
    store.put_many([entry("j1", "v2", T0)])
    assert store.put_many([entry("j1", "v1", T0 - timedelta(days=1))]) == [False]
    assert store.get_many(["j1"])[0].text == "v2"
    assert store.put_many([entry("j1", "v3", T0 + timedelta(seconds=1))]) == [True]
    assert store.put_many([entry("j1", "v4", None)]) == [True]
    assert store.get_many(["j1"])[0].text == "v4"


def test_versions_coexist_and_delete_removes(store_client: StoreClient) -> None:
    old = ContextStore(store_client, "extractive@1", "tok-a")
    new = ContextStore(store_client, "extractive@2", "tok-a")
    old.put_many([entry("j1", "old", T0)])
    new.put_many([entry("j1", "new", T0)])
    assert old.get_many(["j1"])[0].text == "old" and new.get_many(["j1"])[0].text == "new"
    assert new.stored_hashes(["j1", "j2"]) == ["hash-new", None]
    assert new.delete_many(["j1"], at(None)) == [True]
    assert new.get_many(["j1"]) == [None]
    assert old.get_many(["j1"])[0].text == "old"


def test_a_fallback_context_offers_no_hash_so_its_repost_is_compressed_again(store_client: StoreClient) -> None:
    store = ContextStore(store_client, "abstractive@1+smollm2", "tok-a")
    fallback = ContextEntry("j1", "cut", [1], "hash-cut", EventOrder(T0), compressor="extractive@1")
    store.put_many([fallback, entry("j2", "summary", T0)])
    assert store.stored_hashes(["j1", "j2"]) == [None, "hash-summary"]


def test_a_timed_delete_leaves_a_tombstone_older_upserts_cannot_pass(store_client: StoreClient) -> None:
    store = ContextStore(store_client, "extractive@1", "tok-a")
    store.put_many([entry("j1", "v1", T0), entry("j2", "v9", T0 + timedelta(days=2))])
    day_later = T0 + timedelta(days=1)
    assert store.delete_many(["j1", "j2"], at(day_later, day_later)) == [True, False]  # j2 is newer
    assert store.get_many(["j1", "j2"])[0] is None and store.stored_hashes(["j1"]) == [None]
    assert 0 < store_client.ttl(store.key("j1")) <= TOMBSTONE_TTL_S
    assert store.put_many([entry("j1", "replayed", T0)]) == [False]  # an older upsert, delivered late
    assert store.put_many([entry("j1", "back", T0 + timedelta(days=3))]) == [True]
    assert store.get_many(["j1"])[0].text == "back" and store_client.ttl(store.key("j1")) == -1  # no expiry left


def test_ttl_applies(store_client: StoreClient) -> None:
    store = ContextStore(store_client, "extractive@1", "tok-a", ttl_seconds=100)
    store.put_many([entry("j1", "x", T0)])
    assert 0 < store_client.ttl(store.key("j1")) <= 100


def test_stored_fields_and_packed_little_endian_ids(store_client: StoreClient) -> None:
    store = ContextStore(store_client, "abstractive@1+m", "tok-a")
    fallback = ContextEntry("j2", "b", [1], "h2", EventOrder(), compressor="extractive@2")
    store.put_many([entry("j1", "a", T0, [1, 256, 2**32 - 1]), fallback])
    stored = store_client.hgetall(store.key("j1"))
    assert stored[b"ids"] == struct.pack("<3I", 1, 256, 2**32 - 1)
    assert (stored[b"compressor"], stored[b"hash"], stored[b"text"]) == (b"abstractive@1+m", b"hash-a", b"a")
    assert stored[b"updated_at"] == str(int(T0.timestamp() * 1_000_000)).encode()
    assert store_client.hget(store.key("j2"), "compressor") == b"extractive@2"


def test_corrupt_entries_read_as_missing(store_client: StoreClient) -> None:
    store = ContextStore(store_client, "extractive@1", "tok-a")
    store.put_many([entry("j1", "ok", T0), entry("j2", "bad", T0), entry("j3", "bad", T0)])
    store_client.hset(store.key("j2"), "ids", b"\x01\x02\x03")
    store_client.hset(store.key("j3"), "text", b"\xff\xfe")
    assert [c is not None for c in store.get_many(["j1", "j2", "j3"])] == [True, False, False]


def test_touch_advances_updated_at_and_restarts_the_ttl(store_client: StoreClient) -> None:
    store = ContextStore(store_client, "extractive@1", "tok-a", ttl_seconds=100)
    store.put_many([entry("j1", "v1", T0)])
    store_client.expire(store.key("j1"), 5)
    assert store.touch_many(["j1", "missing"], at(T0 + timedelta(days=1), T0)) == [True, False]
    assert store_client.ttl(store.key("j1")) > 5
    assert store.put_many([entry("j1", "stale", T0 + timedelta(hours=1))]) == [False]
    store.touch_many(["j1"], at(T0))  # an older touch never moves updated_at back
    assert store.put_many([entry("j1", "stale", T0 + timedelta(hours=1))]) == [False]
    assert not store_client.exists(store.key("missing"))


def test_the_log_orders_events_without_updated_at_so_replays_and_zombies_write_nothing(
    store_client: StoreClient,
) -> None:
    store = ContextStore(store_client, "extractive@1", "tok-a")

    def put(text: str, offset: int, partition: int = 0, when: datetime | None = None) -> bool:
        order = EventOrder(when, partition, offset)
        return store.put_many([ContextEntry("j1", text, [1], f"hash-{text}", order)])[0]

    assert put("v1", 10) and put("v2", 12)
    assert not put("v1-replayed", 10), "a replayed older event"
    assert not put("v2-again", 12), "the same event again"
    assert store.delete_many(["j1"], [EventOrder(None, 0, 13)]) == [True]
    assert not put("zombie", 11), "a zombie's late batch cannot bring a deleted posting back"
    assert store.get_many(["j1"]) == [None]
    assert put("v3", 14)
    assert put("timed", 15, when=T0), "against an untimed entry the log decides"
    assert not put("earlier", 16, when=T0 - timedelta(days=1)), "between timed events updated_at decides"
    assert put("other-partition", 1, partition=3), "offsets of another partition do not compare"
