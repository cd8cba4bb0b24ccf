"""Which model the classify stage uses, switched and rolled back with one command each.

`data_dir/models/active.json` (a SelectionFile) names the active model (and optionally a shadow candidate) and keeps the
history of switches. Classify workers with `classifier.model: active` read it, and load the new model
between batches when it changes, without a restart. (On Kubernetes, the Deployment's model setting and
`kubectl rollout undo` do the same job.)
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from streams.files import write_atomically

ACTIVE = "active"


@dataclass
class Selection:
    active: str = "default"
    shadow: str | None = None
    history: list[dict] = field(default_factory=list)  # earlier selections, newest last


class SelectionFile:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "models" / "active.json"

    def read(self) -> Selection:
        if not self.path.exists():
            return Selection()
        try:
            return Selection(**json.loads(self.path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{self.path}: not a model selection ({exc}); fix or delete it") from None

    def mtime(self) -> float | None:
        return self.path.stat().st_mtime if self.path.exists() else None

    def _write(self, selection: Selection) -> None:
        write_atomically(self.path, json.dumps(asdict(selection), indent=2) + "\n")  # workers never read half

    def select(self, who: str, *, active: str | None = None, shadow: str | None = None,
               stop_shadow: bool = False) -> Selection:
        """Change the active model and/or the shadow candidate; the previous selection goes to the history."""
        selection = self.read()
        selection.history.append({"active": selection.active, "shadow": selection.shadow, "who": who,
                                  "replaced_at": datetime.now(timezone.utc).isoformat()})
        if active is not None:
            selection.active = active
            if selection.shadow == active:
                selection.shadow = None  # the candidate was promoted
        if shadow is not None or stop_shadow:
            selection.shadow = shadow
        self._write(selection)
        return selection

    def rollback(self) -> Selection:
        """Back to the selection before the last change."""
        selection = self.read()
        if not selection.history:
            raise ValueError("nothing to roll back to: no earlier model selection")
        previous = selection.history.pop()
        selection.active, selection.shadow = previous["active"], previous["shadow"]
        self._write(selection)
        return selection
