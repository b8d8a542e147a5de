"""The store's epoch and the table's progress, against a real Redis: created once, replaced on demand,
marked ready only as named, progress never moving back, and a wiped store read as no store."""

from compressor import ContextEntry, ContextStore, EventOrder
from compressor.client import StoreClient
from compressor.epoch import Applied, EpochStore


def test_the_first_begin_creates_a_rebuilding_epoch_and_later_ones_adopt_it(store_client: StoreClient) -> None:
    epochs = EpochStore(store_client, "ns")
    assert epochs.read().epoch is None
    first = epochs.begin()
    assert EpochStore(store_client, "ns").begin() == first
    progress = epochs.read()
    assert progress.epoch is not None and progress.epoch.id == first
    assert progress.epoch.state == "rebuilding" and not progress.ready


def test_only_the_named_epoch_is_marked_ready(store_client: StoreClient) -> None:
    epochs = EpochStore(store_client, "ns")
    old = epochs.begin()
    new = epochs.restart()
    assert new != old
    assert not epochs.mark_ready(old), "a rebuild started meanwhile stays rebuilding"
    assert not epochs.read().ready
    assert epochs.mark_ready(new)
    assert not epochs.mark_ready(new), "already ready"
    assert epochs.read().ready


def test_progress_is_per_epoch_and_never_moves_back(store_client: StoreClient) -> None:
    epochs = EpochStore(store_client, "ns")
    first = epochs.begin()
    epochs.advance(first, {0: Applied(10, 1_000), 1: Applied(3, 900)})
    epochs.advance(first, {0: Applied(7, 800), 1: Applied(4, 950)})  # partition 0: a zombie's late batch
    assert epochs.read().applied == {0: Applied(10, 1_000), 1: Applied(4, 950)}
    second = epochs.restart()
    assert epochs.read().applied == {}, "a new epoch's progress is its replay's own"
    epochs.advance(first, {0: Applied(11, 1_100)})  # a worker that has not seen the new epoch yet
    epochs.advance(second, {0: Applied(2, 100)})
    assert epochs.read().applied == {0: Applied(2, 100)}


def test_a_read_tells_a_missing_context_of_a_ready_store_from_one_of_a_wiped_store(store_client: StoreClient) -> None:
    store = ContextStore(store_client, "extractive@1", "tok-a")
    epochs = EpochStore(store_client, store.namespace)
    assert store.fetch(["a"]).missing_reason == "context_store_rebuilding", "no epoch yet: nothing is known"
    epochs.mark_ready(epochs.begin())
    store.put_many([ContextEntry("a", "Dev", [1, 2], "h", EventOrder(None, 0, 1))])
    read = store.fetch(["a", "b"])
    assert read.store_ready and read.missing_reason == "missing_context"
    assert [c is not None for c in read.contexts] == [True, False]
    store_client.flushall()
    assert store.fetch(["a"]).missing_reason == "context_store_rebuilding"
