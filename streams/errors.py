"""Errors that decide what the stage runner does with a failure."""
from __future__ import annotations


class TransientError(RuntimeError):
    """The broker or the index is unreachable or overloaded: back off and retry, skip nothing."""


class RejectedError(ValueError):
    """This one message can never succeed as it is (bad mapping, bad content): dead-letter it."""


class DeliveryError(RuntimeError):
    """Some queued messages were not stored; the others were, and must not be sent again.

    undelivered maps each failed message's position (in send order since the last flush) to its
    error; permanent holds the positions that can never be stored as they are (too large, invalid).
    """

    def __init__(self, message: str, undelivered: dict[int, Exception], permanent: set[int]):
        super().__init__(message)
        self.undelivered = undelivered
        self.permanent = permanent


class PartialDeliveryError(DeliveryError, TransientError):
    """Some messages may be stored on a retry (broker unreachable, timed out)."""


class UndeliverableError(DeliveryError, RejectedError):
    """Every failed message was refused for good: retrying cannot help."""


def delivery_error(what: str, undelivered: dict[int, Exception], permanent: set[int]) -> DeliveryError:
    kind = UndeliverableError if permanent == set(undelivered) else PartialDeliveryError
    first = next(iter(undelivered.values()))
    return kind(f"{what}: {len(undelivered)} message(s) not stored ({len(permanent)} refused for good), "
                f"first: {type(first).__name__}: {first}", undelivered, permanent)
