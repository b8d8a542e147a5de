"""Readiness: checks run in order, problems are named, results are cached, dependencies are real."""

import redis

from tests.conftest import free_port
from worker.readiness import CHECK_TIMEOUT_S, NamedCheck, Readiness, redis_check


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
