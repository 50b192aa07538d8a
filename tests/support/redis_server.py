"""The machine's Redis for tests (127.0.0.1:6379, started by scripts/ensure_services.sh).

Like every service the tests use, a Redis that does not answer fails the test
that needs it: `make test` brings it up, `make test-fast` runs no test marked `redis`.
"""
from __future__ import annotations

import pytest
import redis

from tests.support.markers import require

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
# Databases of their own, so that a test's keys never meet another's.
CHANNEL_DB, WEB_DB, CLUSTER_DB, LOCK_STORE_DB = 0, 0, 13, 14


def redis_url(db: int = 0) -> str:
    """redis://127.0.0.1:6379/<db>, once the test is known to be marked `redis` and Redis answers."""
    require("redis", "uses Redis")
    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis on {REDIS_HOST}:{REDIS_PORT} is not reachable ({error}); "
                    "scripts/ensure_services.sh starts it (make test runs it)", pytrace=False)
    finally:
        client.close()
    return url
