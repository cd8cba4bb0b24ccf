"""Draw the tweets to annotate (docs/annotation.md) from ../shared/data, stratified, and write them in batches
to a folder outside the repository: the texts never enter it, only their labels do, keyed by SHA-256.

- Fifth Tribe: up to 16 topical and 8 other tweets from each of the 112 pro-ISIS accounts. Topical means the
  text names the group, jihad, the caliphate, fighters, attacks or the war's places.
- radicalization-TT: 900 tweets found by ISIS hashtags, every non-English one first, and 100 cricket tweets.

Near-copies (the same text once retweet prefixes, links and case are set aside) are drawn once. A later round
passes the labels already written (`--skip-labelled`): their tweets and near-copies are never drawn again.
Usage: python tools/annotation_sample.py OUT_DIR [--batches 8] [--shared ../shared/data]
       [--skip-labelled classifiers/training/annotations/tweets.jsonl] [--tt 900] [--cricket 100]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import re
from collections import defaultdict
from pathlib import Path

TOPICAL = re.compile(
    r"isis|isil|daesh|daish|islamic ?state|dawla|khilaf|caliph|jihad|mujahid|shahid|shaheed|martyr|amaq|wilay|"
    r"sham\b|syria|iraq|raqqa|mosul|aleppo|crusader|apostate|murtad|kuffar|kafir|istishhad|inghimas|baqiya|"
    r"دولة|خلاف|جهاد|مجاهد|شهيد|استشهاد|الشام|ولاية|أعماق|اعماق|الرافضة|المرتد", re.IGNORECASE)
RETWEET = re.compile(r"^rt @\w+:\s*", re.IGNORECASE)
LINK = re.compile(r"https?://\S+|…$")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def near_copy_key(text: str) -> str:
    return " ".join(LINK.sub("", RETWEET.sub("", text.strip())).lower().split())


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def draw(shared: Path, seed: int = 13, labelled: frozenset[str] = frozenset(), tt_total: int = 900,
         cricket: int = 100) -> list[dict]:
    rng, seen, chosen = random.Random(seed), set(), []
    fifth_tribe = rows(shared / "fifth-tribe-isis-twitter" / "tweets.csv")
    tt = rows(shared / "radicalization-tt" / "tweets.csv")
    seen.update(near_copy_key(row["text"]) for row in fifth_tribe + tt if sha256(row["text"]) in labelled)

    def take(candidates: list[dict], n: int, dataset: str) -> None:
        rng.shuffle(candidates)
        for row in candidates:
            if n <= 0:
                return
            key = near_copy_key(row["text"])
            if len(key) < 8 or key in seen:
                continue
            seen.add(key)
            chosen.append({"sha256": sha256(row["text"]), "dataset": dataset, "text": row["text"]})
            n -= 1

    by_account = defaultdict(list)
    for row in fifth_tribe:
        by_account[row["account"]].append(row)
    for account in sorted(by_account):
        tweets = by_account[account]
        take([t for t in tweets if TOPICAL.search(t["text"])], 16, "fifth-tribe")
        take([t for t in tweets if not TOPICAL.search(t["text"])], 8, "fifth-tribe")
    hashtag = [t for t in tt if t["collected_by"] == "isis_hashtag"]
    foreign = [t for t in hashtag if t["lang"] not in ("en", "und")]
    take(foreign, min(150, tt_total), "radicalization-tt")
    take([t for t in hashtag if t["lang"] in ("en", "und")], tt_total - sum(c["dataset"] == "radicalization-tt"
                                                                             for c in chosen), "radicalization-tt")
    take([t for t in tt if t["collected_by"] == "cricket"], cricket, "radicalization-tt")
    rng.shuffle(chosen)
    return chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--skip-labelled", type=Path, help="an annotations file whose tweets are not drawn again")
    parser.add_argument("--tt", type=int, default=900, help="radicalization-TT hashtag tweets to draw")
    parser.add_argument("--cricket", type=int, default=100, help="radicalization-TT cricket tweets to draw")
    args = parser.parse_args()
    labelled = frozenset()
    if args.skip_labelled:
        labelled = frozenset(json.loads(line)["sha256"] for line in args.skip_labelled.read_text().splitlines())
    chosen = draw(args.shared, labelled=labelled, tt_total=args.tt, cricket=args.cricket)
    args.out.mkdir(parents=True, exist_ok=True)
    for b in range(args.batches):
        with (args.out / f"batch-{b + 1}.jsonl").open("w", encoding="utf-8") as handle:
            for n, item in enumerate(chosen[b::args.batches], start=1):
                handle.write(json.dumps({"n": n, **item}, ensure_ascii=False) + "\n")
    counts = defaultdict(int)
    for item in chosen:
        counts[item["dataset"]] += 1
    print(f"{len(chosen)} tweets in {args.batches} batches under {args.out}: {dict(counts)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
