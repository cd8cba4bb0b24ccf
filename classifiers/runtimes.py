"""Faster CPU inference for a loaded sequence-classification model: dynamic int8 in torch, or ONNX Runtime
(fp32 or int8) with its BERT graph fusions. Each keeps the probabilities within a stated tolerance of the
fp32 torch model; tests/models/test_runtimes.py checks it on the default model over the contrastive
checks, and bench/inference.py prints speed and fidelity side by side.

| variant | largest / mean difference allowed | measured on multilingual-e5-small + Vigil's head |
|---|---|---|
| onnx-fp32 (fused attention) | 1e-4 / 1e-5 | under 1e-4 / 1e-5 |
| onnx-int8 (per-channel weights) | 0.40 / 0.04 | 0.25 / 0.026 (2 of 70 texts cross a threshold) |
| torch-int8 (per-channel weights) | 0.85 / 0.07 | 0.51 / 0.054 (6 of 70) |

(Measured on the 70 texts tests/models/test_runtimes.py scores: English checks, short and multi-window,
with the bundled default model, vigil-default-20261206-dacdef70 (6 layers trained). Over all 601 checks in
eleven languages: ONNX int8 0.57 / 0.024, 21 texts crossing a threshold; torch int8 0.83 / 0.059, 55
crossing. The 4-layer default before it gave 0.53 / 0.025 (26 crossing) and 0.87 / 0.049 (44); 2 layers
trained, 0.37 / 0.031 and 0.45 / 0.057. Keeping the feed-forward output projections in fp32 brought torch
int8 to 0.35 / 0.024 on the 4-layer head at about half the int8 speed-up. On the English model before them
(all-MiniLM-L6-v2) they were 0.18 / 0.029 (ONNX) and 0.34 / 0.052 (torch): e5's weights were already 4-bit,
and int8 on top of them costs more. Activations are quantized per batch, so an int8 score also depends a
little on the texts batched with it.)

int8 moves some borderline scores a long way (activations are quantized per tensor and this encoder's
feed-forward activations have outliers), so a deployment that uses it should pick its thresholds on
that variant (`vigil evaluate` with the same settings); the model version names the variant.
ONNX files are exported once per model version and variant into a cache directory.
"""
from __future__ import annotations

import inspect
import logging
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from classifiers.cpu import onnx_available

log = logging.getLogger(__name__)

TOLERANCE = {"onnx-fp32": {"max": 1e-4, "mean": 1e-5}, "onnx-int8": {"max": 0.40, "mean": 0.04},
             "torch-int8": {"max": 0.85, "mean": 0.07}}
FUSABLE = {"bert", "roberta", "xlm-roberta", "camembert", "mpnet", "electra"}  # ORT's "bert" fusions apply


def quantize_torch(model: torch.nn.Module) -> torch.nn.Module:
    """Dynamic int8 Linear layers with per-channel weight scales (per-tensor scales distort this
    family of encoders noticeably; per-channel keeps the scores close)."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch announces the move of this API to torchao; it still works
        warnings.simplefilter("ignore")
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)


class OnnxModel:
    """An ONNX Runtime session that answers like a transformers model: `model(**encoded).logits`."""

    def __init__(self, path: Path, config, input_names: list[str], threads: int | None):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.config = config
        self.input_names = input_names
        self.path = path

    def eval(self) -> "OnnxModel":
        return self

    def __call__(self, **encoded):
        feeds = {name: encoded[name].numpy().astype(np.int64) for name in self.input_names}
        return SimpleNamespace(logits=torch.from_numpy(self.session.run(None, feeds)[0]))


def export_onnx(model_dir: str, cache_dir: Path, version: str, quantize: bool) -> Path:
    """model.onnx for this version (fused where ORT knows the architecture), and its int8 sibling. The export
    runs in a child process: it peaks at about 5.6 GB, which a long-running worker would otherwise keep."""
    if not onnx_available():  # fail here, with the remedy, rather than in the child
        raise RuntimeError("classifier.runtime onnx needs ONNX Runtime: pip install 'vigil[onnx]'")
    cache_dir.mkdir(parents=True, exist_ok=True)
    fp32, int8 = cache_dir / f"{version}.fp32.onnx", cache_dir / f"{version}.int8.onnx"
    if not fp32.exists() or (quantize and not int8.exists()):
        log.info("exporting %s to ONNX in %s (once per version, in a child process)", version, cache_dir)
        command = [sys.executable, "-m", "classifiers.runtimes", model_dir, str(fp32), str(int8) if quantize else ""]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"exporting {model_dir} to ONNX failed:\n{done.stderr[-3000:]}")
    return int8 if quantize else fp32


def _export(model_dir: str, fp32: Path, int8: Path | None) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if not fp32.exists():
        # Eager attention exports the plain graph ORT's optimizer can fuse; the legacy exporter keeps it so.
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").eval()
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        # Graph inputs in the order forward() takes them (the tokenizer's order can differ).
        names = [name for name in inspect.signature(model.forward).parameters if name in tokenizer.model_input_names]
        # Padding in the sample keeps the attention mask in the graph (an all-ones mask is traced away).
        sample = tokenizer(["a sample", "a longer sample text with more words in it"], return_tensors="pt",
                           padding=True)
        raw = fp32.with_suffix(".raw.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, ({name: sample[name] for name in names},), str(raw), input_names=names,
                              output_names=["logits"], opset_version=17, dynamo=False,
                              dynamic_axes={**{name: {0: "batch", 1: "tokens"} for name in names},
                                            "logits": {0: "batch"}})
        if model.config.model_type in FUSABLE:
            fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=model.config.num_attention_heads,
                                             hidden_size=model.config.hidden_size)
            fused.save_model_to_file(str(fp32))
            raw.unlink()
        else:
            raw.rename(fp32)
    if int8 is not None and not int8.exists():
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


if __name__ == "__main__":  # the child export_onnx starts: MODEL_DIR FP32_PATH [INT8_PATH]
    _export(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else None)
