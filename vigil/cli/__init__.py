"""The `vigil` command: run the pipeline or one stage, search and review, train, set up, demo.

Each command group lives in its own module (pipeline, crawling, review, models, console, hashlists) and registers its
commands here; a handler parses its arguments, calls one library function and prints."""
from __future__ import annotations

import argparse
import os
import sys

from pydantic import ValidationError

from streams.config import ConfigError
from streams.errors import TransientError
from streams.redact import redact
from vigil.cli import console, crawling, hashlists, models, pipeline, review

DESCRIPTION = """Vigil finds terrorist recruitment and propaganda on the public web and puts every
flag in front of a person. Stages: crawl (Scrapy) -> vigil.raw -> classify -> vigil.classified
-> index (Elasticsearch or the embedded store). Without Kafka or Elasticsearch configured,
everything runs on embedded defaults in the data directory (.vigil)."""

EPILOG = """configuration: a YAML file (--config, VIGIL_CONFIG or ./vigil.yaml) and VIGIL_* variables,
e.g. VIGIL_KAFKA_BOOTSTRAP=host:9092, VIGIL_ELASTICSEARCH_URL=http://host:9200.
`vigil config` prints every setting in effect."""

GROUPS = (pipeline, crawling, review, models, console, hashlists)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigil", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML settings file (default: VIGIL_CONFIG or ./vigil.yaml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, handler, help_text):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    for group in GROUPS:
        group.register(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(redact(f"vigil: {exc}"), file=sys.stderr)
        return 2
    except TransientError as exc:
        print(redact(f"vigil: {exc}") + "\nIs the server running and reachable? Check VIGIL_KAFKA_BOOTSTRAP / "
              "VIGIL_ELASTICSEARCH_URL (`vigil config` shows what is in effect).", file=sys.stderr)
        return 3
    except ValidationError as exc:  # a value given on the command line that a message or record cannot hold
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(redact(f"vigil {args.command}: {problems}"), file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`vigil search | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except OSError as exc:  # a file or folder that cannot be read or written: say which
        detail = f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc)
        print(f"vigil {args.command}: {detail} (check the path and its permissions)", file=sys.stderr)
        return 1
