"""Sampling profile of a worker under load with py-spy (dev extra; ``pip install py-spy``).

``Profiler(pid, path)`` attaches ``py-spy record --format raw --gil`` (collapsed stacks of the
thread holding the GIL: a thread waiting for the GIL in a socket write is not busy) to a running
worker until :meth:`Profiler.stop`; :func:`top_costs` turns the collapsed stacks into the
functions (``file:function``) with the largest self and inclusive shares of the samples in
which the worker was busy (samples waiting in the event loop's ``select`` are counted apart).
"""

from __future__ import annotations

import logging
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from xsell.models.errors import XsellError

log = logging.getLogger(__name__)

IDLE_LEAVES = ("selectors.py:EpollSelector.select", "selectors.py:select")
_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def py_spy() -> str:
    """The py-spy executable (on PATH or beside this Python's), else XsellError."""
    beside = Path(sys.executable).parent / "py-spy"
    found = shutil.which("py-spy") or (str(beside) if beside.is_file() else None)
    if found is None:
        raise XsellError("--profile needs py-spy: pip install py-spy")
    return found


class Profiler:
    def __init__(self, pid: int, path: Path, rate: int = 200) -> None:
        binary = py_spy()
        self.path = path
        self.proc = subprocess.Popen(
            [
                binary,
                "record",
                "--pid",
                str(pid),
                "--format",
                "raw",
                "--rate",
                str(rate),
                "--nonblocking",
                "--gil",
                "--output",
                str(path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def stop(self) -> None:
        """SIGINT: py-spy writes the profile and exits."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        if not self.path.is_file():
            raise XsellError(f"py-spy wrote no profile: {err.decode(errors='replace')[-500:]}")


def _short(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            return (
                path.split(marker, 1)[1]
                if marker == "site-packages/"
                else "stdlib/" + path.split(marker, 1)[1].split("/", 1)[-1]
            )
    for root in ("/xsell/", "/streams/", "/models/", "/config/"):
        if root in path:
            return root.strip("/") + "/" + path.split(root, 1)[1]
    return path


def _frame(text: str) -> str:
    match = _FRAME.match(text.strip())
    if not match:
        return text.strip()
    return f"{_short(match['file'])}:{match['fn']}"


def top_costs(path: Path, n: int = 15) -> dict[str, Any]:
    """Self and inclusive sample shares of the ``n`` costliest functions."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = idle = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame(f) for f in stack.split(";") if f]
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        if frames[-1].endswith(IDLE_LEAVES):  # the event loop waiting: not CPU
            idle += count
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    if not total:
        return {"samples": 0, "idle_samples": idle, "self": [], "inclusive": []}

    def share(counter: Counter[str]) -> list[dict[str, Any]]:
        return [
            {"function": name, "share": round(c / total, 4)} for name, c in counter.most_common(n)
        ]

    return {
        "samples": total,
        "idle_samples": idle,
        "self": share(own),
        "inclusive": share(inclusive),
    }
