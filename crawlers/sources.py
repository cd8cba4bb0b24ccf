"""The source registry: which public sites to crawl, how deep, how often, and what is allowed."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from streams.config import ConfigError, read_yaml_mapping


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Stable id; documents carry it.")
    kind: Literal["site"] = Field("site", description="Spider that crawls it (`scrapy crawl KIND`).")
    start_urls: list[str] = Field(min_length=1)
    allowed_domains: list[str] = Field(default_factory=list, description="Default: the start URLs' hosts.")
    max_depth: int = Field(2, ge=0, description="Link hops from a start URL.")
    max_pages: int = Field(1000, ge=1, description="Stop after this many pages.")
    schedule: str = Field("0 */6 * * *", description="Cron expression for scheduled runs.")
    allow_private_addresses: bool = Field(
        False, description="Allow private, loopback and link-local addresses (local test sites only)."
    )
    language: str | None = Field(None, description="Language hint when detection is unsure.")
    tags: list[str] = Field(default_factory=list)

    @field_validator("start_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (like '0 */6 * * *')")
        return value

    def domains(self) -> list[str]:
        from urllib.parse import urlsplit

        return self.allowed_domains or sorted({urlsplit(u).hostname for u in self.start_urls if urlsplit(u).hostname})


def load_sources(path: str | Path) -> dict[str, Source]:
    """Read a sources file; ConfigError names the file, the source and the field that are wrong."""
    path = Path(path)
    data = read_yaml_mapping(path, "sources file", "set crawler.sources_file or pass --sources")
    entries = data.get("sources")
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected a list under `sources:`")
    sources: dict[str, Source] = {}
    errors = []
    for n, entry in enumerate(entries):
        name = entry.get("id", f"#{n + 1}") if isinstance(entry, dict) else f"#{n + 1}"
        try:
            source = Source.model_validate(entry)
        except ValidationError as exc:
            errors += [f"  source {name}: {'.'.join(map(str, e['loc'])) or '(entry)'}: {e['msg']}" for e in exc.errors()]
            continue
        if source.id in sources:
            errors.append(f"  source {source.id}: id used twice")
        sources[source.id] = source
    if errors:
        raise ConfigError(f"{path}: invalid sources:\n" + "\n".join(errors))
    return sources
