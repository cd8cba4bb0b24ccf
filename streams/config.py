"""Vigil's settings: one documented model, read from a YAML file and `VIGIL_*` variables.

Precedence: defaults < config file (`--config`, `VIGIL_CONFIG` or ./vigil.yaml) < environment.
Environment names are `VIGIL_<SECTION>_<FIELD>` (`VIGIL_KAFKA_BOOTSTRAP`,
`VIGIL_ELASTICSEARCH_PLAIN_JSON`) or `VIGIL_<FIELD>` for top-level fields (`VIGIL_DATA_DIR`).
Any other `VIGIL_KAFKA_<NAME>` is a kafka-python client setting under its own name
(`VIGIL_KAFKA_SECURITY_PROTOCOL=SASL_SSL`).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from streams.redact import redact

DEFAULT_CONFIG_FILE = "vigil.yaml"
SECRET_WORDS = ("password", "secret", "token", "key")  # Kafka client settings whose values are never shown


class ConfigError(ValueError):
    """Bad configuration: the message names the file or variable and the field."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class TopicSettings(Section):
    raw: str = Field("vigil.raw", description="Raw documents from the crawlers.")
    classified: str = Field("vigil.classified", description="Classified documents for the index.")
    reviews: str = Field("vigil.reviews", description="Analysts' review decisions.")
    dlq: str = Field("vigil.dlq", description="Dead letters: messages a stage could not process, with the reason.")
    crawl_stats: str = Field("vigil.crawl-stats", description="One message per crawl of a source: pages, "
                             "documents, bytes, errors by kind, duration.")
    partitions: int = Field(3, ge=1, description="Partitions per topic (the unit of parallelism).")
    replication_factor: int = Field(1, ge=1, description="Kafka replication factor for created topics.")


class KafkaSettings(Section):
    bootstrap: str | None = Field(None, description="Kafka bootstrap servers (host:port,...). Unset: the embedded "
                                  "local log.")
    client: dict[str, Any] = Field(
        default_factory=dict,
        description="kafka-python client settings by their own names (security_protocol, sasl_mechanism, "
        "linger_ms, compression_type, session_timeout_ms, ...). Unknown names fail at start-up.",
    )


def http_url(value: str | None, example: str) -> str | None:
    """A setting's URL, checked: absolute http(s) with a host."""
    if value is not None and not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL, like {example}")
    return value


class ElasticsearchSettings(Section):
    url: str | None = Field(None, description="Elasticsearch URL. Unset: the embedded SQLite store.")

    @field_validator("url")
    @classmethod
    def _an_http_url(cls, value: str | None) -> str | None:
        return http_url(value, "http://localhost:9200")
    plain_json: bool = Field(
        False, description="Send plain application/json instead of versioned media types (OpenSearch, proxies, "
        "test servers)."
    )
    alias: str = Field("vigil", description="Read alias analysts and Kibana search; documents live in "
                       "<alias>-flagged-NNNNNN and <alias>-unflagged-NNNNNN behind write aliases.")
    api_key: SecretStr | None = Field(None, description="API key (id:key base64 form).")
    username: str | None = Field(None, description="Basic-auth user.")
    password: SecretStr | None = Field(None, description="Basic-auth password.")
    ca_certs: Path | None = Field(None, description="CA certificate file for TLS.")
    verify_certs: bool = Field(True, description="Verify the server's TLS certificate.")
    request_timeout_s: float = Field(30.0, gt=0, description="Per-request timeout.")
    templates_dir: Path | None = Field(None, description="Where the templates and policies live (default: "
                                       "deploy/elasticsearch).")
    bulk_chunk_size: int = Field(500, ge=1, description="Documents per bulk request.")
    bulk_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest bulk request body.")
    bulk_concurrency: int = Field(1, ge=1, description="Bulk requests in flight at once per index stage.")
    bulk_retries: int = Field(3, ge=0, description="Retries of items Elasticsearch answers 429 (too busy) before "
                              "the batch is retried as a whole.")
    bulk_backoff_s: float = Field(1.0, gt=0, description="First wait before re-sending 429-rejected items (doubles).")


