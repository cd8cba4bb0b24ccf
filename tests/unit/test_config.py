import pytest

from streams.config import ConfigError, load_settings, settings_as_yaml
from streams.transports.kafka import split_client_settings


def test_defaults_are_the_embedded_backends():
    settings = load_settings(environ={})
    assert settings.kafka.bootstrap is None and settings.elasticsearch.url is None
    assert settings.topics.raw == "vigil.raw" and settings.classifier.model == "default"


def test_environment_overrides_file(tmp_path):
    config = tmp_path / "vigil.yaml"
    config.write_text("kafka:\n  bootstrap: file:9092\nclassifier:\n  batch_size: 4\n")
    settings = load_settings(config, environ={
        "VIGIL_KAFKA_BOOTSTRAP": "env:9092", "VIGIL_ELASTICSEARCH_PLAIN_JSON": "1",
        "VIGIL_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "VIGIL_KAFKA_LINGER_MS": "20",
        "VIGIL_DATA_DIR": "/var/lib/vigil", "VIGIL_CLASSIFIER_THRESHOLDS": '{"recruitment": 0.7}',
    })
    assert settings.kafka.bootstrap == "env:9092" and settings.classifier.batch_size == 4
    assert settings.elasticsearch.plain_json is True and str(settings.data_dir) == "/var/lib/vigil"
    assert settings.kafka.client == {"security_protocol": "SASL_SSL", "linger_ms": 20}
    assert settings.classifier.thresholds == {"recruitment": 0.7}


def test_bad_values_name_the_field(tmp_path):
    config = tmp_path / "vigil.yaml"
    config.write_text("topics:\n  partitions: many\n")
    with pytest.raises(ConfigError, match=r"topics\.partitions.*'many'"):
        load_settings(config, environ={})
    with pytest.raises(ConfigError, match="stage has no field 'bogus'"):
        load_settings(environ={"VIGIL_STAGE_BOGUS": "1"})
    with pytest.raises(ConfigError, match="threshold for 'x' must be between 0 and 1"):
        load_settings(environ={"VIGIL_CLASSIFIER_THRESHOLDS": '{"x": 3}'})
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.yaml", environ={})


def test_kafka_client_settings_pass_through_by_their_own_names():
    producer, consumer, admin = split_client_settings({"linger_ms": 5, "session_timeout_ms": 2000,
                                                       "security_protocol": "SSL"})
    assert producer == {"linger_ms": 5, "security_protocol": "SSL"}
    assert consumer == {"session_timeout_ms": 2000, "security_protocol": "SSL"}
    assert admin == {"security_protocol": "SSL"}
    with pytest.raises(ConfigError, match="kafka.client.lingerms: not a kafka-python setting"):
        split_client_settings({"lingerms": 5})
    with pytest.raises(ConfigError, match="enable_auto_commit"):
        split_client_settings({"enable_auto_commit": True})


@pytest.mark.parametrize("name, instead", [("bootstrap_servers", "VIGIL_KAFKA_BOOTSTRAP"),
                                           ("group_id", "VIGIL_STAGE_GROUP_PREFIX")])
def test_vigils_own_kafka_settings_given_as_client_settings_name_the_setting_to_use(name, instead):
    settings = load_settings(environ={"VIGIL_KAFKA_BOOTSTRAP": "127.0.0.1:9", f"VIGIL_KAFKA_{name.upper()}": "x"})
    with pytest.raises(ConfigError, match=f"kafka.client.{name}: set .*{instead}"):
        split_client_settings(settings.kafka.client)


def test_printed_settings_mask_secrets():
    settings = load_settings(environ={"VIGIL_ELASTICSEARCH_PASSWORD": "hunter2", "VIGIL_ELASTICSEARCH_USERNAME": "u"})
    assert "hunter2" not in settings_as_yaml(settings)
    assert settings.elasticsearch.password.get_secret_value() == "hunter2"


def test_secrets_come_from_files_and_are_never_printed(tmp_path):
    (tmp_path / "api-key").write_text("c2VjcmV0LWFwaS1rZXk=\n")
    (tmp_path / "kafka").write_text("kafka-pass")
    (tmp_path / "author").write_text("hmac-key")
    settings = load_settings(environ={
        "VIGIL_ELASTICSEARCH_API_KEY_FILE": str(tmp_path / "api-key"),
        "VIGIL_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "VIGIL_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "VIGIL_KAFKA_SASL_PLAIN_USERNAME": "vigil", "VIGIL_KAFKA_SASL_PLAIN_PASSWORD_FILE": str(tmp_path / "kafka"),
        "VIGIL_CRAWLER_AUTHOR_KEY_FILE": str(tmp_path / "author"),
        "VIGIL_CRAWLER_SOURCES_FILE": "sources.yaml",  # a setting that ends in _FILE is itself, not a secret file
    })
    assert settings.elasticsearch.api_key.get_secret_value() == "c2VjcmV0LWFwaS1rZXk="
    assert settings.crawler.author_key.get_secret_value() == "hmac-key"
    assert str(settings.crawler.sources_file) == "sources.yaml"
    assert settings.kafka.client == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                                     "sasl_plain_username": "vigil", "sasl_plain_password": "kafka-pass"}
    split_client_settings(settings.kafka.client)  # all real kafka-python settings
    printed = settings_as_yaml(settings)
    assert "kafka-pass" not in printed and "c2VjcmV0" not in printed and "hmac-key" not in printed
    assert "sasl_plain_username: vigil" in printed
    with pytest.raises(ConfigError, match="VIGIL_ELASTICSEARCH_PASSWORD_FILE: cannot read the secret file"):
        load_settings(environ={"VIGIL_ELASTICSEARCH_PASSWORD_FILE": str(tmp_path / "missing")})
