"""The search language of `vigil search`, parsed once here so that every store answers a query alike:
each store translates the parsed query (TextQuery) into its own engine's terms."""
from __future__ import annotations

import re
from dataclasses import dataclass

SYNTAX = """\
query language (the same on Elasticsearch and the embedded store):
  camp travel            both words: words are ANDed (case does not matter)
  "travel to the camp"   these words together, in this order
  brigade | camp         either word; | binds tighter than a space: a b | c is a and (b or c)
  camp*                  a word that starts with camp
  attack -news           leave out documents with news (also -"a phrase", -camp*)
Nothing else is an operator: AND, OR, NOT and NEAR are words, and other punctuation is ignored
except that words it joins (10:30, well-known, title:camp) must stand together; so (a b) does
not group and title:camp filters no field. An unclosed " runs to the end; a lone - or | is ignored.
A query with no words (!!!, -, |) matches every document, as no query does.
Quote queries for the shell; put -- before one that starts with -:
  vigil search 'brigade | camp'      vigil search -- -news brigade"""

# A lone `|`, or a term: leading `-`s (exclude), then a quoted phrase (its closing quote optional)
# or a run of anything but space, quote and bar (a word, with `*`s at its end for a prefix).
_TOKEN = re.compile(r'(?P<bar>\|)|(?P<minus>-*)(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"|]+))')


@dataclass(frozen=True)
class Term:
    """Text a store analyzes as it analyzed the documents: one word, or several that must stand together
    in this order."""
    text: str
    prefix: bool = False  # the last word may be the start of a longer one


@dataclass(frozen=True)
class TextQuery:
    # Every group must match, by any one of its terms (a group of one is a plain required term).
    required: tuple[tuple[Term, ...], ...] = ()
    # No document that contains any of these.
    excluded: tuple[Term, ...] = ()

    @property
    def has_words(self) -> bool:
        """False when nothing was left to search for: then the text filters nothing."""
        return bool(self.required or self.excluded)


def parse_query(text: str | None) -> TextQuery:
    """The query as SYNTAX describes it; never fails, so a store never sees a malformed query."""
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    join_previous = False  # a `|` came since the last required term
    for token in _TOKEN.finditer(text or ""):
        if token["bar"]:
            join_previous = bool(groups)
            continue
        word = token["word"] or ""
        term = Term(word.rstrip("*"), prefix=word.endswith("*")) if word else Term(token["phrase"])
        if not any(char.isalnum() for char in term.text):  # punctuation only: no store indexes it
            continue
        if token["minus"]:
            excluded.append(term)  # never an alternative: `a | -b c` means `a | c -b`
        elif join_previous:
            groups[-1].append(term)
            join_previous = False
        else:
            groups.append([term])
    return TextQuery(tuple(tuple(group) for group in groups), tuple(excluded))
