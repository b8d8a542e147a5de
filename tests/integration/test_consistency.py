"""A query sees the postings table as of its own event, and a wiped store is rebuilt by replay.

Postings go out in the producer's batches: Tansu answers ListOffsets with one past the first offset of
a partition's last batch, so these tests also hold the workers to the end their fetches report.
"""

import re
import time

from confluent_kafka.admin import AdminClient, ConfigResource

from schemas import RankedResults
from tests.conftest import DevServices
from tests.integration.conftest import ON_BOTH_REDIS, Cluster
from tests.integration.test_end_to_end import wait_for
from tests.integration.test_observability import get

JOBS = [f"job-{i:02d}" for i in range(24)]
DELETED = JOBS[:8]  # deleted one by one, each followed by a query listing every job
# A burst long enough to take the worker seconds to apply, in steps of 4 (RANKSTREAM_POSTINGS_BATCH).
LATE_JOBS = [f"late-{i:04d}" for i in range(1000)]
# Between a delete and its query: their Kafka timestamps differ (milliseconds), as they would in life.
STAMP_GAP_S = 0.005


def posting(job_id: str) -> dict:
    return {"job_id": job_id, "title": f"Nurse {job_id}", "description": "ICU nurse, night shifts, 3 years."}


def results_by_request(cluster: Cluster, wanted: set[str]) -> dict[str, RankedResults]:
    messages = cluster.read("results", lambda ms: wanted <= {m.key().decode() for m in ms})
    return {m.key().decode(): RankedResults.model_validate_json(m.value()) for m in messages}


def test_a_query_never_scores_a_posting_deleted_before_it_when_one_worker_starts_on_a_backlog(
    cluster: Cluster,
) -> None:
    for job_id in JOBS:
        cluster.produce("postings", job_id, posting(job_id))
    for i, job_id in enumerate(DELETED[:4]):  # each delete, then a query
        cluster.produce("postings", job_id, {"op": "delete", "job_id": job_id})
        time.sleep(STAMP_GAP_S)
        cluster.produce("queries", f"q{i}", {"request_id": f"q{i}", "query": "nurse", "candidate_job_ids": JOBS})
        time.sleep(STAMP_GAP_S)
    for job_id in LATE_JOBS:  # one burst (a batch per partition) of upserts, deletes last, then a query
        cluster.produce("postings", job_id, posting(job_id))
    for job_id in DELETED[4:]:
        cluster.produce("postings", job_id, {"op": "delete", "job_id": job_id})
    time.sleep(STAMP_GAP_S)
    cluster.produce("queries", "q4", {"request_id": "q4", "query": "nurse", "candidate_job_ids": JOBS})
    cluster.flush()
    cluster.start_worker("--role", "all", RANKSTREAM_POSTINGS_BATCH="4", RANKSTREAM_TABLE_WAIT_MS="60000")

    results = results_by_request(cluster, {f"q{i}" for i in range(5)})
    for i in range(5):
        result = results[f"q{i}"]
        scored = {r.job_id for r in result.results}
        gone = set(DELETED[: i + 1] if i < 4 else DELETED)
        assert not scored & gone, f"q{i} scored {sorted(scored & gone)}, deleted before it"
        # Deletes stamped after the query may be applied before it is scored: the table is never older.
        assert {u.reason for u in result.unscored} == {"missing_context"}
        assert gone <= {u.job_id for u in result.unscored} and not result.table_behind

    admin = AdminClient({"bootstrap.servers": cluster.services.bootstrap})
    [config] = admin.describe_configs([ConfigResource("topic", cluster.topics["postings"])]).values()
    assert config.result(10)["cleanup.policy"].value == "compact", "dev up creates the postings topic compacted"


