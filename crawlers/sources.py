"""The sources file: which public sites to crawl, how deep, how often, and what is allowed."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from streams.config import ConfigError, read_yaml_mapping


class ForumSelectors(BaseModel):
    """CSS selectors (Scrapy's, with ::text and ::attr()) that find threads and posts on a forum's pages."""
    model_config = ConfigDict(extra="forbid")

    thread_links: str = Field(description="On a listing page: the links to threads.")
    next_page: str = Field(description="On a listing or thread page: the link to the next page.")
    post: str = Field(description="One element per post.")
    body: str = Field(description="Within a post: its text.")
    author: str = Field(description="Within a post: the author's name (pseudonymised before publishing).")
    time: str = Field(description="Within a post: when it was posted (an ISO or RFC 822 date).")
    post_id: str = Field(description="Within a post: its id, for the permalink anchor.")
    title: str = Field(description="On a thread page: the thread's title.")


FORUM_PRESETS = {
    "phpbb": ForumSelectors(
        thread_links="a.topictitle::attr(href)", next_page="a[rel=next]::attr(href), li.next a::attr(href)",
        post="div.post", body="div.content", author=".author .username::text, .author strong a::text",
        time=".author time::attr(datetime)", post_id="::attr(id)", title="h2.topic-title a::text, h2 a::text"),
    "vbulletin": ForumSelectors(
        thread_links="h3.threadtitle a::attr(href), a.topic-title::attr(href)",
        next_page="a[rel=next]::attr(href)", post="li.postcontainer, li.b-post",
        body="blockquote.postcontent, div.js-post__content-text", author="a.username::text, .author a::text",
        time="time::attr(datetime), span.date::text", post_id="::attr(id)",
        title="span.threadtitle a::text, h1.main-title::text"),
    "xenforo": ForumSelectors(
        thread_links="div.structItem-title a::attr(href)", next_page="a.pageNav-jump--next::attr(href)",
        post="article.message--post", body="div.bbWrapper", author="::attr(data-author)",
        time="time.u-dt::attr(datetime)", post_id="::attr(data-content)", title="h1.p-title-value::text"),
    "discourse": ForumSelectors(  # the server-rendered pages Discourse serves to crawlers
        thread_links="a.title.raw-link::attr(href), td.main-link a.title::attr(href)",
        next_page="a[rel=next]::attr(href)", post="div.topic-body.crawler-post, div[itemprop=comment]",
        body="div.post[itemprop=text], div[itemprop=text]", author="span[itemprop=name]::text",
        time="time.post-time::attr(datetime), meta[itemprop=datePublished]::attr(content)",
        post_id="::attr(id)", title="h1 a::text, h1::text"),
}


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Stable id; documents carry it.")
    kind: Literal["site", "feed", "sitemap", "forum", "telegram"] = Field(
        "site", description="Spider that crawls it (`scrapy crawl KIND`): site (follows links), feed (RSS/Atom "
        "entries), sitemap (sitemaps and sitemap indexes, skipping entries unchanged since the last run), forum "
        "(thread listings and threads, a document per post), telegram (public channel previews, t.me/s/NAME, a "
        "document per message).")
    forum: Literal["phpbb", "vbulletin", "xenforo", "discourse"] | ForumSelectors | None = Field(
        None, description="For kind forum: a preset for the forum engine, or the selectors themselves.")
    start_urls: list[str] = Field(min_length=1, description="Pages, feeds or sitemaps to start from.")
    allowed_domains: list[str] = Field(default_factory=list, description="Default: the start URLs' hosts.")
    include: list[str] = Field(default_factory=list, description="Regular expressions; if given, only URLs "
                               "matching one are followed.")
    exclude: list[str] = Field(default_factory=list, description="Regular expressions of URLs never followed.")
    max_depth: int = Field(2, ge=0, description="Link hops from a start URL.")
    max_pages: int = Field(1000, ge=1, description="Stop after this many pages.")
    concurrency: int | None = Field(None, ge=1, le=16, description="Requests at once per domain (default: "
                                    "the crawler's, 4).")
    delay_s: float | None = Field(None, ge=0, description="Seconds between requests to a domain (AutoThrottle "
                                  "may raise it).")
    user_agent: str | None = Field(None, description="User agent for this source (default: crawler.user_agent).")
    robots: Literal["obey", "ignore"] = Field("obey", description="robots.txt policy. 'ignore' is logged on "
                                              "every run; use it only with the site owner's permission.")
    schedule: str = Field("0 */6 * * *", description="Cron expression for scheduled runs.")
    allow_private_addresses: bool = Field(
        False, description="Allow private, loopback and link-local addresses (local test sites only)."
    )
    retain_media: bool = Field(
        False, description="Keep the images its pages show in the evidence archive (as WARC records, beside the "
        "pages) instead of only their hashes; needs crawler.archive. Off: image bytes are discarded once hashed.")
    media_domains: list[str] = Field(
        default_factory=list, description="Further domains (and their subdomains) images may be fetched from, "
        "such as the site's CDN; pages there are never crawled. Default: images on the source's domains only.")
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

    @model_validator(mode="after")
    def _forum_needs_selectors(self) -> "Source":
        if self.kind == "forum" and self.forum is None:
            raise ValueError(f"a forum source needs `forum`: a preset ({', '.join(FORUM_PRESETS)}) or selectors")
        return self

    def forum_selectors(self) -> ForumSelectors:
        return FORUM_PRESETS[self.forum] if isinstance(self.forum, str) else self.forum

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
            errors += [f"  source {name}: {'.'.join(map(str, e['loc'])) or '(entry)'}: {e['msg']}"
                       for e in exc.errors()]
            continue
        if source.id in sources:
            errors.append(f"  source {source.id}: id used twice")
        sources[source.id] = source
    if errors:
        raise ConfigError(f"{path}: invalid sources:\n" + "\n".join(errors))
    return sources
