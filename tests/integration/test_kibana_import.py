"""`vigil setup --kibana URL` posts the saved objects the way Kibana's import API takes them. No Kibana runs
here; a small recording HTTP endpoint stands in for its import API and checks the request."""
from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from vigil.cli import main

pytestmark = pytest.mark.integration


@contextmanager
def kibana_import_endpoint(status: int = 200):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            message = BytesParser(policy=HTTP).parsebytes(
                b"content-type: " + self.headers["content-type"].encode() + b"\r\n\r\n" + body)
            files = [part for part in message.iter_parts() if part.get_filename()]
            objects = ([json.loads(line) for line in files[0].get_content().splitlines() if line.strip()]
                       if files else [])
            headers = {k.lower(): v for k, v in self.headers.items()}
            received.append({"path": self.path, "headers": headers, "objects": objects})
            answer = {"success": True, "successCount": len(objects)} if status == 200 else \
                {"statusCode": status, "error": "Forbidden", "message": "missing privileges"}
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def write_config(tmp_path, settings, **kibana) -> str:
    data = settings.model_dump(mode="json")
    data["kibana"] = {**data["kibana"], **kibana}
    data["elasticsearch"]["username"], data["elasticsearch"]["password"] = "vigil_setup", "s3cret"
    path = tmp_path / "vigil.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_setup_imports_the_saved_objects_into_kibana(tmp_path, settings, elasticsearch_url, capsys):
    settings.elasticsearch.url = elasticsearch_url
    with kibana_import_endpoint() as (url, received):
        config = write_config(tmp_path, settings, space="analysts")
        assert main(["--config", config, "setup", "--kibana", url]) == 0
        assert main(["--config", config, "setup", "--kibana", url]) == 0  # idempotent: same ids, overwrite
    request = received[0]
    assert request["path"] == "/s/analysts/api/saved_objects/_import?overwrite=true"
    assert request["headers"]["kbn-xsrf"] and request["headers"]["authorization"].startswith("Basic ")
    assert len(request["objects"]) == 15 and received[1]["objects"] == request["objects"]
    view = next(obj for obj in request["objects"] if obj["type"] == "index-pattern")
    assert view["attributes"]["title"] == settings.elasticsearch.alias
    assert "15 saved objects imported" in capsys.readouterr().out


def test_kibana_refusal_is_a_clear_error(tmp_path, settings, elasticsearch_url, capsys):
    settings.elasticsearch.url = elasticsearch_url
    with kibana_import_endpoint(status=403) as (url, _):
        assert main(["--config", write_config(tmp_path, settings), "setup", "--kibana", url]) == 2
    error = capsys.readouterr().err
    assert "refused the saved objects (403)" in error and "credentials" in error and "s3cret" not in error
