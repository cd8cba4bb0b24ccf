"""A classifier from Vigil's settings: a model reference ('default', 'active', a directory, a hub id),
the runtime and the thresholds file in effect."""
from __future__ import annotations

from classifiers.default import resolve_model
from classifiers.model import TextClassifier
from classifiers.selection import ACTIVE, SelectionFile
from streams.config import ConfigError, VigilSettings


def active_reference(settings: VigilSettings, reference: str | None = None) -> str:
    """The reference itself, or for 'active' (and by default classifier.model) the selected model."""
    reference = reference or settings.classifier.model
    return SelectionFile(settings.data_dir).read().active if reference == ACTIVE else reference


def check_loads(settings: VigilSettings, reference: str) -> str:
    """The version a model reference loads as, or ValueError saying why a classify worker could not load it."""
    try:
        return load_classifier(settings, reference, thresholds=False).version
    except ConfigError as exc:  # load_classifier's own words for a missing directory or an unknown id
        raise ValueError(f"{reference} does not load as a classifier: {exc}") from None
    except Exception as exc:  # whatever else stops a worker: no config, a broken tokenizer, ...
        raise ValueError(f"{reference} does not load as a classifier ({type(exc).__name__}: {exc})") from None


def load_classifier(settings: VigilSettings, reference: str, thresholds: bool = True,
                    strict: bool = True) -> TextClassifier:
    """A classifier for a model reference, with the thresholds file if one is configured (strict: fail
    when it does not fit this model; else keep the model's own thresholds)."""
    try:
        classifier = TextClassifier.from_pretrained(resolve_model(reference, settings.data_dir), settings.classifier,
                                                    data_dir=settings.data_dir)
    except (OSError, ValueError) as exc:  # transformers' words for a missing directory or an unknown hub id
        raise ConfigError(f"classifier.model {reference!r} does not load ({exc.__class__.__name__}: "
                          f"{str(exc).splitlines()[0]}); give a model directory, a Hugging Face id or 'default'") \
            from None
    classifier.reference = reference
    if thresholds and settings.classifier.thresholds_file:
        try:
            classifier.watch_thresholds(settings.classifier.thresholds_file, strict=strict)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        classifier.thresholds.update(settings.classifier.thresholds)  # explicit overrides win over the file
    return classifier
