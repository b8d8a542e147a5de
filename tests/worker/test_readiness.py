"""Readiness: checks run in order, problems are named, results are cached, dependencies are real (Redis:
one node, and every master of a cluster)."""

import redis

from cli.dev_cluster import MASTERS
from tests.conftest import DevServices, free_port
from worker.readiness import CHECK_TIMEOUT_S, NamedCheck, Readiness, redis_check
from worker.redis_client import node_client, redis_client


def test_problems_are_named_and_cached() -> None:
    calls = []

    def flaky() -> str | None:
        calls.append(1)
        raise ConnectionError("refused")

    ready = Readiness([NamedCheck("fine", lambda: None), NamedCheck("dep", flaky), NamedCheck("own", lambda: "busy")])
    assert ready() == ["dep: ConnectionError: refused", "own: busy"]
    assert ready() == ready()
    assert len(calls) == 1, "probes within the cache period share one check"
    assert Readiness([NamedCheck("dep", flaky)], cache_s=0)() and Readiness([], cache_s=0)() == []
    assert len(calls) == 2


def test_redis_check_pings_a_real_server(redis_client: redis.Redis) -> None:
    assert redis_check(redis_client)() is None
    away = redis.Redis(port=free_port(), socket_connect_timeout=CHECK_TIMEOUT_S, socket_timeout=CHECK_TIMEOUT_S)
    problems = Readiness([NamedCheck("redis", redis_check(away))])()
    assert len(problems) == 1 and problems[0].startswith("redis: ConnectionError: ")


def test_redis_check_pings_every_master_of_a_cluster(cluster_services: DevServices) -> None:
    settings = cluster_services.settings()
    with redis_client(settings, CHECK_TIMEOUT_S) as client:
        masters = [node.port for node in client.get_primaries()]

        def pings() -> list[int]:
            stats = [node_client(settings, port).info("commandstats") for port in masters]
            return [s.get("cmdstat_ping", {}).get("calls", 0) for s in stats]

        before = pings()
        assert redis_check(client)() is None
    assert len(masters) == MASTERS
    assert all(after > then for after, then in zip(pings(), before, strict=True)), "a master was not asked"
