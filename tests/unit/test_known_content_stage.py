"""The classify stage with hash lists: a banked passage or image flags a document with the entry's label
whatever the model scored, a list change reaches the running stage without a restart, and a store that cannot
be read keeps the lists in effect."""
from collections import Counter

import pytest

from classifiers.model import TextClassifier
from classifiers.stage import ClassifyStage
from streams.config import HashListSettings
from streams.hashlists.banks import HashList
from streams.hashlists.entries import image_entries, text_entries
from streams.hashlists.live import LiveHashIndex
from streams.schemas import ClassifiedDocument, ImageRef
from streams.stores.sqlite import SqliteStore
from tests.factories import raw_document
from tests.unit.tiny_model import build_tiny_model

MANIFESTO = ("The soldiers of the Black Banner Brigade have struck the enemies of the faith in the city square, and "
             "the brothers who fell are martyrs in paradise. Every believer must rise and join the ranks of the "
             "mujahideen, because the caliphate needs men who will carry the banner across the land. Do not "
             "listen to the scholars of the palace who tell you to sit at home; the path of jihad is open and the "
             "caravan waits for those who answer the call.")
POSTER = ImageRef(url="https://e.org/poster.jpg", sha256="a" * 64, md5="b" * 32, pdq="f0" * 32, pdq_quality=90,
                  width=600, height=400)


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def stage(tmp_path):
    # Thresholds of 1.0: the tiny random model flags nothing, so every flag here is a match's.
    classifier = TextClassifier.from_pretrained(build_tiny_model(tmp_path / "m", thresholds={
        "recruitment": 1.0, "propaganda": 1.0}))
    store = SqliteStore(tmp_path / "store.sqlite")
    store.setup()
    store.save_hashlist(HashList(name="bank", source="tests", terms="tests only", default_label="propaganda"))
    clock = Clock()
    known = LiveHashIndex(store, HashListSettings(reload_s=10), clock=clock)
    stage = ClassifyStage(classifier, "raw", "classified", known=known)
    stage.clock = clock
    yield stage
    stage.close()


def classify(stage, *docs) -> tuple[list[ClassifiedDocument], Counter]:
    stats = Counter()
    results = stage.process(list(docs), stats)
    return [ClassifiedDocument.from_bytes(result.outputs[0].value) for result in results], stats


def test_a_banked_passage_quoted_in_a_forum_post_flags_it_with_the_entrys_label(stage):
    store = stage.known.store
    store.add_entries("bank", text_entries(MANIFESTO, label="recruitment", note="the Brigade's manifesto"))
    quoted = raw_document("https://forum.e.org/t/1", "Look what they posted today, brothers: " +
                          MANIFESTO.replace("city square", "market square").replace(";", ",") +
                          " What do you all think of this? I find it disgusting but it is everywhere.")
    news = raw_document("https://news.e.org/1", "Police said gunmen attacked the city square on Friday. The "
                        "Black Banner Brigade claimed the attack; officials called for calm.")
    (flagged, clean), stats = classify(stage, quoted, news)
    assert flagged.flagged and flagged.labels == ["recruitment"] and not clean.flagged and not clean.matches
    assert {(m.list, m.signal_type, m.label) for m in flagged.matches} == {("bank", "text_minhash", "recruitment")}
    evidence = flagged.matches[0].evidence  # the matched passage, not the whole page
    assert "path of jihad is open" in evidence and "disgusting" not in evidence
    assert max(flagged.scores.values()) < 1.0  # flagged whatever the model scored
    assert stats["known_content_matches"] == 1 and stats["flagged"] == 1 and stats["hashlist_reloads"] == 1


def test_a_list_change_reaches_the_running_stage_after_reload_s(stage):
    page = raw_document("https://e.org/p", "A page with a poster on it.").model_copy(update={"images": [POSTER]})
    (before,), _ = classify(stage, page)
    assert not before.flagged
    stage.known.store.add_entries("bank", image_entries(POSTER))
    stage.clock.now = 5  # not yet checked again
    (still,), _ = classify(stage, page)
    assert not still.flagged
    stage.clock.now = 11
    (after,), _ = classify(stage, page)
    assert after.flagged and after.labels == ["propaganda"]  # the list's default label
    assert {m.signal_type for m in after.matches} == {"pdq", "md5"}
    assert all(m.evidence == POSTER.url for m in after.matches)


def test_an_unreadable_store_keeps_the_lists_in_effect(stage, monkeypatch):
    stage.known.store.add_entries("bank", image_entries(POSTER))
    page = raw_document("https://e.org/p", "A page with a poster on it.").model_copy(update={"images": [POSTER]})
    assert classify(stage, page)[0][0].flagged

    def down():
        raise OSError("the store is down")
    monkeypatch.setattr(stage.known.store, "hashlists_version", down)
    stage.clock.now = 20
    (doc,), stats = classify(stage, page)
    assert doc.flagged and stats["hashlist_reload_errors"] == 1
