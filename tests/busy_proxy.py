"""A pass-through HTTP proxy in front of the real Elasticsearch-API test server that answers the first N
bulk requests with 429 Too Many Requests, as a loaded cluster does (fault injection, not a fake server)."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REJECTION = {"error": {"type": "es_rejected_execution_exception", "reason": "rejected execution (queue capacity)"},
             "status": 429}


@contextmanager
def busy_proxy(upstream: str, reject_bulks: int):
    state = {"rejected": 0, "bulks": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _forward(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path.split("?")[0].endswith("/_bulk"):
                with lock:
                    state["bulks"] += 1
                    reject = state["rejected"] < reject_bulks
                    state["rejected"] += int(reject)
                if reject:
                    return self._answer(429, json.dumps(REJECTION).encode())
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
            request = urllib.request.Request(upstream + self.path, data=body or None, method=self.command,
                                             headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    self._answer(response.status, response.read(), response.headers.get("content-type"))
            except urllib.error.HTTPError as error:
                self._answer(error.code, error.read(), error.headers.get("content-type"))

        def _answer(self, status: int, payload: bytes, content_type: str | None = "application/json"):
            self.send_response(status)
            self.send_header("content-type", content_type or "application/json")
            self.send_header("x-elastic-product", "Elasticsearch")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", state
    finally:
        server.shutdown()
        server.server_close()
