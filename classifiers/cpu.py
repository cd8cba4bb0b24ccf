"""What this CPU offers, and the inference variant `classifier.runtime: auto` picks for it.

The choice follows what bench/inference.py measured on the two kinds of x86 machine Vigil meets, at
128 tokens against the naive pipeline: with AVX-512 VNNI, torch int8 ran 4.5x on single texts (ONNX int8
3.9x), but in the classify stage on pages (windows, evidence) ONNX int8 matched or beat it in two runs
(232 and 134 documents/s against 231 and 103; 376 and 230 against 324 and 190 with the first pass) and
flagged closer to fp32, so it is chosen where onnxruntime is installed; on an AVX2-only EPYC, ONNX int8 ran
1.8x and torch int8 1.4x (torch fp32 1.5x). AMX was not measured: torch's oneDNN kernels use it. int8
moves borderline scores (classifiers/runtimes.py states by how much), so `auto` is a choice an operator
makes, not the default.
"""
from __future__ import annotations

import importlib.util
import platform
from dataclasses import dataclass
from pathlib import Path

# The flags that decide int8 speed, as /proc/cpuinfo names them.
INT8_FLAGS = ("amx_int8", "avx512_vnni", "avx_vnni")
VECTOR_FLAGS = ("avx512f", "avx2")


@dataclass(frozen=True)
class CpuFeatures:
    model: str
    flags: frozenset[str]
    torch_capability: str | None = None  # the kernels torch dispatches to: "AVX512", "AVX2", "DEFAULT", ...

    @property
    def int8_dot_product(self) -> bool:
        """Hardware int8 dot products (VNNI or AMX): what makes int8 matrix multiplies fast."""
        return any(flag in self.flags for flag in INT8_FLAGS)

    def describe(self) -> str:
        shown = [flag for flag in (*INT8_FLAGS, *VECTOR_FLAGS) if flag in self.flags]
        kernels = f"; torch kernels {self.torch_capability}" if self.torch_capability else ""
        return f"{self.model}: {', '.join(shown) or 'no AVX2'}{kernels}"


def cpu_features(cpuinfo: Path = Path("/proc/cpuinfo"), ask_torch: bool = True) -> CpuFeatures:
    """ask_torch=False spares a command that does not load a model the seconds torch takes to import."""
    model, flags = platform.processor() or platform.machine(), frozenset()
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:  # not Linux: the flags are unknown, so nothing is assumed
        text = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            model = value.strip()
        elif key.strip() == "flags":
            flags = frozenset(value.split())
            break
    if not ask_torch:
        return CpuFeatures(model, flags)
    import torch

    return CpuFeatures(model, flags, torch.backends.cpu.get_cpu_capability())


def onnx_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


@dataclass(frozen=True)
class RuntimeChoice:
    runtime: str  # "torch" or "onnx"
    quantize: str  # "none" or "int8"
    reason: str

    def __str__(self) -> str:
        return f"{self.runtime} {'int8' if self.quantize == 'int8' else 'fp32'} ({self.reason})"


def choose_runtime(features: CpuFeatures, has_onnx: bool) -> RuntimeChoice:
    if features.int8_dot_product and has_onnx and "amx_int8" not in features.flags:
        return RuntimeChoice("onnx", "int8", "VNNI: in the classify stage, on pages, ONNX int8 measured 1.0-1.3x "
                                             "torch int8's rate (1.2x with the first pass) and kept closer to "
                                             "fp32's flags")
    if features.int8_dot_product:
        return RuntimeChoice("torch", "int8", "int8 dot products (VNNI/AMX): torch int8 measured 4.5x the naive "
                                              "pipeline on single texts (ONNX int8 3.9x; AMX is not measured)")
    if "avx2" in features.flags and has_onnx:
        return RuntimeChoice("onnx", "int8", "AVX2 without VNNI: ONNX int8 measured 1.8x the naive pipeline, "
                                             "torch int8 1.4x")
    if "avx2" in features.flags:
        return RuntimeChoice("torch", "none", "AVX2 without VNNI and no ONNX Runtime (pip install 'vigil[onnx]' "
                                              "for 1.8x): torch int8 gains little here")
    return RuntimeChoice("torch", "none", "no AVX2 (or flags unknown): int8 kernels would be slow")
