"""Consumer lag from librdkafka's statistics: committed position to the end of the log, owned partitions only.

The statistics below keep the fields librdkafka 2.x reports for a consumer's partitions (values as
a real consumer reported them against the dev broker); the integration tests read the live gauge.
"""

import json

from worker.lag import ConsumerLag, lag_of

UNKNOWN = -1001  # librdkafka's "no offset"


def partition(desired: bool = True, lo: int = 0, hi: int = 0, ls: int | None = None, committed: int = UNKNOWN) -> dict:
    return {
        "desired": desired,
        "lo_offset": lo,
        "hi_offset": hi,
        "ls_offset": hi if ls is None else ls,
        "committed_offset": committed,
    }


STATS = {
    "topics": {
        "search-queries": {
            "partitions": {
                "0": partition(hi=7, committed=5),  # 2 left to commit
                "1": partition(lo=3, hi=10),  # nothing committed: all from the log start
                "2": partition(hi=9, ls=6, committed=1),  # read_committed: the stable offset bounds it
                "3": partition(desired=False, hi=100),  # another member's
                "4": partition(lo=UNKNOWN, hi=UNKNOWN),  # not fetched yet
                "-1": partition(lo=UNKNOWN, hi=UNKNOWN),  # librdkafka's unassigned-messages partition
            }
        },
        "job-postings": {"partitions": {"0": partition()}},  # idle and empty
    }
}


def test_lag_per_owned_partition() -> None:
    assert lag_of(STATS) == {
        ("search-queries", 0): 2,
        ("search-queries", 1): 7,
        ("search-queries", 2): 5,
        ("job-postings", 0): 0,
    }


def test_each_report_replaces_the_last() -> None:
    lag = ConsumerLag()
    lag.update(json.dumps(STATS))
    assert len(lag.readings()) == 4
    lag.update(json.dumps({"topics": {"job-postings": {"partitions": {"0": partition(hi=4, committed=4)}}}}))
    assert lag.readings() == {("job-postings", 0): 0}, "a revoked partition's series goes away"
