"""Vigil's Scrapy project: spiders, safety and politeness middlewares, document pipelines, sources, the
crawl schedule, and the re-checking of flagged pages."""
