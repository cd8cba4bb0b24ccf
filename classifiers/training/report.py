"""The evaluation report: summary.json, PNG plots, and the same tables as Markdown and HTML."""
from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from classifiers.training.evaluate import Scored, compare, evaluate, score  # noqa: E402
from classifiers.training.examples import Example  # noqa: E402
from classifiers.training.metrics import calibration, pr_curve  # noqa: E402

if TYPE_CHECKING:
    from classifiers.model import TextClassifier


def _num(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _ci(pair) -> str:
    if not pair or any(v is None or math.isnan(v) for v in pair):
        return ""
    return f" ({pair[0]:.3f}–{pair[1]:.3f})"


def plot(scored: Scored, summary: dict, directory: Path) -> list[str]:
    truth = scored.truth
    files = []
    figure, axes = plt.subplots(figsize=(5.5, 5))
    axes.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for j, label in enumerate(scored.labels):
        points = calibration(scored.probabilities[:, j], truth[:, j])["reliability"]
        axes.plot([p["mean_score"] for p in points], [p["observed_rate"] for p in points], marker="o", label=label)
    axes.set(xlabel="mean score in bin", ylabel="observed share positive", title="Reliability diagram",
             xlim=(0, 1), ylim=(0, 1))
    axes.legend()
    figure.tight_layout()
    figure.savefig(directory / "reliability.png", dpi=110)
    plt.close(figure)
    files.append("reliability.png")

    figure, axes = plt.subplots(figsize=(5.5, 5))
    for j, label in enumerate(scored.labels):
        if truth[:, j].any():
            precision, recall, _ = pr_curve(scored.probabilities[:, j], truth[:, j])
            auc = summary["labels"][label]["overall"]["pr_auc"]
            axes.plot(recall, precision, label=f"{label} (PR-AUC {auc:.3f})")
            m = summary["labels"][label]["overall"]
            axes.scatter([m["recall"]], [m["precision"]], marker="x", color="black")
    axes.axhline(0.9, color="grey", linestyle=":", label="precision 0.9")
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall (x: deployed threshold)",
             xlim=(0, 1.01), ylim=(0, 1.01))
    axes.legend(loc="lower left")
    figure.tight_layout()
    figure.savefig(directory / "precision_recall.png", dpi=110)
    plt.close(figure)
    files.append("precision_recall.png")

    slices = {name: s for name, s in summary["slices"].items() if s["false_positive_rate"] is not None}
    if slices:
        names = sorted(slices, key=lambda n: slices[n]["false_positive_rate"])
        rates = np.array([slices[n]["false_positive_rate"] for n in names])
        low = np.array([slices[n]["false_positive_rate_ci"][0] for n in names])
        high = np.array([slices[n]["false_positive_rate_ci"][1] for n in names])
        figure, axes = plt.subplots(figsize=(7, 0.3 * len(names) + 1.5))
        axes.barh(names, rates, xerr=[np.clip(rates - low, 0, None), np.clip(high - rates, 0, None)],
                  color="#d98b65", capsize=2)
        axes.set(xlabel="false-positive rate (share of the slice's negatives flagged)", xlim=(0, 1),
                 title="False positives by slice (95% CI)")
        figure.tight_layout()
        figure.savefig(directory / "slices.png", dpi=110)
        plt.close(figure)
        files.append("slices.png")
    return files


