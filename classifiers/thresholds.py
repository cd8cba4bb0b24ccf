"""Thresholds files: temperatures and per-label (and per-language) thresholds fitted on one model
version by `vigil thresholds` (classifiers/training/calibration.py). The classify stage reloads the
file when it changes, without a restart, and records its version on every document.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from streams.files import write_atomically


@dataclass
class ThresholdSet:
    """A thresholds file: temperatures and thresholds for one model version."""
    version: str
    model_version: str
    thresholds: dict[str, float]
    temperature: dict[str, float] = field(default_factory=dict)
    by_language: dict[str, dict[str, float]] = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"version": self.version, "model_version": self.model_version,
                           "thresholds": self.thresholds, "temperature": self.temperature,
                           "by_language": self.by_language, **self.details}, indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> "ThresholdSet":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            known = {"version", "model_version", "thresholds", "temperature", "by_language"}
            result = cls(**{key: data[key] for key in known if key in data},
                         details={key: value for key, value in data.items() if key not in known})
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"{path}: not a thresholds file ({exc})") from None
        by_language = {k: v for d in result.by_language.values() for k, v in d.items()}
        for label, t in {**result.thresholds, **by_language}.items():
            if not 0 < t < 1:
                raise ValueError(f"{path}: threshold for {label!r} must be between 0 and 1, got {t}")
        return result

    def write(self, path: Path) -> None:
        """Atomically, so a classify stage watching the file never reads half of it."""
        write_atomically(path, self.to_json())
