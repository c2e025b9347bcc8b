"""Records/s of the two readers of an input record, on realistic records: the worker's fast
parser (models/validate.py) and the message declarations' pydantic ``model_validate_json``
(models/messages/reader.py), each giving the engine's event.

    .venv/bin/python -m xsell.bench.parse_bench [--records N] [--repeat R] [--json]

One core, no I/O; the best of R passes over the same N records of each mix (cart events as a
storefront sends them, purchases of 1..8 lines, catalogue records).
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from xsell.models.events import Limits
from xsell.models.messages.reader import read_message
from xsell.models.validate import parse_record

log = logging.getLogger(__name__)
Reader = Callable[[str, bytes, Limits], Any]


def cart_records(n: int, r: random.Random) -> list[bytes]:
    """Add-to-cart events with the optional fields a shop sends."""
    return [
        json.dumps(
            {
                "event_id": f"c-20240601-{i:06d}",
                "type": "add_to_cart",
                "user_id": str(10000 + r.randrange(5000)),
                "item_id": f"{r.randrange(20000, 90000)}A",
                "ts": "2024-06-01T10:15:00.123Z" if i % 2 else 1717236900 + i,
                "quantity": r.randint(1, 4),
                "price": round(r.uniform(0.5, 90), 2),
                "session_id": f"s-{i // 7}",
            }
        ).encode()
        for i in range(n)
    ]


def order_records(n: int, r: random.Random) -> list[bytes]:
    """Purchases of 1..8 lines."""
    return [
        json.dumps(
            {
                "event_id": f"order-{i:024x}",
                "type": "purchase",
                "order_id": str(489434 + i),
                "user_id": str(10000 + r.randrange(5000)),
                "ts": "2024-06-01T12:20:00+02:00",
                "items": [
                    {"item_id": f"{r.randrange(20000, 90000)}", "quantity": 1, "price": 2.55}
                    for _ in range(r.randint(1, 8))
                ],
            }
        ).encode()
        for i in range(n)
    ]


def catalog_records(n: int, r: random.Random) -> list[bytes]:
    return [
        json.dumps(
            {
                "type": "item",
                "item_id": f"{20000 + i}",
                "category": f"cat-{i % 40}",
                "price": round(r.uniform(0.5, 90), 2),
                "stock": r.randrange(0, 500),
                "active": True,
                "name": f"WHITE HANGING HEART T-LIGHT HOLDER {i}",
            }
        ).encode()
        for i in range(n)
    ]


MIXES = {"cart-events": cart_records, "orders": order_records, "catalog": catalog_records}
READERS: dict[str, Reader] = {"fast parser": parse_record, "pydantic": read_message}


def rate(read: Reader, stream: str, records: Sequence[bytes], repeat: int) -> float:
    """Best records/s of ``repeat`` passes."""
    limits = Limits()
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for raw in records:
            read(stream, raw, limits)
        best = min(best, time.perf_counter() - started)
    return len(records) / best


def run(records: int = 20000, repeat: int = 5, seed: int = 1) -> dict[str, dict[str, float]]:
    """records/s per mix and reader."""
    out: dict[str, dict[str, float]] = {}
    for stream, make in MIXES.items():
        values = make(records, random.Random(seed))
        out[stream] = {name: rate(read, stream, values, repeat) for name, read in READERS.items()}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.records, args.repeat)
    if args.json:
        log.warning("%s", json.dumps(result))
        return
    for stream, rates in result.items():
        fast, decl = rates["fast parser"], rates["pydantic"]
        log.warning(
            "%-12s fast parser %9.0f rec/s   pydantic %9.0f rec/s   (%.2fx)",
            stream,
            fast,
            decl,
            fast / decl,
        )


if __name__ == "__main__":
    logging.basicConfig(format="%(message)s")
    main()
