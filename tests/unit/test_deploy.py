"""The deployment files are read by tools we cannot run here (no Docker engine): check them offline."""
from pathlib import Path

import yaml

from streams.config import load_settings
from streams.stores.elastic_layout import Layout, field_paths

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


def test_index_templates_compose_the_component_templates_for_each_retention_class():
    layout = Layout()
    templates, components = layout.index_templates(), layout.component_templates()
    for retention in ("flagged", "unflagged"):
        template = templates[f"vigil-{retention}"]
        assert template["index_patterns"] == [f"vigil-{retention}-*"]
        assert set(template["composed_of"]) <= set(components)
        assert template["template"]["aliases"] == {"vigil": {}}  # every index joins the read alias
        assert template["template"]["settings"]["index"]["lifecycle"]["name"] in layout.lifecycle_policies()
    assert "lifecycle" not in layout.index_templates(lifecycle=False)["vigil-flagged"]["template"]["settings"]["index"]
    fields = field_paths(layout.document_mappings())
    for field in ("id", "url", "domain", "title", "text.en", "text.ru", "text.ar", "text.fa", "text.zh", "source",
                  "lang", "flagged", "labels", "scores.recruitment", "max_score", "fetched_at", "model_version",
                  "evidence.text", "review.status", "review.reviewer", "review.decided_at", "review.note"):
        assert field in fields


def test_templates_are_renamed_for_another_alias():
    layout = Layout(alias="osint")
    templates = layout.index_templates()
    assert set(templates) == {"osint-flagged", "osint-unflagged", "osint-alerts"}
    assert templates["osint-flagged"]["composed_of"] == ["osint-analysis", "osint-documents", "osint-review"]
    assert templates["osint-flagged"]["template"]["aliases"] == {"osint": {}}
    assert templates["osint-flagged"]["template"]["settings"]["index"]["lifecycle"] == {
        "name": "osint-flagged", "rollover_alias": "osint-flagged"}
    assert layout.retention_of("osint-unflagged-000003") == "unflagged" and layout.retention_of("other") is None


def test_unflagged_documents_expire_before_flagged_ones():
    policies = Layout().lifecycle_policies()
    days = {name: int(p["policy"]["phases"]["delete"]["min_age"].rstrip("d")) for name, p in policies.items()}
    assert days["vigil-unflagged"] < days["vigil-flagged"]
