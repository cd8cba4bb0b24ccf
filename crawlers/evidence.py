"""The evidence archive: every response a document came from, kept as a WARC record (warcio) in a
content-addressed store, so an analyst can prove what a page said after it was taken down.

Each record is one gzipped WARC file named by the SHA-256 of its bytes (`ab/cd/<sha256>.warc.gz`);
the document carries that hash, the payload's hash and the capture time. Storing the same bytes twice
is a no-op, and any change to a stored record shows as a hash mismatch (`vigil archive verify`).
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from streams.files import write_atomically

# Scrapy has already undone these (decompressed, de-chunked): the archived payload is the decoded body.
UNDONE_HEADERS = {b"content-encoding", b"transfer-encoding", b"content-length"}


@dataclass(frozen=True)
class Capture:
    warc_sha256: str
    payload_sha256: str
    captured_at: datetime


class EvidenceArchive:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / f"{digest}.warc.gz"

    def store(self, url: str, status: int, reason: str, headers: list[tuple[str, str]], body: bytes,
              captured_at: datetime) -> Capture:
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=True)
        http_headers = StatusAndHeaders(f"{status} {reason}".strip(), headers, protocol="HTTP/1.1")
        record = writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http_headers,
            warc_headers_dict={"WARC-Date": captured_at.strftime("%Y-%m-%dT%H:%M:%SZ")})
        writer.write_record(record)
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():  # content-addressed: the same bytes are stored once
            write_atomically(target, data, private=True)  # captures of extremist content: the owner's alone
        return Capture(digest, hashlib.sha256(body).hexdigest(), captured_at)

    def read(self, digest: str) -> dict:
        """The record's URL, capture time, HTTP status and headers and payload, after checking its hash."""
        path = self.path(digest)
        if not path.exists():
            raise KeyError(f"no archived capture {digest} in {self.root}")
        data = path.read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise ValueError(f"{path} has been altered: its SHA-256 is {actual}, not {digest}")
        for record in ArchiveIterator(io.BytesIO(data)):
            if record.rec_type == "response":
                return {"url": record.rec_headers.get_header("WARC-Target-URI"),
                        "captured_at": record.rec_headers.get_header("WARC-Date"),
                        "status": int(record.http_headers.get_statuscode()),
                        "headers": record.http_headers.headers, "payload": record.content_stream().read()}
        raise ValueError(f"{path} holds no response record")


def http_record(response) -> dict:
    """What the archive needs of a Scrapy response: url, status, reason, headers and body."""
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, values in response.headers.items()
               for value in values if name.lower() not in UNDONE_HEADERS]
    return {"url": response.url, "status": response.status, "reason": reason, "headers": headers,
            "body": response.body}


def archived(archive: EvidenceArchive, raw: dict, captured_at: datetime) -> dict:
    """Store a response (url, status, reason, headers, body) and return the document's reference to it."""
    capture = archive.store(raw["url"], raw["status"], raw["reason"], raw["headers"], raw["body"], captured_at)
    return {"warc_sha256": capture.warc_sha256, "payload_sha256": capture.payload_sha256,
            "captured_at": capture.captured_at}
