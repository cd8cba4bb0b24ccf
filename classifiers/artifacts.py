"""Model directories from parts: an encoder joined with a trained head into a directory that
`AutoModelForSequenceClassification.from_pretrained` loads. The default model is built this way on first
use, from the committed head; training writes heads and directories the same way."""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import torch
import transformers
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

from classifiers.model import VIGIL_FILE

HEAD_FILE = "head.safetensors"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_sha256(model_dir: str | Path) -> str | None:
    """Hash of a local encoder's weights, so a head is only ever joined with the encoder it was trained on."""
    path = Path(model_dir) / "model.safetensors"
    return file_sha256(path) if path.exists() else None


def build_in_place(target: Path, build: Callable[[Path], None]) -> Path:
    """Build a directory beside target, then rename it into place: complete or absent, never half-written.
    When another worker finished first, its copy stays and this one is removed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        build(partial)
        partial.rename(target)
    except OSError:
        if not target.exists():
            raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)  # gone after the rename, unless another worker won
    return target


def assemble(base_model: str, head_state: dict[str, torch.Tensor], labels: list[str], output: Path) -> None:
    """Encoder + head -> a model directory AutoModelForSequenceClassification.from_pretrained loads."""
    transformers.logging.set_verbosity_error()  # the "classifier MISSING" load report is expected here
    config = AutoConfig.from_pretrained(base_model, num_labels=len(labels), problem_type="multi_label_classification",
                                        id2label=dict(enumerate(labels)),
                                        label2id={label: i for i, label in enumerate(labels)})
    # A base that is itself a classifier (another label set) has a classifier of another size: the head's replaces it.
    model = AutoModelForSequenceClassification.from_pretrained(base_model, config=config, ignore_mismatched_sizes=True)
    missing = model.load_state_dict(head_state, strict=False)
    if missing.unexpected_keys:
        raise ValueError(f"head does not fit {base_model}: unexpected {missing.unexpected_keys}")
    model.save_pretrained(output)
    AutoTokenizer.from_pretrained(base_model).save_pretrained(output)


def assemble_from_head(base_model: str, head_dir: Path, output: Path) -> None:
    """Join a head-only artifact (head.safetensors + vigil.json) with its encoder into a full directory."""
    meta = json.loads((head_dir / VIGIL_FILE).read_text(encoding="utf-8"))
    assemble(base_model, load_file(str(head_dir / HEAD_FILE)), meta["labels"], output)
    (output / VIGIL_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (output / "README.md").write_text((head_dir / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
