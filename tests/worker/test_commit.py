"""Offsets advance to the first unfinished message, whatever order messages finish in."""

from confluent_kafka import TopicPartition

from worker.commit import OffsetTracker


def positions(tracker: OffsetTracker, everything: bool = False) -> dict[tuple[str, int], int]:
    return {(tp.topic, tp.partition): tp.offset for tp in tracker.committable(everything)}


def test_commit_stops_at_the_first_gap() -> None:
    tracker = OffsetTracker()
    for offset in range(10, 15):
        tracker.start("q", 0, offset)
    tracker.finish("q", 0, 11)
    tracker.finish("q", 0, 12)
    assert positions(tracker) == {("q", 0): 10}
    tracker.finish("q", 0, 10)
    assert positions(tracker) == {("q", 0): 13}
    tracker.finish("q", 0, 14)
    tracker.finish("q", 0, 13)
    assert positions(tracker) == {("q", 0): 15}
    assert positions(tracker) == {}, "unchanged positions are not committed again"
    assert positions(tracker, everything=True) == {("q", 0): 15}
    assert tracker.in_flight() == 0


def test_partitions_are_independent_and_revoked_ones_are_forgotten() -> None:
    tracker = OffsetTracker()
    tracker.start("q", 0, 0)
    tracker.start("q", 1, 5)
    tracker.finish("q", 1, 5)
    assert positions(tracker) == {("q", 0): 0, ("q", 1): 6}
    tracker.forget([TopicPartition("q", 0)])
    tracker.finish("q", 0, 0)  # a late outcome of a revoked partition is ignored
    assert tracker.in_flight() == 0
    assert positions(tracker, everything=True) == {("q", 1): 6}


def test_a_failed_commit_is_offered_again() -> None:
    tracker = OffsetTracker()
    tracker.start("q", 0, 0)
    tracker.finish("q", 0, 0)
    sent = tracker.committable()
    assert positions_of(sent) == {("q", 0): 1}
    assert positions(tracker) == {}
    tracker.rewind(sent)
    assert positions(tracker) == {("q", 0): 1}, "the failed position is committed again"


def test_in_flight_counts_the_partitions_asked_for() -> None:
    tracker = OffsetTracker()
    tracker.start("q", 0, 0)
    tracker.start("q", 1, 0)
    tracker.start("q", 1, 1)
    assert tracker.in_flight() == 3
    assert tracker.in_flight({("q", 1)}) == 2
    assert tracker.in_flight(set()) == 0


def positions_of(offsets: list[TopicPartition]) -> dict[tuple[str, int], int]:
    return {(tp.topic, tp.partition): tp.offset for tp in offsets}
