"""The Kibana saved objects agree with the index mapping: every field they use exists, every reference
resolves, ids are fixed (re-imports overwrite instead of duplicating)."""
from __future__ import annotations

import json
import posixpath
import re
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from streams.config import VigilSettings
from streams.kibana import DATA_VIEW_ID, read_saved_objects, saved_objects_for
from streams.stores.elastic_layout import Layout, field_paths

OBJECTS = read_saved_objects()
FIELDS = field_paths(Layout().document_mappings()) | {"_score", "_id"}
KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*(?::|>=|<=|>|<)")

EXPECTED_IDS = {
    ("index-pattern", "vigil-documents"),
    ("search", "vigil-search-flagged-24h"), ("search", "vigil-search-awaiting-review"),
    ("search", "vigil-search-recruitment"), ("search", "vigil-search-propaganda"),
    ("search", "vigil-search-new-source-high-score"), ("search", "vigil-search-dismissed"),
    ("search", "vigil-search-known-content"),
    ("visualization", "vigil-vis-flags-over-time"), ("visualization", "vigil-vis-flags-by-source"),
    ("visualization", "vigil-vis-flags-by-language"), ("visualization", "vigil-vis-top-domains"),
    ("visualization", "vigil-vis-review-outcomes"), ("visualization", "vigil-vis-precision-by-model"),
    ("dashboard", "vigil-dashboard-overview"),
}


def kql_fields(query: str) -> set[str]:
    return set(KQL_FIELD.findall(query))


