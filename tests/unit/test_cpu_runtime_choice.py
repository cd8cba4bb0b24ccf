"""classifier.runtime auto: the variant follows the CPU's features, as bench/inference.py measured them."""
from __future__ import annotations

import pytest

from classifiers.cpu import CpuFeatures, choose_runtime, cpu_features

SAPPHIRE_RAPIDS = "fpu sse4_2 avx2 avx512f avx512_vnni avx_vnni amx_int8"
EPYC_ROME = "fpu sse4_2 avx2 fma"


@pytest.mark.parametrize("flags, has_onnx, expected", [
    (SAPPHIRE_RAPIDS, True, ("torch", "int8")),  # AMX: torch's oneDNN kernels use it
    ("avx2 avx512f avx512_vnni", True, ("onnx", "int8")),  # ONNX int8 ran the classify stage faster there
    ("avx2 avx_vnni", False, ("torch", "int8")),  # VNNI on AVX2 (Alder Lake and later), no onnxruntime
    (EPYC_ROME, True, ("onnx", "int8")),
    (EPYC_ROME, False, ("torch", "none")),  # torch int8 ran slower than torch fp32 there
    ("fpu sse4_2", True, ("torch", "none")),
])
def test_the_choice_follows_the_features(flags, has_onnx, expected):
    choice = choose_runtime(CpuFeatures("cpu", frozenset(flags.split())), has_onnx)
    assert (choice.runtime, choice.quantize) == expected and choice.reason


def test_features_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: AMD EPYC 7B12\nflags\t\t: {EPYC_ROME}\n\nprocessor\t: 1\n")
    features = cpu_features(cpuinfo, ask_torch=False)
    assert features.model == "AMD EPYC 7B12" and "avx2" in features.flags and not features.int8_dot_product
    assert features.describe() == "AMD EPYC 7B12: avx2"


def test_unknown_flags_assume_nothing(tmp_path):
    features = cpu_features(tmp_path / "missing", ask_torch=False)
    assert features.flags == frozenset() and choose_runtime(features, True).quantize == "none"


def test_a_classifier_loaded_with_auto_records_the_variant_it_got(tmp_path):
    from classifiers.cpu import onnx_available
    from classifiers.model import TextClassifier
    from streams.config import ClassifierSettings
    from tests.unit.tiny_model import build_tiny_model

    choice = choose_runtime(cpu_features(), onnx_available())
    classifier = TextClassifier.from_pretrained(build_tiny_model(tmp_path / "m"), ClassifierSettings(
        runtime="auto", onnx_cache_dir=tmp_path / "onnx"))
    variant = f"{choice.runtime}-{'int8' if choice.quantize == 'int8' else 'fp32'}"
    assert classifier.version.endswith(variant) or variant == "torch-fp32"
    assert classifier.score_texts(["some text"]).shape == (1, len(classifier.labels))


def test_vigil_config_says_which_runtime_and_why(tmp_path, capsys):
    from vigil.cli import main

    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "# cpu: " in out and "classifier.runtime: auto would choose" in out