class KibanaSettings(Section):
    url: str | None = Field(None, description="Kibana URL for `vigil setup --kibana` (it authenticates with the "
                            "elasticsearch section's credentials and CA).")
    space: str | None = Field(None, description="Kibana space to import into (default: the default space).")
    review_url: str | None = Field(
        None, description="Link for a document id in Kibana, {{value}} standing for the id (e.g. "
        "https://review.example/documents/{{value}}); wins over console_url. Unset: console_url, else the id "
        "opens the document in Discover (in the same space).")
    console_url: str | None = Field(
        None, description="Where analysts reach `vigil console` (e.g. https://review.example/vigil): a document "
        "id in Kibana links to <console_url>/documents/<id>.")

    @field_validator("console_url")
    @classmethod
    def _an_absolute_url(cls, value: str | None) -> str | None:
        return http_url(value, "https://review.example/vigil")
    saved_objects: Path | None = Field(None, description="The saved objects file (default: "
                                       "deploy/kibana/vigil.ndjson).")


class ReviewSettings(Section):
    reasons_file: Path | None = Field(None, description="The policy clauses a decision cites, kept by an admin "
                                      "(YAML: `reasons:` mapping each id to its description). Default: "
                                      "deploy/review/reasons.yaml.")
    identity: str | None = Field(None, min_length=1, description="Who `vigil review` records as the reviewer. "
                                 "Unset: the operating-system user.")
    publish_timeout_s: float = Field(5.0, gt=0, description="How long recording a decision waits for Kafka before "
                                     "queuing it (the decision stands in the store either way).")
    publish_interval_s: float = Field(30.0, gt=0, description="How often `vigil run` and `vigil index` send "
                                      "queued decisions to the reviews topic.")


class ClassifierSettings(Section):
    model: str = Field(
        "default",
        description="Model directory or Hugging Face id; 'default' builds the bundled model into data_dir; "
        "'active' follows `vigil model use/rollback` (switches apply between batches).",
    )
    shadow_model: str | None = Field(None, description="A candidate scored alongside, recorded under its own "
                                     "version, never used to flag (with model 'active': `vigil model shadow`).")
    batch_size: int = Field(8, ge=1, description="Texts per forward pass (about 8 is fastest on CPU).")
    max_length: int = Field(128, ge=16, le=4096, description="Tokens per window.")
    max_windows: int = Field(8, ge=1, description="Windows scored per document (long pages are split).")
    thresholds: dict[str, float] = Field(default_factory=dict, description="Per-label threshold overrides.")
    thresholds_file: Path | None = Field(None, description="A file from `vigil thresholds` (temperatures, per-label "
                                         "and per-language thresholds); reloaded when it changes.")
    threads: int | None = Field(None, ge=1, description="torch intra-op threads (default: torch's choice).")
    runtime: Literal["torch", "onnx", "auto"] = Field(
        "torch", description="Inference engine: torch, or ONNX Runtime (exported once per model version; needs "
        "vigil[onnx]); auto picks engine and quantization from the CPU's features (classifiers/cpu.py; `vigil "
        "config` shows the choice and why) and then ignores quantize.")
    quantize: Literal["none", "int8"] = Field("none", description="Dynamic int8: about 3x faster on CPU; moves "
                                              "borderline scores (see classifiers/runtimes.py); the model version "
                                              "records the variant.")
    first_pass: bool = Field(False, description="Send only the documents a cheap first pass finds suspect to the "
                             "transformer (needs first_pass.npz in the model directory: `vigil first-pass`); the rest "
                             "are recorded unflagged with first_pass.sent_on false. It keeps the share of the "
                             "transformer's flags its file states (0.99 when fitted by default), not all.")
    cache_size: int = Field(10_000, ge=0, description="Predictions kept by exact text, per model and thresholds "
                            "version and language: unchanged pages and texts repeated across pages are scored "
                            "once. 0: off.")
    onnx_cache_dir: Path | None = Field(None, description="Where ONNX exports are kept (default: beside the model, "
                                        "or data_dir/onnx for hub ids).")

    @field_validator("thresholds")
    @classmethod
    def _thresholds_are_probabilities(cls, value: dict[str, float]) -> dict[str, float]:
        for label, threshold in value.items():
            if not 0.0 < threshold < 1.0:
                raise ValueError(f"threshold for {label!r} must be between 0 and 1, got {threshold}")
        return value


