"""Errors that decide what the stage runner does with a failure."""


class TransientError(RuntimeError):
    """The broker or the index is unreachable or overloaded: back off and retry, skip nothing."""


class RejectedError(ValueError):
    """This one message can never succeed as it is (bad mapping, bad content): dead-letter it."""
