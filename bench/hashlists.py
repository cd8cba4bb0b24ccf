"""Known-content matching: lookup speed and memory of the PDQ index (threatexchange's, faiss multi-index hashing)
and the text LSH index (band tables over passage chunks' MinHashes) at 10k, 100k and 1M entries, each against a
linear scan over the same entries measured in the same run (the ratio); then the false-match rate of each text
signal at candidate thresholds on real corpora (../shared/data), and of PDQ on unrelated generated posters.
The extremist-tweet set is banked but never printed. Usage: python bench/hashlists.py [--quick]
"""
from __future__ import annotations

import argparse
import csv
import gc
import json
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.hashlists import text as textsig  # noqa: E402
from streams.hashlists.banks import Entry, HashList  # noqa: E402
from streams.hashlists.index import PDQ_THRESHOLD, HashIndex, _PDQIndex  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LIST = HashList(name="bench", source="bench", terms="bench", default_label="propaganda")
TEXT_THRESHOLDS = (0.3, 0.4, 0.5)
PDQ_THRESHOLDS = (31, 40, 52)
TEXT_BUDGET_S = 600  # building a text index bigger than this many seconds is skipped, and said so
TEXT_BUDGET_MB = 6000  # and one that would hold more memory than this (the machine is shared)


def rss() -> int:
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def progress(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def flip(hex_hash: str, bits: int, rng: random.Random) -> str:
    value = int(hex_hash, 16)
    for bit in rng.sample(range(256), bits):
        value ^= 1 << bit
    return f"{value:064x}"


def bench_pdq(n: int, rng: random.Random) -> dict:
    hashes = [f"{rng.getrandbits(256):064x}" for _ in range(n)]
    before = rss()
    started = time.perf_counter()
    index = _PDQIndex(PDQ_THRESHOLD)
    index.add_all((h, i) for i, h in enumerate(hashes))
    build = time.perf_counter() - started
    memory = rss() - before
    queries = [flip(hashes[rng.randrange(n)], rng.randrange(0, 24), rng) if i % 2 else f"{rng.getrandbits(256):064x}"
               for i in range(2000)]
    started = time.perf_counter()
    found = sum(bool(index.query(q)) for q in queries)
    rate = len(queries) / (time.perf_counter() - started)
    # baseline: numpy XOR + popcount over every entry
    matrix = np.frombuffer(b"".join(bytes.fromhex(h) for h in hashes), dtype=np.uint64).reshape(n, 4)
    scan_queries = queries[: max(20, min(2000, 2_000_000 // n))]
    started = time.perf_counter()
    scan_found = 0
    for q in scan_queries:
        qv = np.frombuffer(bytes.fromhex(q), dtype=np.uint64)
        scan_found += bool((np.bitwise_count(matrix ^ qv).sum(axis=1) <= PDQ_THRESHOLD).any())
    scan_rate = len(scan_queries) / (time.perf_counter() - started)
    expected = sum(bool(index.query(q)) for q in scan_queries)
    assert scan_found == expected, (scan_found, expected)  # the index misses nothing the scan finds
    return {"index": "pdq", "entries": n, "build_s": build, "rss_mb": memory / 2**20, "lookups_s": rate,
            "scan_lookups_s": scan_rate, "hits": found / len(queries)}


def random_words(rng: random.Random, vocabulary: list[str], k: int) -> list[str]:
    return [rng.choice(vocabulary) for _ in range(k)]


def bench_text(n: int, rng: random.Random, vocabulary: list[str]) -> dict:
    """n banked 32-word passages (one chunk each) of random words from a 20,000-word vocabulary."""
    started = time.perf_counter()
    chunks = [textsig.minhash(random_words(rng, vocabulary, textsig.WINDOW)) for _ in range(n)]
    signatures = [textsig.serialise([c]) for c in chunks]
    hash_time = time.perf_counter() - started
    entries = [(LIST, Entry(id=str(i), signal_type="text_minhash", value=s)) for i, s in enumerate(signatures)]
    del signatures
    before = rss()  # the index alone: not the entries and MinHashes this benchmark holds to build it
    started = time.perf_counter()
    index = HashIndex(entries)
    build = time.perf_counter() - started
    memory = rss() - before
    windows = [w.minhash for _ in range(20) for w in textsig.windows(" ".join(
        random_words(rng, vocabulary, 300)))]
    started = time.perf_counter()
    for w in windows:
        index._text.query(w.hashvalues)
    rate = len(windows) / (time.perf_counter() - started)
    matrix = np.vstack([c.hashvalues for c in chunks])
    scan = windows[: max(10, min(len(windows), 20_000_000 // n // 10))]
    started = time.perf_counter()
    for w in scan:
        (matrix == w.hashvalues).mean(axis=1).max()
    scan_rate = len(scan) / (time.perf_counter() - started)
    return {"index": "text", "entries": n, "build_s": build + hash_time, "rss_mb": memory / 2**20,
            "lookups_s": rate, "scan_lookups_s": scan_rate, "hits": 0.0}


def fifth_tribe_passages(limit: int) -> list[tuple[str, set[str]]]:
    """Passages of consecutive tweets by one account (never printed), with their tweets' exact hashes."""
    by_account: dict[str, list[str]] = defaultdict(list)
    with open(DATA / "fifth-tribe-isis-twitter" / "tweets.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_account[row["account"]].append(row["text"])
    passages, seen = [], set()
    for tweets in by_account.values():
        current: list[str] = []
        for tweet in tweets:
            h = textsig.exact_hash(tweet)
            if h in seen:
                continue
            seen.add(h)
            current.append(tweet)
            if len(textsig.tokens(textsig.normalise(" ".join(current)))) >= 48:
                passages.append((" ".join(current), {textsig.exact_hash(t) for t in current}))
                current = []
    random.Random(1).shuffle(passages)
    return passages[:limit]


def pages_of(texts: list[str], size: int) -> list[tuple[str, set[str]]]:
    return [(" ".join(texts[i:i + size]), {textsig.exact_hash(t) for t in texts[i:i + size]})
            for i in range(0, len(texts), size)]


def english_queries() -> list[tuple[str, set[str]]]:
    """Same-topic news and commentary (radicalization-tt, ISIS hashtags, deduplicated) and HateCheck's
    counter-speech and neutral cases, as pages of 20 texts."""
    seen: set[str] = set()
    tweets = []
    with open(DATA / "radicalization-tt" / "tweets.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            h = textsig.exact_hash(row["text"])
            if row["collected_by"] == "isis_hashtag" and h not in seen:
                seen.add(h)
                tweets.append(row["text"])
    cases = []
    with open(DATA / "hatecheck" / "test_suite_cases.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["functionality"] in ("counter_quote_nh", "counter_ref_nh", "ident_neutral_nh", "negate_neg_nh"):
                cases.append(row["test_case"])
    return pages_of(tweets, 20) + pages_of(cases, 20)


def armpro(split: str) -> list[dict]:
    with open(DATA / "armpro-arabic-propaganda" / f"ArMPro_binary_{split}_V2.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def false_matches(name: str, bank: list[tuple[str, set[str]]], queries: list[tuple[str, set[str]]]) -> list[dict]:
    banked = [(b, hashes) for b, hashes in bank if len(textsig.tokens(textsig.normalise(b))) >= textsig.MIN_TOKENS]
    index = HashIndex([(LIST, Entry(id=str(i), signal_type="text_minhash", value=textsig.signature(b)))
                       for i, (b, _) in enumerate(banked)] +
                      [(LIST, Entry(id=f"x{i}", signal_type="text_exact", value=textsig.exact_hash(b)))
                       for i, (b, _) in enumerate(banked)], candidate_threshold=min(TEXT_THRESHOLDS))
    progress(f"{name}: {len(banked)} banked passages, {len(queries)} query pages")
    pages_hit = {t: 0 for t in TEXT_THRESHOLDS}
    pairs_hit = {t: 0 for t in TEXT_THRESHOLDS}
    copies = exact = 0
    best_false = 0.0
    for page, page_hashes in queries:
        exact += any(m.signal_type == "text_exact" for m in index.match_text(page))
        hit = {t: False for t in TEXT_THRESHOLDS}
        for owner, (similarity, _) in index.text_similarities(textsig.normalise(page)).items():
            if banked[owner][1] & page_hashes:
                copies += 1  # the page carries one of the passage's texts: a real copy, not a false match
                continue
            best_false = max(best_false, similarity)
            for t in TEXT_THRESHOLDS:
                if similarity >= t:
                    pairs_hit[t] += 1
                    hit[t] = True
        for t in TEXT_THRESHOLDS:
            pages_hit[t] += hit[t]
    rows = [{"corpus": name, "signal": "text_minhash", "threshold": t, "pages": len(queries), "banked": len(banked),
             "false_pages": pages_hit[t], "false_pairs": pairs_hit[t], "rate": pages_hit[t] / len(queries),
             "best_false": best_false, "copies": copies} for t in TEXT_THRESHOLDS]
    rows.append({"corpus": name, "signal": "text_exact", "threshold": 0, "pages": len(queries), "banked": len(banked),
                 "false_pages": exact, "false_pairs": exact, "rate": exact / len(queries), "best_false": 0.0,
                 "copies": 0})
    return rows


def pdq_false_matches(count: int) -> dict:
    from threatexchange.signal_type.pdq.pdq_utils import simple_distance

    from streams.hashlists.images import hash_image, pdq_variants
    from tests.unit.test_hashlist_images import encode, poster, variants

    hashes = [hash_image(encode(poster(1000 + i)), "p").pdq for i in range(count)]
    progress(f"pdq: {count} generated posters hashed")
    valid = [h for h in hashes if h]
    matrix = np.frombuffer(b"".join(bytes.fromhex(h) for h in valid), dtype=np.uint64).reshape(len(valid), 4)
    distances = np.concatenate([np.bitwise_count(matrix[i + 1:] ^ matrix[i]).sum(axis=1)
                                for i in range(len(valid) - 1)])
    copies = []
    for i in range(10):
        banked = list(pdq_variants(encode(poster(2000 + i))).values())
        for data in variants(poster(2000 + i)).values():
            copies.append(min(simple_distance(b, hash_image(data, "c").pdq or "0" * 64) for b in banked))
    return {"pairs": int(len(distances)), "min": int(distances.min()), "median": float(np.median(distances)),
            **{f"le{t}": int((distances <= t).sum()) for t in PDQ_THRESHOLDS}, "copies_max": max(copies),
            "copies": copies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k entries, fewer texts")
    args = parser.parse_args()
    rng = random.Random(7)
    sizes = (10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000)
    vocabulary = [f"w{i}" for i in range(20_000)]
    results = []
    for n in sizes:
        progress(f"pdq index, {n} entries")
        results.append(bench_pdq(n, rng))
    text_rate = None
    text_mb_per_entry = 0.0
    for n in sizes:
        if n * text_mb_per_entry > TEXT_BUDGET_MB:
            print(f"text index at {n} entries skipped: it would hold about {n * text_mb_per_entry / 1024:.0f} GB "
                  f"(measured {text_mb_per_entry * 1024:.0f} kB an entry: {textsig.NUM_PERM}-permutation MinHash "
                  f"and its LSH band keys), more than the {TEXT_BUDGET_MB} MB allowed here")
            continue
        if text_rate is not None and n / text_rate > TEXT_BUDGET_S:
            print(f"text index at {n} entries skipped: building it would take about {n / text_rate / 60:.0f} "
                  f"minutes on this machine ({text_rate:.0f} entries/s: MinHash in Python, then "
                  f"{textsig.NUM_PERM} permutations into LSH bands)")
            continue
        progress(f"text index, {n} entries")
        row = bench_text(n, rng, vocabulary)
        text_rate = n / row["build_s"]
        text_mb_per_entry = row["rss_mb"] / n
        results.append(row)
    print()
    print(f"{'index':<6}{'entries':>10}{'build s':>9}{'RSS MB':>9}{'lookups/s':>12}{'scan/s':>10}{'ratio':>8}")
    for r in results:
        print(f"{r['index']:<6}{r['entries']:>10}{r['build_s']:>9.1f}{r['rss_mb']:>9.0f}{r['lookups_s']:>12.0f}"
              f"{r['scan_lookups_s']:>10.0f}{r['lookups_s'] / r['scan_lookups_s']:>7.1f}x")
    print("(text lookups are page windows: a 300-word page is 36 windows; scan = exact Jaccard against every chunk)")

    print()
    limit = 500 if args.quick else 2000
    rows = false_matches("en: fifth-tribe passages vs radicalization-tt + hatecheck pages",
                         fifth_tribe_passages(limit), english_queries()[: 300 if args.quick else None])
    test, dev = armpro("test"), armpro("dev")
    by_page: dict[str, list[str]] = defaultdict(list)
    for row in dev:
        by_page[row["page_id"]].append(row["paragraph"])
    rows += false_matches("ar: ArMPro test paragraphs vs ArMPro dev pages",
                          [(r["paragraph"], {textsig.exact_hash(r["paragraph"])}) for r in test[:limit]],
                          [(" ".join(p), {textsig.exact_hash(x) for x in p}) for p in by_page.values()])
    print(f"{'corpus':<66}{'signal':<14}{'thr':>5}{'pages':>7}{'banked':>8}{'false':>7}{'pairs':>7}{'rate':>9}"
          f"{'best':>6}{'copies':>7}")
    for r in rows:
        print(f"{r['corpus']:<66}{r['signal']:<14}{r['threshold']:>5}{r['pages']:>7}{r['banked']:>8}"
              f"{r['false_pages']:>7}{r['false_pairs']:>7}{r['rate']:>9.4f}{r['best_false']:>6.2f}{r['copies']:>7}")
    print("(false = query pages with a match to a passage they do not copy; best = highest such Jaccard; copies = "
          "pairs excluded because the page holds one of the passage's texts; text_exact counts every exact hit)")

    print()
    pdq = pdq_false_matches(60 if args.quick else 200)
    print(f"pdq on {pdq['pairs']} pairs of unrelated generated posters: closest {pdq['min']} bits, median "
          f"{pdq['median']:.0f}; pairs within " + ", ".join(f"{t}: {pdq[f'le{t}']}" for t in PDQ_THRESHOLDS))
    print(f"altered copies (resize, JPEG, 5% crop, 5% border; 10 posters) against their banked variants: "
          f"at most {pdq['copies_max']} bits ({sorted(pdq['copies'])})")


if __name__ == "__main__":
    main()
