"""The classify stage: raw documents in, classified documents (scores, labels, evidence) out.

Between batches it picks up a changed thresholds file and, with `classifier.model: active`, a switch
of the active or shadow model (classifiers/selection.py), without a restart. A shadow model's scores
are recorded under its own version and never flag anything. With classifier.first_pass, only documents
the first pass finds suspect reach the transformer (classifiers/first_pass.py). With hash lists
(streams/hashlists/live.py), a document that matches a banked text or image is flagged with the entry's
label whatever the model scored, first pass or not, and its `matches` name the list and entry.
"""
from __future__ import annotations

import logging
from collections import Counter
from typing import Callable

from classifiers.cache import PredictionCache
from classifiers.model import Prediction, TextClassifier
from classifiers.selection import SelectionFile
from streams.hashlists.live import LiveHashIndex
from streams.runner import Output, Result, Stage
from streams.schemas import ClassifiedDocument, Evidence, FirstPassResult, RawDocument, ShadowScores

log = logging.getLogger(__name__)
CLEARED = Prediction(scores={}, labels=[], flagged=False)


class ClassifyStage(Stage[RawDocument]):
    name = "classify"
    input_schema = RawDocument

    def __init__(self, classifier: TextClassifier, input_topic: str, output_topic: str,
                 shadow: TextClassifier | None = None, selection_file: SelectionFile | None = None,
                 load: Callable[..., TextClassifier] | None = None, cache_size: int = 10_000,
                 known: LiveHashIndex | None = None):
        self.classifier = classifier
        self.known = known
        self.shadow = shadow
        self.input_topic = input_topic
        self.output_topic = output_topic
        if selection_file is not None and load is None:
            raise ValueError("following a model selection file needs a load function")
        self.selection_file, self.load = selection_file, load
        self.cache, self.shadow_cache = PredictionCache(cache_size), PredictionCache(cache_size)
        self._selection_mtime = selection_file.mtime() if selection_file else None

    def refresh(self, stats: Counter) -> None:
        """Apply a changed model selection or thresholds file; on any error keep what is in effect."""
        if self.selection_file is not None and self.selection_file.mtime() != self._selection_mtime:
            assert self.load is not None  # checked in __init__
            try:
                selection = self.selection_file.read()
                if selection.active != self.classifier.reference:
                    self.classifier = self.load(selection.active)
                if selection.shadow != (self.shadow.reference if self.shadow else None):
                    self.shadow = self.load(selection.shadow, thresholds=False) if selection.shadow else None
                self._selection_mtime = self.selection_file.mtime()
                stats["model_switches"] += 1
                log.info("classifying with %s%s", self.classifier.version,
                         f", shadow {self.shadow.version}" if self.shadow else "")
            except Exception as exc:  # a bad selection must not stop classification
                stats["model_switch_errors"] += 1
                log.error("model selection in %s not applied: %s", self.selection_file.path, exc)
                self._selection_mtime = self.selection_file.mtime()
        if self.classifier.refresh_thresholds():
            stats["threshold_reload_errors"] += 1
        if self.known is not None:
            self.known.refresh(stats)

    def close(self) -> None:
        if self.known is not None:
            self.known.close()

    def _shadow_scores(self, prediction: Prediction | None) -> ShadowScores | None:
        if prediction is None or self.shadow is None:
            return None
        return ShadowScores(model_version=self.shadow.version, scores=prediction.scores, labels=prediction.labels,
                            flagged=prediction.flagged)

    def _screen(self, texts: list[str], stats: Counter) -> list[FirstPassResult | None]:
        first_pass = self.classifier.first_pass
        if first_pass is None:
            return [None] * len(texts)
        scores, sent_on = first_pass.candidates(texts)
        stats["first_pass_cleared"] += int((~sent_on).sum())
        return [FirstPassResult(version=first_pass.version, score=float(score), threshold=first_pass.threshold,
                                sent_on=bool(on)) for score, on in zip(scores, sent_on)]

    def process(self, items: list[RawDocument], stats: Counter) -> list[Result]:
        self.refresh(stats)
        texts, langs = [doc.text for doc in items], [doc.lang for doc in items]
        screened = self._screen(texts, stats)
        sent = [i for i, result in enumerate(screened) if result is None or result.sent_on]
        scored, hits = self.cache.predict(self.classifier, [texts[i] for i in sent], [langs[i] for i in sent])
        stats["cache_hits"] += hits
        predictions = [CLEARED] * len(items)  # the transformer never saw what the first pass cleared
        for i, prediction in zip(sent, scored):
            predictions[i] = prediction
        shadows: list[Prediction | None] = [None] * len(items)
        if self.shadow is not None:
            shadows = list(self.shadow_cache.predict(self.shadow, texts, langs, explain=False)[0])
        results = []
        for doc, prediction, shadow_prediction, first_pass in zip(items, predictions, shadows, screened):
            matches = self.known.match(doc) if self.known is not None else []
            labels = prediction.labels + sorted({m.label for m in matches} - set(prediction.labels))
            classified = ClassifiedDocument(
                document=doc, model_name=self.classifier.name, model_version=self.classifier.version,
                scores=prediction.scores, labels=labels, flagged=prediction.flagged or bool(matches),
                matches=matches,
                thresholds={label: self.classifier.threshold(label, doc.lang) for label in self.classifier.labels},
                thresholds_version=self.classifier.thresholds_version,
                evidence=[Evidence(**e) for e in prediction.evidence],
                shadow=self._shadow_scores(shadow_prediction),
                language_validated=self.classifier.language_validated(doc.lang), first_pass=first_pass,
            )
            stats["flagged"] += int(classified.flagged)
            stats["known_content_matches"] += len(matches)
            stats["shadow_flagged"] += int(bool(shadow_prediction and shadow_prediction.flagged))
            results.append(Result(outputs=[Output(self.output_topic, classified.to_bytes(), doc.id.encode("ascii"))]))
        return results
