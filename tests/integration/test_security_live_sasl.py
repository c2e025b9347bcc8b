"""Security for real, Kafka SASL: it cannot be tested for real on Tansu (see docs/security.md); a
worker configured for SCRAM runs against it here only to show that its password appears in no
log line."""

from __future__ import annotations

import time

import pytest

from tests.conftest import stack_env
from xsell.devenv.servers import LocalBroker, LocalRedis, LocalWorker

pytestmark = pytest.mark.integration
SASL_PW = "scram-pw-77d0e4"


def test_a_sasl_password_never_reaches_the_logs(
    broker: LocalBroker, redis_server: LocalRedis
) -> None:
    """Tansu answers SCRAM with UnsupportedSaslMechanism; the worker keeps trying and logs
    its errors (at DEBUG) for a few seconds, none with the password."""
    env = stack_env(
        broker,
        redis_server,
        XSELL_LOG_LEVEL="DEBUG",
        XSELL_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        XSELL_KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        XSELL_KAFKA_SASL_USERNAME="xsell",
        XSELL_KAFKA_SASL_PASSWORD=SASL_PW,
    )
    worker = LocalWorker(env)
    worker.launch()
    try:
        deadline = time.monotonic() + 30
        while "SASL" not in worker.log_text().upper() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)
    finally:
        worker.stop()
    log = worker.log_text()
    assert "sasl" in log.lower(), log[-2000:]  # it did try, and said so
    assert SASL_PW not in log
    assert "'sasl_password': '***'" in log  # settings.masked(), nested: kafka.sasl_password
