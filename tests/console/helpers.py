"""Documents for the console's tests: classified the way the classify stage writes them, with evidence
sentences at their offsets in the text."""
from __future__ import annotations

import re
import uuid

from streams.schemas import ClassifiedDocument, Evidence
from tests.factories import raw_document


def sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^.!?]+[.!?]", text)]


def flagged(text: str, scores: dict[str, float], *, source: str, url: str | None = None, title: str = "A page",
            threshold: float = 0.5, minutes: int = 0, lang: str = "en", **raw_fields) -> ClassifiedDocument:
    """A document with the given scores; the evidence of each label over threshold is the text's first sentence,
    of the others its last."""
    raw = raw_document(url or f"https://{source}.example/{uuid.uuid4().hex[:8]}", text, title=title, source=source,
                       lang=lang, minutes=minutes)
    if raw_fields:
        raw = raw.model_copy(update=raw_fields)
    labels = [label for label, score in scores.items() if score >= threshold]
    evidence = []
    spans = sentences(text) or [(0, len(text))]
    for label in scores:
        start, end = spans[0] if label in labels else spans[-1]
        sentence = text[start:end]
        stripped = len(sentence) - len(sentence.lstrip())
        evidence.append(Evidence(label=label, text=sentence.strip(), score=scores[label], start=start + stripped,
                                 end=start + stripped + len(sentence.strip())))
    return ClassifiedDocument(document=raw, model_name="test-model", model_version="test-1", scores=scores,
                              labels=labels, flagged=bool(labels), thresholds={label: threshold for label in scores},
                              evidence=evidence)
