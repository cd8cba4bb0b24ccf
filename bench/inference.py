"""Classifier throughput on this machine's CPU: documents per second for 128- and 256-token documents with
the default model (multilingual-e5-small + Vigil's head), against the naive Hugging Face
`pipeline("text-classification")` one text at a time, measured in the same run (the ratio). Vigil's
variants: torch fp32, torch int8, ONNX Runtime fp32 and int8, all with length-sorted batches of 8. Also
prints each variant's fidelity to fp32 (largest and mean probability difference) and the share of the
machine's measured matrix-multiply peak (fp32, or int8 for the int8 variants where the CPU has VNNI or
AMX) the model reaches, and the CPU features with the variant `classifier.runtime: auto` picks. The
previous default's architecture (all-MiniLM-L6-v2, English, 6 layers) is measured the same way at 128
tokens, with an untrained head: speed does not depend on the head's weights.
Then, page level: the classify stage (windows, evidence) on a realistic mix of 1,000 held-out public texts,
with and without the first pass (classifier.first_pass), in torch fp32 (the default runtime), torch int8, ONNX
int8 and the variant `auto` picks here (if another), with the flags each keeps.
Single-window documents are Stormfront sentences (shared data) joined and cut to the token count.
Usage: python bench/inference.py [DOCUMENTS]
"""
from __future__ import annotations

import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline  # noqa: E402

from classifiers.cpu import choose_runtime, cpu_features, onnx_available  # noqa: E402
from classifiers.default import encoder_dir, ensure_default_model  # noqa: E402
from classifiers.model import TextClassifier  # noqa: E402
from classifiers.stage import ClassifyStage  # noqa: E402
from classifiers.training.datasets import load, load_all  # noqa: E402
from classifiers.training.first_pass import DEFAULT_DATA as FIRST_PASS_DATA  # noqa: E402
from classifiers.training.first_pass import held_out  # noqa: E402
from streams.config import ClassifierSettings  # noqa: E402
from streams.schemas import ClassifiedDocument  # noqa: E402
from tests.factories import raw_document  # noqa: E402

VARIANTS = [("torch", "none"), ("torch", "int8"), ("onnx", "none"), ("onnx", "int8")]


def documents(tokenizer, tokens: int, count: int) -> list[str]:
    sentences = [e.text for e in load("stormfront:all")]
    docs, i = [], 0
    while len(docs) < count:
        ids: list[int] = []
        while len(ids) < tokens - 2:
            ids += tokenizer(sentences[i % len(sentences)], add_special_tokens=False)["input_ids"]
            i += 1
        docs.append(tokenizer.decode(ids[: tokens - 2]))
    return docs


