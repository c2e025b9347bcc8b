"""What the benchmark reads around a run: the machine, the load average, CPU seconds of
processes (/proc/PID/stat utime + stime), Redis INFO (commands, CPU, memory) and the counters a
bench worker writes (:mod:`xsell.bench.agents`)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

TICKS = os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The 1-minute load average."""
    return round(os.getloadavg()[0], 2)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    with contextlib.suppress(OSError, IndexError, subprocess.SubprocessError):
        mem = (
            subprocess.run(["free", "-h"], capture_output=True, text=True, check=False, timeout=5)
            .stdout.splitlines()[1]
            .split()[1]
        )
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime: fields 14, 15


@dataclass(frozen=True)
class RedisSnapshot:
    commands: int  # total_commands_processed (commands run by Lua scripts included)
    cpu: float  # used_cpu_user + used_cpu_sys, seconds
    used_memory: int
    calls: dict[str, int]  # per command, from INFO commandstats

    def minus(self, before: RedisSnapshot) -> dict[str, Any]:
        calls = {k: v - before.calls.get(k, 0) for k, v in self.calls.items()}
        return {
            "commands": self.commands - before.commands,
            "cpu": self.cpu - before.cpu,
            "calls": {k: v for k, v in sorted(calls.items()) if v > 0},
        }


def redis_snapshot(client: redis.Redis) -> RedisSnapshot:
    stats: dict[str, Any] = client.info("stats")
    cpu: dict[str, Any] = client.info("cpu")
    memory: dict[str, Any] = client.info("memory")
    commandstats: dict[str, Any] = client.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in commandstats.items()}
    return RedisSnapshot(
        int(stats["total_commands_processed"]),
        float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]),
        int(memory["used_memory"]),
        calls,
    )


COUNTERS = ("round_trips", "commands", "events", "outputs")


def worker_counters(path: Path) -> dict[str, int]:
    """The sums of the counters the bench workers last wrote to ``PATH.N`` (zeros before
    their first write)."""
    total = dict.fromkeys(COUNTERS, 0)
    for file in path.parent.glob(path.name + ".*"):
        if file.suffix == ".tmp":  # being written
            continue
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError):
            continue
        for name in COUNTERS:
            total[name] += int(data.get(name, 0))
    return total


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of an ascending list; None when empty."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * q // 100))
    return sorted_values[int(rank) - 1]
