"""The settings of the end-to-end tests: the default model, on the embedded defaults and on the test servers."""
import pytest

from tests.conftest import FAST_GROUP


@pytest.fixture(params=["embedded", "kafka+elasticsearch"])
def pipeline_settings(request, settings, default_model):
    settings.classifier.model = str(default_model)
    if request.param != "embedded":
        settings.kafka.bootstrap = request.getfixturevalue("kafka_bootstrap")
        settings.kafka.client = dict(FAST_GROUP)
        settings.elasticsearch.url = request.getfixturevalue("elasticsearch_url")
    return settings
