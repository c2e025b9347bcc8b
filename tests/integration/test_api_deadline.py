"""A hung Redis (a real redis-server, paused with SIGSTOP): API reads answer 503 with
``Retry-After`` and the one error body once XSELL_API_READ_DEADLINE_SECONDS has passed, instead
of waiting for the client's own timeouts (~40 s); when Redis is back, the same reads give the
same answers as before (no connection left reading a stale reply)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import env_settings, stack_env
from tests.integration.api_stack import API_ENV, SECRET
from xsell.devenv.servers import LocalApi, LocalBroker, LocalRedis
from xsell.kafka_clients import create_topics

pytestmark = pytest.mark.integration
SAFETY_NET = 15.0  # seconds a request may take before the test fails (the old wait: ~40 s)
READS = ("/v1/items/phone/complements", "/v1/users/u1/suggestions")


@pytest.fixture
def hung_redis_api(broker: LocalBroker) -> Iterator[tuple[LocalRedis, httpx.Client]]:
    """An `xsell api` on a private redis-server (this test pauses it) and the session's
    broker; an HTTP client with the secret key."""
    with LocalRedis() as redis:
        env = {**stack_env(broker, redis), **API_ENV, "XSELL_API_CACHE_SECONDS": "0"}
        create_topics(env_settings(env))
        api = LocalApi(env)
        api.start(timeout=60)
        headers = {"Authorization": f"Bearer {SECRET}"}
        try:
            with httpx.Client(base_url=api.url, timeout=SAFETY_NET, headers=headers) as http:
                yield redis, http
        finally:
            redis.resume()
            api.stop()
            assert "Traceback" not in api.log_text(), api.log_text()[-3000:]


def test_reads_on_a_hung_redis_get_503_with_retry_after_then_recover(
    hung_redis_api: tuple[LocalRedis, httpx.Client],
) -> None:
    redis, http = hung_redis_api
    before = {path: http.get(path) for path in READS}
    assert [r.status_code for r in before.values()] == [200, 404]
    redis.pause()
    for path in READS * 2:
        answer = http.get(path)
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "1"
        body = answer.json()
        assert set(body) == {"error", "detail"} and "0.5s" in body["error"]
    redis.resume()
    for _ in range(3):
        for path, first in before.items():
            again = http.get(path)
            assert again.status_code == first.status_code
            if path.endswith("complements"):  # ids differ per answer, offers do not
                assert again.json()["items"] == first.json()["items"]
