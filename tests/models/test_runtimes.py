"""int8 and ONNX Runtime keep the default model's scores within their stated tolerance of fp32 torch.

The default model is built and exported to ONNX once per test session (the export takes most of the time)."""
import numpy as np
import pytest

from classifiers.model import TextClassifier
from classifiers.runtimes import TOLERANCE
from classifiers.training.datasets import load
from streams.config import ClassifierSettings

pytestmark = pytest.mark.model


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory):
    """One cache for every variant: onnx-int8 quantizes the fp32 export that onnx-fp32 made."""
    return tmp_path_factory.mktemp("onnx")


@pytest.fixture(scope="module")
def texts():
    checks = [e.text for e in load("checks") if e.lang == "en"]
    return checks[:60] + [" ".join(checks[i:i + 12]) for i in range(0, 120, 12)]  # short and multi-window


@pytest.mark.parametrize("runtime,quantize", [("torch", "int8"), ("onnx", "none"), ("onnx", "int8")])
def test_variant_scores_stay_within_tolerance(default_model, texts, onnx_cache, runtime, quantize):
    reference = TextClassifier.from_pretrained(default_model)
    fast = TextClassifier.from_pretrained(default_model, ClassifierSettings(runtime=runtime, quantize=quantize,
                                                                            onnx_cache_dir=onnx_cache))
    variant = f"{runtime}-{'int8' if quantize == 'int8' else 'fp32'}"
    assert fast.version == f"{reference.version}+{variant}"
    expected = np.array([list(p.scores.values()) for p in reference.predict(texts, explain=False)])
    got = np.array([list(p.scores.values()) for p in fast.predict(texts, explain=False)])
    difference = np.abs(got - expected)
    assert difference.max() <= TOLERANCE[variant]["max"] and difference.mean() <= TOLERANCE[variant]["mean"]
    flagged = fast.predict(texts[:5])  # evidence works through every variant
    assert all(e["label"] in p.labels for p in flagged for e in p.evidence)
