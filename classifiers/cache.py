"""Predictions kept by exact text, so a page that has not changed, or a text repeated across pages and sources
(reposts, mirrored channels), is scored once.

The key is the text's SHA-256 with the model version (which names the runtime variant), the thresholds
version and the language (thresholds may differ per language): anything that changes a prediction
changes the key. Near-duplicates are scored again: an edit of a few words can be the one that matters.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Sequence

from classifiers.model import Prediction, TextClassifier


class PredictionCache:
    def __init__(self, size: int):
        self.size = size  # entries kept, least recently used dropped first; 0: no cache
        self._entries: OrderedDict[tuple, Prediction] = OrderedDict()

    def predict(self, classifier: TextClassifier, texts: list[str], langs: Sequence[str | None],
                explain: bool = True) -> tuple[list[Prediction], int]:
        """Predictions for the texts, and how many came from the cache; texts seen before are not scored."""
        if not self.size:
            return classifier.predict(texts, explain=explain, langs=langs), 0
        keys = [(classifier.version, classifier.thresholds_version, lang, explain,
                 hashlib.sha256(text.encode("utf-8")).digest()) for text, lang in zip(texts, langs)]
        todo: dict[tuple, int] = {}  # key -> the first text with it (a batch can repeat a text)
        for i, key in enumerate(keys):
            if key in self._entries:
                self._entries.move_to_end(key)
            elif key not in todo:
                todo[key] = i
        fresh = dict(zip(todo, classifier.predict([texts[i] for i in todo.values()], explain=explain,
                                                  langs=[langs[i] for i in todo.values()]))) if todo else {}
        predictions = [fresh[key] if key in fresh else self._entries[key] for key in keys]
        self._entries.update(fresh)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return predictions, len(keys) - len(todo)
