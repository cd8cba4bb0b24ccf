"""Main-text extraction quality and cost on pages with known main text (tests/extraction_pages.py):
token precision and recall per page and on average, for Vigil's extractor (trafilatura with a fallback)
against the baseline of all visible text, measured in the same run; and milliseconds per page.
Usage: python bench/extraction.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lxml.html  # noqa: E402

from crawlers.extract import extract  # noqa: E402
from tests.extraction_pages import MAIN_TEXTS, page, precision_recall  # noqa: E402


def visible_text(html: str) -> str:
    tree = lxml.html.fromstring(html)
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    return " ".join(tree.xpath("//body//text()"))


def main() -> None:
    rows = []
    for key in MAIN_TEXTS:
        html, expected = page(key)
        started = time.perf_counter()
        for _ in range(20):
            extracted = extract(html, f"https://daily.example/{key}", 50_000)
        ms = (time.perf_counter() - started) / 20 * 1000
        p, r = precision_recall(extracted.text, expected)
        bp, br = precision_recall(visible_text(html), expected)
        rows.append((key, p, r, bp, br, ms))
        print(f"{key:12s} precision {p:.3f} recall {r:.3f} | all visible text: precision {bp:.3f} recall {br:.3f} "
              f"| {ms:.1f} ms/page | title {extracted.title!r}")
    n = len(rows)
    mean = lambda i: sum(row[i] for row in rows) / n  # noqa: E731
    print(f"\nmean: precision {mean(1):.3f}, recall {mean(2):.3f} (all visible text: precision {mean(3):.3f}, "
          f"recall {mean(4):.3f}); {mean(5):.1f} ms per page")


if __name__ == "__main__":
    main()
