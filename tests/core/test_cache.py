"""The caches. "default" is Redis through django-redis when REDIS_URL is set (shared by every
process; signed-in requests read their session from it), else memory per process; "local"
is always memory per process, for small memos that must cost no network round trip."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.core.cache import caches

needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="REDIS_URL is not set: the default cache is per-process memory (CI sets it)",
)


@pytest.fixture
def key():
    name = f"cache-test-{uuid.uuid4().hex}"
    yield name
    caches["default"].delete(name)


@needs_redis
def test_values_round_trip_and_expire_in_redis(key):
    cache = caches["default"]
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"

    cache.set(key, {"user": 7}, timeout=30)
    assert cache.get(key) == {"user": 7}
    assert cache.add(key, "other") is False
    assert 0 < cache.ttl(key) <= 30
    cache.delete(key)
    assert cache.get(key) is None
    cache.set(key, 1, timeout=0)
    assert cache.get(key, "missing") == "missing"


@needs_redis
def test_what_one_client_writes_is_in_redis_for_every_process(key):
    from django_redis import get_redis_connection

    caches["default"].set(key, "shared", timeout=30)

    raw = get_redis_connection("default")
    assert raw.exists(caches["default"].make_key(key)) == 1
    assert raw is get_redis_connection("default")  # one client over one pool per process


@needs_redis
def test_sessions_are_read_through_the_cache():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"


def test_the_local_cache_is_memory_of_this_process(key):
    cache = caches["local"]
    assert settings.CACHES["local"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    calls = []

    def compute():
        calls.append(1)
        return ["option"]

    assert cache.get_or_set(key, compute, timeout=60) == ["option"]
    assert cache.get_or_set(key, compute, timeout=60) == ["option"]
    assert calls == [1]
    if settings.REDIS_URL:
        assert caches["default"].get(key) is None  # not shared with the default cache
