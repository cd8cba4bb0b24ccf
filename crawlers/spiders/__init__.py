"""Vigil's spiders, one per source kind."""
