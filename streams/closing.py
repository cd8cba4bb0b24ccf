"""Connections to a backend (stores, transports) close at the end of a `with` block."""
from __future__ import annotations

from typing import TypeVar

T = TypeVar("T", bound="Closing")


class Closing:
    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Release what the backend holds (connections, files); nothing by default."""
