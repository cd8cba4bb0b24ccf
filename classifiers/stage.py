"""The classify stage: raw documents in, classified documents (scores, labels, evidence) out."""
from __future__ import annotations

from collections import Counter

from classifiers.model import TextClassifier
from streams.runner import Output, Result, Stage
from streams.schemas import ClassifiedDocument, Evidence, RawDocument


class ClassifyStage(Stage[RawDocument]):
    name = "classify"
    input_schema = RawDocument

    def __init__(self, classifier: TextClassifier, input_topic: str, output_topic: str):
        self.classifier = classifier
        self.input_topic = input_topic
        self.output_topic = output_topic

    def process(self, items: list[RawDocument], stats: Counter) -> list[Result]:
        predictions = self.classifier.predict([doc.text for doc in items])
        results = []
        for doc, prediction in zip(items, predictions):
            classified = ClassifiedDocument(
                document=doc, model_name=self.classifier.name, model_version=self.classifier.version,
                scores=prediction.scores, labels=prediction.labels, flagged=prediction.flagged,
                thresholds=self.classifier.thresholds, evidence=[Evidence(**e) for e in prediction.evidence],
            )
            stats["flagged"] += int(prediction.flagged)
            results.append(Result(outputs=[Output(self.output_topic, classified.to_bytes(), doc.id.encode("ascii"))]))
        return results
