"""Credentials are masked wherever text reaches a screen or a log."""
from __future__ import annotations

import logging

import pytest

from streams.redact import RedactingFilter, redact


@pytest.mark.parametrize("text, secret", [
    ("http://elastic:hunter2@es.example:9200/_bulk", "hunter2"),
    ("tcp://user:p%40ss@broker:9092", "p%40ss"),
    ("configuration: {'sasl_plain_password': 'hunter2', 'acks': 'all'}", "hunter2"),
    ('{"api_key": "aWQ6a2V5"}', "aWQ6a2V5"),
    ("login password=hunter2 failed", "hunter2"),
])
def test_secrets_are_masked_and_the_rest_is_kept(text, secret):
    masked = redact(text)
    assert secret not in masked and "*****" in masked
    assert masked.startswith(text.split(secret)[0].rstrip("'\""))  # what precedes the secret is kept


def test_prose_about_a_setting_is_left_alone():
    for text in ("kafka.client.sasl_plain_password: not a kafka-python setting", "https://es.example:9200/x"):
        assert redact(text) == text


def test_the_filter_masks_messages_arguments_and_tracebacks():
    try:
        raise ConnectionError("cannot reach http://u:hunter2@host:9200")
    except ConnectionError:
        record = logging.LogRecord("kafka", logging.DEBUG, __file__, 1, "config %s", ({"sasl_plain_password": "x1"},),
                                   exc_info=__import__("sys").exc_info())
    assert RedactingFilter().filter(record)
    assert "x1" not in record.getMessage() and "hunter2" not in record.exc_text
