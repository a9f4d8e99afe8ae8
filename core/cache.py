"""Django's Redis cache with one client object per connection pool.

Django's backend builds a new ``redis.Redis`` client for every cache call (its response
callbacks alone are some 170 dictionary entries), and a signed-in page makes at least one
call for its session. The client is only a front for the pool, so it is made once."""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class _Client(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[object, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = _Client
