"""What `vigil setup` installs into Elasticsearch: the files in deploy/elasticsearch, named for the alias.

The files are the request bodies Elasticsearch's own APIs take (`PUT _component_template/NAME`,
`PUT _index_template/NAME`, `PUT _ilm/policy/NAME`), written for the default alias `vigil`.
Documents live in two retention classes, each a write alias over rolling indices:
`<alias>-flagged` (flagged or reviewed: kept long) and `<alias>-unflagged` (expire sooner).
Every index joins the read alias `<alias>`, which analysts and Kibana search.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[2] / "deploy" / "elasticsearch"
FILES_ALIAS = "vigil"
RETENTION_CLASSES = ("flagged", "unflagged")


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Layout:
    alias: str = FILES_ALIAS
    directory: Path = DEFAULT_DIRECTORY

    def rename(self, name: str) -> str:
        """`vigil` -> the alias, `vigil-x` -> `<alias>-x`: the files' names for this deployment."""
        if name == FILES_ALIAS:
            return self.alias
        if name.startswith(FILES_ALIAS + "-"):
            return self.alias + name[len(FILES_ALIAS):]
        return name

    def write_alias(self, retention: str) -> str:
        return f"{self.alias}-{retention}"

    def first_index(self, retention: str) -> str:
        return f"{self.alias}-{retention}-000001"

    def retention_of(self, index: str) -> str | None:
        """The retention class a concrete index belongs to (None for indices Vigil did not create)."""
        for retention in RETENTION_CLASSES:
            if index.startswith(f"{self.alias}-{retention}-"):
                return retention
        return None

    @property
    def alerts_index(self) -> str:
        return f"{self.alias}-alerts"

    @property
    def reviews_index(self) -> str:
        """Every review decision, append-only; outside the read alias."""
        return f"{self.alias}-reviews"

    @property
    def hashlists_index(self) -> str:
        """The hash lists' metadata; outside the read alias (for operators, never analysts)."""
        return f"{self.alias}-hashlists"

    @property
    def hashlist_entries_index(self) -> str:
        return f"{self.alias}-hashlist-entries"

    def _bodies(self, folder: str) -> dict[str, dict]:
        return {self.rename(path.stem): _read(path) for path in sorted((self.directory / folder).glob("*.json"))}

    def component_templates(self) -> dict[str, dict]:
        return self._bodies("component-templates")

    def lifecycle_policies(self) -> dict[str, dict]:
        return self._bodies("lifecycle-policies")

    def index_templates(self, lifecycle: bool = True) -> dict[str, dict]:
        """Index templates renamed for the alias; without lifecycle management (servers that have no ILM)
        the lifecycle settings are left out."""
        templates = {}
        for name, body in self._bodies("index-templates").items():
            body["index_patterns"] = [self.rename(pattern) for pattern in body["index_patterns"]]
            body["composed_of"] = [self.rename(part) for part in body.get("composed_of", [])]
            template = body.setdefault("template", {})
            template["aliases"] = {self.rename(a): spec for a, spec in template.get("aliases", {}).items()}
            index_settings = template.get("settings", {}).get("index", {})
            policy = index_settings.pop("lifecycle", None)
            if policy and lifecycle:
                index_settings["lifecycle"] = {key: self.rename(value) for key, value in policy.items()}
            templates[name] = body
        return templates

    def document_mappings(self) -> dict:
        """The mappings every document index gets: its component templates merged, as Elasticsearch does."""
        merged: dict = {"properties": {}}
        components = self.component_templates()
        for part in self.index_templates()[self.rename("vigil-flagged")]["composed_of"]:
            mappings = components[part]["template"].get("mappings", {})
            merged["properties"].update(mappings.get("properties", {}))
            merged.update({key: value for key, value in mappings.items() if key != "properties"})
        return merged


def field_paths(mappings: dict) -> set[str]:
    """Every searchable field path in a mapping, multi-fields included (`text.en`, `review.status`)."""
    paths: set[str] = set()

    def walk(properties: dict, prefix: str):
        for name, spec in properties.items():
            path = prefix + name
            if "properties" in spec:
                walk(spec["properties"], path + ".")
                continue
            paths.add(path)
            for sub in spec.get("fields", {}):
                paths.add(f"{path}.{sub}")

    walk(mappings.get("properties", {}), "")
    return paths
