"""The deployment files are read by tools we cannot run here (no Docker engine): check them offline."""
import json
import re
from importlib.resources import files
from pathlib import Path

import kubernetes_validate
import yaml
from jsonschema import Draft7Validator

from streams.config import VigilSettings, load_settings
from streams.stores.elastic_layout import Layout, field_paths

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBERNETES_VERSION = "1.33.0"


def compose_file() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_compose_file_validates_against_the_compose_specification():
    schema = json.loads((files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text())
    errors = sorted(Draft7Validator(schema).iter_errors(compose_file()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_image_holds_every_package_the_distribution_installs():
    project = (DEPLOY.parent / "pyproject.toml").read_text()
    packages = re.findall(r'"(\w+)\*"', re.search(r"\[tool.setuptools.packages.find\]\ninclude = (.*)", project)[1])
    copied = set(re.findall(r"^COPY (\S+) \1$", (DEPLOY / "Dockerfile").read_text(), re.MULTILINE))
    assert set(packages) == {"crawlers", "classifiers", "streams", "vigil"} and set(packages) <= copied


def test_compose_services_and_the_settings_they_pass(tmp_path):
    services = compose_file()["services"]
    assert {"kafka", "certs", "elasticsearch", "users", "kibana", "setup", "scheduler", "classifier",
            "indexer"} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert services["elasticsearch"]["environment"]["xpack.security.http.ssl.enabled"] == "true"
    (tmp_path / "author_key").write_text("test-secret")
    for name in ("setup", "scheduler", "classifier", "indexer"):
        environment = {k: str(v) for k, v in services[name]["environment"].items()}
        environment["VIGIL_CRAWLER_AUTHOR_KEY_FILE"] = str(tmp_path / "author_key")
        settings = load_settings(environ=environment)  # every VIGIL_* variable is a real setting
        assert settings.kafka.bootstrap == "kafka:9092" and settings.elasticsearch.url.startswith("https://")
        assert settings.topics.partitions == 6 and str(settings.elasticsearch.ca_certs) == "/certs/ca/ca.crt"
    commands = {name: services[name]["command"][0] for name in ("setup", "scheduler", "classifier", "indexer")}
    assert commands == {"setup": "setup", "scheduler": "run", "classifier": "classify", "indexer": "index"}
    assert services["classifier"]["deploy"]["replicas"] >= 2
    assert services["indexer"]["environment"]["VIGIL_ELASTICSEARCH_USERNAME"] == "vigil_indexer"
    for name in ("kafka", "elasticsearch", "kibana", "classifier", "indexer", "scheduler"):
        assert "test" in services[name]["healthcheck"], f"{name} has no health check"
    roles = {path.stem for path in (DEPLOY / "elasticsearch" / "roles").glob("*.json")}
    assert {"vigil_setup", "vigil_indexer", "vigil_reviewer", "vigil_analyst"} <= roles


def kubernetes_documents():
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                yield path.name, document


def test_kubernetes_manifests_validate_against_the_schemas():
    kinds = set()
    for _, document in kubernetes_documents():
        if document["kind"] == "Kustomization":
            listed = set(document["resources"])
            assert listed <= {path.name for path in (DEPLOY / "kubernetes").glob("*.yaml")}
            continue
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)  # raises with the path on error
        kinds.add(document["kind"])
    assert {"Deployment", "HorizontalPodAutoscaler", "CronJob", "Job", "ConfigMap", "Secret", "NetworkPolicy"} <= kinds


def test_kubernetes_workloads_use_real_settings_and_existing_volumes():
    documents = {(d["kind"], d.get("metadata", {}).get("name")): d for _, d in kubernetes_documents()}
    config = yaml.safe_load(documents[("ConfigMap", "vigil-config")]["data"]["vigil.yaml"])
    VigilSettings.model_validate(config)
    sources = yaml.safe_load(documents[("ConfigMap", "vigil-config")]["data"]["sources.yaml"])["sources"]
    hpa = documents[("HorizontalPodAutoscaler", "vigil-classifier")]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "vigil-classifier" and hpa["maxReplicas"] <= config["topics"]["partitions"]
    for source in sources:
        cronjob = documents[("CronJob", f"vigil-crawl-{source['id']}")]["spec"]
        assert cronjob["schedule"] == source["schedule"] and cronjob["concurrencyPolicy"] == "Forbid"
    for (kind, name), document in documents.items():
        if kind not in ("Deployment", "Job", "CronJob"):
            continue
        spec = document["spec"]
        pod = (spec.get("jobTemplate", {}).get("spec") or spec)["template"]["spec"]
        volumes = {volume["name"] for volume in pod["volumes"]}
        for container in pod["containers"]:
            assert {mount["name"] for mount in container["volumeMounts"]} <= volumes, name
            environment = {e["name"]: e["value"] for e in container["env"] if e["name"].startswith("VIGIL_")}
            secret_files = {k: v for k, v in environment.items() if k.endswith("_FILE") and k != "VIGIL_CONFIG"}
            mounted = [mount["mountPath"] for mount in container["volumeMounts"]]
            for variable, path in secret_files.items():
                assert any(path.startswith(m + "/") for m in mounted), f"{name}: {variable} is not on a mounted volume"
            load_settings(environ={k: v for k, v in environment.items()
                                   if k not in secret_files and k != "VIGIL_CONFIG"})


def test_grafana_dashboard_queries_metrics_the_stages_expose():
    from streams.metrics import OUTCOMES

    exposed = {"vigil_stage_messages_total", "vigil_stage_consumer_lag", "vigil_stage_batch_seconds_bucket", "up"}
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "vigil-stages.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            names = set(re.findall(r"\b(vigil_[a-z_]+|up)\b", target["expr"]))
            assert names and names <= exposed, (panel["title"], names - exposed)
            for outcome in re.findall(r'outcome="([a-z_]+)"', target["expr"]):
                assert outcome in OUTCOMES


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
    assert set(templates) == {"osint-flagged", "osint-unflagged", "osint-alerts", "osint-reviews", "osint-hashlists",
                              "osint-hashlist-entries"}
    assert not templates["osint-hashlists"]["template"].get("aliases")  # outside what analysts search
    assert templates["osint-flagged"]["composed_of"] == ["osint-analysis", "osint-documents", "osint-review"]
    assert templates["osint-flagged"]["template"]["aliases"] == {"osint": {}}
    assert templates["osint-flagged"]["template"]["settings"]["index"]["lifecycle"] == {
        "name": "osint-flagged", "rollover_alias": "osint-flagged"}
    assert layout.retention_of("osint-unflagged-000003") == "unflagged" and layout.retention_of("other") is None


def test_unflagged_documents_expire_before_flagged_ones():
    policies = Layout().lifecycle_policies()
    days = {name: int(p["policy"]["phases"]["delete"]["min_age"].rstrip("d")) for name, p in policies.items()}
    assert days["vigil-unflagged"] < days["vigil-flagged"]


def test_roles_name_kibana_9_features_and_the_review_history_index():
    roles = {path.stem: json.loads(path.read_text()) for path in (DEPLOY / "elasticsearch" / "roles").glob("*.json")}

    def kibana_privileges(role: str) -> set[str]:
        return {p for application in roles[role].get("applications", []) for p in application["privileges"]}

    # Kibana 9 renamed these features (discover_v2, ...); the old names grant nothing there.
    assert {"feature_discover_v2.read", "feature_dashboard_v2.read", "feature_visualize_v2.read"} == \
        kibana_privileges("vigil_analyst")
    assert {"feature_discover_v2.all", "feature_dashboard_v2.all", "feature_visualize_v2.all"} <= \
        kibana_privileges("vigil_setup")
    assert not {p for role in roles for p in kibana_privileges(role)
                if re.match(r"feature_(discover|dashboard|visualize)\.", p)}

    def index_privileges(role: str, index: str) -> set[str]:
        return {p for entry in roles[role]["indices"] if index in entry["names"] for p in entry["privileges"]}

    assert {"read", "write"} <= index_privileges("vigil_reviewer", "vigil-reviews")
    assert {"read", "write"} <= index_privileges("vigil_indexer", "vigil-reviews")  # publishes queued decisions
    assert "read" in index_privileges("vigil_analyst", "vigil-reviews")
    assert "create_index" in index_privileges("vigil_setup", "vigil-reviews")
    for index in ("vigil-hashlists", "vigil-hashlist-entries"):  # operators only; the classifier reads them
        assert "create_index" in index_privileges("vigil_setup", index)
        assert index_privileges("vigil_classifier", index) == {"read"}
        assert {"read", "write"} <= index_privileges("vigil_hashlist_operator", index)
        assert not any(index_privileges(role, index) for role in ("vigil_analyst", "vigil_reviewer"))


def test_the_review_history_index_stays_out_of_the_read_alias():
    template = Layout(alias="osint").index_templates()["osint-reviews"]
    assert template["index_patterns"] == ["osint-reviews"] and not template["template"].get("aliases")
    assert template["template"]["mappings"]["dynamic"] == "strict"
