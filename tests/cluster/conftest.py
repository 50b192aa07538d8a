"""The cluster every fault test runs against (tests/support/cluster.py)."""
from __future__ import annotations

import contextlib

import pytest
import redis

from tests.support.cluster import Cluster
from tests.support.postgres import fresh_database
from tests.support.product import start_product
from tests.support.redis_server import CLUSTER_DB, redis_url
from tests.support.tcp_proxy import TcpProxy


@pytest.fixture(scope="package")
def cluster(tmp_path_factory):
    with contextlib.ExitStack() as stack:
        tracker_url = stack.enter_context(fresh_database("cluster_tracker"))
        backend_url = stack.enter_context(fresh_database("cluster_backend"))
        postgres = stack.enter_context(TcpProxy("127.0.0.1", 5432))
        redis_proxy = stack.enter_context(TcpProxy("127.0.0.1", 6379))
        redis.Redis.from_url(redis_url(CLUSTER_DB)).flushdb()
        product = start_product(
            tmp_path_factory.mktemp("cluster"),
            RASA_REPLICAS="2", ACTION_SERVER_REPLICAS="2",
            TRACKER_DB_URL=tracker_url.replace(":5432/", f":{postgres.port}/"),
            BACKEND_DB_URL=backend_url,
            REDIS_URL=f"redis://127.0.0.1:{redis_proxy.port}/{CLUSTER_DB}",
        )
        stack.callback(product.stop)
        yield Cluster(product, tracker_url, postgres, redis_proxy)