@ON_BOTH_REDIS
def test_a_wiped_store_is_rebuilt_and_no_query_meanwhile_says_missing_context(
    cluster: Cluster,
) -> None:
    worker = cluster.start_worker("--role", "all")
    for job_id in JOBS:
        cluster.produce("postings", job_id, posting(job_id))
    cluster.flush()
    wait_for(lambda: get(worker.http_port, "/readyz")[0] == 200, "the store built and the worker ready")

    candidates = [*JOBS[:6], "never-posted"]
    cluster.services.store_client().flushall()  # Redis restarted empty, as far as the worker can tell
    wiped_at = time.monotonic()
    sent = []
    while time.monotonic() - wiped_at < 4.0:
        request_id = f"during-{len(sent)}"
        cluster.produce(
            "queries",
            request_id,
            {"request_id": request_id, "query": "nurse", "candidate_job_ids": candidates},
        )
        cluster.producer.poll(0)
        sent.append(request_id)
        time.sleep(0.2)
    cluster.flush()
    wait_for(lambda: get(worker.http_port, "/readyz")[0] == 200, "the store rebuilt", timeout_s=30)
    cluster.produce(
        "queries",
        "after",
        {"request_id": "after", "query": "nurse", "candidate_job_ids": candidates},
    )
    cluster.flush()

    results = results_by_request(cluster, {*sent, "after"})
    for request_id in sent:
        result = results[request_id]
        for unscored in result.unscored:
            if unscored.job_id != "never-posted":
                assert unscored.reason == "context_store_rebuilding", f"{request_id}: {unscored}"
        assert len(result.results) + len(result.unscored) == len(candidates)
    after = results["after"]
    assert {r.job_id for r in after.results} == set(JOBS[:6]), "every posting is back"
    assert [(u.job_id, u.reason) for u in after.unscored] == [("never-posted", "missing_context")]
    assert cluster.stop_workers() == [0]
    log = worker.stdout.read()
    assert "context store has no epoch" in log and "ready: rebuilt from" in log, "the wipe and the rebuild are logged"


def test_a_rebuild_on_demand_replays_the_postings_into_a_new_epoch(cluster: Cluster) -> None:
    worker = cluster.start_worker("--role", "all")
    for job_id in JOBS[:6]:
        cluster.produce("postings", job_id, posting(job_id))
    cluster.flush()
    wait_for(lambda: get(worker.http_port, "/readyz")[0] == 200, "the store built")

    done = DevServices(cluster.env, cluster.services.bootstrap, cluster.services.redis_url).run("contexts", "rebuild")
    epoch = re.search(r"epoch (\w+) begun", done.stdout).group(1)
    wait_for(lambda: get(worker.http_port, "/readyz")[0] == 200, "the store rebuilt", timeout_s=30)
    cluster.produce("queries", "after", {"request_id": "after", "query": "nurse", "candidate_job_ids": JOBS[:6]})
    cluster.flush()
    after = results_by_request(cluster, {"after"})["after"]
    assert {r.job_id for r in after.results} == set(JOBS[:6]) and not after.table_behind
    assert cluster.stop_workers() == [0]
    log = worker.stdout.read()
    assert f"context store epoch {epoch} (rebuilding)" in log and f"epoch {epoch} ready: rebuilt" in log
    assert re.search(rf"\[\d\] restarts at -2 for the store's epoch {epoch}", log), "sought to the beginning"


def test_a_postings_partition_ending_in_a_dead_lettered_message_still_reaches_its_end(cluster: Cluster) -> None:
    for job_id in JOBS:
        cluster.produce("postings", job_id, posting(job_id))
    for job_id in JOBS:  # the last message of every partition is one the worker dead-letters
        cluster.produce("postings", job_id, b"{not json")
    cluster.flush()
    worker = cluster.start_worker("--role", "all", RANKSTREAM_TABLE_WAIT_MS="60000")
    wait_for(lambda: get(worker.http_port, "/readyz")[0] == 200, "the store built (its epoch ready)")
    cluster.produce("queries", "q", {"request_id": "q", "query": "nurse", "candidate_job_ids": JOBS})
    cluster.flush()
    result = results_by_request(cluster, {"q"})["q"]
    assert {r.job_id for r in result.results} == set(JOBS) and not result.unscored and not result.table_behind
