"""Stores: one interface over Elasticsearch and the embedded SQLite full-text store."""
from __future__ import annotations

from streams.config import VigilSettings
from streams.stores.base import Hit, SearchQuery, SearchResult, Store


def open_store(settings: VigilSettings) -> Store:
    """Elasticsearch when a URL is configured, else the embedded store in data_dir."""
    if settings.elasticsearch.url:
        from streams.stores.elastic import ElasticsearchStore

        return ElasticsearchStore(settings.elasticsearch)
    from streams.stores.sqlite import SqliteStore

    return SqliteStore(settings.data_dir / "store.sqlite")


__all__ = ["Hit", "SearchQuery", "SearchResult", "Store", "open_store"]
