"""The search language: one parser, its translations for SQLite FTS5 and Elasticsearch, and its help.
(That both stores then return the same documents is tests/integration/test_store_contract.py.)"""
from __future__ import annotations

import pytest

from streams.stores.elastic import TEXT_FIELDS, bool_query
from streams.stores.query import SYNTAX, Term, TextQuery, parse_query
from streams.stores.sqlite import SqliteStore, fts_all, fts_any
from tests.factories import classified, raw_document
from vigil.cli import build_parser, main


def words(*texts: str) -> tuple[Term, ...]:
    return tuple(Term(text) for text in texts)


@pytest.mark.parametrize(("text", "expected"), [
    ("camp travel", TextQuery(required=(words("camp"), words("travel")))),
    ("-news", TextQuery(excluded=words("news"))),
    ("--news", TextQuery(excluded=words("news"))),
    ("attack -news -police", TextQuery(required=(words("attack"),), excluded=words("news", "police"))),
    ("a | b", TextQuery(required=(words("a", "b"),))),
    ("a|b|c", TextQuery(required=(words("a", "b", "c"),))),
    ("a b | c d", TextQuery(required=(words("a"), words("b", "c"), words("d")))),
    ('"travel to the camp"', TextQuery(required=(words("travel to the camp"),))),
    ('-"the camp" x', TextQuery(required=(words("x"),), excluded=words("the camp"))),
    ('"a b" | c', TextQuery(required=(words("a b", "c"),))),
    ('x"a b"y', TextQuery(required=(words("x"), words("a b"), words("y")))),
    ("camp*", TextQuery(required=((Term("camp", prefix=True),),))),
    ("-camp**", TextQuery(excluded=(Term("camp", prefix=True),))),
    ('"camp"*', TextQuery(required=(words("camp"),))),  # * after a phrase is a lone *: ignored
    ("ca*mp", TextQuery(required=(words("ca*mp"),))),  # inside a word, * is punctuation
    # Words joined by punctuation stay one term: each store splits it as it split the documents.
    ("10:30 well-known don't", TextQuery(required=(words("10:30"), words("well-known"), words("don't")))),
    ("NEAR(bridge camp)", TextQuery(required=(words("NEAR(bridge"), words("camp)")))),
    ("бойцы | المعسكر 成为战士", TextQuery(required=(words("бойцы", "المعسكر"), words("成为战士")))),
    # Lenient: an unclosed quote runs to the end; a lone |, -, * or punctuation is ignored.
    ('brigade "travel to the', TextQuery(required=(words("brigade"), words("travel to the")))),
    ('brigade"', TextQuery(required=(words("brigade"),))),
    ("| camp |", TextQuery(required=(words("camp"),))),
    ("camp - travel", TextQuery(required=(words("camp"), words("travel")))),
    ("a | !!! b", TextQuery(required=(words("a", "b"),))),
    # An exclusion is never an alternative: it leaves the results, wherever it stands.
    ("a | -b c", TextQuery(required=(words("a", "c"),), excluded=words("b"))),
])
def test_parse(text, expected):
    assert parse_query(text) == expected
    assert parse_query(text).has_words


@pytest.mark.parametrize("text", [None, "", "   ", "!!!", "-", "|", '"', '""', "*", "- | * ^ : ( ) ~ + _", "-!!! | ?"])
def test_a_query_without_words_filters_nothing(text):
    assert not parse_query(text).has_words


def test_fts5_expression_quotes_every_term():
    text = parse_query('brigade | "travel to" camp* NEAR title:x -news -AND')
    assert fts_all(text.required) == '("brigade" OR "travel to") AND ("camp"*) AND ("NEAR") AND ("title:x")'
    assert fts_any(text.excluded) == '"news" OR "AND"'
    assert fts_any((Term('say "hi"'),)) == '"say ""hi"""'  # the parser never makes one; FTS5 would still be safe


def test_elasticsearch_bool_query():
    phrase = lambda text, kind="phrase": {"multi_match": {"query": text, "fields": TEXT_FIELDS, "type": kind}}
    assert bool_query(parse_query('brigade | "travel to" camp* -news')) == {"bool": {
        "must": [{"bool": {"should": [phrase("brigade"), phrase("travel to")], "minimum_should_match": 1}},
                 phrase("camp", "phrase_prefix")],
        "must_not": [phrase("news")]}}


def test_search_help_documents_the_language(capsys):
    search = next(action for action in build_parser()._actions if action.dest == "command").choices["search"]
    text = search.format_help()
    assert SYNTAX in text  # as written: its lines are kept
    for example in ('"travel to the camp"', "brigade | camp", "camp*", "attack -news", "vigil search -- -news"):
        assert example in text


def test_search_command_reads_the_language_and_says_when_a_query_has_no_words(tmp_path, capsys, monkeypatch):
    store = SqliteStore(tmp_path / "store.sqlite")
    store.upsert([classified(raw_document("https://e.org/a", "join the brigade now"), {"recruitment": 0.9}),
                  classified(raw_document("https://e.org/b", "police news report"), {"recruitment": 0.1})])
    store.close()
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    assert main(["search", "--json", "--", "-news"]) == 0
    assert "https://e.org/a" in capsys.readouterr().out
    assert main(["search", "brigade | police"]) == 0
    assert capsys.readouterr().out.startswith("2 matches")
    assert main(["search", "!!!"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("2 matches") and "'!!!' has no words to search for" in err
