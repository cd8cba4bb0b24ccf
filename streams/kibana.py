"""Kibana's saved objects for analysts (deploy/kibana/vigil.ndjson) and their import through Kibana's API."""
from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from streams.config import ConfigError, VigilSettings
from streams.errors import TransientError

SAVED_OBJECTS = Path(__file__).resolve().parents[1] / "deploy" / "kibana" / "vigil.ndjson"
DATA_VIEW_ID = "vigil-documents"


def read_saved_objects(path: Path = SAVED_OBJECTS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def document_link(settings: VigilSettings) -> str | None:
    """Where a document id in Kibana links (a url field format template, {{value}} the id): kibana.review_url,
    else the review console's document page, else None (the shipped link: Discover, in the same space)."""
    if settings.kibana.review_url:
        return settings.kibana.review_url
    if settings.kibana.console_url:
        return settings.kibana.console_url.rstrip("/") + "/documents/{{value}}"
    return None


def saved_objects_for(settings: VigilSettings) -> list[dict]:
    """The shipped objects with the deployment's alias as the data view's pattern and its document link."""
    objects = read_saved_objects(settings.kibana.saved_objects or SAVED_OBJECTS)
    link = document_link(settings)
    for obj in objects:
        if obj["type"] == "index-pattern" and obj["id"] == DATA_VIEW_ID:
            obj["attributes"]["title"] = settings.elasticsearch.alias
            if link:
                formats = json.loads(obj["attributes"]["fieldFormatMap"])
                formats["id"]["params"]["urlTemplate"] = link
                obj["attributes"]["fieldFormatMap"] = json.dumps(formats)
    return objects


def _multipart(objects: list[dict]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    payload = "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects).encode("utf-8")
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"vigil.ndjson\"\r\n"
            "Content-Type: application/ndjson\r\n\r\n").encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _auth_header(settings: VigilSettings) -> dict[str, str]:
    es = settings.elasticsearch
    if es.api_key:
        return {"Authorization": "ApiKey " + es.api_key.get_secret_value()}
    if es.username:
        password = es.password.get_secret_value() if es.password else ""
        return {"Authorization": "Basic " + base64.b64encode(f"{es.username}:{password}".encode()).decode()}
    return {}


def import_saved_objects(settings: VigilSettings, kibana_url: str | None = None) -> dict:
    """POST the objects to Kibana's import API with overwrite (idempotent: ids are fixed). Returns Kibana's answer."""
    url = (kibana_url or settings.kibana.url or "").rstrip("/")
    if not url:
        raise ConfigError("kibana.url: give the Kibana URL (--kibana URL or VIGIL_KIBANA_URL)")
    space = f"/s/{settings.kibana.space}" if settings.kibana.space else ""
    body, content_type = _multipart(saved_objects_for(settings))
    request = urllib.request.Request(
        f"{url}{space}/api/saved_objects/_import?overwrite=true", data=body, method="POST",
        headers={"kbn-xsrf": "vigil", "Content-Type": content_type, **_auth_header(settings)})
    context = None
    if url.startswith("https"):
        context = ssl.create_default_context(cafile=settings.elasticsearch.ca_certs)
        if not settings.elasticsearch.verify_certs:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        timeout = settings.elasticsearch.request_timeout_s
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", "replace")[:500]
        if error.code in (502, 503, 504):
            raise TransientError(f"Kibana at {url} is not ready ({error.code}): {detail}") from None
        hint = " (check the credentials in the elasticsearch section)" if error.code in (401, 403) else ""
        raise ConfigError(f"Kibana at {url} refused the saved objects ({error.code}){hint}: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise TransientError(f"Kibana at {url}: {error}") from None
    if not answer.get("success"):
        problems = "; ".join(f"{e.get('type')}/{e.get('id')}: {json.dumps(e.get('error'))}"
                             for e in answer.get("errors", []))
        raise ConfigError(f"Kibana at {url} imported {answer.get('successCount', 0)} objects but not all: {problems}")
    return answer
