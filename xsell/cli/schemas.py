"""Write or check docs/schemas/*.json, generated from the message models
(:mod:`xsell.models.messages.schemas`): ``python -m xsell.cli.schemas --write`` (``make schemas``)
after changing a model, ``--check`` to list stale files (exit 1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from xsell.models.messages.schemas import MODELS, render

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def stale(directory: Path = SCHEMA_DIR) -> list[str]:
    """The schema files whose committed text differs from what the models generate."""
    return [
        name
        for name in MODELS
        if not (path := directory / f"{name}.schema.json").exists()
        or path.read_text(encoding="utf-8") != render(name)
    ]


def write(directory: Path = SCHEMA_DIR) -> list[str]:
    """Regenerate the stale files; returns their names."""
    names = stale(directory)
    for name in names:
        (directory / f"{name}.schema.json").write_text(render(name), encoding="utf-8")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xsell.cli.schemas", description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite the stale files")
    args = parser.parse_args(argv)
    names = write() if args.write else stale()
    verb = "wrote" if args.write else "stale"
    print(f"{verb}: {', '.join(names)}" if names else "docs/schemas is up to date")
    return 1 if names and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
