"""The shared store in a real Redis: answers shared across instances, one CAMS call per cold key across
processes, the account's limit across processes of both functions, Redis failing, and no secret kept."""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from functions.healthcheck.index import handler as healthcheck
from local.cams import FakeCams
from local.redis_server import RedisServer
from shared.cache.keys import CacheKeys
from shared.lookup.app import runtime as lookup_runtime
from tests import processes
from tests.helpers import ROLE, Env, FakeClock, context, get, log_lines

pytestmark = pytest.mark.slow
SPAWN = multiprocessing.get_context("spawn")
ACCOUNT = "1000000000000001"


@pytest.fixture
def shared(env: Env, redis_url: str) -> str:
    """The cache on, with its defaults, in the session's Redis, under a key secret shared by all instances."""
    for name in ("CACHE_TTL_SECONDS", "CACHE_NEGATIVE_TTL_SECONDS", "CACHE_MAX_STALE_SECONDS"):
        env.delenv(name)
    env.setenv("REDIS_URL", redis_url)
    env.setenv("CACHE_KEY_SECRET", "a-key-secret-for-the-tests-0123456789")
    flush(redis_url)
    return redis_url


def flush(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        client.flushall()


def new_instance() -> None:
    """What another FC instance has: nothing of this one's memory, the same Redis."""
    lookup_runtime.clear()


def test_an_answer_is_shared_across_instances(lookup: Any, cams: FakeCams, shared: str) -> None:
    first = get(lookup, "/waba", "custSpaceId=demo-approved")
    new_instance()
    second = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert len(cams.calls()) == 1
    assert second.body["waba"] == first.body["waba"]
    assert second.body["cachedAt"] == first.body["cachedAt"]


def test_the_timer_refreshes_the_lookups_cache(lookup: Any, cams: FakeCams, shared: str) -> None:
    payload = json.dumps({"spaces": [{"custSpaceId": "demo-approved"}]})

    healthcheck(json.dumps({"payload": payload}).encode(), context(function="healthcheck"))
    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert answer.status == 200
    assert len(cams.calls()) == 1, "the lookup was answered by what the timer learned"


def test_nothing_secret_is_kept_in_redis(lookup: Any, cams: FakeCams, env: Env, shared: str) -> None:
    env.setenv("ALLOW_CALLER_ISV_CODE", "true")
    env.setenv("CAMS_ISV_CODE", "server-side-isv-code-5d21")
    get(lookup, "/waba", "custSpaceId=demo-isv&isvCode=demo-isv-code-0001")
    get(lookup, "/waba", "custSpaceId=demo-approved")
    get(lookup, "/waba", "custSpaceId=demo-unbound")

    with redis.Redis.from_url(shared) as client:
        keys = list(client.scan_iter("*"))
        stored = b" ".join([*keys, *(dump(client, key) for key in keys)])
    assert len(keys) >= 4, "answers, and the limiter's slots"
    for secret in ("demo-isv-code-0001", "server-side-isv-code-5d21", *ROLE.environ().values()):
        assert secret.encode() not in stored


def dump(client: redis.Redis, key: bytes) -> bytes:
    kind = client.type(key)
    if kind == b"string":
        return bytes(client.get(key) or b"")
    if kind == b"zset":
        return b" ".join(member for member, _ in client.zrange(key, 0, -1, withscores=True))
    return repr(client.hgetall(key) if kind == b"hash" else kind).encode()


def run_processes(targets: list[tuple[Any, tuple[Any, ...]]], start: Any, out: Any, timeout_s: float) -> list[Any]:
    workers = [SPAWN.Process(target=target, args=args, daemon=True) for target, args in targets]
    for worker in workers:
        worker.start()
    ready = [out.get(timeout=60) for _ in workers]  # every instance imports and initialises first
    assert ready == [processes.READY] * len(workers)
    start.set()
    results = [out.get(timeout=timeout_s) for _ in workers]
    for worker in workers:
        worker.join(10)
    return results


def instance_environ(cams: FakeCams, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        "CAMS_ENDPOINT": cams.endpoint,
        "CAMS_PROTOCOL": "http",
        "CAMS_RETRY_BASE_DELAY_MS": "10",
        "CAMS_RETRY_MAX_DELAY_MS": "50",
        "REDIS_URL": redis_url,
        "CACHE_KEY_SECRET": "a-key-secret-for-the-tests-0123456789",
        **extra,
    }


def test_instances_asking_for_one_cold_key_make_one_call(cams: FakeCams, shared: str) -> None:
    cams.delay_next(1, seconds=0.5)  # the one call is slow: the others must wait for it
    start, out = SPAWN.Event(), SPAWN.Queue()
    environ = instance_environ(cams, shared)

    results = run_processes([(processes.one_lookup, (environ, "demo-approved", start, out))] * 6, start, out, 60)

    assert [status for status, _, _ in results] == [200] * 6
    assert len(cams.calls()) == 1
    assert {body["camsRequestId"] for _, body, _ in results} == {cams.calls()[0].request_id}


def most_in_one_second(times: list[float]) -> int:
    ordered = sorted(times)
    return max(sum(1 for t in ordered if start <= t <= start + 1.0) for start in ordered)


def test_the_accounts_limit_holds_across_instances_of_both_functions(cams: FakeCams, shared: str) -> None:
    spaces = [f"load-{n:02d}" for n in range(40)]
    for name in spaces:
        cams.backend.bind_space(ACCOUNT, name, {"Id": "7", "AccountReviewStatus": "APPROVED"})
    cams.delay_new_connections(0.05)  # as TLS set-up costs a fresh connection
    start, out = SPAWN.Event(), SPAWN.Queue()
    environ = instance_environ(cams, shared, CACHE_TTL_SECONDS="0", CACHE_MAX_STALE_SECONDS="0")
    lookups = [(processes.lookups, (environ, spaces[n::4], start, 3.0, out)) for n in range(4)]
    timer = (processes.timer_runs, ({**environ, "HEALTHCHECK_RATE_PER_SECOND": "10"}, spaces[:10], start, 3.0, out))

    results = run_processes([*lookups, timer], start, out, 60)

    arrivals = [call.at for call in cams.calls()]
    assert len(arrivals) >= 15, "the run made calls enough to test the limit"
    assert most_in_one_second(arrivals) <= 10
    assert not [call for call in cams.calls() if call.code == "System.LimitControl"], "CAMS never had to refuse"
    statuses = [status for kind, got in results if kind == "lookup" for status in got]
    assert set(statuses) <= {200, 429}


@pytest.fixture
def own_redis(env: Env) -> Iterator[RedisServer]:
    with RedisServer() as server:
        for name in ("CACHE_TTL_SECONDS", "CACHE_NEGATIVE_TTL_SECONDS", "CACHE_MAX_STALE_SECONDS"):
            env.delenv(name)
        env.setenv("REDIS_URL", server.url)
        env.setenv("CACHE_KEY_SECRET", "a-key-secret-for-the-tests-0123456789")
        yield server


def test_redis_down_at_start_costs_nothing_but_a_warning(
    lookup: Any, cams: FakeCams, env: Env, own_redis: RedisServer, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("CAMS_QUOTA_WAIT_MS", "5000")  # the instance's own rate: 0.56 calls a second, at a random phase
    own_redis.stop()
    started = time.monotonic()

    answers = [get(lookup, "/waba", f"custSpaceId={space}") for space in ("demo-approved", "demo-pending") * 3]

    assert [a.status for a in answers] == [200] * 6
    assert time.monotonic() - started < 5
    assert len(cams.calls()) == 2, "this instance's memory still caches"
    warnings = [line for line in log_lines(capsys.readouterr().out) if line.get("event") == "cache.unavailable"]
    assert len(warnings) == 1


def test_redis_killed_mid_run_and_back(lookup: Any, cams: FakeCams, env: Env, own_redis: RedisServer) -> None:
    env.setenv("CAMS_QUOTA_WAIT_MS", "5000")  # the instance's own rate is a tenth of the limit's, at a random phase
    assert get(lookup, "/waba", "custSpaceId=demo-approved").status == 200
    own_redis.stop(crash=True)
    down = [get(lookup, "/waba", "custSpaceId=demo-pending").status for _ in range(3)]
    own_redis.start()
    new_instance()

    assert down == [200] * 3
    assert get(lookup, "/waba", "custSpaceId=demo-approved").status == 200


def test_a_slow_redis_costs_its_timeout_not_the_request(lookup: Any, cams: FakeCams, own_redis: RedisServer) -> None:
    busy = own_redis.block(2.0)
    started = time.monotonic()

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert answer.status in (200, 429), "an answer, or a quick 429 when the instance's own slot is too far"
    assert time.monotonic() - started < 1.0
    busy.join()


@pytest.fixture
def shared_without_a_key_secret(env: Env, redis_url: str) -> str:
    """As s.yaml deploys by default: a server-side IsvCode, the shared store, no CACHE_KEY_SECRET."""
    for name in ("CACHE_TTL_SECONDS", "CACHE_NEGATIVE_TTL_SECONDS", "CACHE_MAX_STALE_SECONDS"):
        env.delenv(name)
    env.setenv("REDIS_URL", redis_url)
    env.setenv("CAMS_ISV_CODE", "demo-isv-code-0001")
    flush(redis_url)
    return redis_url


def test_without_a_key_secret_a_server_side_isv_code_still_shares_every_answer(
    lookup: Any, cams: FakeCams, shared_without_a_key_secret: str
) -> None:
    found = get(lookup, "/waba", "custSpaceId=demo-isv")
    unknown = get(lookup, "/waba", "custSpaceId=no-such-space")
    new_instance()
    again = [get(lookup, "/waba", f"custSpaceId={space}") for space in ("demo-isv", "no-such-space")]

    assert (found.status, unknown.status) == (200, 404)
    assert [answer.status for answer in again] == [200, 404]
    assert len(cams.calls()) == 2, "the second instance answered both from the shared store"


def test_without_a_key_secret_the_timer_warms_the_lookups_cache(
    lookup: Any, cams: FakeCams, shared_without_a_key_secret: str
) -> None:
    payload = json.dumps({"spaces": [{"custSpaceId": "demo-isv"}]})

    healthcheck(json.dumps({"payload": payload}).encode(), context(function="healthcheck"))
    answer = get(lookup, "/waba", "custSpaceId=demo-isv")

    assert answer.status == 200
    assert len(cams.calls()) == 1


def test_caller_buckets_are_shared_and_keyed_by_the_deployment(
    lookup: Any, env: Env, shared_without_a_key_secret: str
) -> None:
    env.setenv("CALLER_RATE_PER_SECOND", "0.01")
    env.setenv("CALLER_BURST", "1")
    assert get(lookup, "/waba", "custSpaceId=demo-isv").status == 200
    new_instance()
    assert get(lookup, "/waba", "custSpaceId=demo-isv").status == 429, "the caller's bucket is in the store"

    with redis.Redis.from_url(shared_without_a_key_secret) as client:
        [bucket] = [key.decode() for key in client.scan_iter("*:tb:*")]
    assert lookup_runtime.current is not None
    space = lookup_runtime.current.keys.space

    def keyed_by(isv_code: str) -> str:
        return CacheKeys.for_settings(space, None, isv_code).caller_bucket("caller", "sub:test-user")

    assert bucket == keyed_by("demo-isv-code-0001") != keyed_by("another-isv-code-77"), "no public constant keys it"


def test_with_redis_gone_a_stale_answer_is_served_rather_than_a_new_call(
    lookup: Any, cams: FakeCams, own_redis: RedisServer, clock: FakeClock
) -> None:
    assert get(lookup, "/waba", "custSpaceId=demo-approved").status == 200
    own_redis.stop()
    clock.advance(301)  # past CACHE_TTL_SECONDS: the entry is stale, not gone

    answer = get(lookup, "/waba", "custSpaceId=demo-approved")

    assert (answer.status, answer.body["stale"]) == (200, True)
    assert len(cams.calls()) == 1, "no call on a limit that is only guessed at"


def test_with_redis_gone_a_throttling_answer_slows_the_instance(
    lookup: Any, cams: FakeCams, env: Env, own_redis: RedisServer, clock: FakeClock
) -> None:
    env.setenv("CAMS_QUOTA_WAIT_MS", "5000")
    own_redis.stop()
    cams.fail_next(1, code="Throttling.User")

    get(lookup, "/waba", "custSpaceId=demo-approved")
    clock.advance(10)  # past every slot of this episode

    runtime = lookup_runtime.current
    assert runtime is not None
    key = runtime.keys.rate_limit("QueryChatappBindWaba")
    assert runtime.store.limiter.reserve(key, 7, 1250, 5000).granted
    assert runtime.store.limiter.time_to_slot(key, 7, 1250) > 2400, "0.56 calls a second, halved, 10 s into recovery"


def test_each_operations_own_limit_holds_across_instances(cams: FakeCams, shared: str) -> None:
    spaces = [f"health-{n:02d}" for n in range(40)]
    for name in spaces:
        cams.backend.bind_space(ACCOUNT, name, {"Id": f"7{name[-2:]}", "AccountReviewStatus": "APPROVED"})
    cams.limit_rates()  # CAMS's own: 5 GetWhatsappHealthStatus a second, 10 of the others
    cams.delay_new_connections(0.05)
    start, out = SPAWN.Event(), SPAWN.Queue()
    environ = instance_environ(
        cams, shared, CACHE_TTL_SECONDS="0", HEALTH_CACHE_TTL_SECONDS="0", CACHE_MAX_STALE_SECONDS="0"
    )
    routes = [(processes.lookups, (environ, spaces[n::4], start, 3.0, out, "/waba/health")) for n in range(4)]
    timer = (processes.timer_runs, ({**environ, "HEALTHCHECK_RATE_PER_SECOND": "10"}, spaces[:10], start, 3.0, out))

    run_processes([*routes, timer], start, out, 60)

    for action, limit in (
        ("GetWhatsappHealthStatus", 5),
        ("QueryChatappPhoneNumbers", 10),
        ("QueryChatappBindWaba", 10),
    ):
        arrivals = [call.at for call in cams.calls(action)]
        assert len(arrivals) >= limit + 3, f"the run made calls enough of {action} to test its limit"
        assert most_in_one_second(arrivals) <= limit, action
    assert not [call for call in cams.journal if call.code == "System.LimitControl"], "CAMS never had to refuse"
