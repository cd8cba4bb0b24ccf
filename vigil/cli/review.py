"""Commands analysts use: search, show a document, record a decision and its history, alerts, and reviewed items
as training data."""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from classifiers.training.feedback import export_reviews
from streams.config import ConfigError
from streams.reviews import (
    PUBLISH_BATCH,
    ReviewRefused,
    UnknownDocument,
    policy_reasons,
    publish_pending,
    record_review,
)
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
        for match in hit.matches[:2]:
            print(f"  known content: {match['label']} in hash list {match['list']} ({match['signal_type']})")
        for evidence in hit.evidence[:2]:
            print(f"  why {evidence['label']}: \"{evidence['text'][:150]}\" ({evidence['score']:.2f})")
    return 0


def _labels_scored(store, sample: int = 200) -> set[str]:
    """The labels of the latest documents' scores (every model in use scores all its labels)."""
    return {label for hit in store.search(SearchQuery(limit=sample)).hits for label in hit.scores}


def reviewer_identity(settings) -> tuple[str, str]:
    """Who `vigil review` records as the reviewer, and where that came from."""
    if settings.review.identity:
        return settings.review.identity, "review.identity"
    try:
        return getpass.getuser(), "the operating-system user; set review.identity to change"
    except (KeyError, OSError):  # no login name and no user entry (some containers)
        raise ConfigError("review.identity: there is no operating-system user to record as the reviewer; "
                          "set review.identity (VIGIL_REVIEW_IDENTITY)") from None


def cmd_review(args) -> int:
    settings = settings_of(args)
    corrected = None
    if args.labels is not None:  # '' corrects the labels to none
        corrected = [label.strip() for label in args.labels.split(",") if label.strip()]
    reviewer, identified_by = reviewer_identity(settings)
    event = ReviewEvent(document_id=args.id, reviewer=reviewer, reviewer_source="cli", decision=args.decision,
                        reason=args.reason, corrected_labels=corrected, note=args.note)
    with open_store(settings) as store:
        try:
            outcome = record_review(event, store, settings)
        except UnknownDocument:
            print(f"vigil review: no document {args.id} in the {store.name} store (find ids with `vigil search`)",
                  file=sys.stderr)
            return 1
        except ReviewRefused as exc:
            print(f"vigil review: {exc}", file=sys.stderr)
            return 2
        standing = (store.get(args.id) or {}).get("review", {})
    print(f"recorded: {args.decision}" + (f" ({args.reason})" if args.reason else "") + f" on {args.id}")
    print(f"recorded as {reviewer} ({identified_by})")
    if event.decision is Decision.retracted:
        print("standing now: " + (f"{standing['status']} by {standing.get('reviewer')} at {standing.get('decided_at')}"
                                  if standing.get("status", "unreviewed") != "unreviewed" else "nothing (unreviewed)"))
    if outcome == "published":
        print(f"published to {settings.topics.reviews}")
    else:
        broker = "Kafka" if settings.kafka.bootstrap else "the embedded log"
        print(f"queued: {broker} unreachable, `vigil reviews publish` sends it later")
    return 0


def cmd_show(args) -> int:
    with open_store(settings_of(args)) as store:
        document = store.get(args.id)
        if document is None:
            print(f"vigil show: no document {args.id} in the {store.name} store (find ids with `vigil search`)",
                  file=sys.stderr)
            return 1
        history = store.review_history(args.id)
    shown = {**document, "reviews": history}
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
    else:
        print("\n".join(document_lines(shown)))
    return 0


