"""What every command shares: settings and logging, the sources file, stopping on signals, argument types."""
from __future__ import annotations

import argparse
import logging
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import Callable

from streams.config import VigilSettings, load_settings
from streams.redact import redact_logs

# How a command group adds a command: command(name, handler, help) -> its argument parser.
AddCommand = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def settings_of(args: argparse.Namespace) -> VigilSettings:
    """The settings in effect (--config, VIGIL_CONFIG or ./vigil.yaml, then VIGIL_*), with logging set up."""
    settings = load_settings(args.config)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact_logs()
    if settings.log_level.upper() != "DEBUG":
        # kafka-python logs every connection attempt at INFO; elastic_transport logs each retry of a request
        # with its traceback at WARNING, before Vigil says in one line what failed and what to do.
        logging.getLogger("kafka").setLevel(logging.WARNING)
        logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    return settings


def sources_file_of(args: argparse.Namespace, settings: VigilSettings) -> Path:
    return Path(args.sources) if getattr(args, "sources", None) else settings.crawler.sources_file


def stop_on_signals() -> threading.Event:
    """SIGTERM/SIGINT: stages finish the batch in hand, commit and exit."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def probability(text: str) -> float:
    """A share, a score or a probability: from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 1")
    return value


def iso_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or time: {text!r} (like 2026-11-28 or 2026-11-28T10:00)") from None
