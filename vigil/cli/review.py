"""Commands analysts use: search, record a decision, alerts, and reviewed items as training data."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from classifiers.training.feedback import export_reviews
from streams.reviews import UnknownDocument, UnknownLabels, record_review
from streams.schemas import Decision, ReviewEvent
from streams.stores import SearchQuery, open_store
from streams.stores.base import REVIEW_STATUSES
from streams.stores.query import SYNTAX
from vigil.cli.common import AddCommand, iso_date, probability, settings_of


def cmd_search(args) -> int:
    query = SearchQuery(
        text=" ".join(args.query) or None, label=args.label, flagged=True if args.flagged else None,
        min_score=args.min_score, source=args.source, lang=args.lang, since=args.since, until=args.until,
        review_status=args.review_status, limit=args.limit, uncertain=args.uncertain,
    )
    if query.text and not query.text_query.has_words:
        print(f"vigil search: {query.text!r} has no words to search for (punctuation is ignored); "
              "showing every document", file=sys.stderr)
    with open_store(settings_of(args)) as store:
        result = store.search(query)
        if args.label and not result.total:
            known = _labels_scored(store)
            if known and args.label not in known:  # a typo, or another model's label: not "0 matches"
                print(f"vigil search: no document has a score for label {args.label!r}; "
                      f"labels in the {store.name} store: {', '.join(sorted(known))}", file=sys.stderr)
                return 2
    if args.json:
        for hit in result.hits:
            print(json.dumps(hit.as_dict(), ensure_ascii=False))
        return 0
    print(f"{result.total} match{'es' if result.total != 1 else ''} in the {store.name} store"
          + (f", showing {len(result.hits)}" if result.total > len(result.hits) else ""))
    for hit in result.hits:
        flag = "FLAGGED " + ",".join(hit.labels) if hit.flagged else "not flagged"
        top = max(hit.scores.items(), key=lambda kv: kv[1], default=("-", 0.0))
        print(f"\n{hit.title or '(no title)'}\n  {hit.url}\n  {flag} | top score {top[0]} {top[1]:.2f} | "
              f"{hit.source} | {hit.lang} | review: {hit.review_status} | id {hit.id}")
        for evidence in hit.evidence[:2]:
            print(f"  why {evidence['label']}: \"{evidence['text'][:150]}\" ({evidence['score']:.2f})")
    return 0


def _labels_scored(store, sample: int = 200) -> set[str]:
    """The labels of the latest documents' scores (every model in use scores all its labels)."""
    return {label for hit in store.search(SearchQuery(limit=sample)).hits for label in hit.scores}


def cmd_review(args) -> int:
    settings = settings_of(args)
    corrected = None
    if args.labels is not None:  # '' corrects the labels to none
        corrected = [label.strip() for label in args.labels.split(",") if label.strip()]
    event = ReviewEvent(document_id=args.id, reviewer=args.reviewer, decision=args.decision,
                        corrected_labels=corrected, note=args.note)
    with open_store(settings) as store:
        try:
            record_review(event, store, settings)
        except UnknownDocument:
            print(f"vigil review: no document {args.id} in the {store.name} store (find ids with `vigil search`)",
                  file=sys.stderr)
            return 1
        except UnknownLabels as exc:
            print(f"vigil review: {exc}", file=sys.stderr)
            return 2
    print(f"recorded: {args.decision} by {args.reviewer} on {args.id}")
    return 0


def cmd_alerts(args) -> int:
    with open_store(settings_of(args)) as store:
        alerts = store.recent_alerts(args.limit)
    for alert in alerts:
        print(json.dumps(alert, ensure_ascii=False) if args.json else f"{alert['created_at'][:19]}  {alert['message']}")
    if not alerts and not args.json:
        print("no flag-rate alerts")
    return 0


def cmd_export_reviews(args) -> int:
    with open_store(settings_of(args)) as store:
        counts = export_reviews(store, Path(args.output), args.frozen_share)
    print(f"{args.output}/train.jsonl: {counts['train']} examples; {args.output}/frozen-eval.jsonl: "
          f"{counts['frozen']} (never train on these)"
          + (f"; {counts['left_out_undecided']} escalations without corrected labels left out"
             if counts["left_out_undecided"] else ""))
    return 0


def register(command: AddCommand) -> None:
    search = command("search", cmd_search, "Search indexed documents (full text and filters).")
    search.epilog, search.formatter_class = SYNTAX, argparse.RawDescriptionHelpFormatter  # keep its lines
    search.add_argument("query", nargs="*", help='words that must all appear, "a phrase", '
                        "a | b, -word, word* (see the query language below)")
    search.add_argument("--label", help="only documents flagged with this label")
    search.add_argument("--flagged", action="store_true", help="only flagged documents")
    search.add_argument("--min-score", type=probability, help="minimum score (of --label if given, else the highest)")
    search.add_argument("--source", help="source id")
    search.add_argument("--lang", help="language code, e.g. en, ru, ar")
    search.add_argument("--since", type=iso_date, help="fetched at or after (ISO date/time)")
    search.add_argument("--until", type=iso_date, help="fetched at or before (ISO date/time)")
    search.add_argument("--review-status", choices=REVIEW_STATUSES)
    search.add_argument("--limit", type=int, default=20, help="hits to show (default 20)")
    search.add_argument("--json", action="store_true", help="one JSON object per hit")
    search.add_argument("--uncertain", action="store_true", help="unreviewed documents whose scores are closest "
                        "to a threshold first (review these to teach the model most)")

    review = command("review", cmd_review, "Record an analyst's decision on a document (kept with who and when; "
                     "published to the reviews topic for retraining).")
    review.add_argument("id", help="document id (from vigil search)")
    review.add_argument("--decision", required=True, choices=[decision.value for decision in Decision])
    review.add_argument("--reviewer", required=True, help="who decided")
    review.add_argument("--labels", help="corrected labels, comma-separated ('' for none)")
    review.add_argument("--note", default="", help="free-text note")

    export = command("export-reviews", cmd_export_reviews, "Write reviewed documents as training data "
                     "(train.jsonl) and a frozen evaluation set (frozen-eval.jsonl, chosen by document id, never "
                     "trained on).")
    export.add_argument("--output", required=True, help="directory to write")
    export.add_argument("--frozen-share", type=probability, default=0.2,
                        help="share of documents frozen for evaluation (0 to 1, default 0.2)")

    alerts = command("alerts", cmd_alerts, "List recent flag-rate alerts (a source or label whose flag rate jumped "
                     "above its baseline; thresholds in the alerts settings).")
    alerts.add_argument("--limit", type=int, default=20, help="how many of the newest alerts (default 20)")
    alerts.add_argument("--json", action="store_true", help="one JSON object per alert")