def tables(summary: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for each table of the report."""
    label_rows, language_rows = [], []
    for label, entry in summary["labels"].items():
        m = entry["overall"]
        label_rows.append([label, _num(m["threshold"], 2), _num(m["precision"]) + _ci(m["precision_ci"]),
                           _num(m["recall"]) + _ci(m["recall_ci"]), _num(m["f1"]) + _ci(m["f1_ci"]),
                           _num(m["macro_f1"]), _num(m["accuracy"]) + _ci(m["accuracy_ci"]), _num(m["pr_auc"]),
                           _num(m["recall_at_precision_0.9"]["recall"]), _num(m["ece"]), _num(m["brier"]),
                           _num(m["flags_per_10k"], 0), f"{m['positives']}/{m['n']}"])
        for lang, m in entry["by_language"].items():
            language_rows.append([label, lang, _num(m["precision"]), _num(m["recall"]), _num(m["f1"]),
                                  _num(m["pr_auc"]), f"{m['positives']}/{m['n']}",
                                  "yes" if m["validated"] else "**unvalidated** (too few cases)"])
    slice_rows = [[name, str(s["n"]), str(s["negatives"]),
                   _num(s["false_positive_rate"]) + _ci(s["false_positive_rate_ci"]), _num(s["recall"]),
                   "" if s["validated"] else "too few cases"]
                  for name, s in sorted(summary["slices"].items())]
    return [
        ("Per label, at the deployed threshold (95% bootstrap intervals)",
         ["label", "threshold", "precision", "recall", "F1", "macro-F1", "accuracy", "PR-AUC", "recall @ precision 0.9",
          "ECE", "Brier", "flags / 10k", "positives / n"], label_rows),
        ("Per label and language", ["label", "language", "precision", "recall", "F1", "PR-AUC", "positives / n",
                                    "validated"], language_rows),
        ("Flagged at all, per language: recall on texts with any label, false-positive rate on texts with none",
         ["language", "n", "positives", "recall", "false-positive rate"],
         [[lang, str(v["n"]), str(v["positives"]), _num(v["recall"]), _num(v["false_positive_rate"])]
          for lang, v in summary.get("violating_by_language", {}).items()]),
        ("Slices: false-positive rate on the slice's negatives, recall on its positives",
         ["slice", "n", "negatives", "false-positive rate", "recall", "note"], slice_rows),
    ]


def _markdown(title: str, intro: list[str], summary: dict, images: list[str], gate: list[str] | None) -> str:
    lines = [f"# {title}", "", *intro, ""]
    if gate is not None:
        lines += ["## Release gate", "", "**FAILED**" if gate else "Passed: no slice got worse than the margin.", ""]
        lines += [f"- {line}" for line in gate] + ([""] if gate else [])
    for caption, header, rows in tables(summary):
        lines += [f"## {caption}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows] + [""]
    lines += ["## Plots", ""] + [f"![{name}]({name})" for name in images] + [""]
    return "\n".join(lines)


def _html(title: str, intro: list[str], summary: dict, images: list[str], gate: list[str] | None) -> str:
    parts = [f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse;"
             "margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:3px 7px;font-size:13px}"
             "th{background:#f2f2f2}.fail{color:#b00;font-weight:bold}</style>", f"<h1>{html.escape(title)}</h1>"]
    parts += [f"<p>{html.escape(line)}</p>" for line in intro]
    if gate is not None:
        parts.append("<h2>Release gate</h2>")
        parts.append("<p class=fail>FAILED</p><ul>" + "".join(f"<li>{html.escape(g)}</li>" for g in gate) + "</ul>"
                     if gate else "<p>Passed: no slice got worse than the margin.</p>")
    for caption, header, rows in tables(summary):
        parts.append(f"<h2>{html.escape(caption)}</h2><table><tr>"
                     + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{html.escape(cell.replace('**', ''))}</td>" for cell in row) + "</tr>"
                  for row in rows]
        parts.append("</table>")
    parts += ["<h2>Plots</h2>"] + [f"<img src='{name}' alt='{name}'>" for name in images]
    return "\n".join(parts) + "\n"


def _json_safe(value):
    """NaN (undefined: no positives, say) as null, so the summary is valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def write_report(scored: Scored, summary: dict, directory: Path, *, title: str, intro: list[str],
                 gate: list[str] | None = None) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    images = plot(scored, summary, directory)
    (directory / "summary.json").write_text(json.dumps(_json_safe({**summary, "gate": gate}), indent=2) + "\n",
                                            encoding="utf-8")
    (directory / "report.md").write_text(_markdown(title, intro, summary, images, gate), encoding="utf-8")
    (directory / "report.html").write_text(_html(title, intro, summary, images, gate), encoding="utf-8")
    return [directory / name for name in ("report.md", "report.html", "summary.json", *images)]


@dataclass
class Evaluation:
    summary: dict
    files: list[Path]  # the report first
    gate: list[str] | None  # with a baseline: the slices whose false-positive rate rose too far (empty: passed)


def evaluate_to_report(classifier: TextClassifier, examples: list[Example], specs: list[str], directory: Path, *,
                       baseline: TextClassifier | None = None, baseline_name: str | None = None, margin: float = 0.02,
                       rounds: int = 1000, min_support: int = 30) -> Evaluation:
    """`vigil evaluate`: score, evaluate, compare with a baseline (the release gate) and write the report."""
    scored = score(classifier, examples)
    summary = evaluate(scored, rounds=rounds, min_support=min_support)
    summary["model"].update(name=classifier.name, version=classifier.version)
    summary["data"]["specs"] = specs
    gate = None
    if baseline is not None:
        gate = compare(summary, evaluate(score(baseline, examples), rounds=0, min_support=min_support), margin)
    intro = [f"Model {classifier.name}, version {classifier.version}; thresholds {classifier.thresholds}.",
             f"Data: {', '.join(specs)}: {len(examples)} examples; accuracy (flagged = has a label) "
             f"{summary['accuracy']:.3f}."]
    if baseline is not None:
        intro.append(f"Baseline: {baseline_name or baseline.version}.")
    files = write_report(scored, summary, directory, title=f"Evaluation of {classifier.version}", intro=intro,
                         gate=gate)
    return Evaluation(summary, files, gate)
