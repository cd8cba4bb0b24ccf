"""The matcher: each Match names its list and entry and carries the entry's label, else the list's default."""
from __future__ import annotations

from streams.hashlists import text as t
from streams.hashlists.banks import Entry, HashList
from streams.hashlists.index import HashIndex
from streams.schemas import ImageRef

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
NEAR = "f8f8f0cee0f4a84f06370a2a038f63f0b36e26d596621e1d33e6b39c4e9c9b22"  # 2 bits away (threatexchange's)
FAR = "0" * 64
MD5, SHA = "cab08b36195edb1a1231d2d09fa450e0", "ab" * 32
PASSAGE = ("Brothers, the Iron Crescent Brigade calls every faithful young man to leave the comfort of the cities "
           "and join the caravan of the righteous in the mountains of Varkesh, where our martyrs showed the way. "
           "Pack your bags and contact our brothers through the channel below before the winter comes.")
GIFCT = HashList(name="gifct", source="GIFCT", terms="members only", default_label="propaganda")
OWN = HashList(name="vigil-reviewed", source="Vigil reviews", terms="internal", default_label="recruitment")


def image(pdq: str | None, md5: str = "0" * 32, sha: str = "0" * 64, url: str = "https://x.example/i.jpg"):
    return ImageRef(url=url, sha256=sha, md5=md5, pdq=pdq, pdq_quality=100 if pdq else 0, width=10, height=10)


def build(**kwargs) -> HashIndex:
    return HashIndex([
        (GIFCT, Entry(id="g-pdq", signal_type="pdq", value=PDQ)),
        (GIFCT, Entry(id="g-md5", signal_type="md5", value=MD5, label="recruitment")),
        (OWN, Entry(id="o-pdq", signal_type="pdq", value=PDQ, label="propaganda", document_id="cd" * 16,
                    decision="confirmed")),
        (OWN, Entry(id="o-sha", signal_type="sha256", value=SHA)),
        (OWN, Entry(id="o-video", signal_type="video_md5", value=MD5)),
        (GIFCT, Entry(id="g-text", signal_type="text_minhash", value=t.signature(PASSAGE))),
        (OWN, Entry(id="o-text", signal_type="text_exact", value=t.exact_hash(PASSAGE))),
    ], **kwargs)


def test_labels_come_from_the_entry_else_the_list():
    index = build()
    found = {(m.list, m.entry): m for m in index.match_images([image(NEAR, md5=MD5, sha=SHA)])}
    assert set(found) == {("gifct", "g-pdq"), ("gifct", "g-md5"), ("vigil-reviewed", "o-pdq"),
                          ("vigil-reviewed", "o-sha")}  # the video hash never meets an image
    assert found["gifct", "g-pdq"].label == "propaganda"  # GIFCT's default
    assert found["gifct", "g-md5"].label == "recruitment"  # its own
    assert found["vigil-reviewed", "o-pdq"].label == "propaganda"  # its own, over the list's recruitment
    assert found["vigil-reviewed", "o-sha"].label == "recruitment"  # the list's default
    assert found["gifct", "g-pdq"].distance == 2 and found["gifct", "g-md5"].distance == 0
    assert all(m.evidence == "https://x.example/i.jpg" for m in found.values())


def test_text_matches_carry_labels_and_evidence():
    found = {m.entry: m for m in build().match_text(PASSAGE.upper())}
    assert set(found) == {"g-text", "o-text"}
    assert found["g-text"].label == "propaganda" and found["o-text"].label == "recruitment"
    assert found["o-text"].evidence == PASSAGE.upper()[:200] and found["o-text"].distance == 0
    assert found["g-text"].signal_type == "text_minhash" and 0 <= found["g-text"].distance < 0.1


def test_thresholds_and_empty_inputs():
    assert build().match_images([image(FAR), image(None)]) == []
    assert [m.entry for m in build(pdq_threshold=1).match_images([image(NEAR)])] == []
    assert build().match_text("") == [] and build().match_text("short text") == []
    empty = HashIndex([])
    assert len(empty) == 0 and empty.match_text(PASSAGE) == [] and empty.match_images([image(PDQ)]) == []
    assert len(build()) == 7
