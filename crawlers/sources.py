"""The source registry: which public sites to crawl, how deep, how often, and what is allowed."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from streams.config import ConfigError, read_yaml_mapping


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Stable id; documents carry it.")
    kind: Literal["site", "feed", "sitemap"] = Field(
        "site", description="Spider that crawls it (`scrapy crawl KIND`): site (follows links), feed (RSS/Atom "
        "entries), sitemap (sitemaps and sitemap indexes, skipping entries unchanged since the last run).")
    start_urls: list[str] = Field(min_length=1, description="Pages, feeds or sitemaps to start from.")
    allowed_domains: list[str] = Field(default_factory=list, description="Default: the start URLs' hosts.")
    include: list[str] = Field(default_factory=list, description="Regular expressions; if given, only URLs "
                               "matching one are followed.")
    exclude: list[str] = Field(default_factory=list, description="Regular expressions of URLs never followed.")
    max_depth: int = Field(2, ge=0, description="Link hops from a start URL.")
    max_pages: int = Field(1000, ge=1, description="Stop after this many pages.")
    concurrency: int | None = Field(None, ge=1, le=16, description="Requests at once per domain (default: "
                                    "the crawler's, 2).")
    delay_s: float | None = Field(None, ge=0, description="Seconds between requests to a domain (AutoThrottle "
                                  "may raise it).")
    user_agent: str | None = Field(None, description="User agent for this source (default: crawler.user_agent).")
    robots: Literal["obey", "ignore"] = Field("obey", description="robots.txt policy. 'ignore' is logged on "
                                              "every run; use it only with the site owner's permission.")
    schedule: str = Field("0 */6 * * *", description="Cron expression for scheduled runs.")
    allow_private_addresses: bool = Field(
        False, description="Allow private, loopback and link-local addresses (local test sites only)."
    )
    language: str | None = Field(None, description="Language hint when detection is unsure.")
    tags: list[str] = Field(default_factory=list)

    @field_validator("include", "exclude")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return patterns

    def in_scope(self, url: str) -> bool:
        """Whether a URL passes the include and exclude patterns (domains are checked by Scrapy)."""
        if self.include and not any(re.search(p, url) for p in self.include):
            return False
        return not any(re.search(p, url) for p in self.exclude)

    def scrapy_settings(self) -> dict:
        """The Scrapy settings this source overrides (only those it sets)."""
        chosen = {"CONCURRENT_REQUESTS_PER_DOMAIN": self.concurrency, "DOWNLOAD_DELAY": self.delay_s,
                  "USER_AGENT": self.user_agent}
        settings = {name: value for name, value in chosen.items() if value is not None}
        if self.robots == "ignore":
            settings["ROBOTSTXT_OBEY"] = False
        return settings

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