def document_lines(doc: dict) -> list[str]:
    """A document as `vigil show` prints it: what it is, why it was flagged, with which model, what became of
    the page, its text, and every decision on it."""
    flag = "FLAGGED " + ",".join(doc.get("labels") or []) if doc.get("flagged") else "not flagged"
    lines = [doc.get("title") or "(no title)", f"  {doc['url']}"]
    if doc.get("canonical_url") and doc["canonical_url"] != doc["url"]:
        lines.append(f"  canonical {doc['canonical_url']}")
    lines.append(f"  id {doc['id']} | {doc.get('source')} | {doc.get('lang')} ({doc.get('lang_confidence', 0):.2f}) | "
                 f"fetched {doc.get('fetched_at')}" + (f" | published {doc['published_at']}"
                                                       if doc.get("published_at") else ""))
    lines.append(f"  {flag} | model {doc.get('model_name')} {doc.get('model_version')} | thresholds "
                 f"{doc.get('thresholds_version') or 'of the model'} | classified {doc.get('classified_at')}")
    thresholds = doc.get("thresholds") or {}
    lines.append("scores:")
    for label, score in sorted((doc.get("scores") or {}).items(), key=lambda kv: -kv[1]):
        threshold = thresholds.get(label)
        over = " over" if threshold is not None and score >= threshold else ""
        lines.append(f"  {label} {score:.2f}" + (f" (threshold {threshold:.2f}{over})"
                                                 if threshold is not None else ""))
    if doc.get("matches"):
        lines.append("known content (hash lists of confirmed content; a match flags whatever the model scored):")
        for match in doc["matches"]:
            lines.append(f"  {match['label']}: list {match['list']} entry {match['entry']} by {match['signal_type']} "
                         f"(distance {match['distance']:g}): \"{match.get('evidence', '')[:110]}\"")
    shadow = doc.get("shadow")
    if shadow:
        scores = ", ".join(f"{label} {score:.2f}" for label, score in shadow["scores"].items())
        verdict = "would flag" if shadow["flagged"] else "would not flag"
        lines.append(f"  shadow {shadow['model_version']}: {scores} ({verdict}; recorded, never used to flag)")
    if doc.get("evidence"):
        lines.append("evidence:")
        for evidence in doc["evidence"]:
            lines.append(f"  {evidence['label']} {evidence['score']:.2f} at {evidence['start']}-{evidence['end']}: "
                         f"\"{evidence['text']}\"")
    archive = doc.get("archive")
    lines.append(f"archive: WARC record {archive['warc_sha256']}, payload {archive['payload_sha256']}, captured "
                 f"{archive['captured_at']} (`vigil archive show {archive['warc_sha256']}`)" if archive else
                 "archive: none (crawled without the evidence archive)")
    availability = doc.get("availability")
    if availability:
        since = f" since {availability['offline_since']}" if availability.get("offline_since") else ""
        status = f" (HTTP {availability['http_status']})" if availability.get("http_status") else ""
        lines.append(f"availability: {availability['status']}{since}{status}, checked {availability.get('checked_at')}")
    else:
        lines.append("availability: never checked (`vigil recheck`)")
    lines += ["text:", *(f"  {line}" for line in (doc.get("text") or "").splitlines())]
    lines.append("reviews (oldest first):" if doc["reviews"] else "reviews: none")
    for entry in doc["reviews"]:
        details = [f"reason {entry['reason']}" if entry.get("reason") else "",
                   f"labels {','.join(entry['labels']) or 'none'}" if entry.get("labels") is not None else "",
                   f"note \"{entry['note']}\"" if entry.get("note") else "",
                   "" if entry.get("published") else "queued for the reviews topic"]
        lines.append(f"  {entry['decided_at']}  {entry['decision']} by {entry['reviewer']} ({entry['reviewer_source']})"
                     + "".join(f" | {detail}" for detail in details if detail))
    review = doc.get("review") or {}
    lines.append(f"review: {review.get('status', 'unreviewed')}" + (
        f" (by {review.get('reviewer')}, {review.get('decided_at')})" if review.get("reviewer") else ""))
    return lines


def cmd_reviews(args) -> int:
    settings = settings_of(args)
    if args.action == "reasons":
        for reason_id, description in policy_reasons(settings).items():
            print(f"{reason_id}\n  {description}")
        return 0
    with open_store(settings) as store:
        if args.action == "log":
            entries = store.audit_log(reviewer=args.reviewer, document_id=args.document, since=args.since,
                                      until=args.until, limit=args.limit)
            for entry in entries:
                print(json.dumps(entry, ensure_ascii=False) if args.json else
                      f"{entry['decided_at']}  {entry['decision']:<9} {entry['document_id']}  by {entry['reviewer']} "
                      f"({entry['reviewer_source']})" + (f"  {entry['reason']}" if entry.get("reason") else ""))
            return 0
        total = 0
        while True:  # TransientError (broker down) propagates: main says what to check
            sent = publish_pending(store, settings)
            total += sent
            if sent < PUBLISH_BATCH:
                break
    print(f"{total} decision{'s' if total != 1 else ''} published to {settings.topics.reviews}" if total
          else f"nothing to publish: every decision is on {settings.topics.reviews}")
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

    review = command("review", cmd_review, "Record an analyst's decision on a document, citing a policy reason: "
                     "appended to its history with who and when (review.identity, else the operating-system "
                     "user), and published to the reviews topic, or queued while it is unreachable. "
                     "--decision retracted withdraws the decision that stands.")
    review.add_argument("id", help="document id (from vigil search)")
    review.add_argument("--decision", required=True, choices=[decision.value for decision in Decision],
                        help="retracted undoes the latest decision still standing")
    review.add_argument("--reason", help="the policy clause the decision cites, an id from review.reasons_file "
                        "(`vigil reviews reasons` lists them); required except to retract")
    review.add_argument("--labels", help="corrected labels, comma-separated ('' for none)")
    review.add_argument("--note", default="", help="free-text note")

    show = command("show", cmd_show, "Show one document whole: text, scores against thresholds, labels, evidence, "
                   "model and thresholds versions, shadow scores, archive reference, availability, and every "
                   "decision on it, oldest first.")
    show.add_argument("id", help="document id (from vigil search)")
    show.add_argument("--json", action="store_true", help="one JSON object, the decisions under `reviews`")

    reviews = command("reviews", cmd_reviews, "Decisions: `publish` sends those queued while the reviews topic was "
                      "unreachable (the index stage also does, every review.publish_interval_s); `reasons` lists "
                      "the policy reasons a decision may cite; `log` lists decisions, newest first.")
    reviews.add_argument("action", choices=["publish", "reasons", "log"])
    reviews.add_argument("--reviewer", help="log: only this reviewer's decisions")
    reviews.add_argument("--document", help="log: only decisions on this document id")
    reviews.add_argument("--since", type=iso_date, help="log: decided at or after (ISO date/time)")
    reviews.add_argument("--until", type=iso_date, help="log: decided at or before (ISO date/time)")
    reviews.add_argument("--limit", type=int, default=100, help="log: how many (default 100)")
    reviews.add_argument("--json", action="store_true", help="log: one JSON object per decision")

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
