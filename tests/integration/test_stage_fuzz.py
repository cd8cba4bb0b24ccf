"""Fuzzing the classify and index stages through the runner: random bytes, random JSON and valid documents
with extreme values. No input may crash a stage or block it: every message is either processed or
dead-lettered, once (issue 9, item 4)."""
from __future__ import annotations

import json
import uuid
from datetime import timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.model import TextClassifier
from classifiers.stage import ClassifyStage
from streams.config import VigilSettings
from streams.index_stage import IndexStage
from streams.runner import StageRunner
from streams.schemas import MAX_TEXT_CHARS, ClassifiedDocument, DeadLetter, Evidence, RawDocument
from streams.stores.sqlite import SqliteStore
from streams.transports.local import LocalLogTransport
from tests.unit.tiny_model import build_tiny_model

pytestmark = pytest.mark.integration

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture])
HEX = "0123456789abcdef"
# Text as crawled pages hold it: any script, control characters, lone surrogates are impossible in JSON UTF-8.
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
                           max_leaves=20)


@st.composite
def extreme_raw_documents(draw) -> RawDocument:
    text = draw(st.one_of(any_text, st.just("\u0000" * 3), st.just("ДАИШ " * (MAX_TEXT_CHARS // 5)),
                          st.just("x" * MAX_TEXT_CHARS), st.just("")))
    return RawDocument(
        id=draw(st.text(HEX, min_size=32, max_size=32)), url=draw(any_text.filter(bool)),
        canonical_url=draw(any_text.filter(bool)), source=draw(any_text.filter(bool)),
        fetched_at=draw(st.datetimes(timezones=st.just(timezone.utc))),
        published_at=draw(st.none() | st.datetimes(timezones=st.just(timezone.utc))),
        http_status=draw(st.integers(100, 599)), lang=draw(st.sampled_from(["und", "ru", "ar", "zh", "xx", ""])),
        lang_confidence=draw(st.floats(0, 1)), title=draw(any_text), text=text,
        text_sha256=draw(st.text(HEX, min_size=64, max_size=64)), simhash=draw(st.text(HEX, min_size=16, max_size=16)),
        author=draw(st.none() | any_text), depth=draw(st.integers(0, 2**62)),
    )


@st.composite
def extreme_classified_documents(draw) -> ClassifiedDocument:
    raw = draw(extreme_raw_documents())
    scores = draw(st.dictionaries(st.sampled_from(["recruitment", "propaganda", "other", ""]), st.floats(0, 1),
                                  max_size=4))
    start = draw(st.integers(0, 10**9))
    evidence = [Evidence(label=label, text=draw(any_text), score=score, start=start, end=start + draw(st.integers(0)))
                for label, score in scores.items()][:draw(st.integers(0, 4))]
    return ClassifiedDocument(document=raw, model_name=draw(any_text), model_version=draw(any_text), scores=scores,
                              labels=[label for label, score in scores.items() if score >= 0.5],
                              flagged=draw(st.booleans()), thresholds=scores, evidence=evidence)


def messages(documents):
    """What may arrive on a topic: garbage, JSON of any shape, or the stage's own schema at its extremes."""
    return st.lists(st.one_of(st.binary(max_size=500), json_values.map(lambda v: json.dumps(v).encode()),
                              documents.map(lambda doc: doc.to_bytes())), min_size=1, max_size=8)


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    settings = VigilSettings(data_dir=tmp_path_factory.mktemp("fuzz"))
    with LocalLogTransport(settings.data_dir / "log.sqlite", settings.topics) as transport:
        yield transport, settings


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    return TextClassifier.from_pretrained(build_tiny_model(tmp_path_factory.mktemp("tiny")))


def run_over(stage, values, transport, settings):
    """Publish the values to the stage's input and run it to the end; what came out, and the letters."""
    producer = transport.producer()
    for value in values:
        producer.send(stage.input_topic, value)
    producer.flush()
    dlq = f"dlq-{uuid.uuid4().hex[:8]}"
    runner = StageRunner(stage, transport.consumer([stage.input_topic], "fuzz"), producer, dlq, settings.stage)
    stats = runner.run(until_drained=True, idle_limit_s=5)
    reader = transport.consumer([dlq], f"reader-{dlq}")
    letters = []
    for _ in range(20):
        letters += reader.poll(100, 0.1)
        if len(letters) >= stats["dead_lettered"]:
            break
    reader.close()
    return stats, [DeadLetter.from_bytes(r.value) for r in letters]


@FUZZ
@given(values=messages(extreme_raw_documents()))
def test_no_input_stops_the_classify_stage(values, log, classifier):
    transport, settings = log
    stage = ClassifyStage(classifier, f"raw-{uuid.uuid4().hex[:8]}", "classified")
    stats, letters = run_over(stage, values, transport, settings)
    assert stats["consumed"] == len(values) == stats["processed"] + stats["dead_lettered"]
    assert len(letters) == stats["dead_lettered"] and all(letter.error for letter in letters)


@FUZZ
@given(values=messages(extreme_classified_documents()))
def test_no_input_stops_the_index_stage(values, log, tmp_path_factory):
    transport, settings = log
    with SqliteStore(tmp_path_factory.mktemp("store") / "store.sqlite") as store:
        stage = IndexStage(store, f"classified-{uuid.uuid4().hex[:8]}")
        stats, letters = run_over(stage, values, transport, settings)
    assert stats["consumed"] == len(values) == stats["processed"] + stats["dead_lettered"]
    assert len(letters) == stats["dead_lettered"]