def matmul_peak_gflops(int8: bool, size: int = 2048, tries: int = 8) -> float:
    """The best rate of one large matrix multiply (fp32 torch.mm, or int8 torch._int_mm with VNNI)."""
    if int8:
        a, b = (torch.randint(-100, 100, (size, size), dtype=torch.int8) for _ in range(2))
        multiply = torch._int_mm
    else:
        a, b = torch.randn(size, size), torch.randn(size, size)
        multiply = torch.mm
    multiply(a, b)
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        multiply(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * size ** 3 / best / 1e9


def flops_per_document(config, tokens: int) -> float:
    """Dense layers (24 h^2 per token per layer) and attention (4 * tokens * h per token per layer)."""
    h, layers = config.hidden_size, config.num_hidden_layers
    return tokens * layers * (24 * h * h + 4 * tokens * h)


def rate(score, texts: list[str]) -> float:
    score(texts[:16])  # warm up
    started = time.perf_counter()
    score(texts)
    return len(texts) / (time.perf_counter() - started)


def english_model(work: Path) -> Path:
    """The previous default's architecture: all-MiniLM-L6-v2 with a fresh two-label head."""
    target = work / "english-minilm"
    model = AutoModelForSequenceClassification.from_pretrained(
        encoder_dir(), num_labels=2, problem_type="multi_label_classification",
        id2label={0: "recruitment", 1: "propaganda"}, label2id={"recruitment": 0, "propaganda": 1})
    model.save_pretrained(target)
    AutoTokenizer.from_pretrained(encoder_dir()).save_pretrained(target)
    return target


def single_window(model: Path, title: str, tokens: int, count: int, work: Path, peaks: dict) -> None:
    reference = TextClassifier.from_pretrained(model, ClassifierSettings(max_length=tokens))
    texts = documents(reference.tokenizer, tokens, count)
    naive = pipeline("text-classification", model=str(model), top_k=None, function_to_apply="sigmoid")
    baseline = rate(lambda batch: [naive(t, truncation=True, max_length=tokens) for t in batch], texts)
    flops = flops_per_document(reference.model.config, tokens)
    print(f"\n{title}, {tokens}-token documents ({len(texts)}): naive pipeline, one text a call: {baseline:.1f} "
          f"documents/s (baseline)")
    expected = reference.score_texts(texts)
    for runtime, quantize in VARIANTS:
        classifier = reference if (runtime, quantize) == ("torch", "none") else TextClassifier.from_pretrained(
            model, ClassifierSettings(max_length=tokens, runtime=runtime, quantize=quantize,
                                      onnx_cache_dir=work / "onnx"))
        speed = rate(classifier.score_texts, texts)
        difference = np.abs(classifier.score_texts(texts) - expected)
        precision = "int8" if quantize == "int8" else "fp32"
        peak = peaks[precision]
        share = f" = {speed * flops / 1e9 / peak:.0%} of the {precision} peak" if peak else ""
        print(f"  {runtime} {precision}: {speed:.1f} documents/s, {speed / baseline:.1f}x the baseline; "
              f"{speed * flops / 1e9:.0f} G(FL)OP/s{share}; difference to fp32 max {difference.max():.3f}, "
              f"mean {difference.mean():.4f}", flush=True)


def main(count: int) -> None:
    warnings.simplefilter("ignore")
    threads = torch.get_num_threads()
    work = Path(tempfile.mkdtemp(prefix="vigil-inference-"))
    model = ensure_default_model(work / "models")
    features = cpu_features()
    auto = choose_runtime(features, onnx_available())
    print(f"CPU: {features.describe()}; classifier.runtime auto picks {auto}")
    # Without VNNI/AMX, torch._int_mm falls back to a reference kernel far slower than the ones the int8 model
    # runs on, so a share of it would read thousands of percent (6450% was printed on an EPYC): not measured.
    peaks = {"fp32": matmul_peak_gflops(False),
             "int8": matmul_peak_gflops(True) if features.int8_dot_product else None}
    int8_peak = f"int8 {peaks['int8']:.0f} GOP/s (torch._int_mm)" if peaks["int8"] else \
        "int8 not measured (no VNNI/AMX: torch._int_mm is not the kernel int8 inference uses here)"
    print(f"{threads} threads; measured matrix-multiply peak: fp32 {peaks['fp32']:.0f} GFLOP/s (torch.mm), "
          f"{int8_peak}")
    for tokens in (128, 256):
        single_window(model, "multilingual default", tokens, count, work, peaks)
    single_window(english_model(work), "previous default's architecture (all-MiniLM-L6-v2)", 128, count, work,
                  peaks)
    page_level(model, 1000, [("torch", "none"), ("torch", "int8"), ("onnx", "int8"), (auto.runtime, auto.quantize)],
               work)


def page_level(model: Path, count: int, runtimes: list[tuple[str, str]], work: Path) -> None:
    """The classify stage (windows, evidence) on a realistic mix, with and without the first pass, against the
    naive pipeline on the same texts; the mix is the first pass's held-out texts, mostly benign as crawls are."""
    examples = [e for e in load_all(FIRST_PASS_DATA) if held_out(e.text)]
    mix = [examples[i] for i in np.random.default_rng(0).choice(len(examples), min(count, len(examples)),
                                                                 replace=False)]
    docs = [raw_document(f"https://bench.example/{n}", e.text, lang=e.lang) for n, e in enumerate(mix)]
    naive = pipeline("text-classification", model=str(model), top_k=None, function_to_apply="sigmoid")
    baseline = rate(lambda batch: [naive(t, truncation=True, max_length=128) for t in batch], [d.text for d in docs])
    print(f"\npage level, the classify stage with evidence on {len(docs)} documents of the mix "
          f"({', '.join(FIRST_PASS_DATA)}): naive pipeline {baseline:.1f} documents/s (baseline)")
    fp32_flags: set[str] | None = None
    for runtime, quantize in dict.fromkeys(runtimes):  # in order, once each
        flagged: dict[bool, set[str]] = {}
        for first_pass in (False, True):
            settings = ClassifierSettings(first_pass=first_pass, runtime=runtime, quantize=quantize,
                                          onnx_cache_dir=work / "onnx")
            stage = ClassifyStage(TextClassifier.from_pretrained(model, settings), "raw", "classified", cache_size=0)
            stage.process(docs[:16], Counter())  # warm up
            stats: Counter = Counter()
            started = time.perf_counter()
            results = stage.process(docs, stats)
            speed = len(docs) / (time.perf_counter() - started)
            outputs = [ClassifiedDocument.from_bytes(r.outputs[0].value) for r in results]
            flagged[first_pass] = {c.document.id for c in outputs if c.flagged}
            fp32_flags = flagged[False] if fp32_flags is None else fp32_flags
            kept = (f"; keeps {len(flagged[True] & flagged[False])} of its {len(flagged[False])} flags without it"
                    if first_pass else f"; {len(flagged[False])} flags, {len(flagged[False] & fp32_flags)} of them "
                                       f"among torch fp32's {len(fp32_flags)}")
            print(f"  {runtime} {'int8' if quantize == 'int8' else 'fp32'}, "
                  f"{'with' if first_pass else 'without'} the first pass: {speed:.1f} documents/s, "
                  f"{speed / baseline:.1f}x the baseline; {stats['first_pass_cleared']} cleared before the "
                  f"transformer{kept}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 400)
