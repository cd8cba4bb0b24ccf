"""Vigil's Scrapy project: spiders, safety and politeness middlewares, document pipelines."""
