"""A threaded HTTP server on a free loopback port, for the local test sites."""
from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


class LocalServer:
    """Serves handler_class on 127.0.0.1 while in a `with` block; `url` is its address."""

    def __init__(self, handler_class):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class, bind_and_activate=False)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128  # the default 5 drops connections under a crawler's concurrency
        self.server.server_bind()
        self.server.server_activate()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
