"""The Redis cache backend (core/cache.py): Django's, with one client per pool."""

from __future__ import annotations

import pytest

from core.cache import RedisCache

REDIS_URL = "redis://127.0.0.1:6379/12"  # a database of its own


@pytest.fixture
def cache():
    redis = pytest.importorskip("redis")
    probe = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        probe.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": "cache-test"})
    yield backend
    backend.clear()
    probe.close()


def test_values_round_trip_and_expire(cache):
    cache.set("session", {"user": 7}, timeout=30)
    assert cache.get("session") == {"user": 7}
    assert cache.add("session", "other") is False
    cache.set("gone", 1, timeout=0)
    assert cache.get("gone", "missing") == "missing"
    cache.delete("session")
    assert cache.get("session") is None


def test_one_client_serves_every_call(cache):
    client = cache._cache.get_client("a")
    assert cache._cache.get_client("b") is client
    assert cache._cache.get_client("c", write=True) is client
    cache.set("x", 1)
    assert cache._cache.get_client("x") is client
