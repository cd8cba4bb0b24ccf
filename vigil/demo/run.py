"""`vigil demo`: the whole pipeline over the bundled demo site, then what was flagged and how to search it."""
from __future__ import annotations

import time

from streams.config import VigilSettings
from streams.stores import SearchQuery, open_store
from vigil.demo.site import DemoSite
from vigil.pipeline import run_once

DEMO_PORT = 8765  # fixed, so re-runs see the same URLs and update documents instead of adding new ones
# The demo site is local and tiny: no politeness delay needed against it.
LOCAL_SITE_SPEED = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}


def _open_site() -> DemoSite:
    try:
        return DemoSite(DEMO_PORT)
    except OSError:
        print(f"port {DEMO_PORT} is busy; serving the demo site on a free port (documents get new ids)")
        return DemoSite(0)


def demo(settings: VigilSettings, serve: bool = False) -> int:
    with _open_site() as site:
        sources_file = settings.data_dir / "demo-sources.yaml"
        sources_file.parent.mkdir(parents=True, exist_ok=True)
        sources_file.write_text(site.sources_yaml(), encoding="utf-8")
        print(f"demo site: {site.url}/ ({len(site.pages)} pages: news, counter-speech, research, religious, "
              f"political, fiction, and a few violating pages written for the demo)")
        summary = run_once(settings, sources_file, scrapy_overrides={**LOCAL_SITE_SPEED, "LOG_LEVEL": "WARNING"})
        print("\n" + "\n".join(summary.lines()))

        with open_store(settings) as store:
            flagged = store.search(SearchQuery(flagged=True, source="riverside", limit=100))
        print(f"\nflagged for review ({flagged.total}):")
        for hit in flagged.hits:
            print(f"  [{', '.join(hit.labels)}] {hit.title}\n      {hit.url}\n      id {hit.id}")
            for evidence in hit.evidence[:1]:
                print(f"      why: \"{evidence['text'][:110]}\" ({evidence['label']} {evidence['score']:.2f})")
        flagged_paths = {hit.url[len(site.url):] for hit in flagged.hits}
        expected = {p.path for p in site.pages if p.expect == "flag"}
        clean = {p.path for p in site.pages if p.expect == "clean"}
        print(f"\ndemo check: {len(expected & flagged_paths)}/{len(expected)} violating pages flagged; "
              f"{len(clean & flagged_paths)}/{len(clean)} news, counter-speech and other pages flagged")
        print("\nnext: vigil search --flagged | vigil search attack | vigil search --label recruitment --json\n"
              "      vigil show ID | vigil review ID --decision confirmed --reason recruitment-call\n"
              f"review them in the console: vigil users add NAME --role analyst, then vigil console "
              f"(http://{settings.console.host}:{settings.console.port}/)")
        if serve:
            print(f"\nserving {site.url}/ until Ctrl-C")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0 if expected <= flagged_paths and not (clean & flagged_paths) else 1