def fields_used(obj: dict) -> set[str]:
    attributes, used = obj["attributes"], set()
    search_source = json.loads(attributes.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", "{}"))
    used |= kql_fields(search_source.get("query", {}).get("query", ""))
    used |= set(attributes.get("columns", []))
    used |= {field for field, _ in attributes.get("sort", [])}
    if obj["type"] == "index-pattern":
        used |= set(json.loads(attributes["fieldFormatMap"])) | set(json.loads(attributes["fieldAttrs"]))
        used.add(attributes["timeFieldName"])
    if obj["type"] == "visualization":
        state = json.loads(attributes["visState"])
        used |= {agg["params"]["field"] for agg in state["aggs"] if "field" in agg.get("params", {})}
        params = state["params"]
        for key in ("time_field", "pivot_id"):
            if key in params:
                used.add(params[key])
        queries = [params.get("filter", {})]
        for series in params.get("series", []):
            queries.append(series.get("filter", {}))
            for metric in series["metrics"]:
                queries += [metric.get("numerator", {}), metric.get("denominator", {})]
        for query in queries:
            used |= kql_fields(query.get("query", ""))
    return used


def test_ids_are_fixed_and_unique():
    ids = [(obj["type"], obj["id"]) for obj in OBJECTS]
    assert len(ids) == len(set(ids))
    assert set(ids) == EXPECTED_IDS


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda obj: obj["id"])
def test_every_field_a_saved_object_uses_exists_in_the_mapping(obj):
    missing = fields_used(obj) - FIELDS
    assert not missing, f"{obj['id']} uses fields the index template does not map: {sorted(missing)}"


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda obj: obj["id"])
def test_every_reference_resolves(obj):
    known = {(o["type"], o["id"]) for o in OBJECTS}
    for reference in obj["references"]:
        assert (reference["type"], reference["id"]) in known, reference
    names = {reference["name"] for reference in obj["references"]}
    attributes = obj["attributes"]
    search_source = json.loads(attributes.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", "{}"))
    if "indexRefName" in search_source:
        assert search_source["indexRefName"] in names
    if obj["type"] == "dashboard":
        panels = json.loads(attributes["panelsJSON"])
        assert panels and all(panel["panelRefName"] in names for panel in panels)
        assert len({panel["panelIndex"] for panel in panels}) == len(panels)
    if obj["type"] == "visualization":
        state = json.loads(attributes["visState"])
        params = state["params"]
        if state["type"] == "metrics":  # TSVB: its data view by reference, as Kibana saves it
            assert "index_pattern" not in params and params["use_kibana_indexes"] is True
            assert params["index_pattern_ref_name"] in names
            assert {"name": params["index_pattern_ref_name"], "type": "index-pattern", "id": DATA_VIEW_ID} in \
                obj["references"]


def test_the_saved_searches_analysts_asked_for():
    titles = {obj["attributes"]["title"] for obj in OBJECTS if obj["type"] == "search"}
    assert titles == {"Flagged in the last 24 hours", "Awaiting review", "Recruitment", "Propaganda",
                      "High score from a new source", "Dismissed by reviewers", "Known-content matches"}


def test_data_view_formats_links_and_percentages():
    view = next(obj for obj in OBJECTS if obj["type"] == "index-pattern")
    formats = json.loads(view["attributes"]["fieldFormatMap"])
    assert formats["url"]["id"] == "url" and formats["id"]["id"] == "url"
    assert formats["max_score"]["id"] == "percent" and formats["scores.recruitment"]["id"] == "percent"
    assert view["attributes"]["title"] == "vigil" and view["attributes"]["timeFieldName"] == "fetched_at"


def test_objects_are_adapted_to_the_deployment():
    settings = VigilSettings.model_validate({"elasticsearch": {"alias": "osint"},
                                             "kibana": {"review_url": "https://review.example/d/{{value}}"}})
    view = next(obj for obj in saved_objects_for(settings) if obj["type"] == "index-pattern")
    assert view["attributes"]["title"] == "osint"
    assert json.loads(view["attributes"]["fieldFormatMap"])["id"]["params"]["urlTemplate"] == \
        "https://review.example/d/{{value}}"


def render_link(params: dict, value: str, page: str, base_path: str = "") -> str:
    """The href Kibana's url field formatter makes of a value (field_formats/common/converters/url.tsx):
    {{value}} URL-encoded (encodeURIComponent), {{rawValue}} as it is; a relative link prefixed with the
    origin and base path (a space's /s/ID is part of it) the way the formatter does; then dot segments
    resolved, as the browser does when it follows the link. `page` is the Kibana page showing the field."""
    encoded = quote(value, safe="-_.!~*'()")
    url = re.sub(r"{{\s*(\w+)\s*}}", lambda m: {"value": encoded, "rawValue": value}.get(m[1], ""),
                 params["urlTemplate"])
    parts = urlsplit(page)
    origin = f"{parts.scheme}://{parts.netloc}"
    if url.startswith(("http://", "https://", "mailto:")):
        prefix = ""
    elif url.startswith("#"):
        prefix = origin + parts.path
    elif url.startswith(base_path or "/"):
        prefix = origin
    else:
        prefix = f"{origin}{base_path}/app{'' if url.startswith('/') else '/'}"
    href = urlsplit(prefix + url)
    path = posixpath.normpath(href.path) if href.path else ""
    return href._replace(path=path).geturl()


def id_format(settings: VigilSettings) -> dict:
    view = next(obj for obj in saved_objects_for(settings) if obj["type"] == "index-pattern")
    return json.loads(view["attributes"]["fieldFormatMap"])


DOC_ID = "0123456789abcdef0123456789abcdef"


def test_page_links_open_the_page_as_crawled():
    formats = id_format(VigilSettings())
    url = "https://forum.example/viewtopic.php?t=12&p=7#post-7"
    for field in ("url", "canonical_url"):
        assert render_link(formats[field]["params"], url, "https://kibana.example/app/discover") == url


@pytest.mark.parametrize("page, base_path", [
    ("https://kibana.example/app/discover", ""),
    ("https://kibana.example/s/analysts/app/discover", "/s/analysts"),  # a Kibana space
    ("https://example.org/kibana/s/analysts/app/dashboards", "/kibana/s/analysts"),  # behind a base path
])
def test_the_document_id_opens_it_in_discover_in_the_same_space(page, base_path):
    href = urlsplit(render_link(id_format(VigilSettings())["id"]["params"], DOC_ID, page, base_path))
    assert f"{href.scheme}://{href.netloc}" == "https://" + urlsplit(page).netloc
    assert href.path == f"{urlsplit(page).path.split('/app/')[0]}/app/discover"
    state = parse_qs(urlsplit(unquote(href.fragment)).query)
    assert f"query:'id:\"{DOC_ID}\"'" in state["_a"][0] and "index:'vigil-documents'" in state["_a"][0]
    assert "time:(from:now-5y,to:now)" in state["_g"][0]  # found whenever it was fetched


def test_the_document_id_opens_the_review_console_when_there_is_one():
    settings = VigilSettings.model_validate({"kibana": {"console_url": "https://review.example/vigil/"}})
    link = render_link(id_format(settings)["id"]["params"], DOC_ID, "https://kibana.example/s/a/app/discover", "/s/a")
    assert link == f"https://review.example/vigil/documents/{DOC_ID}"