class CrawlerSettings(Section):
    sources_file: Path = Field(Path("sources.yaml"), description="The sources file (YAML, a list under "
                               "`sources:`).")
    author_key: SecretStr | None = Field(
        None, description="HMAC key for pseudonymising authors. Unset: a random key kept in data_dir."
    )
    user_agent: str = Field("VigilBot/0.1 (+trust-and-safety research; obeys robots.txt)", description="User agent.")
    obey_robots: bool = Field(True, description="Obey robots.txt.")
    max_response_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="Largest response body, after decompression.")
    max_text_chars: int = Field(50_000, ge=1000, description="Main text is capped at this many characters.")
    download_timeout_s: float = Field(30.0, gt=0, description="Per-request timeout.")
    robots_timeout_s: float = Field(10.0, gt=0, description="Timeout for a site's robots.txt, fetched once and not "
                                    "retried; a site whose robots.txt cannot be fetched is not crawled that run.")
    max_requests_per_source: int = Field(10_000, ge=1, description="Requests one crawl of a source may schedule, "
                                         "every one counted (404s, errors, refused and dropped pages, retries, "
                                         "redirects); the rest are cut. Also bounds the crawl's request queue.")
    max_links_per_page: int = Field(1000, ge=1, description="Links followed from one page, feed or sitemap (links "
                                    "to other sites not counted); the rest are cut.")
    archive: bool = Field(True, description="Keep every response a document came from as WARC evidence.")
    archive_dir: Path | None = Field(None, description="The evidence archive (default: data_dir/evidence).")
    fetch_images: bool = Field(True, description="Fetch the images pages and posts show (img src, the largest "
                               "srcset candidate, og:image, posts' media) and record their hashes (SHA-256, MD5, "
                               "PDQ) on the document, for known-content matching. The bytes are discarded unless "
                               "a source sets retain_media.")
    max_image_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="Largest image, enforced while it downloads "
                                 "(and after decompression); a larger one is not fetched.")
    max_images_per_page: int = Field(20, ge=1, description="Images fetched from one page or channel preview (its "
                                     "posts together); the rest are cut.")
    max_image_pixels: int = Field(50_000_000, ge=1, description="Largest image, in pixels, that is decoded for "
                                  "hashing (never above Pillow's own decompression-bomb limit); larger ones are "
                                  "skipped, counted as too many pixels or as a decompression bomb.")


class StageSettings(Section):
    group_prefix: str = Field("vigil", description="Consumer groups are <prefix>-classify and <prefix>-index "
                              "(deployments sharing a Kafka cluster use different prefixes).")
    batch_size: int = Field(64, ge=1, description="Messages a stage takes per batch.")
    poll_timeout_s: float = Field(1.0, gt=0, description="How long a poll waits for messages.")
    max_attempts: int = Field(3, ge=1, description="Attempts at one message before it is dead-lettered.")
    backoff_initial_s: float = Field(0.5, gt=0, description="First wait after a transient error (broker or index "
                                     "down).")
    backoff_max_s: float = Field(30.0, gt=0, description="Longest wait between retries.")
    dead_letter_max_bytes: int = Field(1_000_000, ge=16_384, description="Largest dead letter a stage sends: a "
                                       "longer original is cut, keeping its size and hash (the whole one stays on "
                                       "its topic). Keep it under the broker's message.max.bytes and "
                                       "kafka.client.max_request_size (1,048,576 by default).")


