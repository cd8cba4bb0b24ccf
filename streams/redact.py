"""Credentials never reach a screen or a log: URLs lose their passwords, secret-named settings their values."""
from __future__ import annotations

import logging
import re

MASK = "*****"
# user:password@ in any URL (http://elastic:pw@host:9200, sasl over a proxy URL, ...)
URL_PASSWORD = re.compile(r"(?<=://)([^/@\s:]*):[^/@\s]+@")
# 'sasl_plain_password': 'x' in the dict reprs clients log, and password=x; not prose such as "password: wrong".
_SECRET_NAME = r"\w*(?:password|passwd|secret|token|api_key|apikey|credentials)\w*"
SECRET_VALUE = re.compile(rf"""((?:(['"]){_SECRET_NAME}\2\s*:|\b{_SECRET_NAME}=)\s*)(?:'[^']*'|"[^"]*"|[^\s,}})]+)""",
                          re.IGNORECASE)

def redact(text: str) -> str:
    text = URL_PASSWORD.sub(rf"\1:{MASK}@", text)
    return SECRET_VALUE.sub(lambda match: f"{match.group(1)}'{MASK}'", text)


class RedactingFilter(logging.Filter):
    """On a handler, so it sees every library's records (kafka-python logs its whole config at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def redact_logs(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of the logger (the root logger by default), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
