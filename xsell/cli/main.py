"""The xsell command line: the parser of every command, and one error policy for all of them.

Commands: the production ones (:mod:`xsell.cli.operate`) and the harness ones
(:mod:`xsell.cli.harness`, :mod:`xsell.cli.bench_args`). Whatever goes wrong that is not a bug
(invalid settings, a missing or unreadable file, an unreachable server) ends as one line on
stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from pydantic import ValidationError

from xsell.cli import (
    api_args,
    bench_args,
    connect_args,
    harness,
    notify_args,
    operate,
    rules_args,
    support_args,
)
from xsell.config.settings import safe_errors
from xsell.models.errors import XsellError

DESCRIPTION = (
    "xsell: streaming cross-sell recommendations. Kafka events -> Faust workers -> "
    "Redis co-occurrence -> suggestions. Settings come from XSELL_* variables or "
    "--config FILE (xsell config shows them)."
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="xsell", description=DESCRIPTION)
    top.add_argument("--config", help="TOML settings file (same as XSELL_CONFIG)")
    sub = top.add_subparsers(dest="command", required=True)
    operate.add_parsers(sub)
    notify_args.add_parsers(sub)
    api_args.add_parsers(sub)
    connect_args.add_parsers(sub)
    rules_args.add_parsers(sub)
    support_args.add_parsers(sub)
    harness.add_parsers(sub)
    bench_args.add_bench_parser(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.fn(args))
    except ValidationError as exc:
        print(f"xsell: invalid settings:\n{safe_errors(exc)}", file=sys.stderr)
        return 2
    except XsellError as exc:
        print(f"xsell: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file that is missing, unreadable, a directory ...
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"xsell: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