class MetricsSettings(Section):
    port: int | None = Field(None, ge=0, le=65535, description="Serve Prometheus metrics on this port. Unset: off.")
    address: str = Field("127.0.0.1", description="Address the metrics endpoint listens on (0.0.0.0 in containers).")


class AlertSettings(Section):
    enabled: bool = Field(True, description="Watch flag rates per source and per label while indexing.")
    window_minutes: int = Field(60, ge=1, description="Length of the window a flag rate is counted over.")
    baseline_windows: int = Field(24, ge=1, description="Earlier windows the current one is compared with.")
    min_flags: int = Field(10, ge=1, description="Fewest flags in a window that can raise an alert.")
    spike_factor: float = Field(3.0, gt=1, description="Alert when the window's flag rate is this many times "
                                "the baseline rate.")


class ConsoleSettings(Section):
    host: str = Field("127.0.0.1", description="Address the review console (`vigil console`) listens on.")
    port: int = Field(8420, ge=1, le=65535, description="Port the review console listens on.")
    session_hours: float = Field(12.0, gt=0, description="How long a console login lasts before signing in again.")
    claim_minutes: float = Field(10.0, gt=0, description="How long a reviewer's claim on an item lasts; renewed "
                                 "while its page is open, so two reviewers never work on the same item.")
    daily_limit: int = Field(200, ge=0, description="Items a reviewer sees in a day before the console warns "
                             "(reviewer wellness). 0: no warning.")
    login_attempts: int = Field(5, ge=1, description="Failed logins per account and address before logins are "
                                "refused (429) for the rest of login_window_minutes.")
    login_window_minutes: float = Field(15.0, gt=0, description="The window failed logins are counted over.")
    https: bool = Field(False, description="The console is reached over https (behind a TLS proxy): cookies are "
                        "marked Secure.")
    trusted_proxy_header: str | None = Field(
        None, description="Header a trusted reverse proxy sets to the logged-in account's name (e.g. X-Remote-User), "
        "which then logs that console account in. Unset: off. Only behind a proxy that removes the header from "
        "clients' requests.")
    secret_key_file: Path | None = Field(None, description="Key that session ids are stored under (created on "
                                         "first use). Default: data_dir/console-secret.")


class HashListSettings(Section):
    enabled: bool = Field(True, description="Match documents against the store's hash lists of confirmed content "
                          "(`vigil hashlist`) in the classify stage; a match flags whatever the model scored.")
    reload_s: float = Field(10.0, gt=0, description="How often the classify stage checks whether a list changed "
                            "(then it rebuilds its index, without a restart).")
    pdq_threshold: int | None = Field(None, ge=0, le=256, description="Most differing bits of a PDQ image hash "
                                      "that still match. Unset: the measured default (streams/hashlists/index.py).")
    text_threshold: float | None = Field(None, gt=0, le=1, description="Least estimated overlap of a banked "
                                         "passage that matches a near-copy. Unset: the measured default.")


