"""Files that readers in other processes watch (thresholds, the model selection, the schedule, evidence):
written whole or not at all."""
from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_atomically(path: Path, data: str | bytes, private: bool = False) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`: a reader never sees half a file.
    The file gets the permissions the umask gives (readable by workers running as another user), or with
    `private` the owner's alone."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
