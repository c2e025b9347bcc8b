"""Open-loop HTTP load and event-stream listeners for ``xsell bench api``.

Why not hey or wrk for the fixed-rate runs: hey's workers tick together (N requests at the same
instant every 1/q s), which measures bursts, not a rate; wrk has no fixed rate (wrk2 is not in
Debian). Here requests start at Poisson arrival times, whether or not earlier ones answered
(open loop: a slow server cannot slow the load down and hide its own latency), on a pool of
keep-alive connections that grows when all are busy. Latency runs from the scheduled start to
the last byte. Top speed is wrk's job (xsell/bench/api_bench.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds
    seconds: float = 0.0
    connections: int = 0

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 3) if lat else None

        return {
            "sent": self.sent,
            "ok": self.ok,
            "errors": self.errors,
            "rate": round(self.ok / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "max_ms": round(lat[-1] * 1000, 3) if lat else None,
            "connections": self.connections,
        }


class _Connection:
    """One keep-alive HTTP/1.1 connection: a request, then its whole response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(self, raw: bytes) -> int:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await self.reader.readexactly(length)
        return status


def request_bytes(
    host: str, path: str, headers: dict[str, str], method: str = "GET", body: bytes = b""
) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        "Connection: keep-alive",
        *[f"{k}: {v}" for k, v in headers.items()],
    ]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def open_loop(
    url: str,
    paths: Sequence[str],
    rate: float,
    seconds: float,
    headers: dict[str, str],
    *,
    seed: int = 0,
    connections: int = 32,
) -> LoadResult:
    """GET ``paths`` (in turn) at Poisson arrivals of ``rate`` per second for ``seconds``.

    A scheduler puts each request's start time on a queue; ``connections`` keep-alive
    connections take them in turn. A request waiting for a free connection counts its wait
    (latency is from the scheduled start), so a server that falls behind shows it."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    raws = [request_bytes(f"{host}:{port}", p, headers) for p in paths]
    result = LoadResult()
    queue: asyncio.Queue[tuple[bytes, float] | None] = asyncio.Queue()

    async def connection() -> None:
        conn = _Connection(*await asyncio.open_connection(host, port))
        result.connections += 1
        try:
            while (job := await queue.get()) is not None:
                raw, scheduled = job
                try:
                    status = await conn.request(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    result.errors += 1
                    conn = _Connection(*await asyncio.open_connection(host, port))
                    continue
                if 200 <= status < 300:
                    result.ok += 1
                    result.latencies.append(time.perf_counter() - scheduled)
                else:
                    result.errors += 1
        finally:
            conn.writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    rng = random.Random(seed)
    started = time.perf_counter()
    at, n = started, 0
    while at - started < seconds:
        at += rng.expovariate(rate)
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait((raws[n % len(raws)], at))
        n += 1
    result.sent = n
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.wait(workers, timeout=60)
    result.seconds = time.perf_counter() - started
    return result


def run_open_loop(
    url: str, paths: Sequence[str], rate: float, seconds: float, headers: dict[str, str]
) -> dict[str, Any]:
    """:func:`open_loop` on uvloop in a process of its own (the load must not share an
    interpreter, a loop or a GIL with anything it measures)."""
    import subprocess
    import sys

    spec = json.dumps(
        {"url": url, "paths": list(paths), "rate": rate, "seconds": seconds, "headers": headers}
    )
    out = subprocess.run(
        [sys.executable, "-m", "xsell.bench.http_load"],
        input=spec,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=True,
    )
    summary: dict[str, Any] = json.loads(out.stdout)
    return summary


def main() -> None:
    """``python -m xsell.bench.http_load`` < spec JSON > summary JSON."""
    import sys

    import uvloop

    spec = json.loads(sys.stdin.read())
    result = uvloop.run(
        open_loop(spec["url"], spec["paths"], spec["rate"], spec["seconds"], spec["headers"])
    )
    sys.stdout.write(json.dumps(result.summary()))


async def listen(
    url: str,
    path: str,
    headers: dict[str, str],
    on_event: Callable[[dict[str, Any], float], None],
    ready: asyncio.Event | None = None,
) -> None:
    """Read an event stream (SSE) until cancelled; ``on_event(message, arrival)`` for each
    ``event: suggestion`` whose data parses."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request_bytes(f"{host}:{port}", path, {**headers, "Accept": "text/event-stream"}))
    try:
        await reader.readuntil(b"\r\n\r\n")
        if ready is not None:
            ready.set()
        event = ""
        while True:
            line = (await reader.readline()).decode().rstrip("\r\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "suggestion":
                arrival = time.perf_counter()
                with contextlib.suppress(ValueError):
                    on_event(json.loads(line[5:].strip()), arrival)
            elif not line:
                event = ""
    finally:
        writer.close()


if __name__ == "__main__":
    main()
