"""No credential reaches a screen or a log, at any log level, in any message (issue 9, item 8)."""
from __future__ import annotations

from tests.integration.test_operator_mistakes import vigil

SASL = {"VIGIL_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "VIGIL_KAFKA_SASL_MECHANISM": "PLAIN",
        "VIGIL_KAFKA_SASL_PLAIN_USERNAME": "vigil", "VIGIL_KAFKA_SASL_PLAIN_PASSWORD": "hunter2-kafka"}


def test_config_shows_urls_without_their_passwords(tmp_path):
    urls = {"VIGIL_ELASTICSEARCH_URL": "https://elastic:hunter2-es@es.example:9200",
            "VIGIL_KIBANA_URL": "https://kibana:hunter2-kb@kb.example:5601"}
    result = vigil("config", env={**urls, **SASL}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "https://elastic:*****@es.example:9200" in result.stdout
    assert "hunter2" not in result.stdout + result.stderr


def test_an_unreachable_elasticsearch_is_one_line_without_the_password(tmp_path):
    result = vigil("search", "x", env={"VIGIL_ELASTICSEARCH_URL": "http://elastic:hunter2-es@127.0.0.1:1",
                                       "VIGIL_DATA_DIR": str(tmp_path)}, cwd=tmp_path)
    assert result.returncode == 3 and "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) <= 3, result.stderr
    assert "Elasticsearch at http://elastic:*****@127.0.0.1:1" in result.stderr


def test_kafka_client_debug_logs_do_not_show_the_sasl_password(tmp_path):
    result = vigil("dlq", "show", env={"VIGIL_LOG_LEVEL": "debug", "VIGIL_KAFKA_BOOTSTRAP": "127.0.0.1:1",
                                       "VIGIL_DATA_DIR": str(tmp_path), **SASL}, cwd=tmp_path)
    assert "Starting KafkaAdminClient with configuration" in result.stderr  # the line that leaked it
    assert "hunter2" not in result.stderr and "'sasl_plain_password': '*****'" in result.stderr