class VigilSettings(Section):
    data_dir: Path = Field(Path(".vigil"), description="Embedded log, embedded store, built models, keys.")
    log_level: str = Field("INFO", description="Python logging level: DEBUG, INFO, WARNING, ERROR or CRITICAL.")

    @field_validator("log_level")
    @classmethod
    def _a_logging_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"{value!r} is not a logging level (DEBUG, INFO, WARNING, ERROR or CRITICAL)")
        return value
    topics: TopicSettings = Field(default_factory=TopicSettings)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    elasticsearch: ElasticsearchSettings = Field(default_factory=ElasticsearchSettings)
    kibana: KibanaSettings = Field(default_factory=KibanaSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    crawler: CrawlerSettings = Field(default_factory=CrawlerSettings)
    stage: StageSettings = Field(default_factory=StageSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    hashlists: HashListSettings = Field(default_factory=HashListSettings)


# Section name -> its model (topics -> TopicSettings, ...): what VIGIL_<SECTION>_<FIELD> variables address.
SECTIONS: dict[str, type[Section]] = {name: field.annotation for name, field in VigilSettings.model_fields.items()
                                      if isinstance(field.annotation, type) and issubclass(field.annotation, Section)}


def _environment_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """Turn `VIGIL_*` variables into a nested dict shaped like the settings."""
    overrides: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith("VIGIL_") or name == "VIGIL_CONFIG":
            continue
        key = name[len("VIGIL_"):].lower()
        # kafka-python has no settings ending in _file, so VIGIL_KAFKA_..._FILE is always a secret file.
        if key.endswith("_file") and not _is_field(key, client=False) and _is_field(key[:-len("_file")]):
            key, value = key[:-len("_file")], _read_secret_file(name, value)
        section = next((s for s in SECTIONS if key.startswith(s + "_")), None)
        if section is None:
            overrides[key] = value
            continue
        field = key[len(section) + 1:]
        model = SECTIONS[section]
        if field in model.model_fields:
            overrides.setdefault(section, {})[field] = _parse_structured(field, value)
        elif section == "kafka":
            # Client settings pass through by kafka-python's names; YAML gives ints and bools their types.
            overrides.setdefault("kafka", {}).setdefault("client", {})[field] = yaml.safe_load(value)
        else:
            raise ConfigError(f"{name}: {section} has no field {field!r} (fields: {', '.join(model.model_fields)})")
    return overrides


def _is_field(key: str, client: bool = True) -> bool:
    """Whether `section_field` (lower case, as in a variable name) names a setting (or, with client, any
    Kafka client setting)."""
    section = next((s for s in SECTIONS if key.startswith(s + "_")), None)
    if section is None:
        return key in VigilSettings.model_fields
    fields = SECTIONS[section].model_fields
    return key[len(section) + 1:] in fields or (client and section == "kafka")


def _read_secret_file(name: str, path: str) -> str:
    """`VIGIL_X_FILE=/run/secrets/x`: the setting's value is the file's content (Docker and Kubernetes secrets)."""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read the secret file {path}: {exc.strerror}") from None


def _parse_structured(field: str, value: str) -> Any:
    # Dict-valued fields (thresholds, client) are given as YAML/JSON in the environment.
    if field in {"thresholds", "client"}:
        return yaml.safe_load(value)
    return value


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError, origin: str) -> str:
    lines = [f"invalid configuration ({origin}):"]
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        got = item.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"  {field}: {item['msg']}{shown}")
    return "\n".join(lines)


def read_yaml_mapping(path: Path, what: str, hint: str) -> dict[str, Any]:
    """A YAML file whose top level is a mapping; ConfigError names the file and what is wrong."""
    if not path.exists():
        raise ConfigError(f"{what} {path} does not exist ({hint})")
    if path.is_dir():
        raise ConfigError(f"{what} {path} is a folder, not a file ({hint})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return data


def load_settings(config_file: str | os.PathLike | None = None, environ: dict[str, str] | None = None) -> VigilSettings:
    """Load settings; raise ConfigError naming the file, variable or field that is wrong."""
    environ = dict(os.environ if environ is None else environ)
    path = config_file or environ.get("VIGIL_CONFIG")
    from_file: dict[str, Any] = {}
    if path is None and Path(DEFAULT_CONFIG_FILE).exists():
        path = DEFAULT_CONFIG_FILE
    if path is not None:
        from_file = read_yaml_mapping(Path(path), "config file", "given by --config or VIGIL_CONFIG")
    origin = f"{path or 'defaults'} + VIGIL_* environment"
    try:
        return VigilSettings.model_validate(_deep_merge(from_file, _environment_overrides(environ)))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None


def settings_as_yaml(settings: VigilSettings) -> str:
    """The effective settings, secrets masked (passwords in URLs too), as the YAML a config file would hold."""
    data = settings.model_dump(mode="json")
    client = data["kafka"]["client"]
    for name in client:
        if any(word in name for word in SECRET_WORDS):
            client[name] = "**********"
    return redact(yaml.safe_dump(data, sort_keys=False))
