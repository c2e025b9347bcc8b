"""A throw-away Redis Cluster on loopback (three masters, no replicas) for tests and
measurements: ``redis-server --cluster-enabled yes`` per node on free ports, joined with
``redis-cli --cluster create``; every node is our child, stopped by its PID."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import redis

from xsell.devenv.servers import REDIS_TUNING, _Child, free_port, redis_server_binary
from xsell.models.errors import XsellError


class ClusterNode(_Child):
    name = "redis-cluster-node"

    def __init__(self, workdir: Path) -> None:
        super().__init__()
        self.bus_port = free_port()  # explicit: the default, port + 10000, may be taken
        self.workdir = workdir / str(self.port)
        self.workdir.mkdir(parents=True, exist_ok=True)

    def command(self) -> list[str]:
        return [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-port",
            str(self.bus_port),
            "--cluster-node-timeout",
            "5000",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            *REDIS_TUNING,
        ]


class LocalRedisCluster:
    """``masters`` Redis Cluster primaries covering all 16384 slots."""

    def __init__(self, masters: int = 3) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="xsell-cluster-"))
        self.nodes = [ClusterNode(self.workdir) for _ in range(masters)]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    @property
    def ports(self) -> list[int]:
        return [node.port for node in self.nodes]

    def start(self, timeout: float = 30.0) -> None:
        try:
            for node in self.nodes:
                node.start()
            cli = shutil.which("redis-cli") or shutil.which("valkey-cli")
            if cli is None:
                raise XsellError("redis-cli not found: apt-get install -y redis-tools")
            subprocess.run(
                [
                    cli,
                    "--cluster",
                    "create",
                    *(f"127.0.0.1:{p}" for p in self.ports),
                    "--cluster-replicas",
                    "0",
                    "--cluster-yes",
                ],
                check=True,
                capture_output=True,
                timeout=timeout,
            )
            self._wait_ok(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ok(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = []
            for port in self.ports:
                with redis.Redis(port=port, decode_responses=True) as client:
                    info = client.execute_command("CLUSTER", "INFO")
                    text = info if isinstance(info, str) else str(info)
                    states.append("cluster_state:ok" in text)
            if all(states):
                return
            time.sleep(0.1)
        raise XsellError(f"cluster on {self.ports} not ok within {timeout}s")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def key_counts(self) -> list[int]:
        """DBSIZE of every primary."""
        counts = []
        for port in self.ports:
            with redis.Redis(port=port) as client:
                counts.append(int(client.dbsize()))
        return counts

    def __enter__(self) -> LocalRedisCluster:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
