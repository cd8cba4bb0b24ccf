"""The deployment files are read by tools we cannot run here (no Docker engine): check them offline."""
import json
from pathlib import Path

import yaml

from streams.config import load_settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_compose_services_and_the_settings_they_pass():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka", "elasticsearch", "kibana", "setup", "scheduler", "classifier", "indexer"} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    for name in ("setup", "scheduler", "classifier", "indexer"):
        environment = {k: v for k, v in services[name]["environment"].items()}
        environment["VIGIL_CRAWLER_AUTHOR_KEY"] = "test-secret"
        settings = load_settings(environ=environment)  # every VIGIL_* variable is a real setting
        assert settings.kafka.bootstrap == "kafka:9092" and settings.elasticsearch.url.startswith("http://")
    commands = {name: services[name]["command"][0] for name in ("setup", "scheduler", "classifier", "indexer")}
    assert commands == {"setup": "setup", "scheduler": "run", "classifier": "classify", "indexer": "index"}


def test_index_template_is_a_composable_template_for_the_alias():
    template = json.loads((DEPLOY / "elasticsearch" / "index-template.json").read_text())
    assert template["index_patterns"] == ["vigil-*"]
    properties = template["template"]["mappings"]["properties"]
    for field in ("id", "url", "title", "text", "source", "lang", "flagged", "labels", "scores", "max_score",
                  "fetched_at", "model_version", "evidence", "review"):
        assert field in properties
    assert set(properties["text"]["fields"]) >= {"en", "ru", "ar", "zh"}
    assert properties["review"]["properties"]["status"]["type"] == "keyword"
