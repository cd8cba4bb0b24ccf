"""The classify stage: raw documents in, classified documents (scores, labels, evidence) out.

Between batches it picks up a changed thresholds file and, with `classifier.model: active`, a switch
of the active or shadow model (classifiers/registry.py), without a restart. A shadow model's scores
are recorded under its own version and never flag anything.
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Callable

from classifiers.model import TextClassifier
from classifiers.registry import Registry
from streams.runner import Output, Result, Stage
from streams.schemas import ClassifiedDocument, Evidence, RawDocument, ShadowScores

log = logging.getLogger(__name__)


class ClassifyStage(Stage[RawDocument]):
    name = "classify"
    input_schema = RawDocument

    def __init__(self, classifier: TextClassifier, input_topic: str, output_topic: str,
                 shadow: TextClassifier | None = None, registry: Registry | None = None,
                 load: Callable[..., TextClassifier] | None = None):
        self.classifier = classifier
        self.shadow = shadow
        self.input_topic = input_topic
        self.output_topic = output_topic
        self.registry, self.load = registry, load
        self._selection_mtime = registry.mtime() if registry else None

    def refresh(self, stats: Counter) -> None:
        """Apply a changed model selection or thresholds file; on any error keep what is in effect."""
        if self.registry is not None and self.registry.mtime() != self._selection_mtime:
            try:
                selection = self.registry.read()
                if selection.active != self.classifier.source:
                    self.classifier = self.load(selection.active)
                if selection.shadow != (self.shadow.source if self.shadow else None):
                    self.shadow = self.load(selection.shadow, thresholds=False) if selection.shadow else None
                self._selection_mtime = self.registry.mtime()
                stats["model_switches"] += 1
                log.info("classifying with %s%s", self.classifier.version,
                         f", shadow {self.shadow.version}" if self.shadow else "")
            except Exception as exc:  # a bad selection must not stop classification
                stats["model_switch_errors"] += 1
                log.error("model selection in %s not applied: %s", self.registry.path, exc)
                self._selection_mtime = self.registry.mtime()
        if self.classifier.refresh_thresholds():
            stats["threshold_reload_errors"] += 1

    def process(self, items: list[RawDocument], stats: Counter) -> list[Result]:
        self.refresh(stats)
        texts, langs = [doc.text for doc in items], [doc.lang for doc in items]
        predictions = self.classifier.predict(texts, langs=langs)
        shadows = self.shadow.predict(texts, explain=False, langs=langs) if self.shadow else [None] * len(items)
        results = []
        for doc, prediction, shadow in zip(items, predictions, shadows):
            classified = ClassifiedDocument(
                document=doc, model_name=self.classifier.name, model_version=self.classifier.version,
                scores=prediction.scores, labels=prediction.labels, flagged=prediction.flagged,
                thresholds={label: self.classifier.threshold(label, doc.lang) for label in self.classifier.labels},
                thresholds_version=self.classifier.thresholds_version,
                evidence=[Evidence(**e) for e in prediction.evidence],
                shadow=ShadowScores(model_version=self.shadow.version, scores=shadow.scores, labels=shadow.labels,
                                    flagged=shadow.flagged) if shadow else None,
            )
            stats["flagged"] += int(prediction.flagged)
            stats["shadow_flagged"] += int(bool(shadow and shadow.flagged))
            results.append(Result(outputs=[Output(self.output_topic, classified.to_bytes(), doc.id.encode("ascii"))]))
        return results
