"""A redis-server on TLS only (mutual, certificates made with openssl) with the ACL user of
docs/security.md and a password on the default user, and the settings and clients that reach it
(tests/integration/test_security_live_tls.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from xsell.devenv.servers import _Child, redis_server_binary

REDIS_PW = "acl-pw-5e1f0a"
DEFAULT_PW = "default-pw-c9b2"
# the ACL of docs/security.md, with the tests' key namespaces (t<n>, tls<n>) for xs:*
ACL = [
    "~t*",
    "resetchannels",
    "-@all",
    "+@read",
    "+@write",
    "+@scripting",
    "+@connection",
    "-@dangerous",
    "+info",
]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(where: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    if shutil.which("openssl") is None:
        pytest.fail("openssl is needed for the TLS tests (apt-get install -y openssl)")
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=xsell-test-ca",
        cwd=where,
    )
    (where / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, extra in (("server", ["-extfile", "san.cnf"]), ("client", [])):
        openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            f"/CN=xsell-{name}",
            cwd=where,
        )
        openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            f"{name}.crt",
            "-days",
            "2",
            *extra,
            cwd=where,
        )
    return where


class TlsRedis(_Child):
    """redis-server on a TLS port only, client certificates required, an ACL user ``xsell``
    and a password on the default user."""

    name = "redis-tls"

    def __init__(self, certs: Path) -> None:
        super().__init__()
        self.certs = certs

    def command(self) -> list[str]:
        c = self.certs
        return [
            redis_server_binary(),
            "--port",
            "0",
            "--tls-port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            str(c / "server.crt"),
            "--tls-key-file",
            str(c / "server.key"),
            "--tls-ca-cert-file",
            str(c / "ca.crt"),
            "--tls-auth-clients",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            DEFAULT_PW,
            "--user",
            "xsell",
            "on",
            f">{REDIS_PW}",
            *ACL,
        ]


def tls_env(server: TlsRedis) -> dict[str, str]:
    c = server.certs
    return {
        "XSELL_REDIS_URL": f"rediss://127.0.0.1:{server.port}/0",
        "XSELL_REDIS_USERNAME": "xsell",
        "XSELL_REDIS_PASSWORD": REDIS_PW,
        "XSELL_REDIS_TLS_CA_FILE": str(c / "ca.crt"),
        "XSELL_REDIS_TLS_CERT_FILE": str(c / "client.crt"),
        "XSELL_REDIS_TLS_KEY_FILE": str(c / "client.key"),
    }


def sync_client(server: TlsRedis, **over: Any) -> redis.Redis:
    c = server.certs
    options: dict[str, Any] = {
        "port": server.port,
        "ssl": True,
        "username": "xsell",
        "password": REDIS_PW,
        "ssl_ca_certs": str(c / "ca.crt"),
        "ssl_certfile": str(c / "client.crt"),
        "ssl_keyfile": str(c / "client.key"),
        "decode_responses": True,
        "socket_timeout": 5,
        "retry": Retry(NoBackoff(), 0),
    }
    options.update(over)
    return redis.Redis(**options)
